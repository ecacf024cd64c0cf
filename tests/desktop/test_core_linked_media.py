"""Dropping a file with picture and sound: a linked V1 and A1 clip that the app's move, trim,
razor and delete act on together (a real window, offscreen)."""
from fractions import Fraction

import pytest

from media_fixtures import encode


@pytest.fixture
def film(window, tmp_path):
    path = encode(tmp_path / "film.mp4", 24, Fraction(24), audio=True)
    window.edits.place_media([str(path)], window.document.video_tracks[0], 12)
    return window


def clips(window):
    doc = window.document
    return doc.video_tracks[0].find_clips(), doc.audio_tracks[0].find_clips()


def starts(window):
    doc = window.document
    return [round(doc.range_of(c).start_time.value) for c in doc.timeline.find_clips()]


def test_a_drop_places_linked_picture_and_sound(film):
    from timeline.links import partners

    (video,), (audio,) = clips(film)
    assert partners(film.document, video) == [audio]
    assert starts(film) == [12, 12] and video.duration() == audio.duration()
    film.undo_stack.undo()
    assert clips(film) == ([], [])


def test_linked_clips_move_trim_razor_and_delete_together(film):
    (video,), (audio,) = clips(film)
    film.edits.move_item(video, film.document.video_tracks[0], 30, False)
    assert starts(film) == [30, 30]
    film.edits.trim_item(audio, "tail", -6, False)
    assert video.duration().value == audio.duration().value == 18
    film.playback.seek(36)
    film.edits.razor(film.playback.frame)
    assert [len(c) for c in clips(film)] == [2, 2]
    second = clips(film)[0][1]
    film.edits.set_selection([second])
    film.edits.delete()
    assert [len(c) for c in clips(film)] == [1, 1]
    film.undo_stack.undo()
    assert [len(c) for c in clips(film)] == [2, 2]


def _drag(qtbot, canvas, start, end, modifier):
    from PySide6.QtCore import QPoint, Qt

    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, modifier, start)
    qtbot.mouseMove(canvas, QPoint((start.x() + end.x()) // 2, start.y()))
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, modifier, end)


def _point(canvas, frame, track):
    from PySide6.QtCore import QPoint

    row = next(i for i, layout in enumerate(canvas.index.layouts) if layout.track is track)
    return QPoint(int(canvas.x_of(frame)), canvas.row_top(row) + 15)


def test_alt_acts_on_one_side_of_a_linked_pair_in_the_app(qtbot, film):
    """Premiere's Alt: a drop moves or trims only the side dragged; an Alt-click selects one side,
    and Delete then removes only that side. Without Alt both sides follow."""
    from PySide6.QtCore import QPoint, Qt

    from timeline.links import partners

    alt, none = Qt.KeyboardModifier.AltModifier, Qt.KeyboardModifier.NoModifier
    c, doc = film.canvas, film.document
    c.scale, c.origin = 8.0, 0.0
    (video,), (audio,) = clips(film)
    _drag(qtbot, c, _point(c, 20, doc.video_tracks[0]), _point(c, 28, doc.video_tracks[0]), alt)
    assert starts(film) == [20, 12]  # the picture moved, the sound stayed
    assert partners(doc, video) == [audio]  # still linked: the next plain edit moves both
    _drag(qtbot, c, _point(c, 30, doc.video_tracks[0]), _point(c, 34, doc.video_tracks[0]), none)
    assert starts(film) == [24, 16]
    # Trim the sound's tail alone (its last frame is 39: grab just inside the edge).
    tail = _point(c, 40, doc.audio_tracks[0]) - QPoint(2, 0)
    _drag(qtbot, c, tail, tail - QPoint(8 * 4, 0), alt)
    assert (video.duration().value, audio.duration().value) == (24, 20)
    # Alt-click the sound, Delete: the picture stays.
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, alt, _point(c, 20, doc.audio_tracks[0]))
    assert film.edits.selection == [audio] and film.edits.one_side
    film.edits.delete()
    assert clips(film) == ([video], [])
    film.undo_stack.undo()
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, none, _point(c, 30, doc.video_tracks[0]))
    assert not film.edits.one_side
    film.edits.delete()
    assert clips(film) == ([], [])


def test_a_ripple_move_keeps_linked_sound_in_sync(qtbot, film, tmp_path):
    """Ctrl-drop: the clip is pulled out and inserted, and its linked sound makes the same move on
    its own track, so picture and sound stay in sync."""
    from PySide6.QtCore import Qt

    c, doc = film.canvas, film.document
    c.scale, c.origin = 8.0, 0.0
    path = encode(tmp_path / "second.mp4", 12, Fraction(24), audio=True)
    film.edits.place_media([str(path)], doc.video_tracks[0], 36)  # 12-36 and 36-48 on V1 and A1
    first = clips(film)[0][0]
    _drag(qtbot, c, _point(c, 20, doc.video_tracks[0]), _point(c, 60, doc.video_tracks[0]),
          Qt.KeyboardModifier.ControlModifier)
    video, audio = clips(film)
    assert [c.name for c in video] == [c.name for c in audio]
    assert [round(doc.range_of(c).start_time.value) for c in video] == \
        [round(doc.range_of(c).start_time.value) for c in audio]
    assert video[-1] is first  # the first clip now comes after the second
