"""The subject's motion as an explicit condition of the denoiser.

previz-v11 read "moving left" and "moving right" from the text alone, and drew most subjects standing
in mid-frame (the average of both directions): the two wordings' text states differ in one word, and
classifier-free guidance amplifies that little. A head reads the subject's speed from the prompt as
the camera head reads the drift, and the denoiser is told it as a number: the subject's speed across
the frame in pixels per frame, in the camera frame (model/camera.py) where the denoiser draws, so
the camera's drift is taken off it.
Training gives each clip its own speed; the unconditional branch of guidance is told none.

With subject_layout the denoiser is also told where the subject is: a map of how much of each latent
cell the subject's box covers in each latent frame (layout_map). The subject is 10-25 px across,
about one 16-px token, and without it the denoiser had to choose a place from noise alone: in 12 of
48 held-out clips previz-v1 drew no subject (or smeared its colour over the sea) or left a moving one
standing.
A generate places the box from its seed (place_subject), as the world places its subjects, along the
head's speed.
"""
from __future__ import annotations

import re

import numpy as np
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


# Where the world puts its subjects (engine/train/world.sample_scene), as fractions: a box placed
# from the seed lands where the training clips had theirs.
LAYOUT_X = (0.12, 0.88)  # the path's extent across the width
LAYOUT_Y = (0.58, 0.78)  # the centre's height
LAYOUT_SIZE = (0.08, 0.12)  # half the box's side, of the height


def layout_map(cx: np.ndarray, cy: np.ndarray, size: np.ndarray, time_compression: int, space_compression: int,
               height: int, width: int, offsets: np.ndarray | None = None) -> np.ndarray:
    """The subject's box per frame (centre cx, cy and half side `size`, pixels, [F] each) -> [t,h,w]
    float32: the share of each latent cell the box covers, averaged over each latent frame's frames
    (F = t * time_compression). offsets [F,2]: each frame's (dy, dx) picture offset (camera.frame_offsets)
    where the box is in the camera frame, None where it is the picture's own. Only the part of the box
    the picture shows is drawn, and in the camera frame it wraps round as the frame does
    (camera.roll_frames): a box carried on past the picture's edge came back in at the other side."""
    def cover(centre: np.ndarray, half: np.ndarray, shift: np.ndarray, cells: int) -> np.ndarray:  # [F, cells]
        span = cells * space_compression
        edges = np.arange(cells + 1, dtype=np.float64) * space_compression
        lo = np.maximum(centre - half, -shift)  # the picture shows camera-frame [-shift, span - shift]
        hi = np.maximum(np.minimum(centre + half, span - shift), lo)
        turn = np.floor(lo / span) * span
        lo, hi = (lo - turn)[:, None], (hi - turn)[:, None]
        inside = np.clip(np.minimum(hi, edges[None, 1:]) - np.maximum(lo, edges[None, :-1]), 0, None)
        beyond = np.clip(np.minimum(hi - span, edges[None, 1:]) - edges[None, :-1], 0, None)  # wrapped round
        return (inside + beyond) / space_compression

    h, w = height // space_compression, width // space_compression
    frames = np.asarray(cx, np.float64).shape[0]
    if frames % time_compression:
        raise ValueError(f"layout: {frames} frames is not a multiple of {time_compression}")
    shift = np.zeros((frames, 2)) if offsets is None else np.asarray(offsets, np.float64)
    half = np.asarray(size, np.float64)
    per_frame = cover(np.asarray(cy, np.float64), half, shift[:, 0], h)[:, :, None] \
        * cover(np.asarray(cx, np.float64), half, shift[:, 1], w)[:, None, :]
    return per_frame.reshape(frames // time_compression, time_compression, h, w).mean(1).astype(np.float32)


def place_subject(screen_speed: float, frame_speed: float, frames: int, width: int, height: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A subject's box for a generated clip: (cx, cy, size) per frame in pixels, in the camera frame.
    It starts where its path across the screen (screen_speed, px per frame) stays within LAYOUT_X,
    and moves frame_speed (the screen speed less the camera's drift) in the camera frame."""
    travel = screen_speed * (frames - 1)
    lo, hi = LAYOUT_X[0] * width + max(0.0, -travel), LAYOUT_X[1] * width - max(0.0, travel)
    start = float(rng.uniform(lo, hi)) if hi > lo else (width - travel) / 2
    t = np.arange(frames, dtype=np.float64)
    cx = start + frame_speed * t
    cy = np.full(frames, rng.uniform(*LAYOUT_Y) * height)
    size = np.full(frames, rng.uniform(*LAYOUT_SIZE) * height)
    return cx, cy, size


# The words that name the previz subject (engine/train/captions.SHAPE_WORDS, world.SHAPES).
SUBJECT_WORDS = frozenset({"ball", "box", "sphere", "cube"})


def names_subject(prompt: str) -> bool:
    """Whether the prompt asks for a subject (a ball or box, by any of the captions' words)."""
    return not SUBJECT_WORDS.isdisjoint(re.findall(r"[a-z]+", (prompt or "").lower()))
