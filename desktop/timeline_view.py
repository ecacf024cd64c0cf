"""The timeline: a custom-painted widget over the document's tracks.

Painting walks only the items in view (a bisect per track, see timeline_items) and merges runs
of clips narrower than a pixel, so 5,000 clips repaint in a few milliseconds at any zoom.
The view never edits the document itself: gestures become signals the main window turns into
undoable commands, and document events rebuild only the track they name.

Gestures (Premiere/Resolve-like): click selects, Shift-click adds, dragging from an empty spot
draws a rubber band; drag a clip to move it (also to another track), drag its edge to trim;
hold Alt while dropping for a *ripple* move/trim. Snapping (toggle with S) pulls to edit points,
the playhead, markers and In/Out. Ctrl+wheel zooms around the pointer, wheel scrolls.
"""
from __future__ import annotations

import bisect
import json
import math
from dataclasses import dataclass

import opentimelineio as otio
from PySide6.QtCore import QEvent, QMimeData, QObject, QPointF, QRectF, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QMenu, QScrollBar, QToolTip, QVBoxLayout, QWidget

from desktop.timeline_items import (
    TrackLayout, app_data, app_value, generation_status, is_generated, is_still, media_path, take_keys,
)
from engine.operations import ACTIONS, OPERATIONS
from timeline.provenance import track_flag

MEDIA_MIME = "application/x-latentcut-media"
HEADER_W = 150
RULER_H = 26
VIDEO_H = 56
AUDIO_H = 36
EDGE_PX = 6          # how close to a clip's edge a press trims instead of moving
SNAP_PX = 8
MIN_SCALE, MAX_SCALE = 0.005, 64.0   # pixels per frame

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
        self._signals = _ThumbSignals()
        self._signals.ready.connect(self._on_ready, Qt.ConnectionType.QueuedConnection)

    def get(self, path: str) -> QImage | None:
        if path in self.images:
            return self.images[path]
        self.images[path] = None  # requested; stays None if it cannot be decoded
        self.pool.start(_ThumbTask(path, self.height, self._signals))
        return None

    def _on_ready(self, path: str, image):
        self.images[path] = image
        self.changed.emit()

    def shutdown(self):
        self.pool.clear()
        self.pool.waitForDone(5000)


class TimelineCanvas(QWidget):
    """Paints the tracks and handles the pointer; see the module docstring for gestures."""

    seek_requested = Signal(int)
    move_requested = Signal(object, object, int, bool)       # item, target track, new start frame, ripple
    trim_requested = Signal(object, str, int, bool)          # item, "head"|"tail", delta frames, ripple
    action_requested = Signal(str, object, object)           # op, item, extra (e.g. take key)
    media_dropped = Signal(list, object, int)                # paths, track, frame
    track_flag_requested = Signal(object, str, bool)         # track, "enabled"|"muted"|"locked", value
    view_changed = Signal()                                  # zoom or scroll changed

    def __init__(self, document, edits, parent=None):
        super().__init__(parent)
        self.document = document
        self.edits = edits        # the selection, In/Out and edit rules (desktop.edit_controller)
        self.index = edits.index
        self.scale = 4.0          # pixels per frame
        self.origin = 0.0         # frame at the left edge of the track area
        self.playhead = 0
        self.snapping = True
        self.progress: dict[int, float] = {}   # id(pending clip) -> 0..1
        self._looks: dict[int, ClipLook] = {}
        self._drag = None
        self.thumbnails = ThumbnailCache(VIDEO_H - 18, self)
        self.thumbnails.changed.connect(self.update)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.setMinimumHeight(RULER_H + VIDEO_H + AUDIO_H)
        document.subscribe(self._on_document_event)
        edits.selection_changed.connect(self.update)

    # -- geometry --
    def row_height(self, layout: TrackLayout) -> int:
        return VIDEO_H if layout.kind == otio.schema.TrackKind.Video else AUDIO_H

    def row_top(self, row: int) -> int:
        y = RULER_H
        for layout in self.index.layouts[:row]:
            y += self.row_height(layout)
        return y

    def row_at(self, y: float) -> int | None:
        top = RULER_H
        for row, layout in enumerate(self.index.layouts):
            h = self.row_height(layout)
            if top <= y < top + h:
                return row
            top += h
        return None

    def x_of(self, frame: float) -> float:
        return HEADER_W + (frame - self.origin) * self.scale

    def frame_at(self, x: float) -> int:
        return int(math.floor(self.origin + (x - HEADER_W) / self.scale))

    def visible_frames(self) -> tuple[int, int]:
        first = int(math.floor(self.origin))
        return first, first + int(math.ceil((self.width() - HEADER_W) / self.scale)) + 1

    def item_rect(self, item) -> QRectF | None:
        found = self.index.locate(item)
        if found is None:
            return None
        layout, i = found
        row = self.index.layouts.index(layout)
        x0, x1 = self.x_of(layout.starts[i]), self.x_of(layout.ends[i])
        return QRectF(x0, self.row_top(row), x1 - x0, self.row_height(layout))

    def hit(self, pos: QPointF):
        """(layout, index or None, frame) under a point in the track area, or None."""
        if pos.x() < HEADER_W or pos.y() < RULER_H:
            return None
        row = self.row_at(pos.y())
        if row is None:
            return None
        layout = self.index.layouts[row]
        frame = self.frame_at(pos.x())
        return layout, layout.index_at(frame), frame

    # -- zoom and scroll --
    def set_scale(self, scale: float, anchor_x: float | None = None) -> None:
        anchor_x = self.x_of(self.playhead) if anchor_x is None else anchor_x
        anchor_frame = self.origin + (anchor_x - HEADER_W) / self.scale
        self.scale = min(MAX_SCALE, max(MIN_SCALE, scale))
        self.origin = max(0.0, anchor_frame - (anchor_x - HEADER_W) / self.scale)
        self.view_changed.emit()
        self.update()

    def zoom(self, factor: float, anchor_x: float | None = None) -> None:
        self.set_scale(self.scale * factor, anchor_x)

    def scroll_to(self, origin: float) -> None:
        self.origin = max(0.0, float(origin))
        self.view_changed.emit()
        self.update()

    def zoom_to_fit(self) -> None:
        span = max(self.index.duration, int(self.document.rate * 10))
        self.scale = min(MAX_SCALE, max(MIN_SCALE, (self.width() - HEADER_W - 20) / span))
        self.scroll_to(0)

    def set_playhead(self, frame: int) -> None:
        if frame == self.playhead:
            return
        old_x = self.x_of(self.playhead)
        self.playhead = frame
        new_x = self.x_of(frame)
        # Keep the playhead in view while playing, like a page-scrolling NLE.
        if new_x > self.width() - 10 or new_x < HEADER_W:
            self.scroll_to(max(0.0, frame - 0.1 * (self.width() - HEADER_W) / self.scale))
            return
        for x in (old_x, new_x):
            self.update(int(x) - 8, 0, 17, self.height())

    def set_progress(self, clip, fraction: float | None) -> None:
        if fraction is None:
            self.progress.pop(id(clip), None)
        else:
            self.progress[id(clip)] = fraction
        rect = self.item_rect(clip)
        if rect is not None:
            self.update(rect.toAlignedRect().adjusted(-2, -2, 2, 2))

    # -- document events: forget the looks of what changed (the controller keeps the index) --
    def _on_document_event(self, event: str, payload: dict) -> None:
        payload = payload if isinstance(payload, dict) else {}
        for key in ("clip", "item"):
            item = payload.get(key)
            if item is not None:
                self._looks.pop(id(item), None)
        # The edit controller, subscribed first, has brought the index up to date.
        if payload.get("track") is None or event in ("track_added", "track_removed"):
            self._looks.clear()
        self.view_changed.emit()
        self.update()

    def look(self, item) -> ClipLook:
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

    # -- painting --
    def paintEvent(self, event):
        p = QPainter(self)
        clip_rect = event.rect()
        p.fillRect(clip_rect, QColor(30, 31, 35))
        first, last = self.visible_frames()
        small = QFont(self.font())
        small.setPointSizeF(8.5)
        p.setFont(small)
        y = RULER_H
        for layout in self.index.layouts:
            h = self.row_height(layout)
            if y + h >= clip_rect.top() and y <= clip_rect.bottom():
                self._paint_row(p, layout, y, h, first, last, clip_rect)
            y += h
        self._paint_range(p, y)
        # A progress tick repaints one clip's rect: skip the ruler and headers when it misses them.
        if clip_rect.top() <= RULER_H:
            self._paint_ruler(p, first, last)
        if clip_rect.left() <= HEADER_W:
            self._paint_headers(p)
        if self._drag is not None:
            self._paint_drag(p)
        px = self.x_of(self.playhead)
        if px >= HEADER_W:
            p.setPen(QPen(QColor(235, 70, 60), 1))
            p.drawLine(QPointF(px, 0), QPointF(px, self.height()))
            p.setBrush(QColor(235, 70, 60))
            p.drawPolygon([QPointF(px - 6, 0), QPointF(px + 6, 0), QPointF(px, 8)])
        p.end()

    def _paint_row(self, p, layout, y, h, first, last, clip_rect):
        audio = layout.kind != otio.schema.TrackKind.Video
        hidden = not layout.track.enabled
        p.fillRect(QRectF(HEADER_W, y, self.width() - HEADER_W, h), QColor(36, 38, 44) if not audio else QColor(34, 40, 38))
        p.setPen(QColor(22, 22, 26))
        p.drawLine(HEADER_W, y + h - 1, self.width(), y + h - 1)
        selected = {id(i) for i in self.edits.selection}
        x_left = max(HEADER_W, clip_rect.left())
        x_right = min(self.width(), clip_rect.right() + 1)
        dense = QColor(COLORS["audio"] if audio else COLORS["video"]).lighter(115)
        if hidden:
            dense = dense.darker(180)
        run = None  # [x0, x1] of consecutive clips narrower than 3 px, drawn as one band
        visible = layout.visible(first, last)
        i, hi = visible.start, visible.stop
        starts, ends, items = layout.starts, layout.ends, layout.items
        origin, scale = self.origin, self.scale
        while i < hi:
            item = items[i]
            x0 = HEADER_W + (starts[i] - origin) * scale   # inlined x_of: this loop is the hot path
            x1 = HEADER_W + (ends[i] - origin) * scale
            if x0 > x_right:
                break
            if x1 < x_left:
                i += 1
                continue
            is_gap = isinstance(item, otio.schema.Gap)
            if x1 - x0 < 3 and id(item) not in selected:
                if not is_gap:
                    run = [x0 if run is None else run[0], x1]
                # Everything ending within the next 2 px is covered by this band: jump past it, so a
                # zoomed-out track costs about width/2 steps however many clips it holds.
                next_frame = origin + (x1 + 2 - HEADER_W) / scale
                i = max(i + 1, bisect.bisect_left(ends, next_frame, i + 1, hi))
                continue
            if run is not None:
                p.fillRect(QRectF(max(run[0], HEADER_W), y + 2, max(1.0, run[1] - max(run[0], HEADER_W)), h - 4), dense)
                run = None
            if is_gap:
                if id(item) in selected:
                    p.fillRect(QRectF(x0, y + 2, x1 - x0, h - 4), QColor(255, 255, 255, 40))
                    p.setPen(QPen(QColor(240, 200, 80), 1, Qt.PenStyle.DashLine))
                    p.setBrush(Qt.BrushStyle.NoBrush)
                    p.drawRect(QRectF(x0, y + 2, x1 - x0, h - 5))
            else:
                left = max(x0, HEADER_W - 2)
                self._paint_clip(p, self.look(item), QRectF(left, y + 2, max(1.0, x1 - left), h - 4),
                                 id(item) in selected, hidden, audio)
            i += 1
        if run is not None:
            p.fillRect(QRectF(max(run[0], HEADER_W), y + 2, max(1.0, run[1] - max(run[0], HEADER_W)), h - 4), dense)

    def _paint_clip(self, p, look: ClipLook, r: QRectF, selected: bool, hidden: bool, audio: bool):
        color = QColor(COLORS["audio"]) if audio and look.status is None else QColor(look.color)
        if hidden:
            color = color.darker(180)
        p.setPen(QPen(QColor(250, 220, 90) if selected else color.darker(150), 2 if selected else 1))
        p.setBrush(color)
        p.drawRect(r)
        if look.status in ("pending", "failed"):
            p.fillRect(r, QBrush(QColor(255, 255, 255, 28), Qt.BrushStyle.BDiagPattern))
        if r.width() < 14:
            return
        p.save()
        p.setClipRect(r.adjusted(1, 1, -1, -1))
        text_x = r.left() + 4
        if look.thumb_path and not audio and r.width() > 90:
            image = self.thumbnails.get(look.thumb_path)
            if image is not None:
                p.drawImage(QPointF(r.left() + 1, r.top() + 14), image)
                text_x = r.left() + 4
        p.setPen(QColor(245, 245, 245))
        p.drawText(QRectF(text_x, r.top() + 1, r.width() - 8, 14), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, look.label)
        if look.status is not None:
            self._paint_badge(p, look, r)
        fraction = self.progress.get(id(look.item))
        if fraction is not None or look.status == "pending":
            fraction = fraction or 0.0
            bar = QRectF(r.left() + 3, r.bottom() - 8, (r.width() - 6), 5)
            p.fillRect(bar, QColor(20, 20, 30))
            p.fillRect(QRectF(bar.left(), bar.top(), bar.width() * fraction, bar.height()), QColor(120, 170, 255))
            p.setPen(QColor(200, 210, 240))
            p.drawText(QRectF(r.left() + 4, r.top() + 16, r.width() - 8, 14), Qt.AlignmentFlag.AlignLeft,
                       f"generating {int(fraction * 100)}%")
        if look.status == "failed" and fraction is None:
            p.setPen(QColor(255, 210, 210))
            p.drawText(QRectF(r.left() + 4, r.top() + 16, r.width() - 8, 14), Qt.AlignmentFlag.AlignLeft, "failed")
            p.drawText(QRectF(r.left() + 4, r.top() + 30, r.width() - 8, 14), Qt.AlignmentFlag.AlignLeft,
                       "right-click › Regenerate")
        p.restore()

    def _paint_badge(self, p, look: ClipLook, r: QRectF):
        text = f"AI ×{look.takes}" if look.takes else "AI"   # the take count once there is a take
        w = 18 + 7 * len(text) // 2
        badge = QRectF(r.right() - w - 3, r.top() + 2, w, 12)
        if badge.left() < r.left() + 30:
            return
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(240, 190, 60))
        p.drawRoundedRect(badge, 3, 3)
        p.setPen(QColor(30, 20, 0))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_range(self, p, bottom):
        if self.edits.in_point is None and self.edits.out_point is None:
            return
        start = self.edits.in_point if self.edits.in_point is not None else 0
        end = self.edits.out_point if self.edits.out_point is not None else max(self.index.duration, start + 1)
        x0, x1 = max(HEADER_W, self.x_of(start)), self.x_of(end)
        if x1 > x0:
            p.fillRect(QRectF(x0, RULER_H, x1 - x0, bottom - RULER_H), QColor(120, 160, 255, 30))

    def _tick_step(self) -> int:
        """Frames between labelled ruler ticks, so labels sit at least ~90 px apart."""
        rate = self.document.rate
        for step in (1, 2, 5, 10) + tuple(int(round(rate * s)) for s in (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)):
            if step * self.scale >= 90:
                return max(1, step)
        return int(round(rate * 7200))

    def _paint_ruler(self, p, first, last):
        p.fillRect(QRectF(0, 0, self.width(), RULER_H), QColor(44, 46, 52))
        step = self._tick_step()
        p.setPen(QColor(170, 172, 180))
        rate = self.document.rate
        frame = (first // step) * step
        while frame <= last:
            x = self.x_of(frame)
            if x >= HEADER_W:
                p.drawLine(QPointF(x, RULER_H - 8), QPointF(x, RULER_H))
                tc = otio.opentime.to_timecode(otio.opentime.RationalTime(frame, rate), rate)
                p.drawText(QPointF(x + 3, RULER_H - 10), tc)
            frame += step
        for name, point in (("I", self.edits.in_point), ("O", self.edits.out_point)):
            if point is not None and self.x_of(point) >= HEADER_W:
                x = self.x_of(point)
                p.setPen(QColor(120, 170, 255))
                p.drawLine(QPointF(x, 0), QPointF(x, RULER_H))
                p.drawText(QPointF(x + 2 if name == "I" else x - 9, 10), name)
        p.setBrush(QColor(90, 200, 120))
        p.setPen(Qt.PenStyle.NoPen)
        for frame in self.index.marker_frames():
            x = self.x_of(frame)
            if x >= HEADER_W:
                p.drawPolygon([QPointF(x - 4, RULER_H - 8), QPointF(x + 4, RULER_H - 8), QPointF(x, RULER_H)])

    HEADER_BUTTONS = (("enabled", "", "Hide / show"), ("muted", "M", "Mute"), ("locked", "", "Lock"))

    def header_button_rect(self, row: int, which: str) -> QRectF:
        order = [b[0] for b in self.HEADER_BUTTONS].index(which)
        return QRectF(HEADER_W - 3 * 24 - 4 + order * 24, self.row_top(row) + 4, 22, 18)

    def _paint_headers(self, p):
        p.fillRect(QRectF(0, 0, HEADER_W, RULER_H), QColor(44, 46, 52))
        p.setPen(QColor(230, 230, 235))
        p.drawText(QRectF(6, 0, HEADER_W - 8, RULER_H), Qt.AlignmentFlag.AlignVCenter,
                   otio.opentime.to_timecode(otio.opentime.RationalTime(self.playhead, self.document.rate), self.document.rate))
        for row, layout in enumerate(self.index.layouts):
            y, h = self.row_top(row), self.row_height(layout)
            p.fillRect(QRectF(0, y, HEADER_W, h), QColor(48, 50, 58))
            p.setPen(QColor(22, 22, 26))
            p.drawLine(0, y + h - 1, HEADER_W, y + h - 1)
            p.setPen(QColor(235, 235, 240))
            p.drawText(QRectF(6, y + 4, HEADER_W - 84, 18), Qt.AlignmentFlag.AlignVCenter, layout.label)
            p.setPen(QColor(170, 172, 180))
            if layout.name != layout.label:
                p.drawText(QRectF(6, y + 22, HEADER_W - 10, 16), Qt.AlignmentFlag.AlignVCenter, layout.name)
            for which, text, _tip in self.HEADER_BUTTONS:
                r = self.header_button_rect(row, which)
                on = track_flag(layout.track, which)
                active = (not on) if which == "enabled" else on   # highlight the non-default state
                p.setPen(QColor(20, 20, 24))
                p.setBrush(QColor(220, 120, 60) if active else QColor(70, 72, 82))
                p.drawRoundedRect(r, 3, 3)
                self._paint_header_symbol(p, r, which, text)

    @staticmethod
    def _paint_header_symbol(p, r: QRectF, which: str, text: str):
        """An eye, an M or a padlock, drawn as shapes so no symbol font is needed."""
        c = r.center()
        p.setPen(QPen(QColor(245, 245, 245), 1.4))
        p.setBrush(Qt.BrushStyle.NoBrush)
        if which == "enabled":
            p.drawEllipse(c, 7, 4)
            p.setBrush(QColor(245, 245, 245))
            p.drawEllipse(c, 1.8, 1.8)
        elif which == "locked":
            p.drawArc(QRectF(c.x() - 3.5, c.y() - 7, 7, 8), 0, 180 * 16)
            p.setBrush(QColor(245, 245, 245))
            p.drawRect(QRectF(c.x() - 5, c.y() - 2, 10, 7))
        else:
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_drag(self, p):
        d = self._drag
        if d["mode"] == "band" and d.get("moved"):
            p.setPen(QPen(QColor(240, 200, 80), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(240, 200, 80, 30))
            p.drawRect(QRectF(d["origin"], d["pos"]).normalized())
        elif d["mode"] in ("move", "trim") and d.get("moved"):
            start, end, row = d["ghost"]
            y = self.row_top(row)
            h = self.row_height(self.index.layouts[row])
            p.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(255, 255, 255, 40))
            p.drawRect(QRectF(self.x_of(start), y + 2, (end - start) * self.scale, h - 4))
            if d.get("snapped") is not None:
                x = self.x_of(d["snapped"])
                p.setPen(QPen(QColor(90, 200, 255), 1))
                p.drawLine(QPointF(x, RULER_H), QPointF(x, self.height()))

    # -- snapping --
    def snap(self, frame: int, exclude: tuple[int, ...] = ()) -> tuple[int, int | None]:
        """The nearest edit point, playhead, marker or In/Out within SNAP_PX of `frame`."""
        if not self.snapping:
            return frame, None
        limit = SNAP_PX / self.scale
        best, best_d = None, limit + 1
        points = self.index.edit_points()
        i = bisect.bisect_left(points, frame)
        candidates = points[max(0, i - 2):i + 2] + [self.playhead] + self.index.marker_frames()
        candidates += [f for f in (self.edits.in_point, self.edits.out_point) if f is not None]
        for c in candidates:
            if c in exclude:
                continue
            d = abs(c - frame)
            if d <= limit and d < best_d:
                best, best_d = c, d
        return (best, best) if best is not None else (frame, None)

    # -- pointer --
    def mousePressEvent(self, event):
        pos = event.position()
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        if event.button() == Qt.MouseButton.RightButton:
            self._context_menu(event)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if pos.y() < RULER_H and pos.x() >= HEADER_W:
            self._drag = {"mode": "scrub"}
            self.seek_requested.emit(max(0, self.frame_at(pos.x())))
            return
        if pos.x() < HEADER_W:
            self._press_header(pos)
            return
        hit = self.hit(pos)
        if hit is None or hit[1] is None or isinstance(hit[0].items[hit[1]], otio.schema.Gap):
            self._drag = {"mode": "band", "origin": pos, "pos": pos, "shift": shift, "hit": hit}
            return
        layout, i, frame = hit
        item = layout.items[i]
        if shift:
            chosen = [s for s in self.edits.selection if s is not item] if item in self.edits.selection else self.edits.selection + [item]
            self.edits.set_selection(chosen)
            return
        if item not in self.edits.selection:
            self.edits.set_selection([item])
        x0, x1 = self.x_of(layout.starts[i]), self.x_of(layout.ends[i])
        locked = track_flag(layout.track, "locked")
        if locked:
            return
        mode, edge = "move", None
        if pos.x() - x0 <= EDGE_PX and x1 - x0 > 3 * EDGE_PX:
            mode, edge = "trim", "head"
        elif x1 - pos.x() <= EDGE_PX and x1 - x0 > 3 * EDGE_PX:
            mode, edge = "trim", "tail"
        row = self.index.layouts.index(layout)
        self._drag = {"mode": mode, "edge": edge, "item": item, "layout": layout, "row": row,
                      "start": layout.starts[i], "end": layout.ends[i], "press_frame": frame,
                      "origin": pos, "ghost": (layout.starts[i], layout.ends[i], row), "moved": False}

    def _press_header(self, pos):
        row = self.row_at(pos.y())
        if row is None:
            return
        layout = self.index.layouts[row]
        for which, _text, _tip in self.HEADER_BUTTONS:
            if self.header_button_rect(row, which).contains(pos):
                self.track_flag_requested.emit(layout.track, which, not track_flag(layout.track, which))
                return

    def mouseMoveEvent(self, event):
        pos = event.position()
        d = self._drag
        if d is None:
            self._update_cursor(pos)
            return
        if d["mode"] == "scrub":
            self.seek_requested.emit(max(0, self.frame_at(pos.x())))
            return
        if d["mode"] == "band":
            d["pos"] = pos
            d["moved"] = d.get("moved") or (pos - d["origin"]).manhattanLength() > 4
            self.update()
            return
        if (pos - d["origin"]).manhattanLength() < 4 and not d["moved"]:
            return
        d["moved"] = True
        delta = int(round((pos.x() - d["origin"].x()) / self.scale))
        start, end = d["start"], d["end"]
        if d["mode"] == "move":
            new_start = max(0, start + delta)
            snapped_start, s1 = self.snap(new_start, exclude=(start, end))
            snapped_end, s2 = self.snap(new_start + end - start, exclude=(start, end))
            if s1 is not None and (s2 is None or abs(snapped_start - new_start) <= abs(snapped_end - new_start - (end - start))):
                new_start, d["snapped"] = snapped_start, s1
            elif s2 is not None:
                new_start, d["snapped"] = snapped_end - (end - start), s2
            else:
                d["snapped"] = None
            row = self.row_at(pos.y())
            if row is None or self.index.layouts[row].kind != d["layout"].kind:
                row = d["row"]
            d["ghost"] = (new_start, new_start + end - start, row)
        else:
            edge_frame = (start if d["edge"] == "head" else end) + delta
            edge_frame, d["snapped"] = self.snap(edge_frame, exclude=(start, end))
            if d["edge"] == "head":
                d["ghost"] = (min(edge_frame, end - 1), end, d["row"])
            else:
                d["ghost"] = (start, max(edge_frame, start + 1), d["row"])
        self.update()

    def mouseReleaseEvent(self, event):
        d, self._drag = self._drag, None
        if d is None:
            return
        ripple = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        if d["mode"] == "band":
            if d.get("moved"):
                self._band_select(QRectF(d["origin"], d["pos"]).normalized(), d["shift"])
            else:
                hit = d["hit"]
                gap = hit[0].items[hit[1]] if hit is not None and hit[1] is not None else None
                self.edits.set_selection([gap] if gap is not None else [])
        elif d["mode"] == "move" and d["moved"]:
            new_start, _, row = d["ghost"]
            target = self.index.layouts[row].track
            if new_start != d["start"] or target is not d["layout"].track:
                self.move_requested.emit(d["item"], target, new_start, ripple)
        elif d["mode"] == "trim" and d["moved"]:
            start, end, _ = d["ghost"]
            delta = start - d["start"] if d["edge"] == "head" else end - d["end"]
            if delta:
                self.trim_requested.emit(d["item"], d["edge"], delta, ripple)
        self.update()

    def _band_select(self, rect: QRectF, add: bool) -> None:
        first, last = self.frame_at(rect.left()), self.frame_at(rect.right()) + 1
        chosen = list(self.edits.selection) if add else []
        for row, layout in enumerate(self.index.layouts):
            top, h = self.row_top(row), self.row_height(layout)
            if top + h < rect.top() or top > rect.bottom():
                continue
            for i in layout.visible(first, last):
                item = layout.items[i]
                if not isinstance(item, otio.schema.Gap) and item not in chosen:
                    chosen.append(item)
        self.edits.set_selection(chosen)

    def _update_cursor(self, pos):
        hit = self.hit(pos)
        shape = Qt.CursorShape.ArrowCursor
        if hit is not None and hit[1] is not None and not isinstance(hit[0].items[hit[1]], otio.schema.Gap):
            layout, i, _ = hit
            x0, x1 = self.x_of(layout.starts[i]), self.x_of(layout.ends[i])
            if x1 - x0 > 3 * EDGE_PX and (pos.x() - x0 <= EDGE_PX or x1 - pos.x() <= EDGE_PX):
                shape = Qt.CursorShape.SizeHorCursor
        self.setCursor(shape)

    def event(self, event):
        if event.type() == QEvent.Type.ToolTip:
            QToolTip.showText(event.globalPos(), self.tooltip_at(QPointF(event.pos())) or "", self)
            return True
        return super().event(event)

    def tooltip_at(self, pos: QPointF) -> str | None:
        """What hovering shows: a clip's name, length, state and, when it failed, why."""
        hit = self.hit(pos)
        if hit is None or hit[1] is None:
            return None
        layout, i, _ = hit
        item = layout.items[i]
        seconds = (layout.ends[i] - layout.starts[i]) / self.document.rate
        if isinstance(item, otio.schema.Gap):
            return f"Gap, {seconds:.2f} s: right-click to generate into it"
        lines = [f"{item.name}  ({seconds:.2f} s on {layout.label})"]
        look = self.look(item)
        if look.status is not None:
            data = app_data(item)
            lines.append(f"AI-generated ({data.get('op', 'generate')}), {look.status}, {look.takes} take(s)")
            if data.get("prompt"):
                lines.append(f"Prompt: {data['prompt']}")
            if look.status == "failed" and data.get("error"):
                lines.append(f"Failed: {data['error']}")
        return "\n".join(lines)

    def wheelEvent(self, event):
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = delta.y() / 120.0
            self.zoom(1.25 ** steps, event.position().x())
        else:
            amount = delta.x() if delta.x() else delta.y()
            self.scroll_to(self.origin - amount / 120.0 * 60 / self.scale)
        event.accept()

    # -- context menu --
    def context_menu_for(self, pos: QPointF) -> QMenu | None:
        """The menu a right-click at `pos` opens (built, not shown; tests trigger its actions)."""
        hit = self.hit(pos)
        if hit is None or hit[1] is None:
            return None
        layout, i, _ = hit
        item = layout.items[i]
        if item not in self.edits.selection:
            self.edits.set_selection([item])
        menu = QMenu(self)

        def add(text, op, extra=None, enabled=True):
            action = menu.addAction(text)
            action.setObjectName(f"ctx_{op}" + (f"_{extra}" if extra else ""))
            action.setEnabled(enabled)
            action.triggered.connect(lambda: self.action_requested.emit(op, item, extra))
            return action

        video = layout.kind == otio.schema.TrackKind.Video
        # The registry's actions for what was clicked (a still is a clip too); fill also needs
        # a clip on each side of the gap.
        if isinstance(item, otio.schema.Gap):
            kinds = {"gap"}
        elif isinstance(item, otio.schema.Clip):
            kinds = {"clip", "still"} if is_still(item) else {"clip"}
        else:
            return None
        for key, action in ACTIONS.items():
            if action.selections & ({"gap"} if "gap" in kinds else {"clip", "generated_clip", "still"}):
                fits = "before" not in OPERATIONS[action.op].inputs or 0 < i < len(layout.items) - 1
                add(action.menu, key, enabled=video and fits and action.enabled_for(kinds))
        if "gap" in kinds:
            return menu
        generated = is_generated(item)
        menu.addSeparator()
        add("Regenerate (new seed)", "regenerate_new", enabled=generated)
        add("Regenerate (same seed)", "regenerate_same", enabled=generated)
        takes = menu.addMenu("Takes")
        takes.setObjectName("ctx_takes")
        keys = take_keys(item) if generated else []
        takes.setEnabled(bool(keys))
        for key in keys:
            current = "✓ " if key == item.active_media_reference_key else ""
            sw = takes.addAction(f"{current}Switch to {key}")
            sw.setObjectName(f"ctx_switch_take_{key}")
            sw.triggered.connect(lambda _=False, k=key: self.action_requested.emit("switch_take", item, k))
        if keys:
            takes.addSeparator()
        for key in keys:
            dr = takes.addAction(f"Delete {key}")
            dr.setObjectName(f"ctx_drop_take_{key}")
            dr.setEnabled(len(keys) > 1)
            dr.triggered.connect(lambda _=False, k=key: self.action_requested.emit("drop_take", item, k))
        menu.addSeparator()
        add("Delete", "delete")
        add("Ripple delete", "ripple_delete")
        return menu

    def _context_menu(self, event):
        menu = self.context_menu_for(event.position())
        if menu is not None:
            menu.exec(event.globalPosition().toPoint())
            menu.deleteLater()

    # -- dropping media --
    def dragEnterEvent(self, event):
        mime = event.mimeData()
        if mime.hasFormat(MEDIA_MIME) or mime.hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event):
        self.dragEnterEvent(event)

    def dropEvent(self, event):
        paths = paths_from_mime(event.mimeData())
        hit = self.hit(event.position())
        if not paths or hit is None:
            return
        layout, _, frame = hit
        frame, _ = self.snap(max(0, frame))
        self.media_dropped.emit(paths, layout.track, frame)
        event.acceptProposedAction()


def paths_from_mime(mime: QMimeData) -> list[str]:
    """Absolute file paths from the Media panel's mime type, or from file URLs."""
    if mime.hasFormat(MEDIA_MIME):
        try:
            data = json.loads(bytes(mime.data(MEDIA_MIME)).decode("utf-8"))
            return [str(p) for p in data]
        except (ValueError, TypeError):
            return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]


class TimelineView(QWidget):
    """The canvas plus a horizontal scroll bar that follows zoom and the timeline's length."""

    def __init__(self, document, edits, parent=None):
        super().__init__(parent)
        self.canvas = TimelineCanvas(document, edits, self)
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.scrollbar)
        self.canvas.view_changed.connect(self._sync_scrollbar)
        self.scrollbar.valueChanged.connect(self._on_scroll)
        self._syncing = False
        self._sync_scrollbar()

    def _sync_scrollbar(self):
        c = self.canvas
        _, last = c.visible_frames()
        page = max(1, last - int(c.origin))
        self._syncing = True
        self.scrollbar.setRange(0, max(0, c.index.duration + page // 2 - page, int(c.origin)))
        self.scrollbar.setPageStep(page)
        self.scrollbar.setSingleStep(max(1, page // 20))
        self.scrollbar.setValue(int(c.origin))
        self._syncing = False

    def _on_scroll(self, value: int):
        if not self._syncing:
            self.canvas.scroll_to(value)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._sync_scrollbar()
