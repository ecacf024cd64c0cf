"""File actions: the unsaved-changes and crash-recovery prompts, save/open/recent, export, layout memory."""
import os
import time

import opentimelineio as otio
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from desktop.app import MainWindow
from timeline.edits import AddTrack


class Answers:
    """A prompt that answers from a list and records what it was asked."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.asked = []

    def __call__(self, title, text, choices):
        self.asked.append((title, text, choices))
        answer = self.answers.pop(0)
        assert answer in choices
        return answer


@pytest.fixture
def edited(window, media):
    window.edits.place_media(media, window.document.video_tracks[0], 0)
    return window


def test_title_shows_the_name_and_a_star_when_modified(window, media, tmp_path):
    assert window.windowTitle() == "Untitled[*] — LatentCut" and not window.isWindowModified()
    window.edits.place_media(media[:1], window.document.video_tracks[0], 0)
    assert window.isWindowModified()
    assert window.actions.save_as(tmp_path / "scene")
    assert window.windowTitle().startswith("scene[*]") and not window.isWindowModified()
    assert (tmp_path / "scene.otio").is_file()


@pytest.mark.parametrize("answer,closes", [("Cancel", False), ("Don't Save", True)])
def test_closing_with_unsaved_changes_asks_first(edited, answer, closes):
    prompt = Answers(answer)
    edited.actions.prompt = prompt
    assert edited.close() is closes
    assert prompt.asked[0][0] == "Unsaved changes" and "Untitled" in prompt.asked[0][1]
    if not closes:
        assert edited.isVisible()


def test_save_from_the_unsaved_prompt_saves_then_closes(edited, tmp_path):
    edited.actions.prompt = Answers("Save")
    edited.actions.choose_path = lambda mode, caption, filters: str(tmp_path / "kept.otio")
    assert edited.close()
    loaded = otio.adapters.read_from_file(str(tmp_path / "kept.otio"))
    assert [c.name for c in loaded.find_clips()] == ["red.mp4", "blue.mp4"]


def test_unsaved_prompt_on_the_real_message_box(qtbot, edited):
    """The default prompt is a QMessageBox a user (here qtbot) clicks."""
    from desktop.project_actions import default_prompt
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    edited.actions.prompt = default_prompt(edited)
    clicked = []

    def click_cancel():
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        button = next(b for b in box.buttons() if b.text() == "Cancel")
        clicked.append(box.text())
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(200, click_cancel)
    assert edited.actions.maybe_save() is False
    assert "Save the changes" in clicked[0]


def test_new_asks_before_dropping_changes(edited):
    edited.actions.prompt = Answers("Don't Save")
    assert edited.actions.new_project()
    assert len(list(edited.document.video_tracks[0])) == 0 and not edited.isWindowModified()


def test_crash_recovery_prompt_recovers_the_autosave(qtbot, edited, bridge, isolated_settings, tmp_path):
    path = tmp_path / "crash.otio"
    assert edited.actions.save_as(path)
    edited.undo_stack.push_command(AddTrack(name="after save"))
    assert edited.actions.autosave_now() is not None
    os.utime(path, (time.time() - 10, time.time() - 10))   # the autosave is the newer file
    edited.undo_stack.setClean()   # the "crash": the window goes without saving

    other = MainWindow(bridge=bridge, settings=isolated_settings)
    try:
        other.actions.prompt = Answers("Recover")
        assert other.actions.open_project(path)
        assert other.actions.prompt.asked[0][0] == "Recover unsaved changes"
        assert "after save" in [t.name for t in other.document.timeline.tracks]
        assert other.isWindowModified()   # recovered changes still need a save
    finally:
        other.undo_stack.setClean()
        other.close()


def test_crash_recovery_can_open_the_saved_version(edited, bridge, isolated_settings, tmp_path):
    from timeline.project import recovery_for

    path = tmp_path / "crash.otio"
    assert edited.actions.save_as(path)
    edited.undo_stack.push_command(AddTrack(name="after save"))
    edited.actions.autosave_now()
    os.utime(path, (time.time() - 10, time.time() - 10))
    edited.undo_stack.setClean()
    other = MainWindow(bridge=bridge, settings=isolated_settings)
    try:
        other.actions.prompt = Answers("Open Saved Version")
        assert other.actions.open_project(path)
        assert "after save" not in [t.name for t in other.document.timeline.tracks]
        assert recovery_for(path) is None and not other.isWindowModified()
    finally:
        other.close()


def test_recent_projects_menu(window, tmp_path):
    for name in ("one", "two"):
        window.actions.save_as(tmp_path / name)
    assert window.actions.recent()[:2] == [str(tmp_path / "two.otio"), str(tmp_path / "one.otio")]
    entries = [a.text() for a in window.recent_menu.actions()]
    assert entries[:2] == ["two.otio", "one.otio"]
    window.recent_menu.actions()[1].trigger()
    assert window.actions.path == tmp_path / "one.otio"


def test_open_reports_a_bad_file_by_name(window, tmp_path):
    bad = tmp_path / "broken.otio"
    bad.write_text("{ not json")
    window.actions.prompt = Answers("OK")
    assert not window.actions.open_project(bad)
    assert "broken.otio" in window.actions.prompt.asked[0][1]


def test_open_imports_other_formats(edited, tmp_path):
    edl = tmp_path / "cut.edl"
    edited.actions.prompt = Answers("OK")
    edited.actions.export(edl)
    edited.undo_stack.setClean()
    assert edited.actions.open_project(edl)
    assert edited.actions.path is None
    assert len(list(edited.document.timeline.find_clips())) == 2


def test_an_edl_that_does_not_say_its_rate_asks_for_it(window, tmp_path):
    edl = tmp_path / "plain.edl"
    edl.write_text("TITLE: plain\n\n001  A001 V C 01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00\n")
    window.actions.prompt = Answers("25")
    assert window.actions.open_project(edl)
    assert window.actions.prompt.asked[0][0] == "EDL frame rate"
    assert window.document.rate == 25 and window.document.timeline.duration().to_seconds() == 1.0
    window.actions.prompt = Answers("Cancel")
    assert not window.actions.open_project(edl)


def test_export_failure_of_any_kind_shows_a_dialog(window, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise AttributeError("'NoneType' object has no attribute 'start_time'")

    monkeypatch.setattr("timeline.interchange.export_timeline", broken)
    window.actions.prompt = Answers("OK")
    assert window.actions.export(tmp_path / "cut.xml") is None
    assert window.actions.prompt.asked[0][0] == "Export failed"


def test_export_states_what_the_format_dropped(edited, tmp_path):
    edited.undo_stack.push_command(AddTrack(name="V2"))
    edited.actions.prompt = Answers("OK")
    report = edited.actions.export(tmp_path / "cut.edl")
    assert report.dropped and (tmp_path / "cut.edl").is_file()
    title, text, _ = edited.actions.prompt.asked[0]
    assert title == "Exported with losses" and report.dropped[0] in text
    edited.actions.prompt = Answers()
    report = edited.actions.export(tmp_path / "cut.otio")
    assert report.dropped == []


def test_layout_is_remembered(window, bridge, isolated_settings):
    window.docks["jobs"].hide()
    window.save_layout()
    other = MainWindow(bridge=bridge, settings=isolated_settings)
    try:
        assert other.docks["jobs"].isHidden() and not other.docks["timeline"].isHidden()
        assert {d.objectName() for d in other.docks.values()} == {
            "dock_media", "dock_viewer", "dock_timeline", "dock_inspector", "dock_generate", "dock_jobs", "dock_storyboard"}
    finally:
        other.close()


def test_render_shows_progress_and_cancel_stops_it(qtbot, edited, tmp_path):
    out = tmp_path / "cancelled.mp4"
    track = edited.document.video_tracks[0]
    for _ in range(20):   # ~20 s of timeline: the render is still running when it is cancelled
        edited.edits.place_media([track[0].media_reference.target_url], track, edited.canvas.index.duration)
    handle = edited.actions.render(out)
    job_id = handle.id
    dialog = edited.actions.render_jobs[job_id]
    assert dialog.isVisible() and dialog.labelText().startswith("Rendering cancelled.mp4")
    from PySide6.QtWidgets import QPushButton

    button = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Cancel")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: handle.state == "cancelled", timeout=60_000)
    assert job_id not in edited.actions.render_jobs   # the dialog closed itself
    assert not out.exists()


def test_run_app_opens_the_project_and_returns_the_exit_code(qtbot, tmp_path, monkeypatch, tiny_model):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop import app as app_module
    from timeline import Document
    from timeline.project import save_project

    path = tmp_path / "start.otio"
    save_project(Document.new(rate=25, width=64, height=36), path)
    opened = []

    class Window(app_module.MainWindow):
        def __init__(self):
            super().__init__(model=str(tiny_model))
            opened.append(self)

    monkeypatch.setattr(app_module, "MainWindow", Window)

    def close_when_shown():
        if opened and opened[0].isVisible() and opened[0].actions.path is not None:
            opened[0].close()
        else:
            QTimer.singleShot(50, close_when_shown)

    QTimer.singleShot(50, close_when_shown)
    assert app_module.run_app(path) == 0
    assert opened[0].actions.path == path and opened[0].document.rate == 25


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_becomes_a_message_to_the_user(qtbot, window):
    from PySide6.QtCore import QObject, Signal

    from desktop.slot_errors import report_slot_errors

    class Source(QObject):
        fired = Signal()

    def broken_slot():
        raise ValueError("SMPTE timecode does not support this rate")

    reporter = report_slot_errors(window)
    try:
        source = Source()
        source.fired.connect(broken_slot)
        source.fired.emit()
    finally:
        reporter.uninstall()
    assert "SMPTE timecode does not support this rate" in window.statusBar().currentMessage()
    assert window._error_box.isVisible() and "SMPTE" in window._error_box.text()


def test_a_reopened_project_lists_its_media_with_thumbnails_and_proxies(qtbot, edited, media, bridge,
                                                                       isolated_settings, tmp_path):
    from desktop.panels.media_panel import STATUS_ROLE

    path = tmp_path / "cut.otio"
    assert edited.actions.save_as(path)
    other = MainWindow(bridge=bridge, settings=isolated_settings)
    try:
        assert other.media_panel.paths() == []
        assert other.actions.open_project(path)
        assert sorted(other.media_panel.paths()) == sorted(media)
        qtbot.waitUntil(lambda: all(other.media_panel.state(p) == "ready" for p in media), timeout=20_000)
        qtbot.waitUntil(lambda: all(other.media_panel.proxy_for(p) for p in media), timeout=60_000)
        for row in range(other.media_panel.list.count()):
            item = other.media_panel.list.item(row)
            thumbnail = item.data(Qt.DecorationRole)
            assert thumbnail is not None and not thumbnail.isNull()
            assert item.data(STATUS_ROLE).startswith("Proxy ready")
        other.actions.new_project()
        assert other.media_panel.paths() == []  # not the last project's media
    finally:
        other.undo_stack.setClean()
        other.close()


def test_a_reopened_storyboard_project_shows_its_shots(qtbot, window, bridge, isolated_settings, tmp_path):
    """As `latentcut storyboard` writes it: generated shots end to end on V1."""
    from timeline import Document
    from timeline.generated import MarkFailed, PlacePendingClip, make_pending_clip
    from timeline.project import save_project
    from timeline.storyboard import Shot

    doc = Document.new(rate=12, width=64, height=36)
    start = otio.opentime.RationalTime(0, 12)
    for n, (seconds, prompt) in enumerate([(2.0, "day over a field"), (1.5, "a red ball at sunset")], 1):
        clip = make_pending_clip("generate", {"prompt": prompt, "seconds": seconds},
                                 otio.opentime.RationalTime(seconds * 12, 12), name=f"shot {n}")
        PlacePendingClip(clip, doc.video_tracks[0], start).do(doc)
        MarkFailed(clip, "no engine").do(doc)
        start += clip.duration()
    path = save_project(doc, tmp_path / "board.otio")
    window.actions.prompt = Answers("Discard")
    assert window.actions.open_project(path)
    assert window.storyboard_panel.shots() == [Shot(2.0, "day over a field"), Shot(1.5, "a red ball at sunset")]
    assert window.storyboard_panel.build_button.isEnabled()  # edit and build again


def test_an_untitled_project_is_autosaved_and_offered_back_at_the_next_start(qtbot, edited, bridge,
                                                                           isolated_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTCUT_DATA_DIR", str(tmp_path / "data"))
    edited.undo_stack.push_command(AddTrack(name="never saved"))
    autosaved = edited.actions.autosave_now()
    assert autosaved is not None and autosaved.is_file()
    assert (tmp_path / "data") in autosaved.parents
    assert edited.actions.media_dir().parent == autosaved.parent  # generated media survive a crash too
    edited.undo_stack.setClean()  # the "crash": the window goes without saving or closing

    other = MainWindow(bridge=bridge, settings=isolated_settings)
    try:
        other.actions.prompt = Answers("Recover")
        assert other.actions.offer_untitled_recovery()
        assert other.actions.prompt.asked[0][0] == "Recover unsaved project"
        assert "never saved" in [t.name for t in other.document.timeline.tracks]
        assert other.isWindowModified() and other.actions.path is None
        assert other.actions.media_dir().parent == autosaved.parent
    finally:
        other.undo_stack.setClean()
        other.close()  # a clean close: nothing is left to recover
    third = MainWindow(bridge=bridge, settings=isolated_settings)
    try:
        third.actions.prompt = _unexpected_prompt_for_test
        assert not third.actions.offer_untitled_recovery()
    finally:
        third.close()


def test_a_discarded_untitled_recovery_is_deleted(edited, bridge, isolated_settings, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTCUT_DATA_DIR", str(tmp_path / "data"))
    edited.actions.autosave_now()
    edited.undo_stack.setClean()
    other = MainWindow(bridge=bridge, settings=isolated_settings)
    try:
        other.actions.prompt = Answers("Discard")
        assert not other.actions.offer_untitled_recovery()
        other.actions.prompt = _unexpected_prompt_for_test
        assert not other.actions.offer_untitled_recovery()
    finally:
        other.close()


def _unexpected_prompt_for_test(title, text, choices):
    raise AssertionError(f"unexpected prompt {title!r}: {text}")
