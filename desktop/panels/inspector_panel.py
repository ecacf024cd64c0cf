"""Inspector panel: the selected item's properties and the Content Credentials of its media;
for a generated clip its recipe, takes and provenance."""
from __future__ import annotations

from pathlib import Path

import opentimelineio as otio
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.credentials_view import CredentialsBadge, CredentialsReader
from desktop.theme import icon
from desktop.timeline_items import media_path
from timeline.edits import Rename, SetEnabled
from timeline.generated import RECIPE as RECIPE_KEY
from timeline.generated import DropTake, SwitchTake, take_keys
from timeline.provenance import app_data, is_generated, to_plain
from timeline.timecode import format_timecode

RECIPE_FIELDS = (
    ("op", "Operation"), ("prompt", "Prompt"), ("negative_prompt", "Negative prompt"), ("seed", "Seed"),
    ("steps", "Steps"), ("guidance", "Guidance"), ("strength", "Strength"), ("structure_weight", "Structure"),
    ("seconds", "Length (s)"),
)
TAKE_ROLE = Qt.UserRole
EMPTY_TEXT = "Select a clip or gap on the timeline to see its properties."


def _text(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, otio.opentime.TimeRange):
        rate = value.duration.rate
        return f"{format_timecode(value.start_time, rate)}–{format_timecode(value.end_time_exclusive(), rate)}"
    if isinstance(value, dict) and "path" in value:
        rest = {k: v for k, v in value.items() if k != "path"}
        return f"{Path(str(value['path'])).name}" + (f" ({_text(rest)})" if rest else "")
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


class _Value(QLabel):
    """A read-only value users can select and copy."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)  # wrap rather than widen the dock


class InspectorPanel(QWidget):
    """Shows `set_item(item)`; edits go through the undo stack so they can be undone."""

    regenerate_requested = Signal(object, bool)  # clip, same_seed

    def __init__(self, undo_stack, parent=None, credentials: CredentialsReader | None = None, push=None):
        super().__init__(parent)
        self.setObjectName("inspector_panel")
        self.undo_stack = undo_stack
        # Where its edits go: the window gives the edit controller's push (its one error path).
        self._push = push or undo_stack.push_command
        self.item = None
        self.credentials_reader = credentials or CredentialsReader(parent=self)
        self.credentials_reader.read.connect(self._on_credentials)
        self._media_file: str | None = None  # the file whose credentials the badge shows
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)  # several events from one edit become one refresh
        self._refresh_timer.timeout.connect(self.refresh)

        body = QWidget(self)
        self._body = QVBoxLayout(body)
        self._body.setContentsMargins(8, 8, 8, 8)
        self._body.setSpacing(6)

        self.empty = QLabel(EMPTY_TEXT, body)
        self.empty.setObjectName("inspector_empty")
        self.empty.setProperty("role", "muted")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignCenter)

        # Header: the name (editable) and the generated badge.
        self.name = QLineEdit(body)
        self.name.setObjectName("inspector_name")
        self.name.setToolTip("Rename (Enter to apply; undoable)")
        self.name.editingFinished.connect(self._rename)
        self.kind = QLabel(body)
        self.kind.setObjectName("inspector_kind")
        self.kind.setProperty("role", "muted")
        self.badge = QLabel(body)
        self.badge.setObjectName("inspector_badge")
        self.badge.setProperty("role", "badge")
        self.credentials_badge = CredentialsBadge(body)
        self.credentials_badge.setObjectName("inspector_credentials")
        header = QHBoxLayout()
        header.addWidget(self.kind, 1)
        header.addWidget(self.badge)

        # Properties.
        self.properties = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for key, label in (("track", "Track"), ("start", "Start"), ("end", "End"), ("duration", "Duration"),
                           ("source", "Source in–out"), ("media", "Media")):
            self.fields[key] = _Value(body)
            self.fields[key].setObjectName(f"inspector_{key}")
            self.properties.addRow(label, self.fields[key])
        self.enabled = QCheckBox("Enabled", body)
        self.enabled.setObjectName("inspector_enabled")
        self.enabled.setToolTip("A disabled clip is hidden (video) or muted (audio)")
        self.enabled.clicked.connect(self._set_enabled)
        self.properties.addRow("", self.enabled)

        # Generated clip: status, recipe, takes, provenance, regenerate.
        self.generated = QWidget(body)
        gen = QVBoxLayout(self.generated)
        gen.setContentsMargins(0, 0, 0, 0)
        gen.setSpacing(6)
        self.status = QLabel(self.generated)
        self.status.setObjectName("inspector_status")
        self.status.setWordWrap(True)
        self.recipe = QFormLayout()
        self.recipe_fields: dict[str, QLabel] = {}
        for key, label in RECIPE_FIELDS + (("model", "Model"),):
            self.recipe_fields[key] = _Value(self.generated)
            self.recipe_fields[key].setObjectName(f"inspector_recipe_{key}")
            self.recipe.addRow(label, self.recipe_fields[key])
        self.takes = QListWidget(self.generated)
        self.takes.setObjectName("inspector_takes")
        self.takes.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.takes.setTextElideMode(Qt.ElideMiddle)  # keeps "take-N" and the seed readable
        self.takes.itemDoubleClicked.connect(lambda it: self.switch_take(it.data(TAKE_ROLE)))
        self.takes.currentItemChanged.connect(lambda *a: self._update_take_buttons())
        self.use_take = QPushButton("Use take", self.generated)
        self.use_take.setObjectName("inspector_use_take")
        self.use_take.setToolTip("Make the selected take the one the timeline plays (double-click works too)")
        self.use_take.clicked.connect(lambda: self.switch_take(self._selected_take()))
        self.delete_take = QPushButton(icon("remove"), "Delete take", self.generated)
        self.delete_take.setObjectName("inspector_delete_take")
        self.delete_take.setToolTip("Remove the selected take from the clip (undoable; the file stays on disk)")
        self.delete_take.clicked.connect(lambda: self.drop_take(self._selected_take()))
        take_buttons = QHBoxLayout()
        take_buttons.addWidget(self.use_take)
        take_buttons.addWidget(self.delete_take)
        take_buttons.addStretch(1)
        self.provenance = QFormLayout()
        self.provenance_fields: dict[str, QLabel] = {}
        for key, label in (("created", "Created"), ("engine_version", "Engine"), ("model_name", "Model"),
                           ("sha256", "Weights sha256"), ("source", "Source"), ("file", "Take file")):
            self.provenance_fields[key] = _Value(self.generated)
            self.provenance_fields[key].setObjectName(f"inspector_prov_{key}")
            self.provenance.addRow(label, self.provenance_fields[key])
        self.regenerate_same = QPushButton(icon("retry"), "Regenerate exactly", self.generated)
        self.regenerate_same.setObjectName("inspector_regenerate_exact")
        self.regenerate_same.setProperty("role", "primary")
        self.regenerate_same.setToolTip("Run the recipe again with the same seed; the result is a new take")
        self.regenerate_same.clicked.connect(lambda: self._regenerate(True))
        self.regenerate_new = QPushButton(icon("dice"), "Regenerate with a new seed", self.generated)
        self.regenerate_new.setObjectName("inspector_regenerate_new")
        self.regenerate_new.setToolTip("Run the recipe with a fresh random seed; the result is a new take")
        self.regenerate_new.clicked.connect(lambda: self._regenerate(False))

        # What a user of a generated clip reaches for first (status, takes, regenerate) comes first.
        gen.addWidget(self.status)
        gen.addWidget(self._section("Takes"))
        gen.addWidget(self.takes)
        gen.addLayout(take_buttons)
        gen.addWidget(self.regenerate_same)
        gen.addWidget(self.regenerate_new)
        gen.addWidget(self._section("Recipe"))
        gen.addLayout(self.recipe)
        gen.addWidget(self._section("Provenance"))
        gen.addLayout(self.provenance)

        self.details = QWidget(body)
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.addWidget(self.name)
        details.addLayout(header)
        details.addWidget(self.credentials_badge, 0, Qt.AlignLeft)  # a line of its own: it can be long
        details.addWidget(self.generated)
        details.addWidget(self._section("Properties"))
        details.addLayout(self.properties)

        self._body.addWidget(self.empty)
        self._body.addWidget(self.details)
        self._body.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        unsubscribe = undo_stack.document.subscribe(self._on_document_event)
        # Stop listening when the panel goes, so a late event never touches a deleted widget.
        self.destroyed.connect(lambda *_: unsubscribe())
        self.set_item(None)

    # -- API --
    @property
    def document(self):
        return self.undo_stack.document

    def set_item(self, item) -> None:
        """Show ITEM (an OTIO clip or gap), or the empty state for None."""
        self.item = item
        self.refresh()

    def refresh(self) -> None:
        item = self.item
        if item is not None and item.parent() is None:
            item = self.item = None  # it left the timeline (deleted, or undone)
        self.empty.setText(EMPTY_TEXT)
        self.empty.setVisible(item is None)
        self.details.setVisible(item is not None)
        if item is None:
            return
        try:
            self._show_properties(item)
            generated = is_generated(item)
            self.generated.setVisible(generated)
            if generated:
                self._show_generated(item)
        except Exception as exc:
            # Half-filled fields would show the previous item's data as this one's: say so instead.
            self.item = None
            self.details.hide()
            self.empty.setText(f"Cannot show {getattr(item, 'name', '') or 'this item'}: {exc}")
            self.empty.show()
            raise

    def switch_take(self, key: str | None) -> None:
        clip = self.item
        if clip is None or not key or key == clip.active_media_reference_key:
            return
        self._push(SwitchTake(clip, key))

    def drop_take(self, key: str | None) -> None:
        clip = self.item
        if clip is None or not key or key == RECIPE_KEY:
            return
        self._push(DropTake(clip, key))

    # -- internals --
    def _section(self, text: str) -> QLabel:
        label = QLabel(text.upper(), self)
        label.setProperty("role", "section")
        return label

    def _on_document_event(self, event: str, payload: dict) -> None:
        if self.item is not None:
            self._refresh_timer.start()

    def _show_properties(self, item) -> None:
        doc = self.document
        rate = doc.rate
        if not self.name.hasFocus():
            self.name.setText(item.name or "")
        track = item.parent()
        record = doc.range_of(item)  # track time
        if isinstance(item, otio.schema.Gap):
            kind = "Gap"
        elif is_generated(item):
            kind = "Generated clip"
        elif isinstance(item, otio.schema.Clip):
            kind = "Clip"
        else:
            kind = type(item).__name__
        self.kind.setText(f"{kind} on {track.name or 'an unnamed track'}")
        self.fields["track"].setText(track.name or "—")
        self.fields["start"].setText(format_timecode(record.start_time, rate))
        self.fields["end"].setText(format_timecode(record.end_time_exclusive(), rate))
        self.fields["duration"].setText(
            f"{format_timecode(record.duration, rate)}  ({record.duration.to_seconds():.2f} s)")
        is_clip = isinstance(item, otio.schema.Clip)
        for key in ("source", "media"):
            self.properties.setRowVisible(self.fields[key], is_clip)
        self.properties.setRowVisible(self.enabled, is_clip)
        if is_clip:
            source = item.trimmed_range()  # the clip's media time
            src_rate = source.duration.rate or rate
            self.fields["source"].setText(
                f"{format_timecode(source.start_time, src_rate)} – {format_timecode(source.end_time_exclusive(), src_rate)}")
            ref = item.media_reference
            if isinstance(ref, otio.schema.ExternalReference):
                self.fields["media"].setText(ref.target_url)
            elif isinstance(ref, otio.schema.GeneratorReference):
                self.fields["media"].setText("Not generated yet (the recipe stands in)")
            else:
                self.fields["media"].setText("Missing media")
            self.enabled.setChecked(bool(item.enabled))
        self._media_file = media_path(item.media_reference) if is_clip else None
        self.credentials_badge.setVisible(self._media_file is not None)
        if self._media_file is not None:
            self.credentials_badge.show_credentials(self.credentials_reader.request(self._media_file))
        if is_generated(item):
            n = len(take_keys(item))
            self.badge.setText(f"AI · {n} take{'s' if n != 1 else ''}")
            self.badge.show()
        else:
            self.badge.hide()

    def _on_credentials(self, path: str, creds) -> None:
        if self._media_file is not None and str(Path(self._media_file)) == path:
            self.credentials_badge.show_credentials(creds)

    def _show_generated(self, clip) -> None:
        data = app_data(clip)
        refs = clip.media_references()
        recipe_ref = refs.get(RECIPE_KEY)
        recipe = to_plain(recipe_ref.parameters) if isinstance(recipe_ref, otio.schema.GeneratorReference) else {}
        status = data.get("status") or ("done" if take_keys(clip) else "pending")
        if status == "failed":
            self.status.setText(f"Failed: {data.get('error') or 'the generation did not finish'}. "
                                "Regenerate to try again.")
            self.status.setProperty("role", "error")
        elif status == "pending":
            self.status.setText("Pending: waiting for the engine. The recipe stands in until the take arrives.")
            self.status.setProperty("role", "muted")
        else:
            self.status.setText(f"Generated · {clip.active_media_reference_key} in use")
            self.status.setProperty("role", "ok")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

        op = data.get("op") or recipe.get("op") or (recipe_ref.generator_kind.split(".")[-1] if recipe_ref else None)
        for key, _ in RECIPE_FIELDS:
            value = op if key == "op" else data.get(key, recipe.get(key))
            self.recipe_fields[key].setText(_text(value))
        model = data.get("model") or {}
        if isinstance(model, dict):
            model_text = model.get("name") or (recipe.get("model") or "embedded")
        else:
            model_text = str(model)
        self.recipe_fields["model"].setText(_text(model_text))

        self.takes.blockSignals(True)
        selected = self._selected_take()
        self.takes.clear()
        active = clip.active_media_reference_key
        for key in take_keys(clip):
            row = _take_row(refs[key], key, key == active, (data.get("takes") or {}).get(key, {}).get("seed"))
            self.takes.addItem(row)
            if key == (selected or active):
                self.takes.setCurrentItem(row)
        if not self.takes.count():
            placeholder = QListWidgetItem("No takes yet")
            placeholder.setFlags(Qt.NoItemFlags)
            self.takes.addItem(placeholder)
        self.takes.blockSignals(False)
        # As tall as its takes (two to six rows), so a short dock still shows the buttons below.
        rows = min(max(self.takes.count(), 2), 6)
        self.takes.setFixedHeight(rows * (self.takes.sizeHintForRow(0) or 22) + 2 * self.takes.frameWidth() + 2)
        self._update_take_buttons()

        self.provenance_fields["created"].setText(_text(data.get("created")))
        self.provenance_fields["engine_version"].setText(_text(data.get("engine_version")))
        self.provenance_fields["model_name"].setText(_text(model.get("name") if isinstance(model, dict) else model))
        self.provenance_fields["sha256"].setText(_text(model.get("sha256") if isinstance(model, dict) else None))
        self.provenance_fields["source"].setText(_text(data.get("source")))
        active_ref = refs.get(active)
        self.provenance_fields["file"].setText(
            active_ref.target_url if isinstance(active_ref, otio.schema.ExternalReference) else "—")
        busy = status == "pending"
        for button in (self.regenerate_same, self.regenerate_new):
            button.setEnabled(not busy and recipe_ref is not None)
            if busy:
                button.setToolTip("Wait for the pending generation to finish (or cancel it in Jobs)")

    def _selected_take(self) -> str | None:
        row = self.takes.currentItem()
        return row.data(TAKE_ROLE) if row is not None else None

    def _update_take_buttons(self) -> None:
        key = self._selected_take()
        active = self.item.active_media_reference_key if self.item is not None else None
        self.use_take.setEnabled(bool(key) and key != active)
        self.delete_take.setEnabled(bool(key))

    def _rename(self) -> None:
        item = self.item
        name = self.name.text().strip()
        if item is not None and name and name != item.name:
            self._push(Rename(item, name))

    def _set_enabled(self, checked: bool) -> None:
        item = self.item
        if item is not None and bool(item.enabled) != checked:
            self._push(SetEnabled(item, checked))

    def _regenerate(self, same_seed: bool) -> None:
        if self.item is not None and is_generated(self.item):
            self.regenerate_requested.emit(self.item, same_seed)


def _take_row(ref, key: str, active: bool, seed) -> QListWidgetItem:
    """A row of the takes list: the take, its file and seed; the one in use is bold."""
    name = Path(ref.target_url).name if isinstance(ref, otio.schema.ExternalReference) else type(ref).__name__
    text = f"{'●' if active else '○'}  {key}  ·  {name}" + (f"  ·  seed {seed}" if seed is not None else "")
    row = QListWidgetItem(text)
    row.setData(TAKE_ROLE, key)
    row.setToolTip(getattr(ref, "target_url", key))
    if active:
        font = QFont(row.font())
        font.setBold(True)
        row.setFont(font)
    return row
