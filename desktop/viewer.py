"""The viewer: the composed frame at the playhead, transport buttons and the timecode."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from desktop.audio_playback import AUDIO_ON, MUTED_NO_DEVICE, MUTED_NO_MULTIMEDIA, MUTED_SHUTTLE
from desktop.playback import PlaybackController, TitleCard
from timeline.timecode import parse_timecode

AUDIO_TIPS = {
    AUDIO_ON: "Sound plays with the picture at normal speed",
    MUTED_SHUTTLE: "Sound plays only at normal speed (not while shuttling with J/L)",
    MUTED_NO_DEVICE: "No audio output device is connected; playback runs silent",
    MUTED_NO_MULTIMEDIA: "Qt Multimedia is not installed, so the viewer plays no sound.",
}


def transport_icon(kind: str, size: int = 32) -> QIcon:
    """Transport symbols drawn as shapes (symbol fonts are not on every machine)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(225, 228, 235))
    s = size

    def tri(x0, x1):  # a triangle pointing from x0 toward x1
        p.drawPolygon([QPointF(x0, s * 0.22), QPointF(x0, s * 0.78), QPointF(x1, s * 0.5)])

    if kind == "play":
        tri(s * 0.3, s * 0.78)
    elif kind == "pause":
        p.drawRect(QRectF(s * 0.28, s * 0.22, s * 0.15, s * 0.56))
        p.drawRect(QRectF(s * 0.57, s * 0.22, s * 0.15, s * 0.56))
    elif kind == "forward":
        tri(s * 0.25, s * 0.62)
        p.drawRect(QRectF(s * 0.64, s * 0.22, s * 0.1, s * 0.56))
    elif kind == "back":
        p.drawRect(QRectF(s * 0.26, s * 0.22, s * 0.1, s * 0.56))
        tri(s * 0.75, s * 0.38)
    elif kind == "end":
        tri(s * 0.15, s * 0.45)
        tri(s * 0.45, s * 0.75)
        p.drawRect(QRectF(s * 0.75, s * 0.22, s * 0.08, s * 0.56))
    elif kind == "start":
        p.drawRect(QRectF(s * 0.17, s * 0.22, s * 0.08, s * 0.56))
        tri(s * 0.55, s * 0.25)
        tri(s * 0.85, s * 0.55)
    else:
        raise ValueError(f"kind: unknown transport icon {kind!r}")
    p.end()
    return QIcon(pixmap)


class FrameView(QWidget):
    """Paints a QImage letterboxed, a title card for a pending generated clip, or black."""

    def __init__(self, aspect: float, parent=None):
        super().__init__(parent)
        self.picture = None
        self.aspect = aspect
        self.setMinimumSize(160, 90)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_picture(self, picture) -> None:
        self.picture = picture
        self.update()

    def _frame_rect(self) -> QRectF:
        w, h = self.width(), self.height()
        if w / max(1, h) > self.aspect:
            fw, fh = h * self.aspect, h
        else:
            fw, fh = w, w / self.aspect
        return QRectF((w - fw) / 2, (h - fh) / 2, fw, fh)

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(16, 16, 18))
        target = self._frame_rect()
        painter.fillRect(target, Qt.GlobalColor.black)
        if isinstance(self.picture, QImage):
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self.picture)
        elif isinstance(self.picture, TitleCard):
            self._paint_title_card(painter, target, self.picture)
        painter.end()

    def _paint_title_card(self, painter: QPainter, target: QRectF, card: TitleCard) -> None:
        failed = card.status == "failed"
        painter.fillRect(target, QColor(60, 24, 24) if failed else QColor(28, 34, 52))
        margin = target.width() * 0.08
        text_rect = target.adjusted(margin, margin, -margin, -margin)
        font = QFont(self.font())
        font.setPointSizeF(max(9.0, target.height() / 14))
        painter.setFont(font)
        painter.setPen(QColor(235, 235, 240))
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                         card.prompt or "(no prompt)")
        font.setPointSizeF(max(8.0, target.height() / 22))
        painter.setFont(font)
        painter.setPen(QColor(255, 140, 140) if failed else QColor(150, 180, 255))
        label = "Generation failed: retry from the clip's menu" if failed else "Generating…"
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, label)


class Viewer(QWidget):
    """Shows what the playback controller says is on screen; its buttons drive the transport."""

    def __init__(self, playback: PlaybackController, parent=None):
        super().__init__(parent)
        self.playback = playback
        doc = playback.document
        self.frame_view = FrameView((doc.width or 16) / (doc.height or 9))
        # Shows the playhead; type a timecode (or a frame count) and press Enter to go there.
        self.timecode_label = QLineEdit()
        self.timecode_label.setObjectName("viewer_timecode")
        self.timecode_label.setToolTip("Playhead. Type a timecode or a frame number and press Enter to go there")
        self.timecode_label.setFrame(False)
        self.timecode_label.returnPressed.connect(self._go_to_typed)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(12)
        self.timecode_label.setFont(mono)
        self.timecode_label.setFixedWidth(self.timecode_label.fontMetrics().horizontalAdvance("-00:00:00:000") + 12)
        self.dropped_label = QLabel()
        self.dropped_label.setObjectName("viewer_dropped")
        self.audio_label = QLabel()
        self.audio_label.setObjectName("viewer_audio")
        self._show_audio_status(playback.audio.status)

        self.buttons = {}
        controls = QHBoxLayout()
        controls.setContentsMargins(4, 2, 4, 2)
        for name, tip, slot in (
            ("start", "Go to start (Home)", playback.go_start),
            ("back", "Step back one frame (←)", lambda: playback.step(-1)),
            ("play", "Play / pause (Space)", playback.toggle_play),
            ("forward", "Step forward one frame (→)", lambda: playback.step(1)),
            ("end", "Go to end (End)", playback.go_end),
        ):
            button = QToolButton()
            button.setIcon(transport_icon(name))
            button.setIconSize(QSize(20, 20))
            button.setToolTip(tip)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keep Space for the window's shortcut
            button.clicked.connect(slot)
            controls.addWidget(button)
            self.buttons[name] = button
        controls.addSpacing(12)
        controls.addWidget(self.timecode_label)
        controls.addStretch(1)
        controls.addWidget(self.dropped_label)
        controls.addSpacing(8)
        controls.addWidget(self.audio_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.frame_view, 1)
        layout.addLayout(controls)

        playback.picture_changed.connect(self.frame_view.set_picture)
        playback.frame_changed.connect(self._update_labels)
        playback.playing_changed.connect(self._on_playing_changed)
        playback.audio.status_changed.connect(self._show_audio_status)
        self._update_labels()

    def _update_labels(self, *_):
        pb = self.playback
        if not self.timecode_label.hasFocus():  # leave what the user is typing alone
            self.timecode_label.setText(pb.timecode())
        dropped = pb.dropped_frames
        self.dropped_label.setText(f"dropped {dropped}" if dropped else "")
        self.dropped_label.setToolTip("Frames skipped so playback keeps the timeline rate")

    def _go_to_typed(self):
        pb = self.playback
        try:
            frame = parse_timecode(self.timecode_label.text(), pb.rate)
        except ValueError as exc:
            pb.error.emit(str(exc))
            frame = pb.frame
        self.timecode_label.clearFocus()
        pb.seek(frame)
        self._update_labels()

    def _show_audio_status(self, status: str):
        self.audio_label.setText(status)
        self.audio_label.setToolTip(AUDIO_TIPS.get(status, ""))

    def _on_playing_changed(self, playing: bool):
        self.buttons["play"].setIcon(transport_icon("pause" if playing else "play"))
        self._update_labels()
