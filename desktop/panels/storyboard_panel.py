"""Storyboard panel: an editable, reorderable shot list that builds an animatic."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QStyledItemDelegate,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from desktop.theme import icon
from timeline.files import write_atomic
from timeline.storyboard import Shot, format_storyboard, parse_storyboard

SECONDS_COL, PROMPT_COL = 0, 1
MIN_SECONDS, MAX_SECONDS = 0.1, 600.0
DEFAULT_SECONDS = 2.0
TEXT_FILTER = "Storyboard text (*.txt *.storyboard);;All files (*)"


class _SecondsDelegate(QStyledItemDelegate):
    """Edits a shot's length with a spin box bounded to sensible shot lengths."""

    def createEditor(self, parent, option, index):
        if index.column() != SECONDS_COL:
            return super().createEditor(parent, option, index)
        box = QDoubleSpinBox(parent)
        box.setRange(MIN_SECONDS, MAX_SECONDS)
        box.setDecimals(2)
        box.setSingleStep(0.5)
        box.setSuffix(" s")
        return box

    def setEditorData(self, editor, index):
        if isinstance(editor, QDoubleSpinBox):
            editor.setValue(float(index.data(Qt.EditRole) or DEFAULT_SECONDS))
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor, model, index):
        if isinstance(editor, QDoubleSpinBox):
            editor.interpretText()
            model.setData(index, round(editor.value(), 3), Qt.EditRole)
        else:
            super().setModelData(editor, model, index)

    def displayText(self, value, locale):
        if isinstance(value, float):
            return f"{value:g} s"
        return super().displayText(value, locale)


class _ShotList(QTreeWidget):
    """The shot table; dragging rows moves them (our own drop, so shots never nest or copy).
    Delete/Backspace remove the selected shots (taken before the window's Delete shortcut)."""

    delete_pressed = Signal()

    def event(self, event):
        if event.type() == QEvent.ShortcutOverride and self._is_delete(event):
            event.accept()  # the key comes here as a key press instead of firing the window's Delete
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        if self._is_delete(event):
            self.delete_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    @staticmethod
    def _is_delete(event) -> bool:
        return event.key() in (Qt.Key_Delete, Qt.Key_Backspace) and not event.modifiers() & ~Qt.KeypadModifier

    def dropEvent(self, event):
        if event.source() not in (self, None):
            event.ignore()  # shots come from typing or the text format, not from other widgets
            return
        rows = sorted(self.indexOfTopLevelItem(it) for it in self.selectedItems())
        if not rows:
            event.ignore()
            return
        target = self._drop_row(event.position().toPoint())
        items = [self.takeTopLevelItem(r) for r in reversed(rows)][::-1]
        target -= sum(1 for r in rows if r < target)
        for offset, item in enumerate(items):
            self.insertTopLevelItem(target + offset, item)
        self.setCurrentItem(items[0])
        for item in items:
            item.setSelected(True)
        # Not reported as a move: the rows were moved here already, and a "move" result makes
        # the dragging view delete the dragged rows afterwards.
        event.setDropAction(Qt.CopyAction if event.possibleActions() & Qt.CopyAction else Qt.IgnoreAction)
        event.accept()

    def _drop_row(self, pos) -> int:
        index = self.indexAt(pos)
        if not index.isValid():
            return self.topLevelItemCount()
        rect = self.visualRect(index)
        return index.row() + (1 if pos.y() > rect.center().y() else 0)


class StoryboardPanel(QWidget):
    """Shot list (seconds, prompt). Emits `build_animatic_requested(list[Shot])`."""

    build_animatic_requested = Signal(list)
    shots_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("storyboard_panel")
        self._path: Path | None = None  # the text file last imported or exported

        self.tree = _ShotList(self)
        self.tree.setObjectName("storyboard_shots")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Length", "Prompt"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setEditTriggers(
            QAbstractItemView.DoubleClicked | QAbstractItemView.EditKeyPressed | QAbstractItemView.SelectedClicked
        )
        self.tree.setDragDropMode(QAbstractItemView.InternalMove)  # rows reorder by dragging
        self.tree.setDefaultDropAction(Qt.MoveAction)
        self.tree.setItemDelegate(_SecondsDelegate(self.tree))
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setSectionResizeMode(SECONDS_COL, QHeaderView.ResizeToContents)
        self.tree.model().rowsInserted.connect(self._changed)
        self.tree.model().rowsRemoved.connect(self._changed)
        self.tree.model().rowsMoved.connect(self._changed)
        self.tree.itemChanged.connect(self._changed)
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.tree.delete_pressed.connect(self.remove_selected)

        def tool(name, tip, slot, icon_name):
            button = QToolButton(self)
            button.setObjectName(name)
            button.setIcon(icon(icon_name))
            button.setToolTip(tip)
            button.clicked.connect(slot)
            return button

        self.add_button = tool("storyboard_add", "Add a shot after the selection (Ctrl+Enter)", self.add_shot, "add")
        self.remove_button = tool("storyboard_remove", "Remove the selected shots (Delete)", self.remove_selected, "remove")
        self.up_button = tool("storyboard_up", "Move the selected shot earlier (Alt+Up)", lambda: self.move_selected(-1), "up")
        self.down_button = tool("storyboard_down", "Move the selected shot later (Alt+Down)", lambda: self.move_selected(1), "down")
        self.import_button = QPushButton(icon("import"), "Import…", self)
        self.import_button.setObjectName("storyboard_import")
        self.import_button.setToolTip("Read a shot list written as lines of 'SECONDS: prompt'")
        self.import_button.clicked.connect(self.import_dialog)
        self.export_button = QPushButton(icon("export"), "Export…", self)
        self.export_button.setObjectName("storyboard_export")
        self.export_button.setToolTip("Write the shot list as lines of 'SECONDS: prompt'")
        self.export_button.clicked.connect(self.export_dialog)

        self.build_button = QPushButton(icon("animatic"), "Build animatic", self)
        self.build_button.setObjectName("storyboard_build")
        self.build_button.setProperty("role", "primary")
        self.build_button.clicked.connect(self.build_animatic)

        self.summary = QLabel(self)
        self.summary.setObjectName("storyboard_summary")
        self.summary.setProperty("role", "muted")
        self.message = QLabel(self)
        self.message.setObjectName("storyboard_message")
        self.message.setWordWrap(True)
        self.message.hide()

        tools = QHBoxLayout()
        tools.setSpacing(4)
        for w in (self.add_button, self.remove_button, self.up_button, self.down_button):
            tools.addWidget(w)
        tools.addStretch(1)
        tools.addWidget(self.import_button)
        tools.addWidget(self.export_button)

        bottom = QHBoxLayout()
        bottom.addWidget(self.summary, 1)
        bottom.addWidget(self.build_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(tools)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.message)
        layout.addLayout(bottom)

        for keys, slot in (
            ("Alt+Up", lambda: self.move_selected(-1)),
            ("Alt+Down", lambda: self.move_selected(1)),
            ("Ctrl+Return", self.add_shot),
        ):
            shortcut = QShortcut(QKeySequence(keys), self.tree)
            shortcut.setContext(Qt.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

        self._changed()

    # -- the shot list --
    def shots(self) -> list[Shot]:
        """The shots in their current order."""
        out = []
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            seconds = float(item.data(SECONDS_COL, Qt.EditRole) or DEFAULT_SECONDS)
            out.append(Shot(seconds, (item.text(PROMPT_COL) or "").strip()))
        return out

    def set_shots(self, shots) -> None:
        """Replace the list with SHOTS (Shot objects, or (seconds, prompt) pairs)."""
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            for shot in shots:
                seconds, prompt = (shot.seconds, shot.prompt) if isinstance(shot, Shot) else shot
                self.tree.addTopLevelItem(self._make_item(float(seconds), str(prompt)))
        finally:
            self.tree.blockSignals(False)
        self._changed()

    def add_shot(self, seconds: float = DEFAULT_SECONDS, prompt: str = "") -> QTreeWidgetItem:
        """Insert a shot after the current one (or at the end) and start editing its prompt."""
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
            seconds = DEFAULT_SECONDS  # clicked() passes a bool
        item = self._make_item(float(seconds), prompt)
        current = self.tree.currentItem()
        row = self.tree.indexOfTopLevelItem(current) + 1 if current else self.tree.topLevelItemCount()
        self.tree.insertTopLevelItem(row, item)
        self.tree.setCurrentItem(item, PROMPT_COL)
        if not prompt and self.isVisible():
            self.tree.editItem(item, PROMPT_COL)
        return item

    def remove_selected(self) -> None:
        for item in self.tree.selectedItems():
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))

    def move_selected(self, delta: int) -> None:
        """Move the current shot DELTA rows (negative is earlier), keeping it selected."""
        item = self.tree.currentItem()
        if item is None:
            return
        row = self.tree.indexOfTopLevelItem(item)
        target = row + delta
        if not 0 <= target < self.tree.topLevelItemCount():
            return
        self.tree.takeTopLevelItem(row)
        self.tree.insertTopLevelItem(target, item)
        self.tree.setCurrentItem(item)

    def build_animatic(self) -> None:
        """Ask the window to lay the shots as pending clips and queue them."""
        problem = self._problem()
        if problem:
            self._show_message(problem, error=True)
            return
        self.build_animatic_requested.emit(self.shots())

    # -- the SECONDS: prompt text format --
    def import_text(self, text: str, source: str = "text") -> bool:
        """Replace the list with the shots in TEXT; on a bad line say which and keep the list."""
        try:
            shots = parse_storyboard(text)
        except ValueError as exc:
            self._show_message(f"Could not read {source}: {exc}", error=True)
            return False
        self.set_shots(shots)
        self._show_message(f"Read {len(shots)} shot{'s' if len(shots) != 1 else ''} from {source}.")
        return True

    def export_text(self) -> str:
        return format_storyboard(self.shots())

    def import_file(self, path) -> bool:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self._show_message(f"Could not read {path}: {exc}", error=True)
            return False
        if self.import_text(text, source=str(path)):
            self._path = path
            return True
        return False

    def export_file(self, path) -> bool:
        path = Path(path)
        try:
            write_atomic(path, self.export_text())  # a failed write keeps the old file
        except OSError as exc:
            self._show_message(f"Could not write {path}: {exc}", error=True)
            return False
        self._path = path
        self._show_message(f"Wrote {len(self.shots())} shots to {path}.")
        return True

    def import_dialog(self) -> bool:
        start = str(self._path.parent) if self._path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Import storyboard", start, TEXT_FILTER)
        return self.import_file(path) if path else False

    def export_dialog(self) -> bool:
        start = str(self._path) if self._path else "storyboard.txt"
        path, _ = QFileDialog.getSaveFileName(self, "Export storyboard", start, TEXT_FILTER)
        return self.export_file(path) if path else False

    # -- internals --
    def _make_item(self, seconds: float, prompt: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem()
        item.setData(SECONDS_COL, Qt.EditRole, max(MIN_SECONDS, min(MAX_SECONDS, seconds)))
        item.setText(PROMPT_COL, prompt)
        item.setToolTip(PROMPT_COL, "Double-click to edit the prompt")
        item.setFlags(Qt.ItemIsSelectable | Qt.ItemIsEnabled | Qt.ItemIsEditable | Qt.ItemIsDragEnabled)
        item.setTextAlignment(SECONDS_COL, Qt.AlignRight | Qt.AlignVCenter)
        return item

    def _problem(self) -> str | None:
        shots = self.shots()
        if not shots:
            return "Add a shot or import a storyboard first."
        for number, shot in enumerate(shots, 1):
            if not shot.prompt:
                return f"Shot {number} has no prompt; write one before building the animatic."
        return None

    def _changed(self, *args) -> None:
        shots = self.shots()
        total = sum(s.seconds for s in shots)
        self.summary.setText(f"{len(shots)} shot{'s' if len(shots) != 1 else ''} · {total:g} s")
        self._update_buttons()
        self.shots_changed.emit()

    def _update_buttons(self) -> None:
        problem = self._problem()
        self.build_button.setEnabled(problem is None)
        self.build_button.setToolTip(problem or "Lay the shots on a storyboard track as pending clips and generate them")
        has_selection = bool(self.tree.selectedItems())
        self.remove_button.setEnabled(has_selection)
        self.up_button.setEnabled(has_selection)
        self.down_button.setEnabled(has_selection)
        self.export_button.setEnabled(bool(self.tree.topLevelItemCount()))

    def _show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setProperty("role", "error" if error else "ok")
        self.message.style().unpolish(self.message)
        self.message.style().polish(self.message)
        self.message.show()
