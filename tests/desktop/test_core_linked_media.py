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
