"""A Gaussian blur of each frame of a video, for the steps that read or take its broad picture."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def blur_frames(z: torch.Tensor, sigma: float) -> torch.Tensor:
    """Each frame of z [B,C,T,h,w] blurred by a separable Gaussian of sigma (cells), edges replicated."""
    radius = max(1, round(3 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32, device=z.device)
    kernel = torch.exp(-x**2 / (2 * sigma * sigma))
    kernel = kernel / kernel.sum()
    b, c, t, h, w = z.shape
    y = z.float().permute(0, 2, 1, 3, 4).reshape(b * t * c, 1, h, w)
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode="replicate"), kernel.view(1, 1, 1, -1))
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="replicate"), kernel.view(1, 1, -1, 1))
    return y.reshape(b, t, c, h, w).permute(0, 2, 1, 3, 4)
