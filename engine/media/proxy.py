"""Proxies: an all-intra (every frame a keyframe) low-resolution H.264 copy for fast scrubbing.

With a keyframe on every frame, a seek decodes exactly one small frame.
"""
from __future__ import annotations

import hashlib
import os
import threading
from fractions import Fraction
from pathlib import Path

from engine.errors import MissingMedia
from engine.media.reader import FrameReader
from engine.media.writer import VideoWriter


def proxy_path_for(src: str | os.PathLike, cache_dir: str | os.PathLike, height: int = 270) -> Path:
    """Where the proxy of `src` lives in `cache_dir`; a changed source gets a new name."""
    src = Path(src).resolve()
    if not src.is_file():
        raise MissingMedia(src, "no such file")
    st = src.stat()
    key = f"{src}|{st.st_size}|{st.st_mtime_ns}|{height}".encode()
    return Path(cache_dir) / f"{src.stem}-{hashlib.sha256(key).hexdigest()[:16]}-{height}p.mp4"


def _proxy_size(width: int, height: int, target_height: int) -> tuple[int, int]:
    """Even dimensions (yuv420p) with the source aspect, no taller than the source."""
    h = min(target_height, height)
    h -= h % 2
    w = round(width * h / height)
    w -= w % 2
    return max(2, w), max(2, h)


def make_proxy(
    src: str | os.PathLike,
    dst: str | os.PathLike,
    height: int = 270,
    progress=None,
    cancel: threading.Event | None = None,
) -> Path:
    """Write the proxy of `src` to `dst`. `progress(done, total)` is called per frame;
    setting `cancel` raises `Cancelled` and leaves no file at `dst`."""
    if height < 2:
        raise ValueError(f"height: must be at least 2, got {height}")
    with FrameReader(src, cache_size=1) as reader:
        # Frames come out upright and frame-for-frame (a lost frame is held), so proxy frame i
        # is source frame i.
        size = _proxy_size(reader.width, reader.height, height)
        total = reader.frame_count
        with VideoWriter(dst, Fraction(reader.info.rate_fraction), *size, codec="h264", crf=23,
                         gop=1, preset="veryfast", cancel=cancel,
                         metadata={"comment": f"LatentCut proxy of {Path(src).name}"}) as writer:
            for done, frame in enumerate(reader.iter_frames(size=size), start=1):
                writer.write(frame)
                if progress is not None:
                    progress(done, total)
    return Path(dst)
