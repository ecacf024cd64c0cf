"""Temporal noise reduction of new frames: boiling averaged out, motion kept.

The denoiser's latents differ from one frame to the next where nothing moves, so a generated
still shot changed 1.6-3.8 levels a frame (the world's footage: under 0.5) and its texture
boils. As an editor's temporal noise reduction does, each pixel is averaged with the same pixel
of its neighbouring frames (aligned along the camera's drift first), each weighted by a Gaussian
over their distance in time and by how alike the two are: a difference of a few levels is the
boiling and is averaged away; a large one is something moving (a subject's edge) and is kept.
The strip a roll carries across the frame's edge takes no part. The world's own footage passes
through it at 43-54 dB (its subject at 35-43 dB, every subject's path still read right, 8 held-out
clips); over 3 generated 8 s shots the biggest jump was 1.47 times the median change (1.66 with
12 levels and 2 frames each side).

The sampler does the same to its latents at every step (steady_velocity): in the camera frame a
scene holds still, so each latent frame's clean estimate is averaged with its neighbours' where
they agree, and the steps left refine one scene rather than six that drift apart. On 12 held-out
clips with previz-v14 it took extend seam regions passing from 13 to 16 of 24, the subject's path
and colour unchanged (on quality.py's 12 other clips: 16 either way); twice as strong (alike 2,
sigma 2) took 3 more seams but lost 2 paths.

An extension or fill steadies its ground far harder (GROUND_ALIKE, GROUND_SIGMA_FRAMES): there the
clip fixes the scene, and the new frames' ground boiled where the clip's held still (a still shot's
clip changes half a level a frame, its new frames one). The cells near the subject's told layout keep
LATENT_ALIKE, so a moving subject is never averaged with where it was. With run v22's weights, on
quality.py's 12 clips extend seam regions passing rose from 88% to 92% and the subject moving on from
79% to 92%; on 12 more clips (seeds from 600) the regions' geometric mean fell from 1.34 to 1.31, the
subject moving on 83% to 88%, fills the same. Steadied that hard everywhere, the subject stood still:
moving on fell to 54%, and a generate's free colour and path to 0.75.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .camera import wrapped

RADIUS = 3          # frames either side
SIGMA_FRAMES = 2.0  # the Gaussian over time
ALIKE = 32 / 127.5  # differences (in [-1,1] units, 32 levels of 255) under which pixels count as the same
LATENT_SIGMA_FRAMES = 1.5  # steady_velocity's Gaussian over latent frames (every frame of a window is in reach)
LATENT_ALIKE = 1.0  # its alike difference, in the latents' unit variance
GROUND_SIGMA_FRAMES = 4.0  # steady_velocity's Gaussian where it is given the ground (an extension, a fill)
GROUND_ALIKE = 5.0  # and the alike difference there, on the ground itself


def reduce_noise(video: torch.Tensor, offsets: list[tuple[int, int]] | None = None, radius: int = RADIUS,
                 sigma_frames: float = SIGMA_FRAMES, alike: float | torch.Tensor = ALIKE) -> torch.Tensor:
    """video [B,C,T,H,W] in [-1,1]; offsets: each frame's (dy, dx) picture offset along the camera's
    drift (model/camera.py frame_offsets), None for a still camera; radius: frames either side,
    sigma_frames: the Gaussian over time, alike: the difference under which two count as the same,
    or a map of it per frame [T,1,H,W], of which a pair of frames takes the smaller."""
    b, c, frames, h, w = video.shape
    out = torch.empty_like(video)
    for f in range(frames):
        own = video[:, :, f].float()
        total = own.clone()
        weight = torch.ones(b, 1, h, w, dtype=own.dtype, device=own.device)
        for k in range(max(0, f - radius), min(frames, f + radius + 1)):
            if k == f:
                continue
            other = video[:, :, k].float()
            near = torch.ones(1, 1, h, w, dtype=own.dtype, device=own.device)
            if offsets is not None:
                dy, dx = offsets[f][0] - offsets[k][0], offsets[f][1] - offsets[k][1]
                other = torch.roll(other, (dy, dx), (-2, -1))
                near = near.masked_fill(wrapped(h, w, dy, dx, own.device), 0.0)
            pair_alike = torch.minimum(alike[f], alike[k]) if torch.is_tensor(alike) else alike
            same = torch.exp(-((other - own).abs().amax(dim=1, keepdim=True) / pair_alike) ** 2)
            wk = near * same * math.exp(-0.5 * ((k - f) / sigma_frames) ** 2)
            total += wk * other
            weight += wk
        out[:, :, f] = (total / weight).to(video.dtype)
    return out


def steady_velocity(x: torch.Tensor, v: torch.Tensor, sigma: float, ground: torch.Tensor | None = None
                    ) -> torch.Tensor:
    """A sampling step's velocity v for latents x [B,C,T,h,w] in the camera frame at noise level
    sigma (> 0), with its clean estimate x - sigma v reduced over the latent frames. ground [T,h,w]
    bool (ground_cells): the cells steadied as ground, for an extension or fill; None for none."""
    if ground is None:
        sigma_frames, alike = LATENT_SIGMA_FRAMES, LATENT_ALIKE
    else:
        sigma_frames = GROUND_SIGMA_FRAMES
        alike = torch.where(ground, GROUND_ALIKE, LATENT_ALIKE).to(device=x.device, dtype=x.dtype)[:, None]
    x0 = reduce_noise(x - sigma * v, radius=x.shape[2], sigma_frames=sigma_frames, alike=alike)
    return (x - x0) / sigma


def ground_cells(cover: torch.Tensor | None, shape: tuple[int, int, int]) -> torch.Tensor:
    """[T,h,w] bool: the latent cells more than one cell from the subject's told layout (cover
    [T,h,w], model/subject.py layout_map) in their frame; all of them for cover None (no subject)."""
    if cover is None:
        return torch.ones(shape, dtype=torch.bool)
    return F.max_pool2d((cover > 0).float()[:, None], 3, 1, 1)[:, 0] == 0
