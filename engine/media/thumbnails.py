"""Thumbnails: one frame, or a strip of frames spread evenly over a file, scaled to a height."""
from __future__ import annotations

import os

import numpy as np

from engine.media.reader import FrameReader


def thumbnail_size(width: int, height: int, target_height: int) -> tuple[int, int]:
    """(w, h) with the source's aspect ratio and `target_height` rows."""
    if target_height < 1:
        raise ValueError(f"height: must be at least 1, got {target_height}")
    return max(1, round(width * target_height / height)), target_height


def thumbnail(path: str | os.PathLike, frame_index: int = 0, height: int = 72) -> np.ndarray:
    """Frame `frame_index` of `path` as HxWx3 uint8 RGB, `height` rows high (clamped to the file)."""
    with FrameReader(path, cache_size=1) as reader:
        index = min(max(0, int(frame_index)), reader.frame_count - 1)
        return reader.read(index, size=thumbnail_size(reader.width, reader.height, height))


def thumbnail_strip(path: str | os.PathLike, count: int, height: int = 72) -> np.ndarray:
    """`count` frames spread evenly from the first to the last, as a [count, H, W, 3] array."""
    if count < 1:
        raise ValueError(f"count: must be at least 1, got {count}")
    with FrameReader(path, cache_size=1) as reader:
        size = thumbnail_size(reader.width, reader.height, height)
        indices = np.linspace(0, reader.frame_count - 1, count).round().astype(int)
        return np.stack([reader.read(int(i), size=size) for i in indices])
