"""The first window fits a 1366x768 laptop screen: every everyday Generate control in view without
scrolling, the timeline only as tall as its tracks, and the Jobs dock showing a whole job."""
import pytest
from PySide6.QtCore import QPoint, QRect

from desktop.app import MainWindow


def _in_view(widget, viewport) -> bool:
    top_left = widget.mapTo(viewport, QPoint(0, 0))
    return QRect(QPoint(0, 0), viewport.size()).contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("size", [(1350, 728), (1366, 768), (1400, 900), (1920, 1080)])
@pytest.mark.parametrize("selection", ["none", "clip"])
def test_first_layout_fits(qtbot, themed, bridge, isolated_settings, media, size, selection):
    win = MainWindow(bridge=bridge, settings=isolated_settings)
    win.actions.prompt = lambda *a: "Don't Save"
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    if selection == "clip":
        win.edits.place_media(media[:1], win.document.video_tracks[0], 0)
        win.edits.set_selection([win.document.video_tracks[0][0]])
    qtbot.wait(50)
    panel = win.generate_panel
    scroll = panel.findChild(type(panel.body_scroll), "generate_scroll")
    viewport = scroll.viewport()
    assert scroll.verticalScrollBar().maximum() == 0, "the Generate panel must not need scrolling"
    for widget in (panel.prompt, panel.seed, panel.seed_lock, panel.seconds, panel.strength, panel.advanced_toggle):
        assert widget.isVisible() and _in_view(widget, viewport), widget.objectName()
    for button in panel.buttons.values():
        if button.isVisibleTo(panel):
            assert _in_view(button, panel), button.objectName()
    # The timeline is as tall as its two tracks plus a row to drop onto, not half the window.
    assert win.docks["timeline"].height() <= win.timeline_view.needed_height() + 60
    # The Jobs dock shows its header and one whole job card (a real card, laid out in its list).
    from desktop.panels.jobs_panel import JobCard

    jobs = win.jobs_panel
    card = JobCard("probe", None, jobs._list)
    jobs._list_layout.insertWidget(0, card)
    jobs.empty.hide()
    qtbot.wait(50)
    assert _in_view(card, jobs._scroll.viewport()), (card.geometry(), jobs._scroll.viewport().size())
    win.undo_stack.setClean()



def test_added_tracks_scroll_into_view(qtbot, themed, bridge, isolated_settings, media):
    """Sequence > Add Video Track, as in Premiere: the panels keep their sizes (growing the timeline
    would squeeze the Generate panel), a vertical scroll bar reaches every track, and the new track
    is scrolled into view."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    win = MainWindow(bridge=bridge, settings=isolated_settings)
    win.actions.prompt = lambda *a: "Don't Save"
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(50)
    view, canvas = win.timeline_view, win.canvas
    assert not view.vscrollbar.isVisible()
    add = win.findChild(type(win.undo_action), "act_add_video_track")
    for _ in range(6):
        add.trigger()
    win.findChild(type(win.undo_action), "act_add_audio_track").trigger()
    qtbot.wait(50)
    assert (len(win.document.video_tracks), len(win.document.audio_tracks)) == (7, 2)
    assert view.vscrollbar.isVisible() and view.vscrollbar.maximum() == canvas.max_top() > 0
    newest = win.document.audio_tracks[-1]
    row = next(i for i, layout in enumerate(canvas.index.layouts) if layout.track is newest)
    assert 24 <= canvas.row_top(row) and canvas.row_top(row) + 30 <= canvas.height()  # scrolled into view
    scroll = win.generate_panel.findChild(type(win.generate_panel.body_scroll), "generate_scroll")
    assert scroll.verticalScrollBar().maximum() == 0  # the Generate panel still fits
    # Shift+wheel and the scroll bar move the rows; a click lands on the row drawn there.
    view.vscrollbar.setValue(0)
    pos = QPointF(canvas.x_of(5), canvas.height() - 20)
    QApplication.sendEvent(canvas, QWheelEvent(pos, canvas.mapToGlobal(pos), QPoint(0, 0), QPoint(0, -240),
                                               Qt.MouseButton.NoButton, Qt.KeyboardModifier.ShiftModifier,
                                               Qt.ScrollPhase.NoScrollPhase, False))
    assert canvas.top > 0 and view.vscrollbar.value() == canvas.top
    view.vscrollbar.setValue(canvas.max_top())
    last = len(canvas.index.layouts) - 1
    hit = canvas.hit(QPointF(canvas.x_of(5), canvas.row_top(last) + 10))
    assert hit is not None and hit[0] is canvas.index.layouts[last]
    assert canvas.hit(QPointF(canvas.x_of(5), 5)) is None  # the ruler stays on top
    for _ in range(7):
        win.undo_stack.undo()
    qtbot.wait(20)
    assert canvas.top == canvas.max_top() == 0 and not view.vscrollbar.isVisible()
    win.undo_stack.setClean()
