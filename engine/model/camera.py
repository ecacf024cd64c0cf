"""The camera frame: a clip's pan or tilt as a steady drift of its pixels, frame by frame.

A pan or tilt carries the picture a steady distance per frame. The denoiser cannot move content
between its 16-px tokens (previz-v8's estimate of a real pan, even from t = 0.1, stood still), but
it draws still scenes well. So the model works in the camera's frame: frame f is rolled back by the
drift so far, round(f * drift) pixels, which leaves a still scene; the frames a request gives are
rolled so before they are encoded, and the result is rolled forward again (the latents by whole
cells, the decoded frames by the pixels left). Whole pixels keep the roll exact. A slow drift
moved in whole pixels steps one pixel every few frames (a quarter-pixel tilt: three still frames,
then a jump), so at the end the fraction of a pixel each frame's offset rounded away is added as a
linear shift (subpixel_frames): generated 8 s shots' biggest jump went from 1.52 to 1.33 times the
median change over 12 held-out prompts. A roll wraps: what leaves one edge comes back at the other
as the strip the move reveals, which is where training shows the denoiser new content entering.
Zooms are not drifts (model/zoom.py).
"""
from __future__ import annotations

import math

import torch
from torch import nn

# The largest drift measured or predicted, in pixels per frame at the model's size: the world's
# fastest pan moves its nearest layer about 2.8 (0.45 frame heights of 144 px over 23 frames).
MAX_DRIFT = 4.0
# A head's drift along an axis below this is no move that way: half the world's slowest move, a
# tilt of about 0.95 px a frame. A head unsure of a wording hedges towards 0 ("the camera does not
# move" read as a 0.43 px tilt, which showed), as the zoom head does (model/zoom.py MIN_ZOOM_RATE).
MIN_DRIFT = 0.45
DRIFT_STEP = 0.25
# A pixel's change between frames counts up to this much (13 levels of 255) in measure_drift.
CHANGE_CAP = 0.1
# A measured drift is kept only if it leaves this much less change between frames than none does;
# below that the frames hold no move a roll explains (a still shot, a zoom, flat sky).
MIN_GAIN = 0.1


def _whole(v: float) -> int:
    """Halves away from zero, not to even: a pan left rounds as a pan right does."""
    return int(math.copysign(math.floor(abs(v) + 0.5), v))


def frame_offsets(drift: tuple[float, float], frames: int, first: int = 0) -> list[tuple[int, int]]:
    """Whole (dy, dx) offsets of frames first .. first + frames - 1 from frame 0 for a drift (dx, dy)."""
    dx, dy = drift
    return [(_whole(dy * k), _whole(dx * k)) for k in range(first, first + frames)]


def wrapped(h: int, w: int, dy: int, dx: int, device=None) -> torch.Tensor:
    """[h, w] bool: the rows and columns that a roll by (dy, dx) carries across the frame's edge,
    where a rolled frame shows what left the other side rather than what the move reveals."""
    mask = torch.zeros(h, w, dtype=torch.bool, device=device)
    mask[:dy] = dy > 0
    mask[h + dy:] = dy < 0
    mask[:, :dx] |= dx > 0
    mask[:, w + dx:] |= dx < 0
    return mask


def roll_frames(z: torch.Tensor, offsets: list[tuple[int, int]], forward: bool) -> torch.Tensor:
    """z [B,C,T,H,W]: forward moves each frame's content by its offset (camera frame -> picture);
    otherwise back (picture -> camera frame)."""
    if len(offsets) != z.shape[2]:
        raise ValueError(f"{len(offsets)} camera offsets for {z.shape[2]} frames")
    sign = 1 if forward else -1
    return torch.stack([torch.roll(z[:, :, k], (sign * dy, sign * dx), (-2, -1))
                        for k, (dy, dx) in enumerate(offsets)], dim=2)


def _shift_part(frame: torch.Tensor, amount: float, dim: int) -> torch.Tensor:
    """frame [...,H,W] moved by amount in [-0.5, 0.5] pixels along dim (-2 or -1): linear between the
    frame and its copy moved one pixel that way, the edge pixel repeated where nothing comes in."""
    if amount == 0.0:
        return frame
    step = 1 if amount > 0 else -1
    moved = torch.roll(frame, step, dim)
    edge = [slice(None)] * frame.dim()
    edge[dim] = slice(0, 1) if step > 0 else slice(-1, None)
    moved[tuple(edge)] = frame[tuple(edge)]
    return frame + abs(amount) * (moved - frame)


def subpixel_frames(video: torch.Tensor, drift: tuple[float, float], first: int = 0) -> torch.Tensor:
    """video [B,C,T,H,W], frames first.. of a sequence moved by whole pixels (frame_offsets), moved on
    by the fraction each offset rounded away, so a slow pan or tilt glides rather than stepping a
    pixel every few frames."""
    dx, dy = drift
    out = []
    for k in range(video.shape[2]):
        f = first + k
        frame = _shift_part(video[:, :, k], dy * f - _whole(dy * f), -2)
        out.append(_shift_part(frame, dx * f - _whole(dx * f), -1))
    return torch.stack(out, dim=2)


def split_offsets(drift: tuple[float, float], latent_frames: int, time_compression: int, space_compression: int
                  ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """frame_offsets split in two: whole latent cells per latent frame (its middle frame's offset,
    rounded to cells) and the pixels left over for each of its frames. Rolling the latents by the
    first before decoding and the frames by the second makes the same move, but keeps the
    decoder's edge columns at the frame's edge: rolled whole, they showed as a line moving in."""
    kt, ks = time_compression, space_compression
    pixels = frame_offsets(drift, latent_frames * kt)
    cells = [(_whole(pixels[k * kt + kt // 2][0] / ks), _whole(pixels[k * kt + kt // 2][1] / ks))
             for k in range(latent_frames)]
    rest = [(dy - cells[f // kt][0] * ks, dx - cells[f // kt][1] * ks) for f, (dy, dx) in enumerate(pixels)]
    return cells, rest


def _spread(z: torch.Tensor, drift: tuple[float, float]) -> float:
    """How much z [C,T,H,W] (frames in [-1, 1]) still changes from frame to frame once rolled into
    the drift's frame: the mean absolute difference of consecutive frames, each pixel's capped at
    CHANGE_CAP. Capped, a bright subject crossing the frame cannot outweigh the scene behind it:
    uncapped squared changes took the subject's path for the camera's in a third of held-out clips."""
    still = roll_frames(z[None], frame_offsets(drift, z.shape[1]), forward=False)[0]
    return float((still[:, 1:] - still[:, :-1]).abs().clamp(max=CHANGE_CAP).mean())


def measure_drift(z: torch.Tensor, axis: str | None = None, sign: int = 0) -> tuple[float, float]:
    """The drift (dx, dy) that best stills consecutive frames z [C,T,H,W] in [-1, 1], searched along one
    axis at a time ("x", "y", or both when None) in steps of DRIFT_STEP; sign +1/-1 keeps to one
    direction. (0, 0) when no drift stills the frames by MIN_GAIN or there is one frame only."""
    if z.shape[1] < 2:
        return 0.0, 0.0
    steps = int(MAX_DRIFT / DRIFT_STEP)
    values = [DRIFT_STEP * i for i in range(-steps, steps + 1) if i and (sign == 0 or (i > 0) == (sign > 0))]
    candidates = []
    for name in ("x", "y") if axis is None else (axis,):
        candidates += [(v, 0.0) if name == "x" else (0.0, v) for v in values]
    spreads = [_spread(z, c) for c in candidates]
    none = _spread(z, (0.0, 0.0))
    best = min(spreads, default=none)
    if best >= (1.0 - MIN_GAIN) * none:
        return 0.0, 0.0
    # Drifts that round to the same offsets still the frames equally (few frames: a wide range of
    # them); their mean is the best guess at the frames that follow.
    tied = [c for c, spread in zip(candidates, spreads) if spread == best]
    return sum(c[0] for c in tied) / len(tied), sum(c[1] for c in tied) / len(tied)


def asked_drift(drift: tuple[float, float]) -> tuple[float, float]:
    """A camera head's drift with each axis under MIN_DRIFT made still."""
    return tuple(v if abs(v) >= MIN_DRIFT else 0.0 for v in drift)


class CameraHead(nn.Module):
    """The drift (dx, dy) a prompt asks for, read from its text states (with outputs=1 and the zoom's
    limit: the zoom rate, model/zoom.py). Each of a few learned queries weighs the words: a mean of
    the states mixed "moving right" (the subject) into "pan left" (the camera) and read both as one
    direction. The last layer starts at zero: a model that gains the head samples as before until
    the head is trained."""

    def __init__(self, text_dim: int, queries: int = 4, hidden: int = 64, outputs: int = 2,
                 limit: float = MAX_DRIFT):
        super().__init__()
        self.limit = limit
        self.norm = nn.LayerNorm(text_dim)
        self.score = nn.Linear(text_dim, queries)
        self.net = nn.Sequential(nn.Linear(queries * text_dim, hidden), nn.SiLU(), nn.Linear(hidden, outputs))
        nn.init.zeros_(self.net[2].weight)
        nn.init.zeros_(self.net[2].bias)

    def forward(self, text: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        """text [B,L,D], mask [B,L] -> [B, outputs] (a drift in pixels per frame), within the limit."""
        h = self.norm(text)
        scores = self.score(h).masked_fill(~text_mask.bool()[..., None], -1e4)  # finite: an empty mask is even
        pooled = torch.einsum("blq,bld->bqd", scores.softmax(dim=1), h).flatten(1)
        return self.limit * torch.tanh(self.net(pooled) / self.limit)
