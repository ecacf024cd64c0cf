"""Frame-rate conforming by sample and hold: frame i at the new rate shows the source frame
that is on screen at time i / new rate. No blending, so frames stay the camera's (or the
model's) own. The one rounding rule for the engine thread, the pipeline and the backends."""
from __future__ import annotations

import numpy as np


def hold_indices(count: int, src_rate: float, dst_rate: float, src_count: int | None = None) -> np.ndarray:
    """Indices into the source for ``count`` frames at ``dst_rate``; the small epsilon keeps a
    frame that lands exactly on a source frame's start from rounding down to the one before;
    ``src_count`` clamps them to the source's last frame."""
    idx = np.floor(np.arange(count) * (src_rate / dst_rate) + 1e-6).astype(np.int64)
    return idx if src_count is None else np.minimum(idx, src_count - 1)


def retime(frames: np.ndarray, src_rate: float, dst_rate: float) -> np.ndarray:
    """The same span of footage (``frames`` [T,...] at ``src_rate``) at ``dst_rate``."""
    if abs(src_rate - dst_rate) < 1e-6:
        return frames
    count = max(1, round(frames.shape[0] * dst_rate / src_rate))
    return frames[hold_indices(count, src_rate, dst_rate, frames.shape[0])]
