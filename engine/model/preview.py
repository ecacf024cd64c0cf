"""Cheap step previews: a 1x1 latent->RGB projection, upsampled, instead of the full decoder.

The projection is part of the model weights. fit_preview() sets it by least squares against
decoded frames (each latent cell against the mean colour of the pixels it decodes to).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn


class LatentPreview(nn.Module):
    def __init__(self, latent_channels: int):
        super().__init__()
        self.proj = nn.Conv2d(latent_channels, 3, 1)

    def forward(self, z: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """z [C,H,W] (one scaled latent frame) -> uint8 [height, width, 3] for size (width, height)."""
        rgb = self.proj(z[None].to(self.proj.weight.dtype))
        rgb = F.interpolate(rgb.float(), size=(size[1], size[0]), mode="bilinear", align_corners=False)
        rgb = ((rgb[0].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return rearrange(rgb, "c h w -> h w c")


@torch.no_grad()
def fit_preview(preview: LatentPreview, latents: torch.Tensor, frames: torch.Tensor) -> float:
    """Least-squares fit of the projection. latents [B,C,t,h,w] (scaled), frames [B,3,T,H,W] in
    [-1,1] (e.g. the decoder's output for those latents). Returns the fit's RMS error."""
    b, c, t, h, w = latents.shape
    target = F.adaptive_avg_pool3d(frames.float(), (t, h, w))
    x = rearrange(latents.float(), "b c t h w -> (b t h w) c")
    x = torch.cat([x, torch.ones(x.shape[0], 1, device=x.device)], dim=1)  # the latents' device (a GPU run's)
    y = rearrange(target, "b c t h w -> (b t h w) c")
    sol = torch.linalg.lstsq(x, y).solution  # [C+1, 3]
    preview.proj.weight.copy_(sol[:c].t().reshape(3, c, 1, 1))
    preview.proj.bias.copy_(sol[c])
    return float((x @ sol - y).pow(2).mean().sqrt())
