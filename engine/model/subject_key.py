"""Where a clip shows its subject: a keyer for the previz world's subjects.

The world draws its subject as a saturated ball or box, or a white one, over a sky and ground of low
saturation. Keyed on that, an extension or fill is told where the clip leaves its subject
(pipeline._given_layout), and the evaluation's judge (engine/train/evaluate.py) reads the subject's
colour and path from the same key.
"""
from __future__ import annotations

import numpy as np

SUBJECT_MIN_SATURATION = 0.6
SUBJECT_MIN_VALUE = 0.4
WHITE_MAX_SATURATION = 0.12
WHITE_MIN_VALUE = 0.75
SUBJECT_MIN_AREA = 0.004  # fraction of the frame a subject covers at least


def hsv(frames: np.ndarray):
    """Hue in degrees [0, 360), saturation and value in [0, 1] of uint8 RGB [..., 3]."""
    f = np.asarray(frames, np.float32) / 255.0
    hi = f.max(-1)
    lo = f.min(-1)
    c = hi - lo
    s = np.where(hi > 1e-6, c / np.maximum(hi, 1e-6), 0.0)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    safe = np.maximum(c, 1e-6)
    h = np.where(hi == r, ((g - b) / safe) % 6.0, np.where(hi == g, (b - r) / safe + 2.0, (r - g) / safe + 4.0))
    return (h * 60.0) % 360.0, s, hi


def subject_mask(frames: np.ndarray) -> tuple[np.ndarray, str]:
    """uint8 RGB frames [T,H,W,3] -> (mask [T,H,W], kind): kind 'saturated', 'white' or 'none', by
    which key covers a subject's area in most frames."""
    _, s, v = hsv(frames)
    area = frames.shape[1] * frames.shape[2] * SUBJECT_MIN_AREA
    sat = (s > SUBJECT_MIN_SATURATION) & (v > SUBJECT_MIN_VALUE)
    if np.median(sat.sum((1, 2))) >= area:
        return sat, "saturated"
    white = (s < WHITE_MAX_SATURATION) & (v > WHITE_MIN_VALUE)
    if np.median(white.sum((1, 2))) >= area:
        return white, "white"
    return sat, "none"


def subject_boxes(frames: np.ndarray) -> np.ndarray | None:
    """[T,3] the keyed subject's centre x, y and half side (of a square of its area) per frame,
    pixels, NaN where a frame shows too little of it; None where the clip shows no subject."""
    mask, kind = subject_mask(frames)
    if kind == "none":
        return None
    area = frames.shape[1] * frames.shape[2] * SUBJECT_MIN_AREA
    ys, xs = np.mgrid[0:mask.shape[1], 0:mask.shape[2]]
    out = np.full((mask.shape[0], 3), np.nan)
    for t, m in enumerate(mask):
        n = int(m.sum())
        if n >= area / 2:
            out[t] = xs[m].mean(), ys[m].mean(), np.sqrt(n) / 2
    return out
