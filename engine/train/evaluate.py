"""Attribute metrics of a clip, from pixels only.

Each classifier looks at uint8 RGB frames [T,H,W,3] and names an attribute of the previz
vocabulary: the sky's time of day, the camera move, the subject's colour and its path. Other
measures (flicker, seams, edge correlation) support the extend, fill and restyle checks.
The classifiers are validated on the world's own renderings (tests/train/test_evaluate.py).
"""
from __future__ import annotations

import numpy as np

from engine.model.subject_key import hsv, subject_mask

SKY_ROWS = 0.12  # top fraction of the frame read as sky
NIGHT_LUMA = 70.0  # mean luma (0-255) of the sky below which it is night

HUE_PROTOTYPES = {"red": 0.0, "yellow": 55.0, "green": 128.0, "blue": 225.0}

MOTION_MIN_TRAVEL = 0.03  # camera travel over the clip, fraction of the frame's side
MIN_ZOOM = 0.05  # relative scale change over the clip
SUBJECT_MIN_TRAVEL = 0.08  # centroid travel, fraction of width, below: still


def _check_clip(frames: np.ndarray, name: str = "frames") -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
        raise ValueError(f"{name}: expected uint8 frames [T,H,W,3], got shape {frames.shape}")
    return frames


def luma(frames: np.ndarray) -> np.ndarray:
    f = np.asarray(frames, np.float32)
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


# ------------------------------------------------------------------------------- sky


def sky_color(frames: np.ndarray) -> np.ndarray:
    frames = _check_clip(frames)
    rows = max(1, int(round(frames.shape[1] * SKY_ROWS)))
    return frames[:, :rows].reshape(-1, 3).astype(np.float32).mean(0)


def classify_time_of_day(frames: np.ndarray) -> str:
    """night: a dark sky; sunset: a warm sky (red above blue); day: a light blue sky."""
    r, g, b = sky_color(frames)
    if 0.299 * r + 0.587 * g + 0.114 * b < NIGHT_LUMA:
        return "night"
    return "sunset" if r > b else "day"


# ------------------------------------------------------------------------------- camera


def _phase_shift(a: np.ndarray, b: np.ndarray, window: np.ndarray):
    """(dx, dy, confidence): how far the content of a moved to reach b, by phase correlation."""
    fa = np.fft.rfft2((a - a.mean()) * window)
    fb = np.fft.rfft2((b - b.mean()) * window)
    cross = fb * np.conj(fa)
    cross /= np.abs(cross) + 1e-9
    corr = np.fft.irfft2(cross, s=a.shape)
    h, w = a.shape
    iy, ix = np.unravel_index(int(np.argmax(corr)), corr.shape)
    peak = corr[iy, ix]

    def sub(c_m, c_0, c_p):  # parabolic sub-pixel peak
        d = c_m - 2 * c_0 + c_p
        return 0.0 if abs(d) < 1e-9 else 0.5 * (c_m - c_p) / d

    dy = iy + sub(corr[iy - 1, ix], peak, corr[(iy + 1) % h, ix])
    dx = ix + sub(corr[iy, ix - 1], peak, corr[iy, (ix + 1) % w])
    if dy > h / 2:
        dy -= h
    if dx > w / 2:
        dx -= w
    return float(dx), float(dy), float(peak)


def _textured(patch: np.ndarray, min_energy: float = 1.0) -> bool:
    """True when the patch has gradient in every direction (smallest structure-tensor
    eigenvalue), so a shift along any axis is measurable; flat sky and lone edges fail."""
    gy, gx = np.gradient(patch)
    a, b, c = (gx * gx).mean(), (gx * gy).mean(), (gy * gy).mean()
    smallest = 0.5 * (a + c) - np.sqrt(0.25 * (a - c) ** 2 + b * b)
    return smallest > min_energy


def camera_flow(frames: np.ndarray, step: int = 2, block: int | None = None):
    """Global motion over the clip as (tx, ty, zoom): translation in pixels and relative scale
    change, each summed over frame pairs. A similarity model flow = t + s*(p - centre) is fitted
    to block shifts by least squares; textureless blocks (sky) and the subject's blocks
    (subject_key.subject_mask) are left out."""
    frames = _check_clip(frames)
    T, H, W = frames.shape[:3]
    if T < 2:
        return 0.0, 0.0, 0.0
    step = max(1, min(step, T - 1))
    lum = luma(frames)
    # Stretch contrast so dark (night) clips are measured like bright ones.
    lo, hi = np.percentile(lum, [2, 98])
    lum = (lum - lo) * (255.0 / max(hi - lo, 8.0))
    subject, _ = subject_mask(frames)  # a white one too: a still one held a pan's reading under its threshold
    block = block or max(8, int(2 ** np.floor(np.log2(H / 3))))
    window = np.outer(np.hanning(block), np.hanning(block)).astype(np.float32)
    ys = np.linspace(0, H - block, max(2, H // (block // 2) - 1)).astype(int)
    xs = np.linspace(0, W - block, max(2, W // (block // 2) - 1)).astype(int)
    tx = ty = zoom = 0.0
    for t0 in range(0, T - step, step):
        a, b = lum[t0], lum[t0 + step]
        rows = []
        for y in ys:
            for x in xs:
                pa = a[y:y + block, x:x + block]
                pb = b[y:y + block, x:x + block]
                if not _textured(pa) or subject[t0, y:y + block, x:x + block].mean() > 0.02 \
                        or subject[t0 + step, y:y + block, x:x + block].mean() > 0.02:
                    continue
                dx, dy, conf = _phase_shift(pa, pb, window)
                if conf < 0.08:
                    continue
                rows.append((x + block / 2 - W / 2, y + block / 2 - H / 2, dx, dy))
        if len(rows) < 3:
            continue
        r = np.asarray(rows, np.float64)
        # Unknowns (tx, ty, s): dx = tx + s*px, dy = ty + s*py.
        n = len(r)
        A = np.zeros((2 * n, 3))
        A[:n, 0] = 1
        A[n:, 1] = 1
        A[:n, 2] = r[:, 0]
        A[n:, 2] = r[:, 1]
        rhs = np.concatenate([r[:, 2], r[:, 3]])
        sol, *_ = np.linalg.lstsq(A, rhs, rcond=None)
        # One pass of outlier rejection (occlusions, parallax edges).
        res = np.abs(A @ sol - rhs)
        keep = res <= max(1.0, 2.5 * np.median(res))
        if keep.sum() >= 4:
            sol, *_ = np.linalg.lstsq(A[keep], rhs[keep], rcond=None)
        tx += sol[0]
        ty += sol[1]
        zoom += sol[2]
    return float(tx), float(ty), float(zoom)


def classify_camera(frames: np.ndarray) -> str:
    frames = _check_clip(frames)
    H, W = frames.shape[1:3]
    tx, ty, zoom = camera_flow(frames)
    # Each move's evidence over its own threshold; the strongest wins, none over 1: static.
    scores = {
        "pan": abs(tx) / (MOTION_MIN_TRAVEL * W),
        "tilt": abs(ty) / (MOTION_MIN_TRAVEL * H),
        "zoom": abs(zoom) / MIN_ZOOM,
    }
    kind = max(scores, key=scores.get)
    if scores[kind] < 1.0:
        return "static"
    if kind == "pan":
        return "pan left" if tx > 0 else "pan right"  # pan left: content moves right
    if kind == "tilt":
        return "tilt up" if ty > 0 else "tilt down"  # tilt up: content moves down
    return "zoom in" if zoom > 0 else "zoom out"


# ------------------------------------------------------------------------------- subject


def classify_color(frames: np.ndarray) -> str | None:
    """The subject's colour by the hue of its saturated pixels, 'white', or None (no subject)."""
    frames = _check_clip(frames)
    mask, kind = subject_mask(frames)
    if kind == "none":
        return None
    if kind == "white":
        return "white"
    h, _, _ = hsv(frames)
    ang = np.deg2rad(h[mask])
    mean = np.rad2deg(np.arctan2(np.sin(ang).mean(), np.cos(ang).mean())) % 360.0
    dist = {c: min(abs(mean - p), 360.0 - abs(mean - p)) for c, p in HUE_PROTOTYPES.items()}
    return min(dist, key=dist.get)


def subject_path(frames: np.ndarray) -> np.ndarray:
    """Centroid (x, y) per frame in pixels; NaN where the subject is not found."""
    mask, kind = subject_mask(_check_clip(frames))
    out = np.full((mask.shape[0], 2), np.nan)
    if kind == "none":
        return out
    ys, xs = np.mgrid[0:mask.shape[1], 0:mask.shape[2]]
    for t, m in enumerate(mask):
        n = m.sum()
        if n > 0:
            out[t] = (xs[m].mean(), ys[m].mean())
    return out


def classify_motion(frames: np.ndarray) -> str | None:
    """'left', 'right' or 'still' from the centroid's travel; None without a subject."""
    frames = _check_clip(frames)
    path = subject_path(frames)
    ok = ~np.isnan(path[:, 0])
    if ok.sum() < 2:
        return None
    x = path[ok, 0]
    k = max(1, len(x) // 4)
    travel = np.median(x[-k:]) - np.median(x[:k])
    if abs(travel) < SUBJECT_MIN_TRAVEL * frames.shape[2]:
        return "still"
    return "right" if travel > 0 else "left"


# ------------------------------------------------------------------------------- temporal


def frame_changes(frames: np.ndarray) -> np.ndarray:
    """Mean absolute luma change between consecutive frames, per pair (0-255)."""
    lum = luma(_check_clip(frames))
    return np.abs(np.diff(lum, axis=0)).mean((1, 2))


def flicker(frames: np.ndarray) -> float:
    """Brightness jitter: mean |second difference| of the frames' mean luma (0-255). Smooth
    camera moves and fades score ~0; frames that pump brighter and darker score high."""
    m = luma(_check_clip(frames)).mean((1, 2))
    if len(m) < 3:
        return 0.0
    return float(np.abs(np.diff(m, 2)).mean())


def _typical_change(before: np.ndarray, after: np.ndarray) -> float:
    """The median frame-to-frame change inside both clips (at least 0.5 level), or the change
    across the seam when each is one frame."""
    if len(before) + len(after) > 2:
        inside = np.concatenate([frame_changes(before), frame_changes(after)])
    else:
        inside = frame_changes(np.stack([before[-1], after[0]]))
    return max(float(np.median(inside)), 0.5)


SEAM_PASS = 1.5  # the bar: a seam passes at most 1.5x the median frame-to-frame change around it


def seam_ratio(before: np.ndarray, after: np.ndarray) -> float:
    """Change across the seam (last frame of `before` to first of `after`) over the median
    frame-to-frame change inside both clips. <= 1 means the seam is no bigger than a step."""
    before, after = _check_clip(before, "before"), _check_clip(after, "after")
    seam = frame_changes(np.stack([before[-1], after[0]]))[0]
    return float(seam / _typical_change(before, after))


def seam_region_ratio(before: np.ndarray, after: np.ndarray, reach: int, made: str) -> float:
    """The biggest frame-to-frame change across the seam and among the `reach` made frames next to it
    (`made`: "after" for an extension's tail or a fill's first seam, "before" for a head or a fill's
    last seam), over the same typical change as seam_ratio: a seam hidden by moving its step a few
    frames on still shows here. The given clip's own changes are not counted: a tilt that steps 1.9
    and 3.5 levels in turn would fail its own clip, whatever is made next to it."""
    before, after = _check_clip(before, "before"), _check_clip(after, "after")
    if made not in ("before", "after"):
        raise ValueError(f"made: expected 'before' or 'after', got {made!r}")
    near = np.concatenate([before[-1:], after[:reach + 1]] if made == "after" else [before[-reach - 1:], after[:1]])
    return float(frame_changes(near).max() / _typical_change(before, after))


# A subject moves on across a seam when its speed after is within this share of its speed before,
# or within SUBJECT_SPEED_FLOOR px a frame of it (a still subject must stay nearly still).
SUBJECT_SPEED_SHARE = 0.5
SUBJECT_SPEED_FLOOR = 1.0


def subject_velocity(frames: np.ndarray) -> np.ndarray | None:
    """The subject's centroid's median move (dx, dy) a frame, pixels; None where fewer than 4
    consecutive pairs of frames show it."""
    moves = np.diff(subject_path(frames), axis=0)
    moves = moves[~np.isnan(moves).any(1)]
    return np.median(moves, 0) if len(moves) >= 4 else None


def subject_continues(before: np.ndarray, after: np.ndarray, reach: int) -> bool | None:
    """Does the subject move on across the seam as it moved up to it: its velocity over `reach` frames
    after the seam against that over `reach` frames before; False where only one side shows it, None
    where neither does. A seam can pass seam_region_ratio with the subject stopped dead at it, which no
    one extending a moving shot wants."""
    before, after = _check_clip(before, "before"), _check_clip(after, "after")
    was, then = subject_velocity(before[-reach:]), subject_velocity(after[:reach])
    if was is None and then is None:
        return None
    if was is None or then is None:
        return False
    slack = max(SUBJECT_SPEED_FLOOR, SUBJECT_SPEED_SHARE * float(np.abs(was).max()))
    return bool(np.abs(then - was).max() <= slack)


def edges(frames: np.ndarray) -> np.ndarray:
    """Sobel gradient magnitude of luma, [T,H,W]."""
    lum = luma(_check_clip(frames))
    p = np.pad(lum, ((0, 0), (1, 1), (1, 1)), mode="edge")
    gx = (p[:, :-2, 2:] + 2 * p[:, 1:-1, 2:] + p[:, 2:, 2:]) - (p[:, :-2, :-2] + 2 * p[:, 1:-1, :-2] + p[:, 2:, :-2])
    gy = (p[:, 2:, :-2] + 2 * p[:, 2:, 1:-1] + p[:, 2:, 2:]) - (p[:, :-2, :-2] + 2 * p[:, :-2, 1:-1] + p[:, :-2, 2:])
    return np.sqrt(gx**2 + gy**2)


def edge_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of the two clips' edge maps (same shape), blurred slightly so that a
    one-pixel offset still counts as following the edge."""
    a, b = _check_clip(a, "a"), _check_clip(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"b: shape {b.shape} differs from a's {a.shape}")

    def blur(x):
        p = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="edge")
        return sum(p[:, i:i + x.shape[1], j:j + x.shape[2]] for i in range(3) for j in range(3)) / 9.0

    ea, eb = blur(edges(a)).ravel(), blur(edges(b)).ravel()
    ea, eb = ea - ea.mean(), eb - eb.mean()
    den = np.sqrt((ea**2).sum() * (eb**2).sum())
    return float((ea * eb).sum() / den) if den > 0 else 0.0


# ------------------------------------------------------------------------------- scene


def classify_clip(frames: np.ndarray) -> dict:
    """All attribute guesses for one clip."""
    return {
        "time_of_day": classify_time_of_day(frames),
        "camera": classify_camera(frames),
        "color": classify_color(frames),
        "motion": classify_motion(frames),
    }
