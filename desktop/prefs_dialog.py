"""What the preference dialogs share: a form, a note under it, an error line and Save/Cancel."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout


def lay_out(dialog: QDialog, form: QFormLayout, note: str, name: str) -> QLabel:
    """Lays out `dialog` (whose `save` checks and accepts); returns its error line, named `name`_error."""
    text = QLabel(note, dialog)
    text.setWordWrap(True)
    text.setProperty("role", "muted")
    error = QLabel(dialog)
    error.setObjectName(f"{name}_error")
    error.setStyleSheet("color: #ff8a8a")
    buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel, dialog)
    buttons.accepted.connect(dialog.save)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addLayout(form)
    layout.addWidget(text)
    layout.addWidget(error)
    layout.addWidget(buttons)
    return error
