"""The subject's motion as an explicit condition of the denoiser.

previz-v11 read "moving left" and "moving right" from the text alone, and drew most subjects standing
in mid-frame (the average of both directions): the two wordings' text states differ in one word, and
classifier-free guidance amplifies that little. A head reads the subject's speed from the prompt as
the camera head reads the drift, and the denoiser is told it as a number: the subject's speed across
the frame in pixels per frame, in the camera frame (model/camera.py) where the denoiser draws, so
the camera's drift is taken off it.
Training gives each clip its own speed; the unconditional branch of guidance is told none.
"""
from __future__ import annotations

import torch
from torch import nn

# The fastest subject the head can ask for, px per frame at the model's size: the world's fastest
# covers 0.45 of 256 px over 23 frames, 5.0.
MAX_SUBJECT_SPEED = 6.0
# The speed in the camera frame adds the camera's drift (model/camera.MAX_DRIFT); this scales it to
# about unit size for the embedding.
SPEED_SCALE = 5.0


class SubjectEmbedding(nn.Module):
    """A speed [B] (NaN: none given) -> a conditioning vector [B, dim], added to the denoiser's
    timestep embedding. The last layer starts at zero: a model that gains it samples as before."""

    def __init__(self, dim: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2, dim), nn.SiLU(), nn.Linear(dim, dim))
        nn.init.zeros_(self.net[2].weight)
        nn.init.zeros_(self.net[2].bias)

    def forward(self, speed: torch.Tensor) -> torch.Tensor:
        given = ~torch.isnan(speed)
        features = torch.stack([torch.where(given, speed, 0.0) / SPEED_SCALE, given.to(speed.dtype)], dim=1)
        return self.net(features.to(self.net[0].weight.dtype))
