"""The main window: docks, menus, shortcuts, and all the signal wiring between the parts."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow, QMessageBox, QVBoxLayout, QWidget

from desktop.bridge import EngineBridge
from desktop.credentials_prefs import CredentialsDialog, signing_settings
from desktop.credentials_view import CredentialsReader
from desktop.edit_controller import EditController
from desktop.engine_prefs import EngineDialog, EngineStatus, engine_choice
from desktop.generation import GenerationController
from desktop.menus import build_menus
from desktop.playback import PlaybackController
from desktop.project_actions import ProjectActions
from desktop.slot_errors import report_slot_errors
from desktop.timeline_items import used_media
from desktop.timeline_view import TimelineView
from desktop.undo import UndoStack
from desktop.viewer import Viewer
from engine.operations import ACTIONS
from timeline.storyboard import shots_of

LAYOUT_VERSION = 1
FIRST_WINDOW = QSize(1400, 900)
FRAME = QSize(16, 40)  # room for the window manager's frame, which is not known before the window is shown


class MainWindow(QMainWindow):
    """LatentCut's window. `bridge` may be passed in (tests share one); otherwise one is made."""

    def __init__(self, bridge: EngineBridge | None = None, settings: QSettings | None = None,
                 model=None, device=None, document=None):
        super().__init__()
        from desktop.panels import GeneratePanel, JobsPanel, MediaPanel, StoryboardPanel
        from timeline import Document

        self.setObjectName("latentcut_main")
        self.settings = settings or QSettings()
        signing = signing_settings(self.settings)
        engine_url, token = engine_choice(self.settings)
        self.bridge = bridge or EngineBridge(model=model, device=device, parent=self, signing=signing,
                                             engine_url=engine_url, token=token)
        self._own_bridge = bridge is None
        if not self._own_bridge:
            self.bridge.set_signing(signing)
            if engine_url:
                self.bridge.use_engine(engine_url, token)
        self.engine_status = EngineStatus(self.bridge, self)
        self.credentials_reader = CredentialsReader(signing.trust_anchors, parent=self)
        self._shut_down = False
        self._error_box = None
        self.document = None
        self.undo_stack = None
        self.actions = ProjectActions(self, self.settings)

        self.media_panel = MediaPanel(self.bridge, credentials=self.credentials_reader)
        self.generate_panel = GeneratePanel(settings=self.settings)
        self.jobs_panel = JobsPanel(self.bridge)
        self.storyboard_panel = StoryboardPanel()
        self.docks: dict[str, QDockWidget] = {}
        self._hosts: dict[str, QWidget] = {}
        central = QWidget()
        central.setMaximumSize(0, 0)  # every panel is a dock; the central area takes no room
        self.setCentralWidget(central)
        self.setDockNestingEnabled(True)
        self._make_docks()
        build_menus(self)
        # Made now, not by the first message: a status bar that appears later takes its height
        # from the docks after they were fitted.
        self.statusBar()
        self._wire_persistent()
        self.actions.document_opened.connect(self._install_document)
        self._install_document(document or Document.new(rate=24, width=1920, height=1080), None)
        self._size_first_window()
        self._restore_layout()

    # -- docks --
    def _dock(self, name: str, title: str, widget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _host(self, name: str) -> QWidget:
        """A fixed dock content whose single child is swapped per document (re-setting a tabified
        dock's widget leaves a stray tab bar behind in Qt)."""
        host = QWidget()
        host.setObjectName(f"host_{name}")
        layout = QVBoxLayout(host)
        layout.setContentsMargins(0, 0, 0, 0)
        self._hosts[name] = host
        return host

    def _host_set(self, name: str, widget: QWidget) -> None:
        layout = self._hosts[name].layout()
        while layout.count():
            old = layout.takeAt(0).widget()
            if old is not None:
                old.hide()
                old.deleteLater()
        layout.addWidget(widget)

    def _make_docks(self):
        L, R, T, B = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                      Qt.DockWidgetArea.TopDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea)
        # Premiere's Editing workspace: media left, viewer centre over the timeline, and the right
        # column (generate/inspector over jobs) the window's full height, which on a 768-px screen
        # is what fits the Generate panel and a whole job card together.
        self.setCorner(Qt.Corner.TopLeftCorner, L)
        self.setCorner(Qt.Corner.TopRightCorner, R)
        self.setCorner(Qt.Corner.BottomLeftCorner, B)
        self.setCorner(Qt.Corner.BottomRightCorner, R)
        self._dock("generate", "Generate", self.generate_panel, R)
        self._dock("inspector", "Inspector", self._host("inspector"), R)
        self.tabifyDockWidget(self.docks["generate"], self.docks["inspector"])
        # Only one tabified group: in Qt 6.12 a second tabifyDockWidget leaves a stray, visible tab bar.
        self._dock("media", "Media", self.media_panel, L)
        self._dock("storyboard", "Storyboard", self.storyboard_panel, L)
        self._dock("viewer", "Viewer", self._host("viewer"), T)
        self._dock("jobs", "Jobs", self.jobs_panel, R)
        self._dock("timeline", "Timeline", self._host("timeline"), B)
        self.docks["generate"].raise_()
        self.resizeDocks([self.docks["media"], self.docks["generate"]], [300, 400], Qt.Orientation.Horizontal)

    def fit_docks(self):
        """The first layout (and Reset Layout) for this window's size: the timeline only as tall as
        its tracks, Jobs one job tall, and the Generate panel the rest of the right column."""
        V = Qt.Orientation.Vertical
        timeline_h = self.timeline_view.needed_height() + self._dock_title_height()
        self.resizeDocks([self.docks["viewer"], self.docks["timeline"]], [self.height() - timeline_h, timeline_h], V)
        column = self.height() - self.menuBar().sizeHint().height() - self.statusBar().sizeHint().height()
        jobs_h = self.jobs_panel.one_job_height() + self._dock_title_height()
        self.resizeDocks([self.docks["generate"], self.docks["jobs"]], [column - jobs_h, jobs_h], V)

    def _dock_title_height(self) -> int:
        dock = self.docks["timeline"]
        return max(dock.height() - dock.widget().height(), dock.fontMetrics().height() + 10)

    def showEvent(self, event):
        super().showEvent(event)
        if self._fit_on_show:
            self._fit_on_show = False
            self.layout().activate()  # Qt sizes docks only after a layout pass
            self.fit_docks()

    # -- one document at a time: these parts are rebuilt when a project is opened --
    def _install_document(self, doc, path):
        from desktop.panels import InspectorPanel

        # The previous document's parts (widgets go with _host_set below).
        old_parts = [getattr(self, name, None) for name in ("playback", "generation", "edits")] + [self.undo_stack]
        old_playback = old_parts[0]
        if old_playback is not None:
            old_playback.shutdown()
            self.canvas.thumbnails.shutdown()
        self.document = doc
        self.undo_stack = UndoStack(doc, self)
        self.edits = EditController(self.undo_stack, self,
                                    trust_anchors=lambda: self.credentials_reader.trust_anchors)
        self.timeline_view = TimelineView(doc, self.edits)
        self.canvas = self.timeline_view.canvas
        self.playback = PlaybackController(doc, proxy_for=self.media_panel.proxy_for, parent=self)
        self.viewer = Viewer(self.playback)
        self.inspector = InspectorPanel(self.undo_stack, credentials=self.credentials_reader, push=self.edits.push)
        self.generation = GenerationController(self.undo_stack, self.bridge, self.edits, self.canvas,
                                               self.actions.media_dir, self)
        self._host_set("timeline", self.timeline_view)
        self._host_set("viewer", self.viewer)
        self._host_set("inspector", self.inspector)
        for part in old_parts:
            if part is not None:
                part.deleteLater()
        self._wire_document()
        for action, text in ((self.undo_action, "Undo"), (self.redo_action, "Redo")):
            action.setEnabled(False)
            action.setText(text)
        self.update_title()
        self.media_panel.show_project_media(used_media(doc.timeline))
        self.storyboard_panel.set_shots(shots_of(doc.timeline))
        self.playback.refresh()
        self._on_selection_changed()

    def _wire_document(self):
        c, pb, us, gen = self.canvas, self.playback, self.undo_stack, self.generation
        us.cleanChanged.connect(self.update_title)
        us.canUndoChanged.connect(self.undo_action.setEnabled)
        us.canRedoChanged.connect(self.redo_action.setEnabled)
        us.undoTextChanged.connect(self._name_undo)
        us.redoTextChanged.connect(self._name_redo)
        c.seek_requested.connect(pb.seek)
        pb.frame_changed.connect(c.set_playhead)
        pb.error.connect(self.show_message)
        ed = self.edits
        ed.selection_changed.connect(self._on_selection_changed)
        ed.message.connect(self.show_message)
        c.move_requested.connect(ed.move_item)
        c.trim_requested.connect(ed.trim_item)
        c.action_requested.connect(self._on_context_action)
        c.media_dropped.connect(ed.place_media)
        c.track_flag_requested.connect(ed.set_track_flag)
        self.inspector.regenerate_requested.connect(self._regenerate)
        gen.message.connect(self.show_message)

    def _wire_persistent(self):
        self.generate_panel.action_requested.connect(self.generate)
        self.storyboard_panel.build_animatic_requested.connect(self.build_animatic)
        # Bound methods, not lambdas: Qt drops these connections when the window goes, and the
        # bridge may outlive it.
        self.media_panel.media_activated.connect(self._show_source)
        self.media_panel.proxy_ready.connect(self._on_proxy_ready)
        self.engine_status.changed.connect(self.jobs_panel.set_engine_state)
        self.engine_status.refresh()
        self.jobs_panel.reveal_requested.connect(self.reveal)
        self.actions.message.connect(self.show_message)
        self.actions.recent_changed.connect(self._fill_recent_menu)
        self.actions.saved.connect(self.update_title)

    # -- menus and shortcuts --
    def _fill_recent_menu(self):
        self.recent_menu.clear()
        recent = self.actions.recent()
        for path in recent:
            act = self.recent_menu.addAction(Path(path).name)
            act.setToolTip(path)
            act.triggered.connect(lambda _=False, p=path: self.actions.open_project(p))
        self.recent_menu.setEnabled(bool(recent))

    # -- layout memory --
    def _size_first_window(self):
        """1400x900, or the screen's free area where that is smaller (a 1366x768 laptop), placed
        on it; a remembered geometry replaces this in _restore_layout."""
        screen = self.screen()
        free = screen.availableGeometry() if screen is not None else None
        if free is None or free.isEmpty():
            self.resize(FIRST_WINDOW)
            return
        size = FIRST_WINDOW.boundedTo(free.size() - FRAME)
        self.resize(size)
        self.move(free.x() + (free.width() - size.width() - FRAME.width()) // 2,
                  free.y() + (free.height() - size.height() - FRAME.height()) // 2)

    def _restore_layout(self):
        self._default_state = self.saveState(LAYOUT_VERSION)
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self._fit_on_show = state is None or not self.restoreState(state, LAYOUT_VERSION)

    def save_layout(self):
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))

    def reset_layout(self):
        self.restoreState(self._default_state, LAYOUT_VERSION)
        for dock in self.docks.values():
            dock.show()
        self.fit_docks()

    # -- status --
    def update_title(self, *_):
        name = self.actions.display_name()
        modified = not self.undo_stack.isClean()
        # Qt replaces [*] with "*" while the window is modified.
        self.setWindowTitle(f"{name}[*] — LatentCut")
        self.setWindowModified(modified)

    def show_message(self, text: str):
        self.statusBar().showMessage(text, 8000)

    def show_error(self, text: str):
        """An unexpected error: the status bar and a dialog that does not block the app."""
        self.show_message(text)
        if self._error_box is None:
            self._error_box = QMessageBox(QMessageBox.Icon.Warning, "LatentCut", text, parent=self)
        self._error_box.setText(text)
        self._error_box.open()

    # -- selection → panels --
    def _on_selection_changed(self):
        kind, summary = self.generation.selection_kind() if self.document is not None else ("none", "")
        self.generate_panel.set_selection(kind, summary)
        clips = self.edits.selected_clips()
        self.inspector.set_item(clips[0] if len(clips) == 1 else None)

    def _name_undo(self, text: str):
        self.undo_action.setText(f"Undo {text}" if text else "Undo")

    def _name_redo(self, text: str):
        self.redo_action.setText(f"Redo {text}" if text else "Redo")

    def _clear_in_out(self):
        self.edits.set_in(None)
        self.edits.set_out(None)

    def _toggle_snapping(self, checked: bool):
        self.edits.snapping = bool(checked)

    def edit_credentials(self) -> bool:
        """The Content Credentials preferences; saved ones apply to the next job."""
        dialog = CredentialsDialog(self.settings, self)
        if not dialog.exec():
            return False
        signing = signing_settings(self.settings)
        self.bridge.set_signing(signing)
        self.credentials_reader.set_trust_anchors(signing.trust_anchors)
        self.show_message("Content Credentials settings saved; they apply to the next generation or render")
        return True

    def edit_engine(self) -> bool:
        """The Engine preference (this computer or a remote server); new jobs go to the choice."""
        dialog = EngineDialog(self.settings, self)
        if not dialog.exec():
            return False
        url, token = engine_choice(self.settings)
        self.bridge.use_engine(url, token)
        self.engine_status.refresh()
        self.show_message(f"New generations run on {url or 'this computer'}")
        return True

    # -- generation --
    def generate(self, op: str):
        """Run the action `op` on the selection with the Generate panel's values; the job's handle."""
        return self.generation.request(op, self.generate_panel.params())

    def build_animatic(self, shots):
        self.generation.build_animatic(shots, self.generate_panel.params())

    def _on_context_action(self, op: str, item, extra):
        if op in ACTIONS:
            self.generation.request(op, self.generate_panel.params(), item)
        elif op in ("regenerate_new", "regenerate_same"):
            self.generation.retry(item, same_seed=op == "regenerate_same")
        else:
            self._on_menu_edit(op, item, extra)

    def _on_menu_edit(self, op: str, item, extra):
        """Edits asked for from the clip's context menu: takes, delete, ripple delete."""
        if op == "switch_take":
            self.edits.switch_take(item, extra)
        elif op == "drop_take":
            self.edits.drop_take(item, extra)
        elif op in ("delete", "ripple_delete"):
            self.edits.set_selection([item])
            (self.edits.delete if op == "delete" else self.edits.ripple_delete)()

    def _regenerate(self, clip, same_seed: bool):
        self.generation.retry(clip, same_seed)

    def _show_source(self, path: str):
        self.playback.show_source(path)

    def _on_proxy_ready(self, source: str, proxy: str):
        self.playback.refresh()  # the new proxy may now serve the frame on screen

    def reveal(self, path: str):
        target = Path(path)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(target.parent if target.is_file() else target)))

    # -- closing --
    def closeEvent(self, event):
        if not self.actions.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.shutdown()
        event.accept()

    def shutdown(self):
        """Stop playback, thumbnails and (if this window made it) the engine."""
        if self._shut_down:
            return
        self._shut_down = True
        self.actions.autosave_timer.stop()
        self.engine_status.stop()
        self.actions.end_session()
        self.playback.shutdown()
        self.canvas.thumbnails.shutdown()
        if self._own_bridge:
            self.bridge.shutdown()


def run_app(project_path=None) -> int:
    """Open the LatentCut window (and `project_path` in it); returns the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("LatentCut")
    app.setApplicationName("LatentCut")
    try:
        from desktop.theme import apply_theme
        apply_theme(app)
    except ImportError:
        pass  # the look is optional; the app works without the style sheet
    window = MainWindow()
    report_slot_errors(window)
    window.show()
    window.actions.offer_untitled_recovery()
    if project_path is not None and not window.actions.open_project(project_path):
        window.show_message(f"Could not open {project_path}")
    return app.exec()
