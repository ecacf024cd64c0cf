"""Generate panel: the generation parameters, model and device, and buttons that name what they do."""
from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop.panels.jobs_panel import ElidedLabel
from desktop.panels.model_choice import DeviceChoice, ModelChoice
from desktop.panels.prompt_words import UnknownWordMarker
from desktop.theme import icon
from engine.jobs import DEFAULT_STRENGTH, DEFAULT_STRUCTURE_WEIGHT, SEED_MAX, draw_seed
from engine.operations import ACTIONS, OPERATIONS, SELECTION_KINDS
from engine.vocabulary import summary as vocabulary_summary
from engine.vocabulary import names_scene, unknown_words

OPS = tuple(ACTIONS)  # the action buttons, in the registry's order
OPS_NEEDING_PROMPT = frozenset(key for key, action in ACTIONS.items() if OPERATIONS[action.op].needs_prompt)
SETTINGS_ADVANCED = "generate/advanced_open"


class GeneratePanel(QWidget):
    """Prompt and parameters for Generate, Extend, Restyle, Fill and Animate.

    `set_selection(kind, summary)` relabels the buttons for what is selected; a button click
    emits `action_requested(op)`; `params()` gives the values for the job spec.
    """

    action_requested = Signal(str)
    devices_found = Signal()

    def __init__(self, parent=None, settings: QSettings | None = None):
        super().__init__(parent)
        self.setObjectName("generate_panel")
        self._settings = settings if settings is not None else QSettings()
        self._kind = "none"
        self._summary = ""

        # Prompt fields.
        self.prompt = QPlainTextEdit(self)
        self.prompt.setObjectName("generate_prompt")
        self.prompt.setPlaceholderText("Describe the shot, e.g. “a red ball moving left over a field at sunset, static camera”")
        self.prompt.setFixedHeight(56)
        # With the embedded model: the words it understands (one line; all of it in the tooltip),
        # and a line naming the prompt's words it does not, which are also underlined.
        self.word_marker = UnknownWordMarker(self.prompt.document())
        self.vocabulary = ElidedLabel("", self)
        self.vocabulary.setObjectName("generate_vocabulary")
        self.vocabulary.setProperty("role", "muted")
        self.unknown_words = ElidedLabel("", self)
        self.unknown_words.setObjectName("generate_unknown_words")
        self.unknown_words.setProperty("role", "error")
        self.prompt.textChanged.connect(self._show_vocabulary)
        self.negative_prompt = QPlainTextEdit(self)
        self.negative_prompt.setObjectName("generate_negative_prompt")
        self.negative_prompt.setPlaceholderText("What to avoid (optional)")
        self.negative_prompt.setFixedHeight(44)

        # Seed: a number plus a lock; unlocked, each generation draws a fresh one.
        self.seed = QSpinBox(self)
        self.seed.setObjectName("generate_seed")
        self.seed.setRange(0, SEED_MAX)
        self.seed.setValue(draw_seed())
        self.seed.setMinimumWidth(90)
        self.seed.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
        self.seed_lock = QToolButton(self)
        self.seed_lock.setObjectName("generate_seed_lock")
        self.seed_lock.setCheckable(True)
        self.seed_lock.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.seed_lock.setToolTip("Locked: every generation uses this seed. Unlocked: a new random seed each time.")
        self.seed_lock.toggled.connect(self._seed_lock_toggled)
        self.seed_random = QToolButton(self)
        self.seed_random.setObjectName("generate_seed_random")
        self.seed_random.setIcon(icon("dice"))
        self.seed_random.setToolTip("Draw a new random seed")
        self.seed_random.clicked.connect(lambda: self.seed.setValue(draw_seed()))

        self.steps = QSpinBox(self)
        self.steps.setObjectName("generate_steps")
        self.steps.setRange(1, 200)
        self.guidance = QDoubleSpinBox(self)
        self.guidance.setObjectName("generate_guidance")
        self.guidance.setRange(0.0, 30.0)
        self.guidance.setSingleStep(0.5)
        self.guidance.setDecimals(1)
        # Steps and guidance follow the chosen model's own defaults until the user sets them.
        self._user_set: set[str] = set()
        self._applying_defaults = False
        self.steps.valueChanged.connect(lambda *_: self._mark_user_set("steps"))
        self.guidance.valueChanged.connect(lambda *_: self._mark_user_set("guidance"))
        self.strength = QDoubleSpinBox(self)
        self.strength.setObjectName("generate_strength")
        self.strength.setRange(0.05, 1.0)
        self.strength.setSingleStep(0.05)
        self.strength.setDecimals(2)
        self.strength.setValue(DEFAULT_STRENGTH)
        self.strength.setToolTip("Restyle: how far the look may move from the source (1 = all new)")
        self.structure = QDoubleSpinBox(self)
        self.structure.setObjectName("generate_structure")
        self.structure.setRange(0.0, 2.0)
        self.structure.setSingleStep(0.1)
        self.structure.setDecimals(2)
        self.structure.setValue(DEFAULT_STRUCTURE_WEIGHT)
        self.structure.setToolTip("Restyle: how closely the source's layout and edges are kept "
                                  "(1 = the new look on the source's own edges, 0 = redrawn freely)")
        self.seconds = QDoubleSpinBox(self)
        self.seconds.setObjectName("generate_seconds")
        self.seconds.setRange(0.1, 60.0)
        self.seconds.setSingleStep(0.5)
        self.seconds.setDecimals(1)
        self.seconds.setSuffix(" s")
        self.seconds.setValue(2.0)
        self.seconds.valueChanged.connect(self._relabel)

        # What it runs on: the model (its own steps and guidance fill the fields) and the device.
        self.models = ModelChoice(self._settings, self)
        self.models.changed.connect(self._model_changed)
        self.device = DeviceChoice(self._settings, self)
        self.device.found.connect(self.devices_found)
        self.models.refresh()

        # Action buttons, one per op.
        self.buttons: dict[str, QPushButton] = {}
        for op in OPS:
            button = QPushButton(icon(op), op, self)  # an icon per action key
            button.setObjectName(f"generate_action_{op}")
            button.setProperty("role", "primary" if op == "generate" else "action")
            # Long selection summaries must not widen the dock; the tooltip carries the full text.
            button.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
            button.clicked.connect(lambda _=False, op=op: self._request(op))
            self.buttons[op] = button
        self.prompt.textChanged.connect(self._relabel)
        self.selection_label = QLabel(self)
        self.selection_label.setObjectName("generate_selection")
        self.selection_label.setProperty("role", "muted")
        self.selection_label.setWordWrap(True)

        seed_row = QHBoxLayout()
        seed_row.setSpacing(4)
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.seed_random)
        seed_row.addWidget(self.seed_lock)
        def pair(*fields) -> QHBoxLayout:  # labelled fields on one line
            row = QHBoxLayout()
            row.setSpacing(6)
            for n, (text, widget) in enumerate(fields):
                label = QLabel(text, self)
                label.setProperty("role", "muted")
                if n:
                    row.addSpacing(6)
                row.addWidget(label)
                row.addWidget(widget, 1)
            return row

        form = QFormLayout()
        form.addRow("Prompt", self.prompt)
        form.addRow("", self.vocabulary)
        form.addRow("", self.unknown_words)
        form.addRow("Seed", seed_row)
        form.addRow(pair(("Duration", self.seconds), ("Strength", self.strength)))

        # Advanced settings fold away (and stay as the user left them), so the first window shows
        # every everyday control without scrolling.
        self.advanced_toggle = QToolButton(self)
        self.advanced_toggle.setObjectName("generate_advanced_toggle")
        self.advanced_toggle.setText("Advanced")
        self.advanced_toggle.setToolTip("Negative prompt, steps, guidance, a restyle's structure, model and device")
        self.advanced_toggle.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.advanced_toggle.setCheckable(True)
        self.advanced_toggle.setAutoRaise(True)
        self.advanced = QWidget(self)
        self.advanced.setObjectName("generate_advanced")
        advanced = QFormLayout(self.advanced)
        advanced.setContentsMargins(0, 0, 0, 0)
        advanced.addRow("Negative", self.negative_prompt)
        advanced.addRow(pair(("Steps", self.steps), ("Guidance", self.guidance)))
        advanced.addRow(pair(("Structure", self.structure)))
        advanced.addRow("Model", self.models)
        advanced.addRow("Device", self.device)
        self.advanced_toggle.toggled.connect(self._advanced_toggled)
        form.addRow(self.advanced_toggle)
        form.addRow(self.advanced)

        # The actions sit in a footer outside the scroll area, so they stay in view in a short dock.
        self.actions_box = QFrame(self)
        self.actions_box.setObjectName("generate_actions")
        self.actions_box.setProperty("role", "footer")
        actions = QVBoxLayout(self.actions_box)
        actions.setContentsMargins(8, 6, 8, 8)
        actions.setSpacing(4)
        actions.addWidget(self.selection_label)
        # Head and tail side by side, as they sit on the clip: one row less in a 768-px screen's
        # right column (the selection line above names the clip).
        ends = QHBoxLayout()
        ends.setSpacing(4)
        for op in OPS:
            if op in ("extend_head", "extend_tail"):
                if not ends.count():
                    actions.addLayout(ends)
                ends.addWidget(self.buttons[op], 1)
            else:
                actions.addWidget(self.buttons[op])

        body = QWidget(self)
        inner = QVBoxLayout(body)
        inner.setContentsMargins(8, 8, 8, 8)
        inner.addLayout(form)
        inner.addStretch(1)
        scroll = self.body_scroll = QScrollArea(self)  # only an unusually short dock needs it
        scroll.setObjectName("generate_scroll")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(scroll, 1)
        outer.addWidget(self.actions_box)

        self._seed_lock_toggled(False)
        self.advanced_toggle.setChecked(self._settings.value(SETTINGS_ADVANCED, False, type=bool))
        self._advanced_toggled(self.advanced_toggle.isChecked())
        self.set_selection("none", "")

    # -- API --
    def params(self) -> dict:
        """The values for a job spec. Unlocked, a fresh seed is drawn and shown, so the
        recipe records the seed that was actually used."""
        if not self.seed_lock.isChecked():
            self.seed.setValue(draw_seed())
        return {
            "prompt": self.prompt.toPlainText().strip(),
            "negative_prompt": self.negative_prompt.toPlainText().strip(),
            "seed": int(self.seed.value()),
            "seed_locked": self.seed_lock.isChecked(),
            "steps": int(self.steps.value()),
            "guidance": float(self.guidance.value()),
            "strength": float(self.strength.value()),
            "structure_weight": float(self.structure.value()),
            "seconds": float(self.seconds.value()),
            "model": self.models.path(),
            "device": self.device.currentData(),
        }

    def set_params(self, params: dict) -> None:
        """Fill the fields from a recipe (e.g. to tweak a generated clip); unknown keys are ignored."""
        if "prompt" in params:
            self.prompt.setPlainText(str(params["prompt"] or ""))
        if "negative_prompt" in params:
            self.negative_prompt.setPlainText(str(params["negative_prompt"] or ""))
        for key, box in (("seed", self.seed), ("steps", self.steps)):
            if params.get(key) is not None:
                box.setValue(int(params[key]))
        for key, box in (("guidance", self.guidance), ("strength", self.strength),
                         ("structure_weight", self.structure), ("seconds", self.seconds)):
            if params.get(key) is not None:
                box.setValue(float(params[key]))

    def set_selection(self, kind: str, summary: str) -> None:
        """Say on each button what it will do to the selection KIND described by SUMMARY."""
        if kind not in SELECTION_KINDS:
            raise ValueError(f"kind: expected one of {', '.join(SELECTION_KINDS)}, got {kind!r}")
        self._kind = kind
        self._summary = summary.strip()
        self._relabel()

    # -- internals --
    def showEvent(self, event):
        super().showEvent(event)
        self.device.probe()  # the first show: torch loads in the background only when needed

    def _model_changed(self, path, usable: bool) -> None:
        self.word_marker.set_vocabulary(None if path else unknown_words)
        self._show_vocabulary()
        if usable:
            self._apply_model_defaults(path)

    def _show_vocabulary(self) -> None:
        """What the embedded model understands, and which of the prompt's words it does not."""
        embedded = self.word_marker.unknown is not None
        text = self.prompt.toPlainText()
        unknown = self.word_marker.words(text)
        self.vocabulary.setVisible(embedded)
        self.vocabulary.setText(f"Knows: {vocabulary_summary()}" if embedded else "")
        notes = [f"Not understood: {', '.join(unknown)}"] if unknown else []
        if embedded and not names_scene(text):  # the previz model misread a bare "at night" as a sunset
            notes.append("Name a setting or subject too, as in 'a field at night'")
        self.unknown_words.setVisible(bool(notes))
        self.unknown_words.setText(" · ".join(notes))

    def _apply_model_defaults(self, path) -> None:
        """The model's own steps and guidance, in the fields the user has not set."""
        from engine.backends.registry import default_settings

        try:
            defaults = default_settings(path)
        except (OSError, ValueError):  # a broken model keeps the fields; its job will say what is wrong
            return
        self._applying_defaults = True
        try:
            for key, box in (("steps", self.steps), ("guidance", self.guidance)):
                if key not in self._user_set:
                    box.setValue(defaults[key])
                box.setToolTip(f"This model's default is {defaults[key]:g}")
        finally:
            self._applying_defaults = False

    def _mark_user_set(self, key: str) -> None:
        if not self._applying_defaults:
            self._user_set.add(key)

    def _advanced_toggled(self, open_: bool) -> None:
        self.advanced.setVisible(open_)
        self.advanced_toggle.setArrowType(Qt.DownArrow if open_ else Qt.RightArrow)
        self._settings.setValue(SETTINGS_ADVANCED, bool(open_))

    def _seed_lock_toggled(self, locked: bool) -> None:
        self.seed_lock.setIcon(icon("lock" if locked else "unlock"))
        self.seed_lock.setText("Locked" if locked else "Random")
        self.seed.setToolTip("This seed is used for every generation" if locked
                             else "The seed of the last generation; a new one is drawn each time")

    def _request(self, op: str) -> None:
        if self.buttons[op].isEnabled():
            self.action_requested.emit(op)

    def _relabel(self, *args) -> None:
        secs = f"{self.seconds.value():.1f} s"
        kind, what = self._kind, self._summary or f"the {self._kind.replace('generated_', '')}"
        # What each action the registry enables for this selection will do; the other buttons are hidden.
        if kind == "none":
            generate = f"Generate {secs} at {what}" if self._summary else f"Generate {secs} at the playhead"
        else:
            generate = f"Generate into {what}"  # a gap's or range's own length, not the Duration field
        texts = {"generate": generate, "fill": f"Fill {what} from its neighbours",
                 "extend_head": f"Extend head of {what} by {secs}", "extend_tail": f"Extend tail of {what} by {secs}",
                 "restyle": f"Restyle {what}", "animate": f"Animate {what} into {secs}"}
        labels = {key: text for key, text in texts.items() if ACTIONS[key].enabled_for({kind})}
        has_prompt = bool(self.prompt.toPlainText().strip())
        for op, button in self.buttons.items():
            button.setVisible(op in labels)
            ok = op in labels and (has_prompt or op not in OPS_NEEDING_PROMPT)
            button.setEnabled(ok)
            if op in labels:
                # The extend pair shares a row: its buttons leave the clip's name to the line above.
                button.setText(f"{ACTIONS[op].label} by {secs}" if op in ("extend_head", "extend_tail") else labels[op])
                button.setToolTip(labels[op] if ok else "Write a prompt first")
        if kind == "none":
            head = f"Nothing selected: Generate makes a new clip at {what}." if self._summary else "Nothing selected."
        else:
            head = f"Selection: {what}."
        if not has_prompt and OPS_NEEDING_PROMPT & labels.keys():
            head += " Write a prompt to generate."
        more = {
            "none": "Select a gap to fill it, a clip to extend or restyle it, a still to animate it.",
            "gap": "Select a clip to extend or restyle it, a still to animate it.",
            "range": "Select a gap to fill it, a clip to extend it, a still to animate it.",
            "clip": "Select a gap or an In/Out range to generate into it.",
            "generated_clip": "Select a gap or an In/Out range to generate into it; Regenerate is in the Inspector.",
            "still": "Select a gap or an In/Out range to generate into it.",
        }[kind]
        # The other operations' hint is a tooltip, so the footer stays short on a laptop screen.
        self.selection_label.setText(head)
        self.selection_label.setToolTip(more)
