"""Media panel: imported files with a thumbnail, probe facts and a Content Credentials badge,
background proxies, drag to timeline."""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QRect, QRunnable, QSize, Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QColor, QFont, QImage, QImageReader, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QVBoxLayout,
    QWidget,
)

from desktop.credentials_view import CredentialsReader, badge_for
from desktop.theme import COLORS, icon
from timeline.timecode import format_timecode

MEDIA_MIME = "application/x-latentcut-media"
VIDEO_SUFFIXES = {".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mxf", ".mpg", ".mpeg", ".ts", ".mts"}
AUDIO_SUFFIXES = {".wav", ".mp3", ".aac", ".m4a", ".flac", ".ogg", ".opus"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
MEDIA_SUFFIXES = VIDEO_SUFFIXES | AUDIO_SUFFIXES | IMAGE_SUFFIXES
FILE_FILTER = (
    "Media ({});;Video ({});;Audio ({});;Images ({});;All files (*)".format(
        *(" ".join(f"*{s}" for s in sorted(group))
          for group in (MEDIA_SUFFIXES, VIDEO_SUFFIXES, AUDIO_SUFFIXES, IMAGE_SUFFIXES))
    )
)
THUMB_W, THUMB_H = 96, 54
ROW_H = THUMB_H + 12

# Item data roles.
PATH_ROLE = Qt.UserRole
FACTS_ROLE = Qt.UserRole + 1
STATUS_ROLE = Qt.UserRole + 2
STATE_ROLE = Qt.UserRole + 3  # "probing" | "ready" | "error"
KIND_ROLE = Qt.UserRole + 4   # "video" | "audio" | "still"
CRED_ROLE = Qt.UserRole + 5   # the file's Credentials once read (engine.credentials.reading)


def facts_for(info) -> str:
    """One line of probe facts: size, rate, duration, codecs."""
    parts = []
    if info.video is not None:
        v = info.video
        parts.append(f"{v.display_width}×{v.display_height}")
        parts.append(f"{v.rate:.3f}".rstrip("0").rstrip(".") + (" fps (variable)" if v.variable_rate else " fps"))
        parts.append(format_timecode(int(round(info.duration * v.rate)), v.rate) if v.rate else f"{info.duration:.2f} s")
        parts.append(v.codec)
    else:
        parts.append(f"{info.duration:.2f} s")
    if info.audio is not None:
        a = info.audio
        parts.append(f"{a.codec} {a.sample_rate / 1000:g} kHz {a.layout or f'{a.channels} ch'}")
    elif info.video is not None:
        parts.append("no audio")
    return " · ".join(parts)


def _thumb_from_array(frame) -> QImage:
    import numpy as np

    frame = np.ascontiguousarray(np.asarray(frame, dtype=np.uint8)[..., :3])
    h, w = frame.shape[:2]
    return QImage(frame.data, w, h, 3 * w, QImage.Format_RGB888).copy()


def _is_delete_key(event) -> bool:
    return event.key() in (Qt.Key_Delete, Qt.Key_Backspace) and not event.modifiers() & ~Qt.KeypadModifier


class _ProbeTask(QRunnable):
    """Probes one file and makes its thumbnail on a pool thread (QImage is thread-safe, QPixmap is not)."""

    class Signals(QObject):
        finished = Signal(str, object, object, str, str)  # path, info, QImage|None, facts|"", error|""

    def __init__(self, path: str):
        super().__init__()
        self.path = path
        self.signals = self.Signals()

    def run(self):
        try:
            if Path(self.path).suffix.lower() in IMAGE_SUFFIXES:
                info, image, facts = self._still()
            else:
                info, image, facts = self._media()
            outcome = (self.path, info, image, facts, "")
        except Exception as exc:  # noqa: BLE001 - any failure is shown on the item, never raised into Qt
            outcome = (self.path, None, None, "", str(exc) or type(exc).__name__)
        try:
            self.signals.finished.emit(*outcome)
        except RuntimeError:
            pass  # the panel was closed meanwhile

    def _still(self):
        reader = QImageReader(self.path)
        size = reader.size()
        image = reader.read()
        if image.isNull():
            raise ValueError(f"{self.path}: cannot read the image ({reader.errorString()})")
        w, h = (size.width(), size.height()) if size.isValid() else (image.width(), image.height())
        fmt = bytes(reader.format()).decode().upper() or Path(self.path).suffix[1:].upper()
        thumb = image.scaled(THUMB_W, THUMB_H, Qt.KeepAspectRatio, Qt.SmoothTransformation)
        return None, thumb, f"{w}×{h} · still · {fmt}"

    def _media(self):
        from engine.media.probe import probe

        info = probe(self.path)
        image = None
        if info.video is not None:
            from engine.media.thumbnails import thumbnail

            # A frame one second in (or mid-clip when shorter): first frames are often black.
            count = max(1, info.video.frame_count)
            index = min(int(round(info.video.rate or 24)), count // 2)
            image = _thumb_from_array(thumbnail(self.path, index, THUMB_H))
        return info, image, facts_for(info)


class _MediaDelegate(QStyledItemDelegate):
    """Draws an item as thumbnail, name, facts and proxy status."""

    def sizeHint(self, option, index):
        return QSize(200, ROW_H)  # rows take the list's width; text elides inside it

    def paint(self, painter, option, index):
        painter.save()
        selected = bool(option.state & QStyle.State_Selected)
        bg = QColor("#2f4e86") if selected else QColor("#242a34" if option.state & QStyle.State_MouseOver else COLORS["base"])
        painter.fillRect(option.rect, bg)
        r = option.rect.adjusted(6, 6, -6, -6)
        thumb_rect = QRect(r.left(), r.top(), THUMB_W, THUMB_H)
        painter.fillRect(thumb_rect, QColor("#0f1114"))
        pixmap = index.data(Qt.DecorationRole)
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            x = thumb_rect.left() + (THUMB_W - pixmap.width()) // 2
            y = thumb_rect.top() + (THUMB_H - pixmap.height()) // 2
            painter.drawPixmap(x, y, pixmap)
        else:
            painter.setPen(QColor(COLORS["muted"]))
            kind = index.data(KIND_ROLE) or ""
            painter.drawText(thumb_rect, Qt.AlignCenter, "♪ audio" if kind == "audio" else "…")
        text_x = thumb_rect.right() + 10
        text_w = r.right() - text_x
        line_h = painter.fontMetrics().height()
        name_w = text_w
        if index.data(STATE_ROLE) == "ready":  # the Content Credentials badge, top right
            badge, colour = badge_for(index.data(CRED_ROLE))
            badge_w = painter.fontMetrics().horizontalAdvance(badge) + 8
            badge_rect = QRect(r.right() - badge_w, r.top(), badge_w, line_h)
            painter.setPen(QColor(colour))
            painter.drawRoundedRect(badge_rect, 3, 3)
            painter.drawText(badge_rect, Qt.AlignCenter, badge)
            name_w = max(0, text_w - badge_w - 6)
        font = QFont(option.font)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff") if selected else QColor(COLORS["text"]))
        name = painter.fontMetrics().elidedText(index.data(Qt.DisplayRole) or "", Qt.ElideMiddle, name_w)
        painter.drawText(QRect(text_x, r.top(), name_w, line_h), Qt.AlignLeft | Qt.AlignVCenter, name)
        painter.setFont(option.font)
        state = index.data(STATE_ROLE)
        painter.setPen(QColor("#d4dae4") if selected else QColor(COLORS["muted"]))
        facts = painter.fontMetrics().elidedText(index.data(FACTS_ROLE) or "", Qt.ElideRight, text_w)
        painter.drawText(QRect(text_x, r.top() + line_h + 2, text_w, line_h), Qt.AlignLeft | Qt.AlignVCenter, facts)
        status = index.data(STATUS_ROLE) or ""
        color = {"error": "#ff8a8a"}.get(state, "#6fe0a0" if status.startswith("Proxy ready") else COLORS["muted"])
        painter.setPen(QColor(color))
        status = painter.fontMetrics().elidedText(status, Qt.ElideRight, text_w)
        painter.drawText(QRect(text_x, r.top() + 2 * (line_h + 2), text_w, line_h), Qt.AlignLeft | Qt.AlignVCenter, status)
        painter.restore()


class _MediaList(QListWidget):
    """The list; dragging items out carries their paths for the timeline and other apps.
    Delete/Backspace remove the selected items (taken before the window's Delete shortcut)."""

    delete_pressed = Signal()

    def event(self, event):
        if event.type() == QEvent.ShortcutOverride and _is_delete_key(event):
            event.accept()  # the key comes here as a key press instead of firing the window's Delete
            return True
        return super().event(event)

    def keyPressEvent(self, event):
        if _is_delete_key(event):
            self.delete_pressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)

    def mimeTypes(self):
        return [MEDIA_MIME, "text/uri-list"]

    def mimeData(self, items):
        paths = [it.data(PATH_ROLE) for it in items if it.data(STATE_ROLE) == "ready"]
        data = QMimeData()
        data.setData(MEDIA_MIME, json.dumps(paths).encode("utf-8"))
        data.setUrls([QUrl.fromLocalFile(p) for p in paths])
        return data


class MediaPanel(QWidget):
    """The project's media. `add_files(paths)` imports; probing, thumbnails and proxies run in the
    background; double-click emits `media_activated(path)`."""

    media_activated = Signal(str)
    media_added = Signal(str)      # a file probed and ready to use
    proxy_ready = Signal(str, str)  # source path, proxy path

    def __init__(self, bridge, parent=None, credentials: CredentialsReader | None = None):
        super().__init__(parent)
        self.setObjectName("media_panel")
        self.setAcceptDrops(True)
        self.bridge = bridge
        self.credentials_reader = credentials or CredentialsReader(parent=self)
        self.credentials_reader.read.connect(self._on_credentials)
        self._items: dict[str, QListWidgetItem] = {}
        self._info: dict[str, object] = {}
        self._proxies: dict[str, str] = {}
        self._making_proxies: set[str] = set()  # source paths whose proxy job is running
        self._tasks: set[_ProbeTask] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)

        self.list = _MediaList(self)
        self.list.setObjectName("media_list")
        self.list.setItemDelegate(_MediaDelegate(self.list))
        self.list.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.list.setDragDropMode(QAbstractItemView.DragOnly)  # drops land on the panel, see dropEvent
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.list.setMouseTracking(True)
        self.list.itemActivated.connect(self._activate)  # double-click or Enter

        self.filter = QLineEdit(self)
        self.filter.setObjectName("media_filter")
        self.filter.setPlaceholderText("Filter by name")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._apply_filter)
        self.import_button = QPushButton(icon("import"), "Import…", self)
        self.import_button.setObjectName("media_import")
        self.import_button.setToolTip("Import media files (Ctrl+I), or drop files here")
        self.import_button.clicked.connect(self.import_dialog)
        self.hint = QLabel("Drop video, audio or image files here, or click Import.", self)
        self.hint.setObjectName("media_hint")
        self.hint.setProperty("role", "muted")
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setWordWrap(True)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("media_count")
        self.count_label.setProperty("role", "muted")

        top = QHBoxLayout()
        top.addWidget(self.filter, 1)
        top.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.hint)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.count_label)

        self.list.delete_pressed.connect(self.remove_selected)

        self._update_count()

    # -- API --
    def add_files(self, paths) -> list[str]:
        """Import PATHS (files, or folders whose media files are imported); returns the new paths.
        Files already in the panel are selected rather than added twice."""
        added = []
        for path in self._expand(paths):
            if path in self._items:
                self.list.setCurrentItem(self._items[path])
                continue
            self._add_item(path)
            added.append(path)
        self._update_count()
        return added

    def import_dialog(self) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import media", "", FILE_FILTER)
        return self.add_files(paths) if paths else []

    def proxy_for(self, path) -> str | None:
        """The proxy made for PATH, or None until one is ready (use the original meanwhile)."""
        return self._proxies.get(str(Path(path).resolve()))

    def proxies_pending(self) -> int:
        """How many proxy jobs this panel is still waiting for."""
        return len(self._making_proxies)

    def info(self, path):
        """The MediaInfo probed for PATH (None for stills and files still being probed)."""
        return self._info.get(str(Path(path).resolve()))

    def credentials(self, path):
        """The Content Credentials read from PATH (engine.credentials.reading.Credentials), or
        None while they are being read."""
        return self.credentials_reader.request(str(Path(path).resolve()))

    def paths(self) -> list[str]:
        return [self.list.item(i).data(PATH_ROLE) for i in range(self.list.count())]

    def state(self, path) -> str | None:
        item = self._items.get(str(Path(path).resolve()))
        return item.data(STATE_ROLE) if item else None

    def selected_paths(self) -> list[str]:
        return [it.data(PATH_ROLE) for it in self.list.selectedItems()]

    def show_project_media(self, paths) -> None:
        """List a (re)opened project's media instead of the last project's, with thumbnails and
        proxies made again in the background."""
        self._forget([self.list.item(i) for i in range(self.list.count())])
        self.add_files(paths)

    def remove_selected(self) -> None:
        """Take the selected files out of the panel (the files on disk are untouched)."""
        self._forget(self.list.selectedItems())

    def _forget(self, items) -> None:
        for item in items:
            path = item.data(PATH_ROLE)
            self._items.pop(path, None)
            self._info.pop(path, None)
            self._proxies.pop(path, None)
            self.list.takeItem(self.list.row(item))
        self._update_count()

    def wait_for_background(self, msecs: int = 30000) -> bool:
        """Block until probes and thumbnails finish (for scripts and shutdown)."""
        return self._pool.waitForDone(msecs)

    # -- drops --
    def dragEnterEvent(self, event):
        if self._local_paths(event.mimeData()) and event.source() is not self.list:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event):
        self.dragEnterEvent(event)

    def dropEvent(self, event):
        paths = self._local_paths(event.mimeData())
        if paths:
            self.add_files(paths)
            event.acceptProposedAction()

    # -- internals --
    @staticmethod
    def _local_paths(mime) -> list[str]:
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()] if mime.hasUrls() else []

    @staticmethod
    def _expand(paths) -> list[str]:
        out = []
        for raw in paths:
            path = Path(raw).expanduser().resolve()
            if path.is_dir():
                out.extend(str(p) for p in sorted(path.rglob("*")) if p.is_file() and p.suffix.lower() in MEDIA_SUFFIXES)
            else:
                out.append(str(path))  # missing or odd files get an item that says what is wrong
        return out

    def _add_item(self, path: str) -> None:
        item = QListWidgetItem(Path(path).name)
        item.setData(PATH_ROLE, path)
        item.setData(STATE_ROLE, "probing")
        item.setData(FACTS_ROLE, "Reading…")
        item.setData(STATUS_ROLE, "")
        item.setToolTip(path)
        item.setFlags(Qt.ItemIsSelectable | Qt.ItemIsEnabled)  # draggable once probed
        self.list.addItem(item)
        self._items[path] = item
        task = _ProbeTask(path)
        task.signals.finished.connect(self._on_probed)
        self._tasks.add(task)
        self._pool.start(task)
        self._apply_filter(self.filter.text())

    def _on_probed(self, path: str, info, image, facts: str, error: str) -> None:
        self._tasks = {t for t in self._tasks if t.path != path}
        item = self._items.get(path)
        if item is None:
            return  # removed while it was being probed
        if error:
            item.setData(STATE_ROLE, "error")
            item.setData(FACTS_ROLE, "Cannot be used")
            item.setData(STATUS_ROLE, error)
            item.setToolTip(f"{path}\n{error}")
            return
        kind = "still" if info is None else ("video" if info.video is not None else "audio")
        item.setData(KIND_ROLE, kind)
        item.setData(STATE_ROLE, "ready")
        item.setData(FACTS_ROLE, facts)
        item.setFlags(Qt.ItemIsSelectable | Qt.ItemIsEnabled | Qt.ItemIsDragEnabled)
        if image is not None and not image.isNull():
            item.setData(Qt.DecorationRole, QPixmap.fromImage(image))
        if info is not None:
            self._info[path] = info
        item.setToolTip(f"{path}\n{facts}")
        self._on_credentials(path, self.credentials_reader.request(path))
        if kind == "video":
            self._request_proxy(path)
        else:
            item.setData(STATUS_ROLE, "No proxy needed")
        self.media_added.emit(path)

    def _on_credentials(self, path: str, creds) -> None:
        item = self._items.get(path)
        if item is not None and creds is not None:
            item.setData(CRED_ROLE, creds)
            item.setToolTip(f"{path}\n{item.data(FACTS_ROLE)}\n{creds.summary()}")

    def _request_proxy(self, path: str) -> None:
        item = self._items[path]
        if self.bridge is None:
            item.setData(STATUS_ROLE, "Plays from the original")
            return
        from engine.jobs import ProxyJob

        try:
            handle = self.bridge.submit(ProxyJob(source=path))
        except Exception as exc:  # noqa: BLE001 - the original stays usable; say why there is no proxy
            item.setData(STATUS_ROLE, f"No proxy: {exc}")
            return
        self._making_proxies.add(path)
        handle.watch(self, done=lambda result: self._on_proxy_done(path, result),
                     failed=lambda message: self._on_proxy_failed(path, message),
                     cancelled=lambda: self._on_proxy_cancelled(path))
        item.setData(STATUS_ROLE, "Making proxy…")

    def _on_proxy_done(self, path: str, result) -> None:
        self._making_proxies.discard(path)
        if path not in self._items:
            return
        proxy = (result or {}).get("path")
        if not proxy:
            self._items[path].setData(STATUS_ROLE, "No proxy: the job gave no file; playing the original")
            return
        self._proxies[path] = str(proxy)
        self._items[path].setData(STATUS_ROLE, f"Proxy ready · {Path(proxy).name}")
        self.proxy_ready.emit(path, str(proxy))

    def _on_proxy_failed(self, path: str, message: str) -> None:
        self._making_proxies.discard(path)
        if path in self._items:
            self._items[path].setData(STATUS_ROLE, f"No proxy ({message.strip().rstrip('.')}); playing the original")

    def _on_proxy_cancelled(self, path: str) -> None:
        self._making_proxies.discard(path)
        if path in self._items:
            self._items[path].setData(STATUS_ROLE, "Proxy cancelled; playing the original")

    def _activate(self, item) -> None:
        if item is not None and item.data(STATE_ROLE) == "ready":
            self.media_activated.emit(item.data(PATH_ROLE))

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def _update_count(self) -> None:
        n = self.list.count()
        self.hint.setVisible(n == 0)
        self.count_label.setText(f"{n} item{'s' if n != 1 else ''}" if n else "")
