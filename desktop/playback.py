"""Playback: the playhead clock, what is on screen at a frame, and decoding off the UI thread.

Each tick shows the frame that *should* be on screen now, so a slow decode skips frames (counted
in `dropped_frames`) instead of letting playback drift. While sound plays (1x, with an audio
output) the audio clock says which frame that is, so picture and sound stay together; otherwise
the wall clock does.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import opentimelineio as otio
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QImage

from desktop.audio_playback import AudioPlayback
from desktop.timeline_items import TimelineIndex, app_value, generation_status, media_path
from timeline.timecode import format_timecode

MAX_SHUTTLE = 8


@dataclass(frozen=True)
class MediaFrame:
    """Frame `index` of the file at `path` (a proxy where one exists)."""

    path: str
    seconds: float  # media time from the first frame of the file


@dataclass(frozen=True)
class TitleCard:
    """A generated clip without a take yet: the viewer shows its prompt."""

    prompt: str
    status: str  # pending | failed


def resolve_frame(index: TimelineIndex, frame: int, proxy_for=None):
    """What the top-most enabled video track shows at `frame`: MediaFrame, TitleCard or None (black)."""
    for layout in index.video_layouts:
        if not layout.track.enabled:
            continue
        i = layout.index_at(frame)
        if i is None:
            continue
        item = layout.items[i]
        if not isinstance(item, otio.schema.Clip) or not item.enabled:
            continue
        status = generation_status(item)
        if status in ("pending", "failed"):
            return TitleCard(str(app_value(item, "prompt", "") or item.name), status)
        ref = item.media_reference
        path = media_path(ref)
        if path is None:
            continue
        # Media time of this frame: the clip's source start plus the offset into the clip.
        source = item.source_range or item.available_range()
        offset = otio.opentime.RationalTime(frame - layout.starts[i], index.rate)
        media_time = source.start_time + offset
        if ref.available_range is not None:
            media_time = media_time - ref.available_range.start_time
        if proxy_for is not None:
            path = proxy_for(path) or path
        return MediaFrame(path, max(0.0, media_time.to_seconds()))
    return None


def array_to_qimage(frame: np.ndarray) -> QImage:
    """An HxWx3 uint8 RGB array as a QImage that owns its pixels."""
    frame = np.ascontiguousarray(frame[..., :3], dtype=np.uint8)
    h, w = frame.shape[:2]
    return QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class FrameDecoder(QObject):
    """Decodes requested frames on its own thread; only the newest request is served."""

    frame_ready = Signal(int, object, object)   # timeline frame, the MediaFrame asked for, QImage
    error = Signal(str)                 # a sentence naming the file

    def __init__(self, max_readers: int = 4, parent=None):
        super().__init__(parent)
        self._cond = threading.Condition()
        self._pending = None
        self._stopping = False
        self.superseded = 0               # requests replaced before they were decoded
        self._readers: OrderedDict = OrderedDict()
        self._max_readers = max_readers
        self._failed_paths: set[str] = set()
        self._thread = threading.Thread(target=self._run, name="latentcut-viewer-decode", daemon=True)
        self._thread.start()

    def request(self, frame: int, source: MediaFrame) -> None:
        with self._cond:
            if self._pending is not None:
                self.superseded += 1
            self._pending = (frame, source)
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout=5)

    def _reader(self, path: str):
        from engine.media.reader import FrameReader

        reader = self._readers.pop(path, None)
        if reader is None:
            reader = FrameReader(path)
        self._readers[path] = reader
        while len(self._readers) > self._max_readers:
            _, old = self._readers.popitem(last=False)
            old.close()
        return reader

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    break
                frame, source = self._pending
                self._pending = None
            try:
                reader = self._reader(source.path)
                i = min(max(0, int(round(source.seconds * reader.rate))), max(0, reader.frame_count - 1))
                image = array_to_qimage(reader.read(i))
            except Exception as exc:  # a bad file must not kill the viewer; say which file once
                if source.path not in self._failed_paths:
                    self._failed_paths.add(source.path)
                    self.error.emit(f"Cannot show {source.path}: {exc}")
                continue
            self.frame_ready.emit(frame, source, image)
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()


class PlaybackController(QObject):
    """The playhead, play/pause and J/K/L shuttle at the timeline rate, and what to show."""

    frame_changed = Signal(int)          # the playhead moved
    picture_changed = Signal(object)     # QImage, TitleCard or None (black), for the playhead frame
    playing_changed = Signal(bool)
    error = Signal(str)

    def __init__(self, document, proxy_for=None, parent=None, audio_outputs=None):
        super().__init__(parent)
        self.document = document
        self.proxy_for = proxy_for
        self.index = TimelineIndex(document.timeline, document.rate)
        self.frame = 0
        self.speed = 0                    # frames of timeline per frame of wall clock; 0 = paused
        self._dropped_by_clock = 0        # frames the clock skipped because a tick came late
        self._dropped_by_decoder = 0      # frames replaced by a newer one before they were decoded
        self._clock_origin = (0.0, 0)     # (perf_counter, frame) when the speed last changed
        self._superseded_at_play = 0
        self._decoder = FrameDecoder()
        self._decoder.frame_ready.connect(self._on_decoded, Qt.ConnectionType.QueuedConnection)
        self._decoder.error.connect(self.error, Qt.ConnectionType.QueuedConnection)
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._shown_request = None
        self.audio = AudioPlayback(document, outputs=audio_outputs, parent=self)
        self.audio.error.connect(self.error)
        self.audio.outputs_changed.connect(self._on_audio_outputs_changed)
        self._audio_clock = False         # whether the last tick took its time from the sound
        document.subscribe(self._on_document_event)

    # -- state --
    @property
    def rate(self) -> float:
        return self.document.rate

    @property
    def playing(self) -> bool:
        return self.speed != 0

    @property
    def dropped_frames(self) -> int:
        """Frames skipped during playback so far (late ticks plus decodes that fell behind)."""
        live = self._decoder.superseded - self._superseded_at_play if self.playing else 0
        return self._dropped_by_clock + self._dropped_by_decoder + live

    @property
    def end_frame(self) -> int:
        """The frame just after the last item (where End goes)."""
        return self.index.duration

    def timecode(self, frame: int | None = None) -> str:
        return format_timecode(self.frame if frame is None else frame, self.rate)

    # -- transport --
    def seek(self, frame: int) -> None:
        frame = max(0, int(frame))
        if self.playing:
            self._clock_origin = (time.perf_counter(), frame)
            self._set_frame(frame)
            self._start_audio()  # re-sync the sound to the new place
            return
        self._set_frame(frame)

    def play(self, speed: int = 1) -> None:
        if speed == 0:
            self.pause()
            return
        if speed > 0 and self.frame >= self.end_frame:
            self._set_frame(0)  # play at the end starts over, like Premiere
        was_playing = self.playing
        self.speed = speed
        self._clock_origin = (time.perf_counter(), self.frame)
        self._start_audio()
        if not was_playing:
            self._superseded_at_play = self._decoder.superseded
        # Tick at twice the frame rate of the fastest speed so no due frame waits a whole period.
        self._timer.start(max(1, int(500 / (self.rate * abs(speed)))))
        if not was_playing:
            self.playing_changed.emit(True)

    def pause(self) -> None:
        if not self.playing:
            return
        self.speed = 0
        self._timer.stop()
        self.audio.pause()
        self._dropped_by_decoder += self._decoder.superseded - self._superseded_at_play
        self.playing_changed.emit(False)

    def toggle_play(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play(1)

    def shuttle_forward(self) -> None:
        """L: play forward; again doubles the speed (up to 8x)."""
        self.play(1 if self.speed <= 0 else min(MAX_SHUTTLE, self.speed * 2))

    def shuttle_backward(self) -> None:
        """J: play backward; again doubles the speed (up to 8x)."""
        self.play(-1 if self.speed >= 0 else max(-MAX_SHUTTLE, self.speed * 2))

    def stop(self) -> None:
        """K."""
        self.pause()

    def step(self, frames_: int) -> None:
        self.pause()
        self.seek(self.frame + frames_)

    def go_start(self) -> None:
        self.pause()
        self.seek(0)

    def go_end(self) -> None:
        self.pause()
        self.seek(self.end_frame)

    def show_source(self, path: str) -> None:
        """Show the first frame of a media file (double-click in the Media panel); the next move
        of the playhead goes back to the timeline."""
        self.pause()
        source = MediaFrame(str(path), 0.0)
        self._shown_request = source
        self._decoder.request(self.frame, source)

    def shutdown(self) -> None:
        self._timer.stop()
        self.audio.shutdown()
        self._decoder.stop()

    def refresh(self) -> None:
        """Show the playhead frame again (after an edit or a new proxy)."""
        self._shown_request = None
        self._show(self.frame)

    # -- internals --
    def _start_audio(self) -> None:
        """Sound plays only at 1x; other speeds are silent."""
        if self.speed == 1:
            self.audio.start(self.frame / self.rate)
        else:
            self.audio.shuttle()

    def _on_audio_outputs_changed(self) -> None:
        """A device came or went: play on from the frame on screen, with sound if there is some."""
        if self.playing:
            self._clock_origin = (time.perf_counter(), self.frame)
            self._start_audio()

    def _tick(self) -> None:
        heard = self.audio.position() if self.speed == 1 else None
        if heard is not None:
            self._audio_clock = True
            due = int(heard * self.rate + 1e-3)  # (the sound starts on a frame's first sample)
        else:
            if self._audio_clock:  # the output went away: the wall clock goes on from here
                self._audio_clock = False
                self._clock_origin = (time.perf_counter(), self.frame)
            t0, f0 = self._clock_origin
            due = f0 + int((time.perf_counter() - t0) * self.rate * self.speed)
        if self.speed > 0 and due >= self.end_frame:
            self._set_frame(self.end_frame)
            self.pause()
            return
        if self.speed < 0 and due <= 0:
            self._set_frame(0)
            self.pause()
            return
        if due == self.frame:
            return
        skipped = abs(due - self.frame) - abs(self.speed)
        if skipped > 0:
            self._dropped_by_clock += skipped
        self._set_frame(due)

    def _set_frame(self, frame: int) -> None:
        if frame != self.frame:
            self.frame = frame
            self.frame_changed.emit(frame)
        self._show(frame)

    def _show(self, frame: int) -> None:
        source = resolve_frame(self.index, frame, self.proxy_for)
        if isinstance(source, MediaFrame):
            if self._shown_request == source:
                return
            self._shown_request = source
            self._decoder.request(frame, source)
        else:
            self._shown_request = None
            self.picture_changed.emit(source)

    def _on_decoded(self, frame: int, source: MediaFrame, image) -> None:
        # A decode asked for before an edit (a pending clip landing here) must not cover what the
        # edit put on screen: only the request still wanted is shown.
        if self.playing or (frame == self.frame and source == self._shown_request):
            self.picture_changed.emit(image)

    def _on_document_event(self, event: str, payload: dict) -> None:
        self.index.follow(event, payload)
        self.audio.invalidate()
        if not self.playing:
            self.refresh()
