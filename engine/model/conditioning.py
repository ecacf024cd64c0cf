"""The condition tensor concatenated to the noisy latent: known latents, known mask, structure.

cond = [known latents * mask (C) | mask (1) | structure * structure_weight (S)], all at latent
resolution; zeros (and mask 0) where nothing is known. One layout for every operation:
  generate: nothing known            animate: latent frame 0 known
  extend tail: the first frames      extend head: the last frames      fill: both ends
  restyle: structure channels (plus overlap with the previous window when windowed)
"""
from __future__ import annotations

from collections.abc import Iterable

import torch

from .structure import STRUCTURE_CHANNELS


def known_mask(frames: int, positions: Iterable[int], batch: int = 1, device=None) -> torch.Tensor:
    """Bool [B, T] mask with True at the given latent-frame positions."""
    mask = torch.zeros(batch, frames, dtype=torch.bool, device=device)
    for p in positions:
        if not -frames <= p < frames:
            raise ValueError(f"known position {p} is outside 0..{frames - 1}")
        mask[:, p] = True
    return mask


def build_condition(latent_shape: tuple[int, ...], known_latents: torch.Tensor | None = None,
                    mask: torch.Tensor | None = None, structure: torch.Tensor | None = None,
                    structure_weight: float = 1.0, dtype: torch.dtype = torch.float32,
                    device=None) -> torch.Tensor:
    """latent_shape (B,C,T,H,W); known_latents [B,C,T,H,W] (only masked frames are used);
    mask [B,T] bool; structure [B,S,T,H,W] -> cond [B, C+1+S, T, H, W]."""
    b, c, t, h, w = latent_shape
    if known_latents is not None and mask is None:
        raise ValueError("known_latents needs a mask of the known frames")
    if mask is not None and tuple(mask.shape) != (b, t):
        raise ValueError(f"mask must be [B,T]=({b},{t}), got {tuple(mask.shape)}")
    if known_latents is not None and tuple(known_latents.shape) != (b, c, t, h, w):
        raise ValueError(f"known_latents must be {(b, c, t, h, w)}, got {tuple(known_latents.shape)}")
    if structure is not None and tuple(structure.shape) != (b, STRUCTURE_CHANNELS, t, h, w):
        raise ValueError(f"structure must be {(b, STRUCTURE_CHANNELS, t, h, w)}, got {tuple(structure.shape)}")
    cond = torch.zeros(b, c + 1 + STRUCTURE_CHANNELS, t, h, w, dtype=dtype, device=device)
    if mask is not None:
        m = mask.to(device=cond.device, dtype=dtype)[:, None, :, None, None]
        cond[:, c:c + 1] = m.expand(b, 1, t, h, w)
        if known_latents is not None:
            cond[:, :c] = known_latents.to(cond.device, dtype) * m
    if structure is not None:
        cond[:, c + 1:] = structure.to(cond.device, dtype) * structure_weight
    return cond
