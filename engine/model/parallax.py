"""An extension's layers going on at their own speeds in a pan or tilt.

The model draws a still scene in the camera frame (model/camera.py), so an extension moves every
layer at the one drift measured at its seam. A real pan or tilt moves far layers less: in the
previz world the sky moves at 0.15 of the nearest ground's speed, far mountains at 0.4. A tilt's
ridge line that had crept up 0.5 px a frame in the clip then ran at 1 px a frame from the seam on,
the new frames changed 1.5 times as much as the clip's, and every held-out tilt down failed its
seam region (1.5 to 1.6 times the typical change).

As a compositor would, each band of rows (depth in a landscape mostly runs with height in the
frame) is measured in the clip's frames next to the seam and carried on at its own speed: the
clip's frames are rolled into the camera frame, and the speed that best stills each band there
(the subject and the strip the roll wraps left out) is its speed against the drift; lower rows,
nearer, are held to move at least as fast as higher ones (a night scene's dark ground read
nonsense in one band). The new frames are then moved by that speed times their distance in frames
from the seam, and not at the subject, which goes on along its own path.

Over the 48 extensions of 24 held-out clips (seeds from 500 and 1,500; 30 pans and tilts), seam
regions passing went from 92% to 100% and from 83% to 88%, their geometric mean from 1.19 to 1.17
and 1.25 to 1.19; the four tilts down's heads from 1.53, 1.24, 1.60 and 1.41 to 1.14, 1.21, 1.41
and 1.13, their tails from 1.65, 1.16, 1.62 and 1.28 to 1.48, 1.14, 1.57 and 1.22. The subject moved
on as often. Where the move pulls in rows from beyond the frame's edge it mirrors the picture there: the
edge row repeated stood as a growing band (a tilt down's tail went from 1.62 to 1.94 before).

A tilt's new frames also show rows beyond the seam frame's edge, which the wrapped camera frame fills
with the far edge of the scene: a band of sky under a tilt down's ground, growing a pixel a frame.
There the rows next to them are carried on instead (mirror_revealed): mirrored at the bottom, where
the ground's texture goes on, and the edge row repeated at the top, where the sky's gradient mirrored
turned back on itself. The same 12 tilts' seam regions read within 0.06 either way (1.46 to 1.51 for
the two tilts down's tails that were 1.48 and 1.57), and no sky stands under the ground.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .camera import frame_offsets, roll_frames, wrapped

# Rows a speed is measured over (and half of it between measurements).
BAND = 16
# The clip's frames next to the seam it is measured in, at most.
MEASURE_FRAMES = 12
# A band's speed against the drift is searched within these shares of the drift, in SPEED_STEP px a
# frame: far layers move less (down to still), the nearest ground a little more.
SLOWER, FASTER = 1.0, 0.6
SPEED_STEP = 0.125
# A band's speed is kept where it leaves this much less change between its frames than moving with the
# drift does; elsewhere (flat sky, a texture too fine to follow) the band's speed is its neighbours'.
MIN_GAIN = 0.1
# Pixels kept clear round the subject: the measure leaves them out, and the move spares them.
SUBJECT_CLEAR = 9


def _move(frames: torch.Tensor, moves: torch.Tensor, along_y: bool) -> torch.Tensor:
    """frames [N,C,H,W], each pixel moved by moves [N,H,W] pixels along the axis (bilinear, the picture
    mirrored at its edge where nothing comes in)."""
    n, _, h, w = frames.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    ys, xs = ys.expand(n, h, w), xs.expand(n, h, w)
    sy, sx = (ys - moves, xs) if along_y else (ys, xs - moves)
    grid = torch.stack([sx / (w - 1) * 2 - 1, sy / (h - 1) * 2 - 1], -1).to(frames.device)
    return F.grid_sample(frames.float(), grid, mode="bilinear", padding_mode="reflection", align_corners=True)


def layer_speeds(frames: torch.Tensor, drift: tuple[float, float], subject: torch.Tensor | None,
                 at_end: bool) -> np.ndarray | None:
    """[H] each row's speed against the drift, px a frame along the camera's axis (x for a pan, y
    for a tilt), measured in the clip's frames [1,3,T,H,W] next to the seam (their end when
    at_end), subject [T,H,W] bool where they show it (None: none). Each band of rows takes the
    speed that best stills its frames once they are rolled into the camera frame. None for a still
    camera, a drift on both axes, or nothing to read."""
    dx, dy = drift
    if (dx == 0.0) == (dy == 0.0):
        return None
    along_y, speed = (True, dy) if dy else (False, dx)
    count = min(MEASURE_FRAMES, frames.shape[2])
    if count < 3:
        return None
    picked = slice(-count, None) if at_end else slice(0, count)
    offsets = frame_offsets(drift, count)
    still = roll_frames(frames[:, :, picked].float().mean(1, keepdim=True), offsets, forward=False)[0, 0]
    keep = torch.ones_like(still)
    if subject is not None:
        covered = roll_frames(subject[picked].float()[None, None], offsets, forward=False)[0].permute(1, 0, 2, 3)
        keep = keep * (1 - F.max_pool2d(covered, SUBJECT_CLEAR, 1, SUBJECT_CLEAR // 2)[:, 0])
    for t, (oy, ox) in enumerate(offsets):  # the strip the roll carried across the edge, and a margin
        keep[t] *= ~wrapped(*keep.shape[-2:], int(-oy - 3 * np.sign(oy)), int(-ox - 3 * np.sign(ox)))
    pairs = keep[1:] * keep[:-1]  # [T-1,H,W]: kept in both frames of a pair
    band = torch.ones(1, 1, BAND) / BAND
    kept = F.conv1d(pairs.sum((0, 2))[None, None], band)[0, 0]  # [bands]: kept pixels per row of each band
    low, high = sorted((-SLOWER * speed, FASTER * speed))
    candidates = np.arange(round(low / SPEED_STEP), round(high / SPEED_STEP) + 1) * SPEED_STEP
    t = torch.arange(count, dtype=torch.float32)[:, None, None]
    costs = []
    for s in candidates:  # moved back by s a frame, a band moving s more than the drift stands still
        moved = _move(still[:, None], (-float(s) * t).expand_as(still), along_y)[:, 0]
        change = ((moved[1:] - moved[:-1]).abs() * pairs).sum((0, 2))  # [H]
        costs.append(F.conv1d(change[None, None], band)[0, 0] / kept.clamp_min(1.0))
    costs = torch.stack(costs)  # [candidates, bands]
    zero = int(np.argmin(np.abs(candidates)))
    level = costs[zero]
    best, at = costs.min(0)
    trusted = (best < (1 - MIN_GAIN) * level) | (at == zero)
    trusted &= kept > still.shape[-1] * (count - 1) / 4  # a quarter kept
    trusted &= level > 1e-4  # a flat band shows no speed
    rows = torch.arange(costs.shape[1]) + BAND / 2
    if not bool(trusted.any()):
        return None
    found = candidates[at.numpy()][trusted.numpy()]
    sign = 1.0 if speed > 0 else -1.0  # nearer, lower rows move faster along the drift
    speeds = np.interp(np.arange(still.shape[-2]), rows[trusted].numpy(), sign * _rising(sign * found))
    return speeds if np.any(speeds) else None  # every layer moves with the drift


def _rising(values: np.ndarray) -> np.ndarray:
    """The non-decreasing sequence nearest values (least squares: pooling adjacent violators)."""
    blocks = []  # [mean, count]
    for v in values:
        blocks.append([float(v), 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            (m1, n1), (m2, n2) = blocks.pop(-2), blocks.pop(-1)
            blocks.append([(m1 * n1 + m2 * n2) / (n1 + n2), n1 + n2])
    return np.concatenate([np.full(n, m) for m, n in blocks])


def parallax_frames(video: torch.Tensor, speeds: np.ndarray, drift: tuple[float, float], distances: list[int],
                    subject: torch.Tensor | None = None) -> torch.Tensor:
    """video [B,C,T,H,W] new frames, each row moved along the camera's axis by its speed
    (layer_speeds) times the frame's distance in frames from the seam (negative before it);
    subject [T,H,W] bool where the frames show it (None: none): there, and within SUBJECT_CLEAR px,
    nothing moves."""
    b, _, _, h, w = video.shape
    row_speed = torch.from_numpy(np.asarray(speeds, np.float32))[:, None].expand(h, w)
    out = []
    for j, distance in enumerate(distances):
        move = row_speed * distance
        if subject is not None:
            near = F.max_pool2d(subject[j].float()[None, None], 2 * SUBJECT_CLEAR + 1, 1, SUBJECT_CLEAR)
            move = move * (1 - F.avg_pool2d(near, 2 * SUBJECT_CLEAR + 1, 1, SUBJECT_CLEAR,
                                            count_include_pad=False))[0, 0]
        out.append(_move(video[:, :, j], move.expand(b, h, w), drift[1] != 0.0).to(video.dtype))
    return torch.stack(out, 2)


def mirror_revealed(video: torch.Tensor, drift: tuple[float, float], distances: list[int]) -> torch.Tensor:
    """video [B,C,T,H,W] a tilt's new frames with the rows beyond the seam frame's edge (drift (0, dy)
    times each frame's distance from the seam, on the side the tilt reveals) the mirror of the rows
    next to them at the bottom (the ground's texture), the row next to them at the top. The camera
    frame wraps, so there the model drew the far edge of its scene: the sky under a tilt down's ground."""
    dx, dy = drift
    if dx != 0.0 or dy == 0.0:
        return video
    out = video.clone()
    h = video.shape[-2]
    for j, distance in enumerate(distances):
        rows = min(h // 2, round(abs(dy * distance)))
        if rows == 0:
            continue
        if (dy < 0) == (distance > 0):  # the picture moves up after the seam (or down before it): the bottom
            out[:, :, j, h - rows:] = video[:, :, j, h - 2 * rows:h - rows].flip(-2)
        else:  # the top: the sky's gradient carried on (mirrored, it turned back on itself)
            out[:, :, j, :rows] = video[:, :, j, rows:rows + 1]
    return out
