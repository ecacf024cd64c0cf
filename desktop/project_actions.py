"""File actions: new, open, save, save as, recent projects, autosave, crash recovery, export, render.

Every question to the user goes through `self.prompt(title, text, choices) -> choice` and every
file dialog through `self.choose_path(mode, caption, filters) -> str|None`, so tests can answer
them; by default they are a QMessageBox and a QFileDialog.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

RECENT_KEY = "recent_projects"
RECENT_MAX = 10
AUTOSAVE_MS = 60_000
OPEN_FILTERS = ("Projects and timelines (*.otio *.otioz *.otiod *.edl *.xml *.fcpxml *.xges *.aaf);;"
                "All files (*)")
EXPORT_FILTERS = ("OpenTimelineIO (*.otio);;OTIO bundle with media (*.otioz);;CMX 3600 EDL (*.edl);;"
                  "Final Cut Pro 7 XML (*.xml);;Final Cut Pro X (*.fcpxml);;GStreamer Editing Services (*.xges);;"
                  "MLT XML: Shotcut, Kdenlive (*.mlt)")
EDL_RATES = {"23.976": 24000 / 1001, "24": 24.0, "25": 25.0, "29.97": 30000 / 1001, "30": 30.0}
RENDER_FILTERS = "MPEG-4 H.264 (*.mp4);;QuickTime (*.mov);;Matroska (*.mkv)"
UNTITLED = "untitled.otio"  # an untitled session's stand-in project path, inside its session folder


def unsaved_root() -> Path:
    """Untitled projects live here, one folder per session (autosave and generated media), so a
    crash before the first save loses nothing."""
    from engine.credentials.local_ca import data_dir

    return data_dir() / "unsaved"


def default_prompt(parent):
    def prompt(title: str, text: str, choices: list[str]) -> str:
        box = QMessageBox(parent)
        box.setObjectName("latentcut_prompt")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(title)
        box.setText(text)
        buttons = {box.addButton(c, QMessageBox.ButtonRole.ActionRole): c for c in choices}
        box.exec()
        return buttons.get(box.clickedButton(), choices[-1])
    return prompt


def default_choose_path(parent):
    def choose(mode: str, caption: str, filters: str) -> str | None:
        if mode == "open":
            path, _ = QFileDialog.getOpenFileName(parent, caption, "", filters)
        else:
            path, _ = QFileDialog.getSaveFileName(parent, caption, "", filters)
        return path or None
    return choose


class ProjectActions(QObject):
    """The File menu's work for one main window. The window installs each opened document."""

    document_opened = Signal(object, object)   # Document, Path | None
    saved = Signal(object)                     # Path
    recent_changed = Signal()
    message = Signal(str)

    def __init__(self, window, settings: QSettings | None = None, autosave_ms: int = AUTOSAVE_MS):
        super().__init__(window)
        self.window = window
        self.settings = settings or QSettings()
        self.path: Path | None = None
        self.prompt = default_prompt(window)
        self.choose_path = default_choose_path(window)
        self._session: Path | None = None   # this window's folder for an untitled project
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()
        self.render_jobs: dict[str, QProgressDialog] = {}

    # -- state the window provides --
    @property
    def document(self):
        return self.window.document

    @property
    def undo_stack(self):
        return self.window.undo_stack

    @property
    def modified(self) -> bool:
        return not self.undo_stack.isClean()

    def display_name(self) -> str:
        if self.path is not None:
            return self.path.stem
        return self.document.timeline.name or "Untitled"

    def media_dir(self) -> Path:
        """Where generated media goes: NAME_media/ next to the project, or the session folder's
        media/ in the user's data folder until it is saved."""
        if self.path is not None:
            folder = self.path.with_name(f"{self.path.stem}_media")
        else:
            folder = self.session_folder() / "media"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def session_folder(self) -> Path:
        if self._session is None:
            self._session = unsaved_root() / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{id(self):x}"
            self._session.mkdir(parents=True, exist_ok=True)
        return self._session

    # -- recent projects --
    def recent(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent() if p != str(path)]
        self.settings.setValue(RECENT_KEY, items[:RECENT_MAX])
        self.recent_changed.emit()

    # -- asking before losing work --
    def maybe_save(self) -> bool:
        """True when it is fine to drop the current document (saved, discarded, or unmodified)."""
        if not self.modified:
            return True
        choice = self.prompt("Unsaved changes", f"Save the changes to “{self.display_name()}” first?",
                             ["Save", "Don't Save", "Cancel"])
        if choice == "Save":
            return self.save()
        return choice == "Don't Save"

    # -- new / open --
    def new_project(self) -> bool:
        from timeline import Document

        if not self.maybe_save():
            return False
        current = self.document
        doc = Document.new(rate=current.rate, width=current.width or 1920, height=current.height or 1080)
        self._install(doc, None)
        return True

    def open_dialog(self) -> bool:
        path = self.choose_path("open", "Open project or timeline", OPEN_FILTERS)
        return self.open_project(path) if path else False

    def open_project(self, path) -> bool:
        """Open a project (.otio) or anything OTIO reads; offers a newer autosave if there is one."""
        from timeline import Document
        from timeline.errors import ProjectError
        from timeline.interchange import import_timeline
        from timeline.project import discard_recovery, load_project, recovery_for

        if not self.maybe_save():
            return False
        path = Path(path)
        try:
            if path.suffix.lower() == ".otio":
                use_recovery = False
                recovery = recovery_for(path)
                if recovery is not None:
                    choice = self.prompt(
                        "Recover unsaved changes",
                        f"“{path.name}” has an autosave newer than the saved project, probably from a crash. "
                        "Recover the autosaved changes?",
                        ["Recover", "Open Saved Version"])
                    use_recovery = choice == "Recover"
                    if not use_recovery:
                        discard_recovery(path)
                doc = load_project(path, use_recovery=use_recovery)
                self._install(doc, path)
                if use_recovery:
                    self.undo_stack.resetClean()  # recovered changes are not on disk yet
                    self.window.update_title()
                self._remember(path)
            else:
                rate = self._ask_edl_rate(path) if path.suffix.lower() == ".edl" else None
                if rate == 0:
                    return False
                doc = Document(import_timeline(path, rate=rate))
                self._install(doc, None)
                self.message.emit(f"Imported {path.name}; save it as a project to keep it")
        except (ProjectError, ValueError, OSError) as exc:
            self.prompt("Cannot open", f"Cannot open {path}: {exc}", ["OK"])
            return False
        return True

    def _ask_edl_rate(self, path: Path) -> float | None:
        """None when the EDL says (or its timecodes imply) its rate, else the rate the user
        picks, 0 for Cancel: an EDL is never opened at a silently wrong rate."""
        from timeline.interchange import edl_rate

        if edl_rate(path) is not None:
            return None
        choice = self.prompt("EDL frame rate", f"“{path.name}” does not say its frame rate. "
                             "Which rate was it made at?", list(EDL_RATES) + ["Cancel"])
        return EDL_RATES.get(choice, 0)

    def _install(self, doc, path: Path | None) -> None:
        self.path = path
        self.document_opened.emit(doc, path)

    # -- save --
    def save(self) -> bool:
        from timeline.errors import ProjectError
        from timeline.project import discard_recovery, save_project

        if self.path is None:
            return self.save_as()
        try:
            save_project(self.document, self.path)
        except (ProjectError, OSError, ValueError) as exc:
            self.prompt("Cannot save", f"Cannot save {self.path}: {exc}", ["OK"])
            return False
        discard_recovery(self.path)
        self.undo_stack.setClean()
        self._remember(self.path)
        self.saved.emit(self.path)
        self.message.emit(f"Saved {self.path}")
        return True

    def save_as(self, path=None) -> bool:
        if path is None:
            path = self.choose_path("save", "Save project as", "LatentCut project (*.otio)")
            if not path:
                return False
        path = Path(path)
        if path.suffix.lower() != ".otio":
            path = path.with_name(path.name + ".otio")
        previous = self.path
        self.path = path
        if not self.save():
            self.path = previous
            return False
        self.window.update_title()
        return True

    # -- autosave --
    def autosave_now(self) -> Path | None:
        """Write the autosave file when there are unsaved changes: next to the project, or in
        the session folder while the project is untitled."""
        from timeline.errors import ProjectError
        from timeline.project import autosave

        if not self.modified:
            return None
        try:
            return autosave(self.document, self.path or self.session_folder() / UNTITLED)
        except (ProjectError, OSError) as exc:
            self.message.emit(f"Autosave failed: {exc}")
            return None

    def end_session(self) -> None:
        """The window closes after the user saved or discarded: no untitled autosave to recover."""
        from timeline.project import discard_recovery

        if self._session is not None:
            discard_recovery(self._session / UNTITLED)

    def offer_untitled_recovery(self) -> bool:
        """At start: offer the newest untitled project a previous session left unsaved (a crash).
        Recover opens it, still untitled and modified; Discard deletes it and its media."""
        from timeline.errors import ProjectError
        from timeline.project import autosave_path, load_project

        autosaves = sorted((autosave_path(folder / UNTITLED) for folder in unsaved_root().glob("*")
                            if folder != self._session and autosave_path(folder / UNTITLED).is_file()),
                           key=lambda p: p.stat().st_mtime_ns)
        if not autosaves:
            return False
        newest = autosaves[-1]
        when = time.strftime("%d %b %H:%M", time.localtime(newest.stat().st_mtime))
        choice = self.prompt("Recover unsaved project",
                             f"An untitled project was not saved when LatentCut last closed (autosaved {when}). "
                             "Recover it?", ["Recover", "Discard"])
        if choice != "Recover":
            shutil.rmtree(newest.parent, ignore_errors=True)
            return False
        try:
            doc = load_project(newest.parent / UNTITLED, use_recovery=True)
        except (ProjectError, OSError, ValueError) as exc:
            self.prompt("Cannot recover", f"Cannot recover {newest}: {exc}", ["OK"])
            return False
        if self._session is not None:
            shutil.rmtree(self._session, ignore_errors=True)
        self._session = newest.parent  # its generated media are already in this folder
        self._install(doc, None)
        self.undo_stack.resetClean()  # recovered changes are not saved anywhere yet
        self.window.update_title()
        return True

    # -- export --
    def export_dialog(self):
        path = self.choose_path("save", "Export timeline", EXPORT_FILTERS)
        return self.export(path) if path else None

    def export(self, path):
        """Export the timeline; tells the user what the format could not carry and which
        generated takes' Content Credentials changed since they were made."""
        from engine.credentials.recheck import current_record
        from timeline.errors import ProjectError
        from timeline.interchange import export_timeline

        base = self.path.parent if self.path is not None else None
        try:
            report = export_timeline(self.document, path, base_dir=base, credentials=current_record)
        except (ProjectError, ValueError, OSError) as exc:
            self.prompt("Export failed", f"Cannot export to {path}: {exc}", ["OK"])
            return None
        except Exception as exc:  # an adapter's own failure: the user still gets a dialog
            self.prompt("Export failed", f"Cannot export to {path}: the writer failed "
                        f"({type(exc).__name__}: {exc})", ["OK"])
            return None
        if report.dropped or report.credentials:
            text = f"Exported {Path(report.path).name}."
            if report.dropped:
                text += f" The {report.format} format dropped:\n" + "\n".join(f"• {d}" for d in report.dropped)
            if report.credentials:
                text += "\nContent Credentials as the files are now:\n" + "\n".join(
                    f"• {c}" for c in report.credentials)
            self.prompt("Exported with losses" if report.dropped else "Exported", text, ["OK"])
        else:
            self.message.emit(f"Exported {Path(report.path).name} ({report.format}); nothing was dropped")
        return report

    # -- render --
    def render_dialog(self):
        path = self.choose_path("save", "Render to a video file", RENDER_FILTERS)
        return self.render(path) if path else None

    def render(self, path, range_seconds=None):
        """Queue a render of the timeline as it is now; a progress dialog shows it and can cancel
        it. Returns the job's handle (None when the render cannot be asked for)."""
        from engine.jobs import RenderJob

        bridge = self.window.bridge
        base = self.path.parent if self.path is not None else Path.cwd()
        try:
            job = RenderJob(output=str(path), timeline_json=self.document.timeline.to_json_string(),
                            base_dir=str(base), range=range_seconds, rate=self.document.rate)
        except ValueError as exc:
            self.prompt("Cannot render", str(exc), ["OK"])
            return None
        handle = bridge.submit(job)
        dialog = QProgressDialog(f"Rendering {Path(path).name}…", "Cancel", 0, 100, self.window)
        dialog.setObjectName("render_progress")
        dialog.setWindowTitle("Render")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(handle.cancel)
        dialog.show()
        self.render_jobs[handle.id] = dialog
        handle.watch(dialog, progress=lambda step, total: dialog.setValue(int(100 * step / total)) if total else None,
                     done=lambda result: self._render_finished(handle.id, "done", str(result.get("path", ""))),
                     failed=lambda message: self._render_finished(handle.id, "failed", message),
                     cancelled=lambda: self._render_finished(handle.id, "cancelled"))
        return handle

    def _render_finished(self, job_id: str, outcome: str, detail: str = ""):
        dialog = self.render_jobs.pop(job_id, None)
        if dialog is None:
            return
        dialog.canceled.disconnect()
        dialog.close()
        dialog.deleteLater()
        self.message.emit({"done": f"Rendered {detail}", "failed": f"Render failed: {detail}",
                           "cancelled": "Render cancelled"}[outcome])
