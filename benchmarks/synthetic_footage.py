"""Synthetic footage for the media benchmarks: enough detail and motion that H.264 does real work."""
from __future__ import annotations

import numpy as np


def moving_frames(count: int, width: int, height: int, seed: int = 0, box: bool = True):
    """A drifting gradient with film-like grain and, with ``box``, a moving yellow box.

    ``seed`` changes the grain and tints the gradient, so several sources look different.
    """
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 255, width, dtype=np.float32)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    grain = rng.integers(0, 24, (height, width), dtype=np.uint8)
    for i in range(count):
        frame = np.empty((height, width, 3), np.uint8)
        frame[..., 0] = (x + 3 * i + 60 * seed) % 256
        frame[..., 1] = (y + 2 * i) % 256
        frame[..., 2] = ((x + y) / 2 + i + 90 * seed) % 256
        frame += np.roll(grain, i * 7, axis=1)[..., None]
        if box:
            bx = (i * 17) % max(1, width - height // 4)
            frame[height // 3: height // 3 + height // 4, bx: bx + height // 4] = (250, 240, 40)
        yield frame
