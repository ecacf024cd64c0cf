"""The main window's menus and their shortcuts (each an action named act_*, which tests and
the shortcut table look up); every entry calls one method of a part the window holds."""
from __future__ import annotations

import opentimelineio as otio
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence


def _action(window, menu, text, slot, shortcuts=(), name=None, checkable=False) -> QAction:
    action = QAction(text, window)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    action.setCheckable(checkable)
    action.setObjectName(name or "act_" + text.lower().replace(" ", "_").replace("…", "").replace("/", "_"))
    action.triggered.connect(slot)
    menu.addAction(action)
    window.addAction(action)
    return action


def build_menus(window) -> None:
    """File, Edit, Sequence, Marker, Playback and View. The parts a document brings (edits, playback,
    canvas) are looked up when an entry is chosen, so the menus outlive a document switch."""
    bar = window.menuBar()
    a = window.actions
    f = bar.addMenu("&File")
    _action(window, f, "New", a.new_project, ["Ctrl+N"], "act_new")
    _action(window, f, "Open…", a.open_dialog, ["Ctrl+O"], "act_open")
    window.recent_menu = f.addMenu("Open Recent")
    window._fill_recent_menu()
    f.addSeparator()
    _action(window, f, "Save", a.save, ["Ctrl+S"], "act_save")
    _action(window, f, "Save As…", lambda: a.save_as(), ["Ctrl+Shift+S"], "act_save_as")
    f.addSeparator()
    _action(window, f, "Import Media…", lambda: window.media_panel.import_dialog(), ["Ctrl+I"], "act_import")
    _action(window, f, "Export…", a.export_dialog, ["Ctrl+E"], "act_export")
    _action(window, f, "Render…", a.render_dialog, ["Ctrl+M"], "act_render")
    f.addSeparator()
    _action(window, f, "Content Credentials…", window.edit_credentials, name="act_credentials")
    _action(window, f, "Engine…", window.edit_engine, name="act_engine")
    f.addSeparator()
    _action(window, f, "Quit", window.close, ["Ctrl+Q"], "act_quit")

    e = bar.addMenu("&Edit")
    window.undo_action = _action(window, e, "Undo", lambda: window.undo_stack.undo(), ["Ctrl+Z"], "act_undo")
    window.redo_action = _action(window, e, "Redo", lambda: window.undo_stack.redo(), ["Ctrl+Shift+Z", "Ctrl+Y"], "act_redo")
    e.addSeparator()
    _action(window, e, "Razor at Playhead", lambda: window.edits.razor(window.playback.frame), ["B", "Ctrl+K"], "act_razor")
    _action(window, e, "Delete", lambda: window.edits.delete(), ["Delete", "Backspace"], "act_delete")
    _action(window, e, "Ripple Delete", lambda: window.edits.ripple_delete(), ["Shift+Delete", "Shift+Backspace"],
                 "act_ripple_delete")
    e.addSeparator()
    _action(window, e, "Select All", lambda: window.edits.select_all(), ["Ctrl+A"], "act_select_all")
    _action(window, e, "Deselect All", lambda: window.edits.set_selection([]), ["Ctrl+Shift+A"], "act_deselect")

    s = bar.addMenu("&Sequence")
    _action(window, s, "Add Video Track", lambda: window.edits.add_track(otio.schema.TrackKind.Video),
            name="act_add_video_track")
    _action(window, s, "Add Audio Track", lambda: window.edits.add_track(otio.schema.TrackKind.Audio),
            name="act_add_audio_track")

    m = bar.addMenu("&Marker")
    _action(window, m, "Mark In", lambda: window.edits.set_in(window.playback.frame), ["I"], "act_mark_in")
    _action(window, m, "Mark Out", lambda: window.edits.set_out(window.playback.frame), ["O"], "act_mark_out")
    _action(window, m, "Clear In and Out", window._clear_in_out, ["Ctrl+Shift+X"], "act_clear_in_out")
    _action(window, m, "Add Marker", lambda: window.edits.add_marker(window.playback.frame), ["M"], "act_add_marker")

    p = bar.addMenu("&Playback")
    _action(window, p, "Play / Pause", lambda: window.playback.toggle_play(), ["Space"], "act_play")
    _action(window, p, "Shuttle Back", lambda: window.playback.shuttle_backward(), ["J"], "act_shuttle_back")
    _action(window, p, "Stop", lambda: window.playback.stop(), ["K"], "act_stop")
    _action(window, p, "Shuttle Forward", lambda: window.playback.shuttle_forward(), ["L"], "act_shuttle_forward")
    _action(window, p, "Previous Frame", lambda: window.playback.step(-1), ["Left"], "act_prev_frame")
    _action(window, p, "Next Frame", lambda: window.playback.step(1), ["Right"], "act_next_frame")
    _action(window, p, "Go to Start", lambda: window.playback.go_start(), ["Home"], "act_go_start")
    _action(window, p, "Go to End", lambda: window.playback.go_end(), ["End"], "act_go_end")

    v = bar.addMenu("&View")
    _action(window, v, "Zoom In", lambda: window.canvas.zoom(1.5), ["+", "=", "Ctrl++"], "act_zoom_in")
    _action(window, v, "Zoom Out", lambda: window.canvas.zoom(1 / 1.5), ["-", "Ctrl+-"], "act_zoom_out")
    _action(window, v, "Zoom to Fit", lambda: window.canvas.zoom_to_fit(), ["Shift+Z"], "act_zoom_fit")
    snap = _action(window, v, "Snapping", window._toggle_snapping, ["S"], "act_snapping", checkable=True)
    snap.setChecked(True)
    v.addSeparator()
    for name, dock in window.docks.items():
        v.addAction(dock.toggleViewAction())
    v.addSeparator()
    _action(window, v, "Reset Layout", window.reset_layout, [], "act_reset_layout")
