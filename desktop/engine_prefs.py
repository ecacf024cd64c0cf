"""The app's Engine preference: This computer (the local engine thread) or Remote (a
`latentcut serve` URL and its token), kept in QSettings; and the poller that shows the chosen
engine's state (reachable, models, replicas, queue) in the Jobs panel."""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, QSettings, QTimer, Signal
from PySide6.QtWidgets import QButtonGroup, QDialog, QFormLayout, QLineEdit, QRadioButton

from desktop.prefs_dialog import lay_out

PREFIX = "engine/"
POLL_MS = 5000  # the Jobs panel's engine line is refreshed this often while the engine is remote


def engine_choice(settings: QSettings) -> tuple[str | None, str | None]:
    """(URL, token) of the remote engine, or (None, None) for this computer."""
    if settings.value(PREFIX + "mode") != "remote" or not settings.value(PREFIX + "url"):
        return None, None
    return str(settings.value(PREFIX + "url")), (settings.value(PREFIX + "token") or None)


class EngineDialog(QDialog):
    """Engine = This computer, or Remote with a URL and token; Save checks the URL."""

    def __init__(self, settings: QSettings, parent=None):
        super().__init__(parent)
        self.setObjectName("engine_dialog")
        self.setWindowTitle("Engine")
        self.settings = settings
        self.local = QRadioButton("This computer", self)
        self.local.setObjectName("engine_local")
        self.remote = QRadioButton("Remote (latentcut serve)", self)
        self.remote.setObjectName("engine_remote")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.remote)
        self.url = QLineEdit(settings.value(PREFIX + "url") or "", self)
        self.url.setObjectName("engine_url")
        self.url.setPlaceholderText("http://gpu-box:8765")
        self.token = QLineEdit(settings.value(PREFIX + "token") or "", self)
        self.token.setObjectName("engine_token")
        self.token.setEchoMode(QLineEdit.Password)
        self.token.setPlaceholderText("the server's --token (none on 127.0.0.1)")
        (self.remote if settings.value(PREFIX + "mode") == "remote" else self.local).setChecked(True)
        self.remote.toggled.connect(self._enable)
        form = QFormLayout()
        form.addRow(self.local)
        form.addRow(self.remote)
        form.addRow("URL", self.url)
        form.addRow("Token", self.token)
        self.error = lay_out(self, form, "A remote engine runs generations on its replicas; the results come "
                             "back into this project's media folder. Renders, proxies and thumbnails stay on "
                             "this computer.", "engine")
        self._enable()

    def _enable(self) -> None:
        self.url.setEnabled(self.remote.isChecked())
        self.token.setEnabled(self.remote.isChecked())

    def save(self) -> None:
        url = self.url.text().strip().rstrip("/")
        if self.remote.isChecked() and not url.startswith(("http://", "https://")):
            self.error.setText("URL: give the server's address, such as http://gpu-box:8765")
            return
        self.settings.setValue(PREFIX + "mode", "remote" if self.remote.isChecked() else "local")
        self.settings.setValue(PREFIX + "url", url)
        if self.token.text().strip():
            self.settings.setValue(PREFIX + "token", self.token.text().strip())
        else:
            self.settings.remove(PREFIX + "token")
        self.accept()


class EngineStatus(QObject):
    """Asks the bridge's remote engine for its state every few seconds, off the UI thread, and
    reports one line for the Jobs panel."""

    changed = Signal(str)

    def __init__(self, bridge, parent=None):
        super().__init__(parent)
        self.bridge = bridge
        self._busy = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()

    def refresh(self) -> None:
        engine = self.bridge.engine
        url = getattr(engine, "url", None)
        if url is None:
            self.changed.emit("Engine: this computer")
            return
        if self._busy.acquire(blocking=False):  # one question at a time, however slow the server
            threading.Thread(target=self._ask, args=(engine, url), daemon=True).start()

    def stop(self) -> None:
        self._timer.stop()

    def _ask(self, engine, url: str) -> None:
        try:
            self.changed.emit(describe_state(url, engine.engine_state()))
        except ConnectionError as exc:
            self.changed.emit(f"Engine: {exc}")
        finally:
            self._busy.release()


def describe_state(url: str, state: dict) -> str:
    models = ", ".join(f"{name} ({count} replica{'s' if count != 1 else ''})"
                       for name, count in state.get("replicas", {}).items())
    nodes = state.get("nodes", 0)
    return (f"Engine: {url}, reachable; {models or 'no models'}; {nodes} node{'s' if nodes != 1 else ''}; "
            f"queue: {state.get('queued', 0)} waiting, {state.get('in_progress', 0)} running")
