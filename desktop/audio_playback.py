"""Audio playback for the viewer: the timeline's audible tracks, mixed ahead of the playhead off
the UI thread and pushed to a QAudioSink; while sound plays, its clock drives the picture.

The mix reuses the renderer's (engine.media.render), so the viewer sounds like the rendered file;
only the choice of tracks differs: a track muted in its header is silent here.
"""
from __future__ import annotations

import dataclasses
import queue
import threading
from collections import deque
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.media.render import AUDIO_CHANNELS, AUDIO_RATE, audible_segments, mix_audio

BLOCK_SECONDS = 0.5          # mixed per request; a mute toggle is heard within one block
# Each block is mixed from this much earlier and the lead-in thrown away: a decoder that starts
# at a seek point gets its first frame wrong (AAC overlaps frames; Opus wants 80 ms), which would
# click at every block boundary.
PREROLL_SECONDS = 0.1
AHEAD_BLOCKS = 2             # mixed blocks kept ready beyond what the sink holds
SINK_BUFFER_SECONDS = 0.2    # small, so the sink's own buffer adds little latency to the clock
FEED_MS = 20                 # how often the sink is topped up
BYTES_PER_FRAME = 2 * AUDIO_CHANNELS   # 16-bit interleaved stereo

MUTED_NO_MULTIMEDIA = "Muted: no audio output"
MUTED_NO_DEVICE = "Muted: no audio output device"
MUTED_SHUTTLE = "Audio muted while shuttling"
AUDIO_ON = "Audio on"


def preroll_start(first: int) -> int:
    """Where to start mixing so that sample `first` comes out as a continuous decode would."""
    return max(0, first - round(PREROLL_SECONDS * AUDIO_RATE))


def mix_window(timeline, first: int, count: int, base_dir=".") -> np.ndarray:
    """Samples [first, first + count) of the timeline's audible mix at 48 kHz: float32 [count, 2].
    Gaps and muted tracks are silent."""
    if first < 0 or count < 0:
        raise ValueError(f"first/count: must not be negative, got {first}, {count}")
    lead = preroll_start(first)
    segments = audible_segments(timeline, lead / AUDIO_RATE, (first + count) / AUDIO_RATE)
    return mix_audio(segments, Path(base_dir), lead, first + count)[first - lead:]


def to_pcm16(mix: np.ndarray) -> bytes:
    """float32 [n, ch] in [-1, 1] as interleaved little-endian 16-bit PCM."""
    return (np.clip(mix, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()


class QtAudioOutputs:
    """The system's default audio output through Qt Multimedia, or the reason there is none."""

    def __init__(self):
        try:
            from PySide6 import QtMultimedia
        except ImportError:
            self._mm = None
            self.devices = None
            return
        self._mm = QtMultimedia
        self.devices = QtMultimedia.QMediaDevices()

    def status(self) -> str | None:
        """None when a default output exists, else the viewer's "Muted: ..." text."""
        if self._mm is None:
            return MUTED_NO_MULTIMEDIA
        if self._mm.QMediaDevices.defaultAudioOutput().isNull():
            return MUTED_NO_DEVICE
        return None

    def open(self, sample_rate: int, channels: int, buffer_bytes: int):
        """A started push-mode sink on the default output, or None when it cannot be opened."""
        if self.status() is not None:
            return None
        mm = self._mm
        device = mm.QMediaDevices.defaultAudioOutput()
        fmt = mm.QAudioFormat()
        fmt.setSampleRate(sample_rate)
        fmt.setChannelCount(channels)
        fmt.setSampleFormat(mm.QAudioFormat.SampleFormat.Int16)
        if not device.isFormatSupported(fmt):
            return None
        sink = mm.QAudioSink(device, fmt)
        sink.setBufferSize(buffer_bytes)
        io = sink.start()
        # By name: the enum is QAudio.Error before Qt 6.7 and QtAudio.Error after.
        if io is None or sink.error().name != "NoError":
            sink.stop()
            return None
        return _QtSink(sink, io)

    def on_change(self, slot) -> None:
        """Call `slot()` when outputs come and go."""
        if self.devices is not None:
            self.devices.audioOutputsChanged.connect(slot)


class _QtSink:
    """A started QAudioSink and the QIODevice its start() returned, as one sink-like object."""

    def __init__(self, sink, io):
        self.sink, self.io = sink, io

    def bytesFree(self) -> int:
        return self.sink.bytesFree()

    def bufferSize(self) -> int:
        return self.sink.bufferSize()

    def processedUSecs(self) -> int:
        return self.sink.processedUSecs()

    def write(self, data: bytes) -> int:
        return self.io.write(data)

    def stop(self) -> None:
        self.sink.stop()
        self.sink.deleteLater()


class _Mixer:
    """Mixes requested blocks on its own thread, in request order; requests made before the
    latest seek or edit (an older `generation`) are skipped unmixed."""

    def __init__(self):
        self.generation = 0            # set by the UI thread
        self.requests: queue.Queue = queue.Queue()
        self.ready: deque = deque()    # (generation, pcm bytes, error or None)
        self._thread = threading.Thread(target=self._run, name="latentcut-audio-mix", daemon=True)
        self._thread.start()

    def request(self, generation: int, first: int, count: int, segments: list, base_dir: str) -> None:
        self.requests.put((generation, first, count, segments, base_dir))

    def stop(self) -> None:
        self.requests.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            job = self.requests.get()
            if job is None:
                return
            generation, first, count, segments, base_dir = job
            if generation != self.generation:
                continue
            error = None
            try:
                lead = preroll_start(first)
                mix = mix_audio(segments, Path(base_dir), lead, first + count)[first - lead:]
            except Exception as exc:  # a bad file must not stop the sound; the block is silent
                mix = np.zeros((count, AUDIO_CHANNELS), np.float32)
                error = str(exc)
            self.ready.append((generation, to_pcm16(mix), error))


class AudioPlayback(QObject):
    """Plays the timeline's audio from a point; `position()` is the master clock while it plays."""

    status_changed = Signal(str)   # the viewer's label text
    error = Signal(str)            # a sentence naming the file
    outputs_changed = Signal()     # an output came or went: whoever plays should start again

    def __init__(self, document, outputs=None, base_dir=".", parent=None):
        super().__init__(parent)
        self.document = document
        self.base_dir = str(base_dir)
        self.outputs = outputs if outputs is not None else QtAudioOutputs()
        self._mixer = _Mixer()
        self._sink = None
        self._generation = 0
        self._origin = 0          # timeline sample where the sink's first sample plays
        self._written = 0         # samples written to the sink since it opened
        self._requested = 0       # samples asked of the mixer since it opened
        self._pending = b""       # mixed bytes not yet accepted by the sink
        self._shuttling = False
        self._closed = False
        self._errors: set[str] = set()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._feed)
        self.status = ""
        self._update_status()
        self.outputs.on_change(self._on_outputs_changed)

    @property
    def playing(self) -> bool:
        """Whether sound is going to an output now (so its clock is the master)."""
        return self._sink is not None

    # -- transport (the playback controller calls these) --
    def start(self, seconds: float) -> bool:
        """Play from `seconds` of timeline time; False (and silent) when there is no output."""
        self.stop()
        if self._closed:
            return False
        self._shuttling = False
        self._sink = self.outputs.open(AUDIO_RATE, AUDIO_CHANNELS,
                                       round(SINK_BUFFER_SECONDS * AUDIO_RATE) * BYTES_PER_FRAME)
        self._update_status()
        if self._sink is None:
            return False
        self._origin = round(max(0.0, seconds) * AUDIO_RATE)
        self._written = self._requested = 0
        self._request_ahead()
        self._timer.start(FEED_MS)
        return True

    def stop(self) -> None:
        self._timer.stop()
        self._new_generation()
        self._pending = b""
        if self._sink is not None:
            self._sink.stop()
            self._sink = None

    def shuttle(self) -> None:
        """Playing at a speed other than 1x: silent, like most editors when not scrubbing audio."""
        self.stop()
        self._shuttling = True
        self._update_status()

    def pause(self) -> None:
        self.stop()
        self._shuttling = False
        self._update_status()

    def position(self) -> float | None:
        """Timeline seconds of the sound being heard now, or None when no sound is playing.

        processedUSecs counts what the device has taken out of the sink's buffer: measured on
        Qt 6.11 (PulseAudio), it equals what was written minus what the buffer still holds."""
        if self._sink is None:
            return None
        heard = round(self._sink.processedUSecs() * AUDIO_RATE / 1e6)
        return (self._origin + min(max(0, heard), self._written)) / AUDIO_RATE

    def invalidate(self) -> None:
        """The timeline changed (an edit, a mute): mix again from what the sink has been given."""
        if self._sink is None:
            return
        self._new_generation()
        self._pending = b""
        self._requested = self._written
        self._request_ahead()

    def shutdown(self) -> None:
        self._closed = True   # the outputs may still report changes until Qt deletes us
        self.stop()
        self._mixer.stop()

    # -- internals --
    def _new_generation(self) -> None:
        """Blocks asked for until now are no longer wanted (dropped if already being mixed)."""
        self._generation += 1
        self._mixer.generation = self._generation

    def _request_ahead(self) -> None:
        block = round(BLOCK_SECONDS * AUDIO_RATE)
        while self._requested - self._written < AHEAD_BLOCKS * block:
            first = self._origin + self._requested
            # Resolved here, on the UI thread; the mixer gets its own copies of the clips.
            segments = [dataclasses.replace(s, clip=s.clip.clone()) for s in audible_segments(
                self.document.timeline, preroll_start(first) / AUDIO_RATE, (first + block) / AUDIO_RATE)]
            self._mixer.request(self._generation, first, block, segments, self.base_dir)
            self._requested += block

    def _collect(self) -> None:
        while self._mixer.ready:
            generation, pcm, error = self._mixer.ready.popleft()
            if error and error not in self._errors:
                self._errors.add(error)
                self.error.emit(f"Cannot play the sound of a clip: {error}")
            if generation == self._generation:
                self._pending += pcm

    def _feed(self) -> None:
        if self._sink is None:
            return
        self._collect()
        free = self._sink.bytesFree() // BYTES_PER_FRAME * BYTES_PER_FRAME
        if self._pending and free > 0:
            wrote = self._sink.write(self._pending[:free])
            wrote = max(0, int(wrote)) // BYTES_PER_FRAME * BYTES_PER_FRAME
            self._pending = self._pending[wrote:]
            self._written += wrote // BYTES_PER_FRAME
        self._request_ahead()

    def _update_status(self) -> None:
        reason = self.outputs.status()
        status = reason or (MUTED_SHUTTLE if self._shuttling else AUDIO_ON)
        if status != self.status:
            self.status = status
            self.status_changed.emit(status)

    def _on_outputs_changed(self) -> None:
        if self._closed:
            return
        if self._sink is not None:
            self.stop()  # the sink may be on a device that has gone
        self._update_status()
        self.outputs_changed.emit()
