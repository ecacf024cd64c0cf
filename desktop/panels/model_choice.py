"""What a generation runs on: the model (the embedded one or a remembered folder, the list
`latentcut models` reads) and the device (CPU at once; accelerators join when a background
probe finds them). Both remember the user's choice in the settings."""
from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSettings, QThreadPool, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from desktop.theme import icon
from engine.backends.model_folders import forget, model_folder_problem, remember, remembered

SETTINGS_MODEL = "generate/model"
SETTINGS_DEVICE = "generate/device"
EMBEDDED_LABEL = "Embedded (previz)"


class ModelChoice(QWidget):
    """The model list with add and forget buttons, and a line saying why a folder cannot be used.
    `changed(path, usable)` follows every change of the chosen model (path None: the embedded one)."""

    changed = Signal(object, bool)

    def __init__(self, settings: QSettings, parent=None):
        super().__init__(parent)
        self._settings = settings
        self.combo = QComboBox(self)
        self.combo.setObjectName("generate_model")
        self.combo.setToolTip("The embedded previz model, or a local model folder you added")
        self.combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        self.add_button = QToolButton(self)
        self.add_button.setObjectName("generate_add_model")
        self.add_button.setIcon(icon("folder_add"))
        self.add_button.setToolTip("Add a local model folder (with config.json or model_index.json)")
        self.add_button.clicked.connect(self.add_dialog)
        self.remove_button = QToolButton(self)
        self.remove_button.setObjectName("generate_remove_model")
        self.remove_button.setIcon(icon("remove"))
        self.remove_button.setToolTip("Forget the selected model folder (the folder itself is kept)")
        self.remove_button.clicked.connect(lambda: self.remove_folder(self.combo.currentData()))
        self.message = QLabel(self)
        self.message.setObjectName("generate_model_message")
        self.message.setWordWrap(True)
        self.message.setProperty("role", "error")
        self.message.hide()

        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.combo, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.message)

        self.combo.addItem(EMBEDDED_LABEL, None)
        for folder in map(str, remembered()):
            self.combo.addItem(_model_label(folder), folder)
        chosen = self._settings.value(SETTINGS_MODEL)
        index = self.combo.findData(chosen) if chosen else 0
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.currentIndexChanged.connect(self._changed)

    def path(self) -> str | None:
        """The chosen model folder; None for the embedded model."""
        return self.combo.currentData()

    def refresh(self) -> None:
        """Say (on `changed`) what is chosen now, e.g. once the panel listens."""
        self._changed(self.combo.currentIndex())

    def add_folder(self, path) -> bool:
        """Add PATH to the list and choose it; if it is not a model folder, say why."""
        problem = model_folder_problem(path)
        if problem:
            self.message.setText(problem)
            self.message.show()
            return False
        self.message.hide()
        path = str(Path(path).resolve())
        if self.combo.findData(path) < 0:
            remember(path)
            self.combo.addItem(_model_label(path), path)
        self.combo.setCurrentIndex(self.combo.findData(path))
        return True

    def remove_folder(self, path) -> None:
        """Forget a user-added model folder; the embedded model cannot be removed."""
        if not path:
            return
        path = str(path)
        forget(path)
        index = self.combo.findData(path)
        if index > 0:
            self.combo.removeItem(index)

    def add_dialog(self) -> bool:
        path = QFileDialog.getExistingDirectory(self, "Add a model folder")
        return self.add_folder(path) if path else False

    def _changed(self, index: int) -> None:
        path = self.combo.itemData(index)
        self._settings.setValue(SETTINGS_MODEL, path or "")
        problem = model_folder_problem(path) if path else None
        # A remembered folder may have been moved or deleted since; say so before a job fails.
        self.message.setText(problem or "")
        self.message.setVisible(bool(problem))
        self.combo.setToolTip(path or "The previz model that ships with LatentCut")
        self.remove_button.setEnabled(bool(path))
        self.changed.emit(path, not problem)


class _DeviceProbe(QRunnable):
    """Imports torch off the UI thread (it takes seconds) and lists the accelerators present."""

    class Signals(QObject):
        found = Signal(list)

    def __init__(self, signals: "_DeviceProbe.Signals"):
        super().__init__()
        self.signals = signals

    def run(self):
        found = []
        try:
            import torch

            if torch.cuda.is_available():
                found.append(("cuda", f"CUDA · {torch.cuda.get_device_name(0)}"))
            mps = getattr(torch.backends, "mps", None)
            if mps is not None and mps.is_available():
                found.append(("mps", "Apple GPU (MPS)"))
        except Exception:  # noqa: BLE001 - a broken torch install leaves the CPU choice, which always works
            found = []
        try:
            self.signals.found.emit(found)
        except RuntimeError:
            pass  # the panel closed while torch was loading; nobody is left to tell


class DeviceChoice(QComboBox):
    """CPU, plus CUDA or MPS once `probe()` finds them (`found` then); an accelerator beats the
    CPU unless the user chose otherwise."""

    found = Signal()

    def __init__(self, settings: QSettings, parent=None):
        super().__init__(parent)
        self._settings = settings
        self._probe_started = False
        self.setObjectName("generate_device")
        self.addItem("CPU", "cpu")
        self.currentIndexChanged.connect(self._changed)

    def probe(self) -> None:
        """List CUDA/MPS when present. torch is imported on a pool thread so start-up stays fast."""
        if self._probe_started:
            return
        self._probe_started = True
        torch = sys.modules.get("torch")
        if torch is not None and not torch.cuda.is_available() and not _mps_available(torch):
            self._found([])
            return
        signals = _DeviceProbe.Signals(self)  # owned by the combo, so it lives as long as the listener
        signals.found.connect(self._found)
        QThreadPool.globalInstance().start(_DeviceProbe(signals))

    def _found(self, found: list) -> None:
        for key, label in found:
            if self.findData(key) < 0:
                self.addItem(label, key)
        saved = self._settings.value(SETTINGS_DEVICE)
        index = self.findData(saved) if saved else -1
        if index < 0 and found:
            index = self.findData(found[0][0])
        if index >= 0:
            self.setCurrentIndex(index)
        self.found.emit()

    def _changed(self, index: int) -> None:
        if self._probe_started and index >= 0:
            self._settings.setValue(SETTINGS_DEVICE, self.itemData(index))


def _model_label(path: str) -> str:
    return f"{Path(path).name} — {path}"


def _mps_available(torch) -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())
