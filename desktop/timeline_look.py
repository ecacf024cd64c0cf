"""What the timeline draws for a clip: its sizes and colours, the look computed once per
change of an item, and first-frame thumbnails decoded off the UI thread."""
from __future__ import annotations

from dataclasses import dataclass

import opentimelineio as otio
from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QColor, QImage

from desktop.timeline_items import app_value, generation_status, media_path, take_keys

HEADER_W = 150
RULER_H = 26
VIDEO_H = 56
AUDIO_H = 36
COLORS = {
    "video": QColor(58, 96, 150), "audio": QColor(52, 122, 86), "generated": QColor(112, 74, 160),
    "pending": QColor(70, 78, 110), "failed": QColor(150, 50, 50), "nested": QColor(110, 100, 60),
}


@dataclass
class ClipLook:
    """What the view draws for one item, computed once per change of that item."""

    item: object
    color: QColor
    label: str
    status: str | None      # pending | failed | done | None
    takes: int
    thumb_path: str | None


class _ThumbSignals(QObject):
    ready = Signal(str, object)


class _ThumbTask(QRunnable):
    def __init__(self, path: str, height: int, signals: _ThumbSignals):
        super().__init__()
        self.path, self.height, self.signals = path, height, signals

    def run(self):
        from engine.media.reader import FrameReader
        from desktop.playback import array_to_qimage

        try:
            reader = FrameReader(self.path)
            try:
                image = array_to_qimage(reader.read(0))
            finally:
                reader.close()
            image = image.scaledToHeight(self.height, Qt.TransformationMode.SmoothTransformation)
        except Exception:  # unreadable media simply gets no thumbnail; the clip still draws
            image = None
        self.signals.ready.emit(self.path, image)


class ThumbnailCache(QObject):
    """First-frame thumbnails decoded on a thread pool; `changed` when one arrives."""

    changed = Signal()

    def __init__(self, height: int, parent=None):
        super().__init__(parent)
        self.height = height
        self.images: dict[str, QImage | None] = {}
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        # A child made after the pool: Qt deletes children in order, and the pool's destructor waits
        # for a running task, so a task never emits into a deleted object.
        self._signals = _ThumbSignals(self)
        self._signals.ready.connect(self._on_ready, Qt.ConnectionType.QueuedConnection)
        self._closed = False

    def get(self, path: str) -> QImage | None:
        if path in self.images or self._closed:  # a repaint after shutdown starts nothing
            return self.images.get(path)
        self.images[path] = None  # requested; stays None if it cannot be decoded
        self.pool.start(_ThumbTask(path, self.height, self._signals))
        return None

    def _on_ready(self, path: str, image):
        self.images[path] = image
        self.changed.emit()

    def shutdown(self):
        self._closed = True
        self.pool.clear()
        self.pool.waitForDone(5000)


class LookCache:
    """The ClipLook of each item, computed once per change of that item."""

    def __init__(self):
        self._looks: dict[int, ClipLook] = {}

    def get(self, item) -> ClipLook:
        cached = self._looks.get(id(item))
        if cached is not None and cached.item is item:
            return cached
        status = generation_status(item)
        takes = len(take_keys(item)) if status is not None else 0
        thumb = None
        if isinstance(item, otio.schema.Clip):
            kind = "video"
            if status in ("pending", "failed"):
                kind = status
            elif status == "done":
                kind = "generated"
            thumb = media_path(item.media_reference) if status not in ("pending", "failed") else None
            label = item.name or (app_value(item, "prompt") or "clip")
        else:
            kind, label = "nested", item.name or type(item).__name__
        look = ClipLook(item, COLORS[kind], str(label), status, takes, thumb)
        self._looks[id(item)] = look
        return look

    def forget(self, item) -> None:
        self._looks.pop(id(item), None)

    def clear(self) -> None:
        self._looks.clear()
