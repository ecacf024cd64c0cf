"""New frames without brightness pumping.

A generated clip's mean brightness wobbles from frame to frame (the shipped model: a mean absolute
second difference of 1.1 levels, against 0.03 for the world's footage it learned from), which reads
as flicker. As a deflicker pass does in an editor, each frame's mean luma is moved onto a smooth
curve through them, by the same offset in every channel: slow changes (a fade, a pan into a
brighter sky) stay, the pumping goes, and the picture is untouched. The curve is a local linear
fit under a Gaussian window, so a steady fade stays exactly as it was, at the clip's ends too.
"""
from __future__ import annotations

import torch

from .structure import LUMA_WEIGHTS

SIGMA_FRAMES = 2.0  # at 12 fps the pumping repeats every 4 frames (one latent frame); light changes are slower


def deflicker(video: torch.Tensor, sigma: float = SIGMA_FRAMES) -> torch.Tensor:
    """video [B,C,T,H,W] RGB in [-1,1] -> the same frames, each shifted onto the smoothed mean luma."""
    frames = video.shape[2]
    if frames < 3:
        return video
    weights = torch.tensor(LUMA_WEIGHTS, device=video.device, dtype=torch.float32)
    mean = torch.einsum("bcthw,c->bt", video.float(), weights) / (video.shape[3] * video.shape[4])
    t = torch.arange(frames, device=video.device, dtype=torch.float32)
    d = t[None, :] - t[:, None]  # [frame, neighbour]
    w = torch.exp(-0.5 * (d / sigma) ** 2)
    s0, s1, s2 = w.sum(1, keepdim=True), (w * d).sum(1, keepdim=True), (w * d * d).sum(1, keepdim=True)
    fit = w * (s2 - s1 * d) / (s0 * s2 - s1 * s1)  # each row: the weighted line's value at its frame
    shift = mean @ fit.T - mean
    return video + shift[:, None, :, None, None].to(video.dtype)
