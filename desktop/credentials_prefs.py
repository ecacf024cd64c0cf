"""The app's Content Credentials preferences: a studio's certificate chain and key, a
timestamp authority and trust anchors, kept in QSettings. Environment variables
(LATENTCUT_SIGN_CERT, LATENTCUT_SIGN_KEY, LATENTCUT_TSA_URL, LATENTCUT_TRUST_ANCHORS) win over
them, as on the command line; left empty, the local (untrusted) signer signs."""
from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from desktop.prefs_dialog import lay_out
from engine.credentials import SigningSettings

PREFIX = "credentials/"
# preference key -> (label, what a file dialog picks, or None for a URL)
FIELDS = {
    "cert": ("Signing certificate chain", "PEM certificate chain (*.pem *.crt);;All files (*)"),
    "key": ("Signing private key", "PEM private key (*.pem *.key);;All files (*)"),
    "tsa_url": ("Timestamp authority URL", None),
    "trust_anchors": ("Trusted CA certificates", "PEM certificates (*.pem *.crt);;All files (*)"),
}


def preferences(settings: QSettings) -> dict[str, str | None]:
    return {key: (settings.value(PREFIX + key) or None) for key in FIELDS}


def signing_settings(settings: QSettings) -> SigningSettings:
    """Who signs in the app. A half-given studio signer falls back to the local one (the
    dialog refuses to save one, but a settings file may be edited by hand)."""
    try:
        return SigningSettings.resolve(preferences=preferences(settings))
    except ValueError:
        return SigningSettings.resolve(preferences={k: v for k, v in preferences(settings).items()
                                                    if k not in ("cert", "key")})


class CredentialsDialog(QDialog):
    """Edit the preferences; Save checks them (both or neither of cert and key, an http(s) URL)."""

    def __init__(self, settings: QSettings, parent=None):
        super().__init__(parent)
        self.setObjectName("credentials_dialog")
        self.setWindowTitle("Content Credentials")
        self.settings = settings
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        current = preferences(settings)
        for key, (label, file_filter) in FIELDS.items():
            edit = QLineEdit(current[key] or "", self)
            edit.setObjectName(f"credentials_{key}")
            self.fields[key] = edit
            if file_filter is None:
                edit.setPlaceholderText("http://… (optional)")
                form.addRow(label, edit)
                continue
            edit.setPlaceholderText("none: the local signer" if key in ("cert", "key") else "none")
            browse = QPushButton("Browse…", self)
            browse.clicked.connect(lambda _=False, e=edit, f=file_filter, t=label: self._browse(e, f, t))
            row = QWidget(self)
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            line.addWidget(edit, 1)
            line.addWidget(browse)
            form.addRow(label, row)
        self.error = lay_out(self, form, "Every generated clip and every render is signed. Without a studio "
                             "certificate, LatentCut signs with a local certificate it made for you; readers "
                             "show that signer as untrusted. Environment variables override these settings.",
                             "credentials")

    def values(self) -> dict[str, str | None]:
        return {key: edit.text().strip() or None for key, edit in self.fields.items()}

    def save(self) -> None:
        values = self.values()
        try:
            SigningSettings.resolve(preferences=values, environ={})
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        for key, value in values.items():
            if value:
                self.settings.setValue(PREFIX + key, value)
            else:
                self.settings.remove(PREFIX + key)
        self.accept()

    def _browse(self, edit: QLineEdit, file_filter: str, title: str) -> None:
        path, _ = QFileDialog.getOpenFileName(self, title, edit.text(), file_filter)
        if path:
            edit.setText(path)
