"""The timeline: a custom-painted widget over the document's tracks.

Painting walks only the items in view (a bisect per track, see timeline_items) and merges runs
of clips narrower than a pixel, so 5,000 clips repaint in a few milliseconds at any zoom.
The view never edits the document itself: the selection and In/Out live in the edit controller
(desktop.edit_controller), and gestures become signals the window hands to it. Painting is in
timeline_paint, clip looks and thumbnails in timeline_look, the right-click menu in timeline_menu.

Gestures (Premiere/Resolve-like): click selects, Shift-click adds, dragging from an empty spot
draws a rubber band; drag a clip to move it (also to another track), drag its edge to trim;
hold Ctrl while dropping for a *ripple* move/trim, Alt (click or drop) to act on one side of
linked picture and sound. Snapping (toggle with S) pulls to edit points, the playhead, markers and
In/Out. Ctrl+wheel zooms around the pointer, wheel scrolls along, Shift+wheel up and down the tracks.
"""
from __future__ import annotations

import json
import math

import opentimelineio as otio
from PySide6.QtCore import QEvent, QMimeData, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QHBoxLayout, QMenu, QScrollBar, QToolTip, QVBoxLayout, QWidget

from desktop.timeline_items import TrackLayout
from desktop.timeline_look import AUDIO_H, HEADER_W, RULER_H, VIDEO_H, ClipLook, LookCache, ThumbnailCache
from desktop.timeline_menu import context_menu_for, tooltip_for
from desktop.timeline_paint import TimelinePainter
from timeline.provenance import track_flag

MEDIA_MIME = "application/x-latentcut-media"
EDGE_PX = 6          # how close to a clip's edge a press trims instead of moving
SNAP_PX = 8
MIN_SCALE, MAX_SCALE = 0.005, 64.0   # pixels per frame



class TimelineCanvas(QWidget):
    """Paints the tracks and handles the pointer; see the module docstring for gestures."""

    seek_requested = Signal(int)
    # item, target track, new start frame, ripple (Ctrl), linked (False with Alt: this side only)
    move_requested = Signal(object, object, int, bool, bool)
    trim_requested = Signal(object, str, int, bool, bool)    # item, "head"|"tail", delta frames, ripple, linked
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
        self.top = 0              # pixels of the track rows scrolled up under the ruler
        self.playhead = 0
        self.progress: dict[int, float] = {}   # id(pending clip) -> 0..1
        self.looks = LookCache()
        self._drag = None
        self.thumbnails = ThumbnailCache(VIDEO_H - 18, self)
        self.painter = TimelinePainter(self)
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
        y = RULER_H - self.top
        for layout in self.index.layouts[:row]:
            y += self.row_height(layout)
        return y

    def rows_height(self) -> int:
        """Every track row, and a little room below to drop onto."""
        return sum(self.row_height(layout) for layout in self.index.layouts) + AUDIO_H

    def max_top(self) -> int:
        """How far the rows scroll: none while every track is in view (the room below may be cut);
        else down to the room below the last track."""
        visible = self.height() - RULER_H
        if self.rows_height() - AUDIO_H <= visible:
            return 0
        return self.rows_height() - visible

    def row_at(self, y: float) -> int | None:
        if y < RULER_H:
            return None
        top = RULER_H - self.top
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

    def scroll_tracks_to(self, top: float) -> None:
        """Scroll the track rows vertically (the ruler stays)."""
        top = int(min(max(0, top), self.max_top()))
        if top != self.top:
            self.top = top
            self.view_changed.emit()
            self.update()

    def show_row(self, row: int) -> None:
        """Scroll the least that brings a whole row into view."""
        y, h = self.row_top(row), self.row_height(self.index.layouts[row])
        if y < RULER_H:
            self.scroll_tracks_to(self.top - (RULER_H - y))
        elif y + h > self.height():
            self.scroll_tracks_to(self.top + (y + h - self.height()))

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.top = min(self.top, self.max_top())
        self.view_changed.emit()

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
        self.update(0, 0, HEADER_W, RULER_H)  # the corner timecode

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
                self.looks.forget(item)
        # The edit controller, subscribed first, has brought the index up to date.
        if payload.get("track") is None or event in ("track_added", "track_removed"):
            self.looks.clear()
        self.top = min(self.top, self.max_top())
        if event == "track_added":
            found = [i for i, layout in enumerate(self.index.layouts) if layout.track is payload.get("track")]
            if found:
                self.show_row(found[0])
        self.view_changed.emit()
        self.update()

    def look(self, item) -> ClipLook:
        return self.looks.get(item)

    # -- painting --
    def paintEvent(self, event):
        self.painter.paint(QPainter(self), event.rect())

    HEADER_BUTTONS = (("enabled", "", "Hide / show"), ("muted", "M", "Mute"), ("locked", "", "Lock"))

    def header_button_rect(self, row: int, which: str) -> QRectF:
        order = [b[0] for b in self.HEADER_BUTTONS].index(which)
        return QRectF(HEADER_W - 3 * 24 - 4 + order * 24, self.row_top(row) + 4, 22, 18)

    # -- snapping --
    def snap(self, frame: int, exclude: tuple[int, ...] = ()) -> tuple[int, int | None]:
        """(frame, snapped point or None): the controller's nearest point within SNAP_PX."""
        return self.edits.snap(frame, SNAP_PX / self.scale, self.playhead, exclude)

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
        one_side = bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
        if item not in self.edits.selection or one_side != self.edits.one_side:
            self.edits.set_selection([item], one_side=one_side)
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
        # As in Premiere: Ctrl makes the edit a ripple, Alt leaves a linked partner where it is.
        ripple = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        linked = not event.modifiers() & Qt.KeyboardModifier.AltModifier
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
                self.move_requested.emit(d["item"], target, new_start, ripple, linked)
        elif d["mode"] == "trim" and d["moved"]:
            start, end, _ = d["ghost"]
            delta = start - d["start"] if d["edge"] == "head" else end - d["end"]
            if delta:
                self.trim_requested.emit(d["item"], d["edge"], delta, ripple, linked)
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
        return tooltip_for(self, pos)

    def wheelEvent(self, event):
        delta = event.angleDelta()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = delta.y() / 120.0
            self.zoom(1.25 ** steps, event.position().x())
        elif event.modifiers() & Qt.KeyboardModifier.ShiftModifier:  # Shift+wheel: up and down the tracks
            self.scroll_tracks_to(self.top - (delta.y() or delta.x()) / 120.0 * VIDEO_H / 2)
        else:
            amount = delta.x() if delta.x() else delta.y()
            self.scroll_to(self.origin - amount / 120.0 * 60 / self.scale)
        event.accept()

    # -- context menu --
    def context_menu_for(self, pos: QPointF) -> QMenu | None:
        """The menu a right-click at `pos` opens (built, not shown; tests trigger its actions)."""
        return context_menu_for(self, pos)

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
    """The canvas with a horizontal scroll bar that follows zoom and the timeline's length, and a
    vertical one, shown when the tracks are taller than the panel."""

    def __init__(self, document, edits, parent=None):
        super().__init__(parent)
        self.canvas = TimelineCanvas(document, edits, self)
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal, self)
        self.vscrollbar = QScrollBar(Qt.Orientation.Vertical, self)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.canvas, 1)
        row.addWidget(self.vscrollbar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(row, 1)
        layout.addWidget(self.scrollbar)
        self.canvas.view_changed.connect(self._sync_scrollbar)
        self.scrollbar.valueChanged.connect(self._on_scroll)
        self.vscrollbar.valueChanged.connect(self._on_vscroll)
        self._syncing = False
        self._sync_scrollbar()

    def needed_height(self) -> int:
        """Ruler, every track, a little room below to drop onto, and the scroll bar."""
        return RULER_H + self.canvas.rows_height() + self.scrollbar.sizeHint().height()

    def _sync_scrollbar(self):
        c = self.canvas
        _, last = c.visible_frames()
        page = max(1, last - int(c.origin))
        self._syncing = True
        self.scrollbar.setRange(0, max(0, c.index.duration + page // 2 - page, int(c.origin)))
        self.scrollbar.setPageStep(page)
        self.scrollbar.setSingleStep(max(1, page // 20))
        self.scrollbar.setValue(int(c.origin))
        self.vscrollbar.setRange(0, c.max_top())
        self.vscrollbar.setPageStep(max(1, c.height() - RULER_H))
        self.vscrollbar.setSingleStep(VIDEO_H // 2)
        self.vscrollbar.setValue(c.top)
        self.vscrollbar.setVisible(c.max_top() > 0)
        self._syncing = False

    def _on_scroll(self, value: int):
        if not self._syncing:
            self.canvas.scroll_to(value)

    def _on_vscroll(self, value: int):
        if not self._syncing:
            self.canvas.scroll_tracks_to(value)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._sync_scrollbar()
