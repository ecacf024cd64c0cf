"""Rectified-flow training maths, as pure functions.

x_t = (1 - t) * x0 + t * noise, t in [0, 1]; the denoiser predicts the velocity v = noise - x0.
This is the convention of diffusers' FlowMatchEulerDiscreteScheduler (sigma = t), which samples.
"""
from __future__ import annotations

import torch


def shift_timesteps(t: torch.Tensor, shift: float) -> torch.Tensor:
    """The scheduler's time shift: t' = s*t / (1 + (s-1)*t); s > 1 spends more time at high noise."""
    return shift * t / (1 + (shift - 1) * t)


def sample_timesteps(batch: int, generator: torch.Generator | None = None, shift: float = 1.0,
                     device: torch.device | str = "cpu") -> torch.Tensor:
    """Logit-normal timesteps (SD3), shifted like the sampler, shape [batch] in (0, 1)."""
    u = torch.randn(batch, generator=generator, device="cpu")
    return shift_timesteps(torch.sigmoid(u), shift).to(device)


def add_noise(x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    t = t.reshape(-1, *([1] * (x0.dim() - 1))).to(x0.dtype)
    return (1 - t) * x0 + t * noise


def velocity_target(x0: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    return noise - x0


def predicted_x0(x_t: torch.Tensor, v: torch.Tensor, t: torch.Tensor | float) -> torch.Tensor:
    """Invert x_t = x0 + t*v (which follows from the two lines above): x0 = x_t - t*v."""
    if isinstance(t, torch.Tensor):
        t = t.reshape(-1, *([1] * (x_t.dim() - 1))).to(x_t.dtype)
    return x_t - t * v
