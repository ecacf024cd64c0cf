"""Zooms drawn as a digital zoom of a still scene.

A zoom is not a drift (model/camera.py), and the denoiser does not draw one: every zoom of the
previz evaluation read as a still shot. So, as for pans, the denoiser draws the still scene and
the zoom is made afterwards, as an editor's digital push-in would: frame f is the picture scaled
by exp(rate * f) about its centre (zoom in). A zoom out runs the same push backwards, ending on
the whole picture, so no frame needs what lies outside it. The rate is the log of the scale per
frame; a head reads it from the prompt (the world's zoom: 1.45 over 2 s, 0.016 a frame at 12 fps).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_ZOOM_RATE = 0.05    # log scale per frame the head can ask for
MIN_ZOOM_RATE = 0.008   # below, a still shot: half the world's zoom
MAX_ZOOM_SCALE = 2.0    # a long shot's zoom is slowed so its tightest frame is at most this much larger


def zoom_scales(rate: float, frames: int) -> list[float]:
    """Each frame's scale (>= 1; 1 for the widest) for a zoom rate, or all 1 below MIN_ZOOM_RATE."""
    if abs(rate) < MIN_ZOOM_RATE or frames < 2:
        return [1.0] * frames
    step = min(abs(rate), math.log(MAX_ZOOM_SCALE) / (frames - 1))
    scales = [math.exp(step * f) for f in range(frames)]
    return scales if rate > 0 else scales[::-1]


def zoom_frames(video: torch.Tensor, rate: float) -> torch.Tensor:
    """video [B,C,T,H,W] -> each frame scaled about its centre by zoom_scales (bilinear)."""
    scales = zoom_scales(rate, video.shape[2])
    if all(s == 1.0 for s in scales):
        return video
    b, c, t, h, w = video.shape
    theta = torch.zeros(t, 2, 3, dtype=torch.float32, device=video.device)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / torch.tensor(scales)
    grid = F.affine_grid(theta, (t, c, h, w), align_corners=False)
    frames = video.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w).float()
    out = F.grid_sample(frames, grid.repeat(b, 1, 1, 1), mode="bilinear", padding_mode="border", align_corners=False)
    return out.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4).to(video.dtype)
