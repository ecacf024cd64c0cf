"""Structure map of a video for restyle: layout and motion without colour, at latent resolution.

Four channels per latent cell: mean luminance, mean Sobel edge magnitude, max edge magnitude,
and luminance contrast (std). Each is averaged over the kt frames of a latent frame, so the map
has the latent's shape [B,4,T/kt,H/ks,W/ks] and can be concatenated to it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange

STRUCTURE_CHANNELS = 4
LUMA_WEIGHTS = (0.299, 0.587, 0.114)  # Rec. 601


def sobel_magnitude(luma: torch.Tensor) -> torch.Tensor:
    """[N,1,H,W] -> [N,1,H,W] gradient magnitude (replicate-padded, so borders are not edges)."""
    kx = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=luma.device, dtype=luma.dtype)
    kernel = torch.stack([kx, kx.t()])[:, None] / 8.0
    g = F.conv2d(F.pad(luma, (1, 1, 1, 1), mode="replicate"), kernel)
    return g.pow(2).sum(1, keepdim=True).add(1e-8).sqrt()


def structure_map(frames: torch.Tensor, time_compression: int, space_compression: int) -> torch.Tensor:
    """frames [B,3,T,H,W] in [-1,1] -> [B,4,T/kt,H/ks,W/ks], values roughly in [-1, 1]."""
    b, _, t, h, w = frames.shape
    kt, ks = time_compression, space_compression
    if t % kt or h % ks or w % ks:
        raise ValueError(f"frames {tuple(frames.shape)}: T must be a multiple of {kt}, H and W of {ks}")
    weights = torch.tensor(LUMA_WEIGHTS, device=frames.device, dtype=frames.dtype)
    luma = torch.einsum("bcthw,c->bthw", frames, weights)
    luma = rearrange(luma, "b t h w -> (b t) 1 h w")
    edge = sobel_magnitude(luma)
    mean_luma = F.avg_pool2d(luma, ks)
    contrast = (F.avg_pool2d(luma * luma, ks) - mean_luma ** 2).clamp(min=0).sqrt()
    maps = torch.cat([mean_luma, 4 * F.avg_pool2d(edge, ks), 2 * F.max_pool2d(edge, ks) - 1, 2 * contrast], dim=1)
    maps = rearrange(maps, "(b t k) c h w -> b c t k h w", b=b, k=kt)
    return maps.mean(dim=3)
