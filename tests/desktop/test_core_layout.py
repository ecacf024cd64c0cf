"""The first window fits a 1366x768 laptop screen: every everyday Generate control in view without
scrolling, the timeline only as tall as its tracks, and the Jobs dock showing a whole job."""
import pytest
from PySide6.QtCore import QPoint, QRect

from desktop.app import MainWindow


def _in_view(widget, viewport) -> bool:
    top_left = widget.mapTo(viewport, QPoint(0, 0))
    return QRect(QPoint(0, 0), viewport.size()).contains(QRect(top_left, widget.size()))


@pytest.mark.parametrize("size", [(1366, 768), (1400, 900), (1920, 1080)])
@pytest.mark.parametrize("selection", ["none", "clip"])
def test_first_layout_fits(qtbot, bridge, isolated_settings, media, size, selection):
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
    assert win.docks["jobs"].height() >= 130  # the header and one whole job
    win.undo_stack.setClean()

