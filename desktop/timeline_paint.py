"""Painting the timeline: rows of clips (runs narrower than a pixel merged), the In/Out band,
the ruler, the track headers, a drag's ghost and the playhead. The canvas owns the state and
the geometry; this draws them."""
from __future__ import annotations

import bisect

import opentimelineio as otio
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen

from desktop.timeline_look import COLORS, HEADER_W, RULER_H, ClipLook
from timeline.provenance import track_flag
from timeline.timecode import format_timecode


class TimelinePainter:
    """Draws a TimelineCanvas; made once per canvas."""

    def __init__(self, canvas):
        self.canvas = canvas

    def paint(self, p: QPainter, clip_rect) -> None:
        """Everything in `clip_rect` (widget coordinates): rows, In/Out, ruler, headers, drag, playhead."""
        p.fillRect(clip_rect, QColor(30, 31, 35))
        first, last = self.canvas.visible_frames()
        small = QFont(self.canvas.font())
        small.setPointSizeF(8.5)
        p.setFont(small)
        y = RULER_H - self.canvas.top
        for layout in self.canvas.index.layouts:
            h = self.canvas.row_height(layout)
            if y + h >= clip_rect.top() and y <= clip_rect.bottom():
                self._paint_row(p, layout, y, h, first, last, clip_rect)
            y += h
        self._paint_range(p, y)
        # A progress tick repaints one clip's rect: skip the ruler and headers when it misses them.
        if clip_rect.top() <= RULER_H:
            self._paint_ruler(p, first, last)
        if clip_rect.left() <= HEADER_W:
            self._paint_headers(p)
        if self.canvas._drag is not None:
            self._paint_drag(p)
        px = self.canvas.x_of(self.canvas.playhead)
        if px >= HEADER_W:
            p.setPen(QPen(QColor(235, 70, 60), 1))
            p.drawLine(QPointF(px, 0), QPointF(px, self.canvas.height()))
            p.setBrush(QColor(235, 70, 60))
            p.drawPolygon([QPointF(px - 6, 0), QPointF(px + 6, 0), QPointF(px, 8)])
        p.end()

    def _paint_row(self, p, layout, y, h, first, last, clip_rect):
        audio = layout.kind != otio.schema.TrackKind.Video
        hidden = not layout.track.enabled
        p.fillRect(QRectF(HEADER_W, y, self.canvas.width() - HEADER_W, h), QColor(36, 38, 44) if not audio else QColor(34, 40, 38))
        p.setPen(QColor(22, 22, 26))
        p.drawLine(HEADER_W, y + h - 1, self.canvas.width(), y + h - 1)
        selected = {id(i) for i in self.canvas.edits.selection}
        x_left = max(HEADER_W, clip_rect.left())
        x_right = min(self.canvas.width(), clip_rect.right() + 1)
        dense = QColor(COLORS["audio"] if audio else COLORS["video"]).lighter(115)
        if hidden:
            dense = dense.darker(180)
        run = None  # [x0, x1] of consecutive clips narrower than 3 px, drawn as one band
        visible = layout.visible(first, last)
        i, hi = visible.start, visible.stop
        starts, ends, items = layout.starts, layout.ends, layout.items
        origin, scale = self.canvas.origin, self.canvas.scale
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
                self._paint_clip(p, self.canvas.look(item), QRectF(left, y + 2, max(1.0, x1 - left), h - 4),
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
            image = self.canvas.thumbnails.get(look.thumb_path)
            if image is not None:
                p.drawImage(QPointF(r.left() + 1, r.top() + 14), image)
                text_x = r.left() + 4
        p.setPen(QColor(245, 245, 245))
        p.drawText(QRectF(text_x, r.top() + 1, r.width() - 8, 14), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, look.label)
        if look.status is not None:
            self._paint_badge(p, look, r)
        fraction = self.canvas.progress.get(id(look.item))
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
        if self.canvas.edits.in_point is None and self.canvas.edits.out_point is None:
            return
        start = self.canvas.edits.in_point if self.canvas.edits.in_point is not None else 0
        end = self.canvas.edits.out_point if self.canvas.edits.out_point is not None else max(self.canvas.index.duration, start + 1)
        x0, x1 = max(HEADER_W, self.canvas.x_of(start)), self.canvas.x_of(end)
        if x1 > x0:
            p.fillRect(QRectF(x0, RULER_H, x1 - x0, bottom - RULER_H), QColor(120, 160, 255, 30))

    def _tick_step(self) -> int:
        """Frames between labelled ruler ticks, so labels sit at least ~90 px apart."""
        rate = self.canvas.document.rate
        for step in (1, 2, 5, 10) + tuple(int(round(rate * s)) for s in (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)):
            if step * self.canvas.scale >= 90:
                return max(1, step)
        return int(round(rate * 7200))

    def _paint_ruler(self, p, first, last):
        p.fillRect(QRectF(0, 0, self.canvas.width(), RULER_H), QColor(44, 46, 52))
        step = self._tick_step()
        p.setPen(QColor(170, 172, 180))
        rate = self.canvas.document.rate
        frame = (first // step) * step
        while frame <= last:
            x = self.canvas.x_of(frame)
            if x >= HEADER_W:
                p.drawLine(QPointF(x, RULER_H - 8), QPointF(x, RULER_H))
                tc = format_timecode(frame, rate)
                p.drawText(QPointF(x + 3, RULER_H - 10), tc)
            frame += step
        for name, point in (("I", self.canvas.edits.in_point), ("O", self.canvas.edits.out_point)):
            if point is not None and self.canvas.x_of(point) >= HEADER_W:
                x = self.canvas.x_of(point)
                p.setPen(QColor(120, 170, 255))
                p.drawLine(QPointF(x, 0), QPointF(x, RULER_H))
                p.drawText(QPointF(x + 2 if name == "I" else x - 9, 10), name)
        p.setBrush(QColor(90, 200, 120))
        p.setPen(Qt.PenStyle.NoPen)
        for frame in self.canvas.index.marker_frames():
            x = self.canvas.x_of(frame)
            if x >= HEADER_W:
                p.drawPolygon([QPointF(x - 4, RULER_H - 8), QPointF(x + 4, RULER_H - 8), QPointF(x, RULER_H)])

    def _paint_headers(self, p):
        for row, layout in enumerate(self.canvas.index.layouts):
            y, h = self.canvas.row_top(row), self.canvas.row_height(layout)
            p.fillRect(QRectF(0, y, HEADER_W, h), QColor(48, 50, 58))
            p.setPen(QColor(22, 22, 26))
            p.drawLine(0, y + h - 1, HEADER_W, y + h - 1)
            p.setPen(QColor(235, 235, 240))
            p.drawText(QRectF(6, y + 4, HEADER_W - 84, 18), Qt.AlignmentFlag.AlignVCenter, layout.label)
            p.setPen(QColor(170, 172, 180))
            if layout.name != layout.label:
                p.drawText(QRectF(6, y + 22, HEADER_W - 10, 16), Qt.AlignmentFlag.AlignVCenter, layout.name)
            for which, text, _tip in self.canvas.HEADER_BUTTONS:
                r = self.canvas.header_button_rect(row, which)
                on = track_flag(layout.track, which)
                active = (not on) if which == "enabled" else on   # highlight the non-default state
                p.setPen(QColor(20, 20, 24))
                p.setBrush(QColor(220, 120, 60) if active else QColor(70, 72, 82))
                p.drawRoundedRect(r, 3, 3)
                self._paint_header_symbol(p, r, which, text)
        # The corner last: rows scrolled up pass under it, as under the ruler.
        p.fillRect(QRectF(0, 0, HEADER_W, RULER_H), QColor(44, 46, 52))
        p.setPen(QColor(230, 230, 235))
        p.drawText(QRectF(6, 0, HEADER_W - 8, RULER_H), Qt.AlignmentFlag.AlignVCenter,
                   format_timecode(self.canvas.playhead, self.canvas.document.rate))

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
        d = self.canvas._drag
        if d["mode"] == "band" and d.get("moved"):
            p.setPen(QPen(QColor(240, 200, 80), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(240, 200, 80, 30))
            p.drawRect(QRectF(d["origin"], d["pos"]).normalized())
        elif d["mode"] in ("move", "trim") and d.get("moved"):
            start, end, row = d["ghost"]
            y = self.canvas.row_top(row)
            h = self.canvas.row_height(self.canvas.index.layouts[row])
            p.setPen(QPen(QColor(255, 255, 255), 1, Qt.PenStyle.DashLine))
            p.setBrush(QColor(255, 255, 255, 40))
            p.drawRect(QRectF(self.canvas.x_of(start), y + 2, (end - start) * self.canvas.scale, h - 4))
            if d.get("snapped") is not None:
                x = self.canvas.x_of(d["snapped"])
                p.setPen(QPen(QColor(90, 200, 255), 1))
                p.drawLine(QPointF(x, RULER_H), QPointF(x, self.canvas.height()))
