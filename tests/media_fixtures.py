"""Real media for tests, encoded with PyAV: frames carry their index as a stripe code, so a test
can tell exactly which frame it got back after compression.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

W, H = 64, 36
BITS = 8  # stripes per frame: frame indices 0..255
VFR_PTS_MS = [0, 40, 80, 200, 240, 400, 420, 440, 600, 1000, 1040, 1080]  # frame times, variable rate


def coded_frame(index: int, width: int = W, height: int = H) -> np.ndarray:
    """An RGB frame whose 8 vertical stripes spell `index` in binary (white = 1), red-tinted."""
    frame = np.zeros((height, width, 3), np.uint8)
    stripe = width // BITS
    for bit in range(BITS):
        if index >> bit & 1:
            frame[:, bit * stripe:(bit + 1) * stripe] = 255
    frame[: height // 6, :, 0] = 255  # a red band on top marks which way is up
    return frame


def decode_index(frame: np.ndarray) -> int:
    """Read the stripe code back from a (possibly compressed) frame."""
    height, width = frame.shape[:2]
    stripe = width // BITS
    rows = frame[height // 3: height - 2]
    value = 0
    for bit in range(BITS):
        centre = rows[:, bit * stripe + stripe // 4: (bit + 1) * stripe - stripe // 4]
        if centre.mean() > 128:
            value |= 1 << bit
    return value


def tone(seconds: float, sample_rate: int = 48000, channels: int = 2, freq: float = 440.0) -> np.ndarray:
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    wave = 0.4 * np.sin(2 * np.pi * freq * t)
    return np.repeat(wave[:, None], channels, axis=1).astype(np.float32)


def encode(path: Path, count: int, rate: Fraction, audio: bool = False, gop: int = 12,
           bframes: int = 2, width: int = W, height: int = H, rotation: int = 0,
           options: dict | None = None, noise: bool = False) -> Path:
    """Encode `count` coded frames as H.264 (plus an AAC tone when `audio`)."""
    container = av.open(str(path), "w", options=options or {})
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"g": str(gop), "bf": str(bframes), "crf": "10"}
    if rotation:
        stream.set_display_rotation(rotation)
    astream = None
    if audio:
        astream = container.add_stream("aac", rate=48000)
        astream.layout = "stereo"
    rng = np.random.default_rng(1)
    for i in range(count):
        img = coded_frame(i, width, height)
        if noise:  # texture makes every packet large enough to damage in the middle
            img = np.clip(img.astype(int) + rng.integers(-40, 40, img.shape), 0, 255).astype(np.uint8)
        container.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
    container.mux(stream.encode(None))
    if astream is not None:
        samples = tone(count / float(rate))
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T), format="fltp", layout="stereo")
        frame.sample_rate = 48000
        frame.pts = 0
        container.mux(astream.encode(frame))
        container.mux(astream.encode(None))
    container.close()
    return path


def encode_vfr(path: Path, pts_ms: list[int]) -> Path:
    """Matroska H.264 whose frames sit at the given millisecond times (variable frame rate)."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=25)
    stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
    stream.codec_context.time_base = Fraction(1, 1000)
    stream.options = {"g": "6", "bf": "0", "crf": "10"}
    for i, t in enumerate(pts_ms):
        frame = av.VideoFrame.from_ndarray(coded_frame(i), format="rgb24")
        frame.pts = t
        frame.time_base = Fraction(1, 1000)
        container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    return path


def encode_audio_only(path: Path, seconds: float = 1.0) -> Path:
    container = av.open(str(path), "w")
    stream = container.add_stream("aac", rate=48000)
    stream.layout = "stereo"
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(tone(seconds).T), format="fltp", layout="stereo")
    frame.sample_rate = 48000
    frame.pts = 0
    container.mux(stream.encode(frame))
    container.mux(stream.encode(None))
    container.close()
    return path


def encode_zero_duration(path: Path) -> Path:
    """A complete MP4 whose video track never received a frame."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=24)
    stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
    container.start_encoding()
    container.close()
    return path


def corrupt_packets(src: Path, dst: Path, packet_numbers: list[int]) -> list[int]:
    """Copy `src` to `dst` with the payload of the given video packets (decode order) replaced
    by noise. Returns the frame indices (presentation order) those packets carried."""
    container = av.open(str(src))
    packets = [(p.pos, p.size, p.pts) for p in container.demux(video=0) if p.size]
    container.close()
    all_pts = sorted(p[2] for p in packets)
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(7)
    frames = []
    for n in packet_numbers:
        pos, size, pts = packets[n]
        # Keep the 4-byte NAL length so the demuxer still splits packets; wreck the slice data.
        data[pos + 4:pos + size] = rng.integers(0, 256, size - 4, dtype=np.uint8).tobytes()
        frames.append(all_pts.index(pts))
    dst.write_bytes(bytes(data))
    return sorted(frames)
