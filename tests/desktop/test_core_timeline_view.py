"""The timeline view: drawing from the document, pointer gestures, zoom, snapping, menus, drops."""
import json

import opentimelineio as otio
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from desktop.timeline_view import HEADER_W, MEDIA_MIME, RULER_H
from timeline.provenance import track_flag


@pytest.fixture
def cut(window, media):
    """red 0-12 and blue 12-24 on V1, at 4 px per frame."""
    window.edits.place_media(media, window.document.video_tracks[0], 0)
    window.canvas.scale = 4.0
    window.canvas.origin = 0.0
    return window


def v1(window):
    return list(window.document.video_tracks[0])


def point(canvas, frame, row=0, dy=20):
    return QPoint(int(canvas.x_of(frame)), canvas.row_top(row) + dy)


def drag(qtbot, canvas, start, end, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, modifier, start)
    mid = QPoint((start.x() + end.x()) // 2, (start.y() + end.y()) // 2)
    qtbot.mouseMove(canvas, mid)
    qtbot.mouseMove(canvas, end)
    qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, modifier, end)


def test_layout_follows_the_document(cut):
    c = cut.canvas
    layout = c.index.layout_of(cut.document.video_tracks[0])
    assert layout.label == "V1" and layout.starts == [0, 12] and layout.ends == [12, 24]
    red, blue = v1(cut)
    rect = c.item_rect(blue)
    assert rect.left() == c.x_of(12) and rect.width() == 48
    assert c.hit(QPointF(c.x_of(13), c.row_top(0) + 5))[0] is layout


def test_click_shift_click_and_gap_selection(qtbot, cut):
    c = cut.canvas
    red, blue = v1(cut)
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=point(c, 6))
    assert cut.edits.selection == [red]
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, point(c, 18))
    assert cut.edits.selection == [red, blue]
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, point(c, 6))
    assert cut.edits.selection == [blue]
    cut.edits.set_selection([red])
    cut.edits.delete()
    gap = v1(cut)[0]
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=point(c, 3))
    assert cut.edits.selected_gap() is gap
    assert cut.generation.selection_kind()[0] == "gap"


def test_rubber_band_selects_what_it_touches(qtbot, cut):
    c = cut.canvas
    drag(qtbot, c, point(c, 40), point(c, 8, row=1))
    assert cut.edits.selection == v1(cut)


def test_drag_moves_a_clip_and_undo_puts_it_back(qtbot, cut):
    c = cut.canvas
    red, blue = v1(cut)
    before = otio.adapters.write_to_string(cut.document.timeline)
    drag(qtbot, c, point(c, 6), point(c, 36))
    layout = c.index.layout_of(cut.document.video_tracks[0])
    assert layout.range_of(red) == (30, 42) and layout.range_of(blue) == (12, 24)
    cut.undo_stack.undo()
    assert otio.adapters.write_to_string(cut.document.timeline) == before


def test_ctrl_drag_is_a_ripple_move(qtbot, cut):
    c = cut.canvas
    red, blue = v1(cut)
    drag(qtbot, c, point(c, 6), point(c, 30), Qt.KeyboardModifier.ControlModifier)
    layout = c.index.layout_of(cut.document.video_tracks[0])
    # red is pulled out (blue closes up to 0) and inserted after blue.
    assert layout.range_of(blue) == (0, 12) and layout.range_of(red) == (12, 24)


def test_dragging_an_edge_trims(qtbot, cut):
    c = cut.canvas
    red, blue = v1(cut)
    drag(qtbot, c, point(c, 24) - QPoint(2, 0), point(c, 20) - QPoint(2, 0))
    assert blue.duration().value == 8
    assert c.index.layout_of(cut.document.video_tracks[0]).range_of(blue) == (12, 20)


def test_snapping_pulls_to_the_playhead_and_edit_points(cut):
    c = cut.canvas
    cut.playback.seek(30)
    assert c.snap(31) == (30, 30)
    assert c.snap(13) == (12, 12)
    assert c.snap(18) == (18, None)
    cut.edits.snapping = False
    assert c.snap(31) == (31, None)


def test_ctrl_wheel_zooms_and_wheel_scrolls(cut):
    c = cut.canvas
    scale = c.scale

    def wheel(dy, modifiers):
        pos = QPointF(c.x_of(10), 40)
        event = QWheelEvent(pos, c.mapToGlobal(pos), QPoint(0, 0), QPoint(0, dy), Qt.MouseButton.NoButton,
                            modifiers, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(c, event)

    wheel(120, Qt.KeyboardModifier.ControlModifier)
    assert c.scale > scale
    assert abs(c.frame_at(c.x_of(10)) - 10) <= 1   # zoom keeps the frame under the pointer
    wheel(-240, Qt.KeyboardModifier.NoModifier)
    assert c.origin > 0


def test_context_menus_offer_the_generation_operations(cut):
    c = cut.canvas
    red, blue = v1(cut)
    cut.edits.set_selection([red])
    cut.edits.delete()
    gap_menu = c.context_menu_for(QPointF(point(c, 4)))
    texts = [a.text() for a in gap_menu.actions() if a.text()]
    assert texts == ["Generate here", "Fill gap"]
    assert not gap_menu.actions()[1].isEnabled()  # nothing before the gap to fill from
    clip_menu = c.context_menu_for(QPointF(point(c, 16)))
    texts = [a.text() for a in clip_menu.actions() if a.text()]
    assert texts[:7] == ["Extend head", "Extend tail", "Restyle", "Animate", "Regenerate (new seed)",
                         "Regenerate (same seed)", "Takes"]
    enabled = {a.text(): a.isEnabled() for a in clip_menu.actions()}
    assert not enabled["Animate"] and not enabled["Regenerate (new seed)"]
    next(a for a in clip_menu.actions() if a.objectName() == "ctx_ripple_delete").trigger()
    assert cut.document.video_tracks[0].duration().value == 12   # blue is gone, the gap before it stays


def test_dropping_media_places_clips(qtbot, window, media):
    c = window.canvas
    c.scale, c.origin = 4.0, 0.0
    mime = QMimeData()
    mime.setData(MEDIA_MIME, json.dumps(media).encode())
    pos = QPointF(c.x_of(6), c.row_top(0) + 10)
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    c.dropEvent(event)  # QApplication only delivers drops that come from a real drag session
    assert event.isAccepted()
    layout = c.index.layout_of(window.document.video_tracks[0])
    assert layout.starts == [0, 6, 18] and [i.name for i in layout.items[1:]] == ["red.mp4", "blue.mp4"]


def test_document_events_rebuild_only_the_changed_track(cut, monkeypatch):
    c = cut.canvas
    audio = c.index.layout_of(cut.document.audio_tracks[0])
    full = []
    monkeypatch.setattr(c.index, "rebuild", lambda: full.append(1))
    red, _ = v1(cut)
    cut.edits.set_selection([red])
    cut.edits.delete()
    assert not full and c.index.layout_of(cut.document.audio_tracks[0]) is audio
    assert c.index.layout_of(cut.document.video_tracks[0]).starts == [0, 12]


def test_track_header_buttons_hide_mute_and_lock(qtbot, cut):
    c = cut.canvas
    track = cut.document.video_tracks[0]
    for which in ("enabled", "muted", "locked"):
        r = c.header_button_rect(0, which)
        qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=r.center().toPoint())
    assert track.enabled is False and track_flag(track, "muted") and track_flag(track, "locked")
    cut.edits.set_selection([v1(cut)[0]])
    cut.edits.delete()       # a locked track refuses edits
    assert not isinstance(v1(cut)[0], otio.schema.Gap)
    cut.undo_stack.undo()
    assert not track_flag(track, "locked")


def test_ruler_click_moves_the_playhead(qtbot, cut):
    c = cut.canvas
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=QPoint(int(c.x_of(9)) + 1, RULER_H // 2))
    assert cut.playback.frame == 9 and c.playhead == 9


def test_thumbnails_arrive_off_the_ui_thread(qtbot, cut):
    c = cut.canvas
    c.set_scale(12.0, HEADER_W)   # clips are now 144 px wide, enough for a thumbnail
    c.repaint()
    path = v1(cut)[0].media_reference.target_url
    qtbot.waitUntil(lambda: c.thumbnails.images.get(path) is not None, timeout=20_000)
    assert c.thumbnails.images[path].height() == c.thumbnails.height
    assert not c.grab().isNull()


def test_thumbnails_start_nothing_after_shutdown(qtbot, cut):
    """A repaint after the window shut down asks for no decode that could outlive the cache."""
    cache = cut.canvas.thumbnails
    assert cache._signals.parent() is cache  # deleted after the pool, which waits for its task
    cache.shutdown()
    path = v1(cut)[0].media_reference.target_url
    assert cache.get(path) is None and path not in cache.images
    assert cache.pool.activeThreadCount() == 0
