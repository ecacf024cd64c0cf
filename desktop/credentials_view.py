"""Content Credentials in the app: a badge that shows a file's state (valid, untrusted signer,
invalid, none), and a reader that verifies files off the UI thread (a render's manifest
covers a hash of the whole file) and remembers each answer until the file changes."""
from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QLabel

from desktop.theme import COLORS

# state -> (badge text, colour)
BADGES = {
    "valid": ("CR ✓ valid", "#6fe0a0"),
    "untrusted": ("CR ✓ untrusted signer", "#e8c468"),
    "invalid": ("CR ✗ invalid", "#ff8a8a"),
    "none": ("CR none", COLORS["muted"]),
}
READING = ("CR …", COLORS["muted"])


def badge_for(creds) -> tuple[str, str]:
    """(text, colour) of the badge for a Credentials, or the reading badge for None."""
    return READING if creds is None else BADGES[creds.state]


def tooltip_for(creds) -> str:
    if creds is None:
        return "Content Credentials: reading…"
    lines = [creds.summary()]
    if creds.manifest_id:
        lines.append(f"Manifest {creds.manifest_id}")
    if creds.state == "untrusted":
        lines.append("The signature is correct, but its signer is not on a trust list "
                     "(LatentCut's own local signer never is).")
    return "\n".join(lines)


class CredentialsBadge(QLabel):
    """A small coloured label: 'CR ✓ valid', 'CR ✓ untrusted signer', 'CR ✗ invalid', 'CR none'."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("credentials_badge")
        self.state: str | None = None
        self.show_credentials(None)

    def show_credentials(self, creds) -> None:
        text, colour = badge_for(creds)
        self.state = None if creds is None else creds.state
        self.setText(text)
        self.setToolTip(tooltip_for(creds))
        self.setStyleSheet(f"color: {colour}; border: 1px solid {colour}; border-radius: 3px; padding: 0 4px;")


class _ReadTask(QRunnable):
    class Signals(QObject):
        finished = Signal(str, object, object)  # path, stamp, Credentials

    def __init__(self, path: str, stamp, trust_anchors: str | None):
        super().__init__()
        self.path, self.stamp, self.trust_anchors = path, stamp, trust_anchors
        self.signals = self.Signals()

    def run(self):
        from engine.credentials.reading import Credentials, read_credentials

        try:
            creds = read_credentials(self.path, trust_anchors=self.trust_anchors)
        except Exception as exc:  # noqa: BLE001 - an unreadable file has no credentials to show
            creds = Credentials(self.path, "none", reason=str(exc))
        try:
            self.signals.finished.emit(self.path, self.stamp, creds)
        except RuntimeError:
            pass  # the reader was deleted meanwhile


class CredentialsReader(QObject):
    """`request(path)` returns the file's Credentials when known for its current size and
    modification time; otherwise it reads them in the background and emits `read(path, creds)`."""

    read = Signal(str, object)

    def __init__(self, trust_anchors: str | None = None, parent=None):
        super().__init__(parent)
        self.trust_anchors = trust_anchors
        self._known: dict[str, tuple[object, object]] = {}  # path -> (stamp, Credentials)
        self._pending: set[tuple[str, object]] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

    def request(self, path: str | os.PathLike):
        path = str(Path(path))
        try:
            st = os.stat(path)
        except OSError:
            return None
        stamp = (st.st_size, st.st_mtime_ns)
        known = self._known.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        if (path, stamp) not in self._pending:
            self._pending.add((path, stamp))
            task = _ReadTask(path, stamp, self.trust_anchors)
            task.signals.finished.connect(self._on_read)
            self._pool.start(task)
        return None

    def set_trust_anchors(self, trust_anchors: str | None) -> None:
        """Trust other CAs from now on; what was read before is read again when asked."""
        self.trust_anchors = trust_anchors
        self._known.clear()

    def wait(self, msecs: int = 30000) -> bool:
        return self._pool.waitForDone(msecs)

    def _on_read(self, path: str, stamp, creds) -> None:
        self._pending.discard((path, stamp))
        self._known[path] = (stamp, creds)
        self.read.emit(path, creds)
