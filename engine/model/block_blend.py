"""Decoded latent frames meet without a step.

Each latent frame decodes to its time_compression frames on its own. Inside one block the frames
change smoothly, but from one block to the next the denoiser's latents differ by more than a
frame's worth: a generated still shot changed about 1 level a frame inside blocks and 4 across
them, so every fourth frame showed a jump. Blending each frame with the same frame of the next
(or previous) block, by a tent over time centred on its own block (for 4 frames a block: 1/8 and
3/8 of the neighbour's), spreads that step evenly over the frames. Neighbours are aligned along
the camera's drift first; the strip a roll brings across the frame's edge keeps the frame's own
pixels, so the decoder's edge columns never come inside. Where the two frames differ by far more
than a step, nothing is blended: a moving subject differs from itself 4 frames on, and blending it drew a
ghost (12 held-out world clips through the code and back in the camera frame: subject 22.8 dB blended
everywhere, 25.0 dB so).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .camera import frame_offsets, roll_frames, split_offsets, wrapped

# Differences between a frame and its neighbour's (in [-1, 1] units, 5x5 px mean) blended in full up
# to the first and not at all from the second. A step between blocks is a few levels of 255; a
# subject's edge against the ground differs by a hundred, and blending it drew a ghost 4 frames away.
# Yet the denoiser's blocks differ by tens where it redraws texture: gated from (0.06, 0.16) up,
# quality.py's extend seam regions passing fell from 67% to 42%; from 0.5 up, 62%.
AGREE = (0.5, 1.0)


def blend_blocks(video: torch.Tensor, block: int, offsets: list[tuple[int, int]] | None = None,
                 given: torch.Tensor | None = None) -> torch.Tensor:
    """video [B,C,T,H,W] decoded, T a multiple of `block`; offsets: each frame's (dy, dx) picture
    offset along the camera's drift (model/camera.py frame_offsets), None for a still camera; given
    [T / block] bool: blocks a request gave (an extend's or fill's clip), which neither blend nor
    lend to their neighbours: the seam between them and the new frames is matched apart
    (model/seams.py), and blending it would leave a step of a quarter of it inside the new frames."""
    b, c, frames, h, w = video.shape
    if frames % block:
        raise ValueError(f"{frames} frames are not whole blocks of {block}")
    out = video.clone()
    for f in range(frames):
        k, i = divmod(f, block)
        share = (i + 0.5) / block - 0.5  # < 0: nearer the previous block, > 0: the next
        other = f + (block if share > 0 else -block)
        if share == 0 or not 0 <= other < frames:
            continue
        if given is not None and (bool(given[k]) or bool(given[other // block])):
            continue
        near = video[:, :, other]
        weight = torch.full((1, 1, h, w), abs(share), dtype=video.dtype, device=video.device)
        if offsets is not None:
            dy, dx = offsets[f][0] - offsets[other][0], offsets[f][1] - offsets[other][1]
            near = torch.roll(near, (dy, dx), (-2, -1))
            weight[..., wrapped(h, w, dy, dx, video.device)] = 0
        out[:, :, f] = video[:, :, f] + weight * _agreement(near, video[:, :, f]) * (near - video[:, :, f])
    return out


def _agreement(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[B,1,H,W] 1 where frames a and b [B,C,H,W] differ by a block step, 0 where by a moving edge."""
    diff = F.avg_pool2d((a - b).abs().amax(dim=1, keepdim=True).float(), 5, stride=1, padding=2,
                        count_include_pad=False)
    low, high = AGREE
    return (1 - (diff - low) / (high - low)).clamp(0, 1).to(a.dtype)


def decode_blended(model, z: torch.Tensor, drift: tuple[float, float] | None,
                   given: torch.Tensor | None = None) -> torch.Tensor:
    """Latents z [B,C,N,h,w], made in the camera frame of `drift` (None: a still camera), decoded
    and moved back out of it, blocks blended: the frames before subpixel_frames adds the fraction
    of a pixel. The latents move by whole cells and the frames by the pixels left (split_offsets)."""
    kt = model.config.time_compression
    if drift is None:
        return blend_blocks(model.decode_latents(z), kt, given=given)
    cells, rest = split_offsets(drift, z.shape[2], kt, model.config.space_compression)
    video = roll_frames(model.decode_latents(roll_frames(z, cells, forward=True)), rest, forward=True)
    return blend_blocks(video, kt, frame_offsets(drift, video.shape[2]), given=given)
