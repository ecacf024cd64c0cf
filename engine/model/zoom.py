"""Zooms drawn as a digital zoom of a still scene.

A zoom is not a drift (model/camera.py), and the denoiser does not draw one: every zoom of the
previz evaluation read as a still shot. So, as for pans, the denoiser draws the still scene and
the zoom is made afterwards, as an editor's digital push-in would: frame f is the picture scaled
by exp(rate * f) about its centre (zoom in). A zoom out runs the same push backwards, ending on
the whole picture, so no frame needs what lies outside it. The rate is the log of the scale per
frame; a head reads it from the prompt (the world's zoom: 1.45 over 2 s, 0.016 a frame at 12 fps).

An extension continues the zoom of the clip it extends: measure_zoom reads the rate from the
clip's frames at the seam, the frames are scaled to one framing (a still scene, as the denoiser
draws), and the new frames are pushed on from it. After a zoom in (before a zoom out) the new
frames lie inside the seam frame, whose framing is used. The other way they show more than any
given frame: the framing is the widest new frame's, the given frames are shrunk into its middle and
mirrored outwards at their edges (the world's scenes are bands of sky, land and ground), and the
denoiser redraws the new frames from them. An animated still that zooms out starts the same way:
the still shrunk into the widest frame, pushed back in to its own framing for the first frame.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .blur import blur_frames
from .camera import CHANGE_CAP, MIN_GAIN

MAX_ZOOM_RATE = 0.05    # log scale per frame the head can ask for
MIN_ZOOM_RATE = 0.008   # a head's rate below this is a still shot: half the world's zoom
ZOOM_STEP = 0.002       # the steps in which measure_zoom tries rates
ZOOM_BLOCK = 32         # measure_zoom's blocks, pixels
ZOOM_BLUR = 1.5         # measure_zoom's low pass, pixels
MAX_ZOOM_SCALE = 2.0    # a long shot's zoom is slowed so its tightest frame is at most this much larger


def zoom_scales(rate: float, frames: int, first: int = 0) -> list[float]:
    """Each frame's scale (>= 1) for a zoom rate: frames first .. first + frames - 1 of a push in from
    the whole picture (zoom in), or the same run backwards (zoom out: the last frame is `first`
    frames from the whole picture); all 1 for rate 0."""
    if rate == 0.0 or frames < 1:
        return [1.0] * frames
    step = min(abs(rate), math.log(MAX_ZOOM_SCALE) / max(frames - 1 + first, 1))
    scales = [math.exp(step * (f + first)) for f in range(frames)]
    return scales if rate > 0 else scales[::-1]


def scale_frames(video: torch.Tensor, scales: list[float]) -> torch.Tensor:
    """video [B,C,T,H,W] -> frame t scaled about its centre by scales[t] (bilinear; below 1 the frame,
    mirrored at its edges, fills what lies outside it)."""
    if all(s == 1.0 for s in scales):
        return video
    b, c, t, h, w = video.shape
    theta = torch.zeros(t, 2, 3, dtype=torch.float32, device=video.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / torch.tensor(scales)
    grid = F.affine_grid(theta, (t, c, h, w), align_corners=False)
    frames = video.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w).float()
    out = F.grid_sample(frames, grid.repeat(b, 1, 1, 1), mode="bilinear", padding_mode="reflection",
                        align_corners=False)
    return out.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4).to(video.dtype)


def zoom_frames(video: torch.Tensor, rate: float, first: int = 0) -> torch.Tensor:
    """video [B,C,T,H,W] -> each frame scaled about its centre by zoom_scales."""
    return scale_frames(video, zoom_scales(rate, video.shape[2], first))


def still_scales(rate: float, frames: int) -> list[float]:
    """The scales that bring frames 0 .. frames - 1 of a zoom at `rate` to its tightest frame's
    framing (the last of a zoom in, the first of a zoom out): each >= 1."""
    return [math.exp(max(0.0, rate) * (frames - 1) - rate * f) for f in range(frames)]


def measure_zoom(z: torch.Tensor, ignore: torch.Tensor | None = None) -> float:
    """The zoom rate (log scale per frame) that best stills consecutive frames z [C,T,H,W] in
    [-1, 1], in steps of ZOOM_STEP; 0 when none stills them by camera.MIN_GAIN or there is one
    frame only. Changes are capped as for drifts, so a subject crossing a still shot is no zoom.
    A slow rate counts (a world zoom's end, through H.264, read 0.006): the gain decides. ignore
    [H,W] bool: pixels left out (where a subject moves), with every block they touch."""
    if z.shape[1] < 2:
        return 0.0
    # Low-passed first: a city's rows of windows, a few pixels apart, changed past CHANGE_CAP under any
    # rate, so none stilled them by MIN_GAIN. Over both ends of 60 held-out world clips of still shots
    # and zooms, 24 of 120 were misread (every zoom of a city by day or at sunset); blurred by 1.5 px, 6
    # (zooms of a city at night); by 1.0 or 2.5 px, 6 and 7.
    z = blur_frames(z[None], ZOOM_BLUR)[0]
    block = min(ZOOM_BLOCK, *z.shape[-2:])
    keep = torch.ones(1, 1, z.shape[-2] // block, z.shape[-1] // block, device=z.device)
    if ignore is not None:
        keep = (F.avg_pool2d(ignore.to(z.device).float()[None, None], block) == 0).float()
        if not keep.any():
            return 0.0
    # Stretched to the frames' own contrast: a night shot's zoom changes its pixels little.
    lo, hi = torch.quantile(z.float().flatten()[::7], torch.tensor([0.02, 0.98], device=z.device))
    z = (z.float() - lo) * (2.0 / max(float(hi - lo), 0.03))

    def change(rate: float) -> torch.Tensor:  # per block of ZOOM_BLOCK pixels
        still = scale_frames(z[None], still_scales(rate, z.shape[1]))[0]
        moved = (still[:, 1:] - still[:, :-1]).abs().clamp(max=CHANGE_CAP).mean((0, 1))
        return keep * F.avg_pool2d(moved[None, None], block)

    # Each block counts the rate's change or none's, the smaller: a layer that does not zoom (the
    # night sky's stars) does not outweigh the ones that do. Over both ends of 60 held-out world
    # clips that the drift left still, 2 of 54 were misread (4 over whole frames, 6 unstretched).
    # Yet a subject walking in at a still shot's edge is stilled by a zoom in its blocks alone:
    # the head of a held-out static shot read -0.05, so ignore leaves its blocks out.
    none = change(0.0)
    steps = round(MAX_ZOOM_RATE / ZOOM_STEP)
    rates = [ZOOM_STEP * i for i in range(-steps, steps + 1) if i]
    spreads = [float(torch.minimum(change(r), none).sum()) for r in rates]
    best = min(range(len(rates)), key=spreads.__getitem__)
    if spreads[best] >= (1.0 - MIN_GAIN) * float(none.sum()):
        return 0.0
    return rates[best]


def continue_zoom(rate: float, given: int, new: int, tail: bool) -> tuple[list[float], float, int]:
    """How an extension of `new` frames continues a zoom at `rate` measured at its seam: (the scales
    that bring the `given` frames, the seam frame last for a tail and first for a head, to the
    framing the denoiser draws still; the rate and lead for zoom_frames on the new frames)."""
    if rate == 0.0:
        return [1.0] * given, 0.0, 0
    if (rate > 0) == tail:  # the new frames lie inside the seam frame
        return still_scales(rate, given), rate, 1
    widest = zoom_scales(rate, new)
    step = math.log(max(widest)) / max(new - 1, 1)  # the push's own rate (slowed for a long extension)
    seam = math.exp(-step * new)  # the seam frame within the widest new frame
    away = range(given - 1, -1, -1) if tail else range(given)  # frames from the seam
    return [seam * math.exp(-abs(rate) * j) for j in away], rate, 0
