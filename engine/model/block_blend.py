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

So a moving subject still stepped once a block: it stood still for 4 frames and jumped 4 frames'
travel (a still shot's changes 0.7, 0.7, 0.9, 1.6 levels, over and over). move_within_blocks carries
what moves along the travel measured between neighbouring blocks, each frame as far as it stands
from its block's middle, as an editor's optical-flow retime spreads a judder over the frames between.
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
# Where a frame and the same frame of the next or previous block differ (5x5 px mean, [-1, 1] units)
# by the first of these, a subject moves; by the second, wholly. A block's redrawn texture differs
# by a few tens of levels of 255, the subject against its ground by a hundred.
MOVING = (0.25, 0.5)
# How far the moving region reaches beyond where the frames differ, and how softly it ends, px.
MOVING_REACH, MOVING_SOFT = 9, 9
MAX_TRAVEL = 6      # px per frame a subject's travel is searched up to
MOVED_FIT = 2 / 3   # a travel counts where it leaves this share of the difference no travel leaves


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
        near, edge = _aligned(video, f, other, offsets)
        weight = torch.full((1, 1, h, w), abs(share), dtype=video.dtype, device=video.device)
        if edge is not None:
            weight[..., edge] = 0
        out[:, :, f] = video[:, :, f] + weight * _agreement(near, video[:, :, f]) * (near - video[:, :, f])
    return out


def _agreement(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[B,1,H,W] 1 where frames a and b [B,C,H,W] differ by a block step, 0 where by a moving edge."""
    low, high = AGREE
    return (1 - (_difference(a, b) - low) / (high - low)).clamp(0, 1).to(a.dtype)


def _difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """[B,1,H,W]: how much frames a and b [B,C,H,W] differ, the largest channel's, 5x5 px mean."""
    return F.avg_pool2d((a - b).abs().amax(dim=1, keepdim=True).float(), 5, stride=1, padding=2,
                        count_include_pad=False)


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


def move_within_blocks(video: torch.Tensor, block: int, offsets: list[tuple[int, int]] | None = None
                       ) -> torch.Tensor:
    """video [B,C,T,H,W] decoded (blend_blocks' arguments). Where a frame differs from the same frame of a
    neighbouring block as a moving subject does, it is carried along x by the travel measured there
    between the two blocks, less what its own block already moves it (an extension's subject can move
    part of the way inside a block), in proportion to its distance in frames from its block's middle:
    the subject travels every frame rather than once a block; the picture around it stretches by at
    most that much."""
    frames, w = video.shape[2], video.shape[-1]
    count = frames // block
    middle = [k * block + block // 2 for k in range(count)]
    travel = [_travel(video, middle[k], middle[k + 1], offsets) for k in range(count - 1)]  # px per block
    if not any(travel):
        return video
    # What already moves inside a block, first frame to last, as px over a whole block at that pace. 8 s
    # generates of 12 held-out prompts: the biggest frame change within 1.5x the median in 10 (9 without),
    # the worst 1.62x (2.06x), the median 1.27x (1.23x).
    within = [_travel(video, k * block, k * block + block - 1, offsets) * block / (block - 1) for k in range(count)]
    xs = torch.arange(w, dtype=torch.float32, device=video.device)
    out = video.clone()
    for f in range(frames):
        k, i = divmod(f, block)
        share = (i + 0.5) / block - 0.5  # blocks from its block's middle: < 0 before it
        pair = k if share > 0 else k - 1
        if not 0 <= pair < count - 1 or not travel[pair]:
            continue
        moving = _soften(_reach(_moving(video, f, f + (block if share > 0 else -block), offsets)))[:, 0]
        rows = moving.amax((0, 2)).nonzero()[:, 0]
        if not len(rows):
            continue
        rows = slice(int(rows.min()), int(rows.max()) + 1)
        # each row resampled along x, from where its pixels stood: linear between the two nearest
        source = (xs - (travel[pair] - within[k]) * share * moving[:, rows]).clamp(0, w - 1)  # [B,rows,W]
        left = source.floor().long()
        right = (left + 1).clamp(max=w - 1)
        part = (source - left)[:, None]
        frame = video[:, :, f, rows].float()
        at_left = frame.gather(-1, left[:, None].expand_as(frame))
        at_right = frame.gather(-1, right[:, None].expand_as(frame))
        out[:, :, f, rows] = ((1 - part) * at_left + part * at_right).to(video.dtype)
    return out


def _travel(video: torch.Tensor, f: int, other: int, offsets: list[tuple[int, int]] | None) -> float:
    """How far (px along x) what moves between frames f and `other` travels: the whole-pixel shift
    that best carries frame f onto frame `other` where they differ as a subject moving does; 0 where
    nothing moves or no shift fits better than none by a third."""
    moving = _reach(_moving(video, f, other, offsets))
    if float(moving.sum()) < MOVING_REACH ** 2:
        return 0.0
    near, here = _aligned(video, f, other, offsets)[0].float(), video[:, :, f].float()
    reach = MAX_TRAVEL * abs(other - f)
    rows = moving.amax((0, 1, 3)).nonzero()[:, 0]  # only the rows where something moves
    top, bottom = int(rows.min()), int(rows.max()) + 1
    moving, here, near = moving[..., top:bottom, :], here[..., top:bottom, :], near[..., top:bottom, :]
    errors = {u: float((moving * (torch.roll(here, u, -1) - near).abs().amax(1, keepdim=True)).sum())
              for u in range(-reach, reach + 1)}
    best = min(errors, key=errors.get)
    return float(best) if errors[best] < MOVED_FIT * errors[0] else 0.0


def _reach(x: torch.Tensor) -> torch.Tensor:
    """x [B,1,H,W] at its largest over MOVING_REACH px around (rows, then columns: the same, cheaper)."""
    r = MOVING_REACH
    return F.max_pool2d(F.max_pool2d(x, (r, 1), 1, (r // 2, 0)), (1, r), 1, (0, r // 2))


def _soften(x: torch.Tensor) -> torch.Tensor:
    """x [B,1,H,W] averaged over MOVING_SOFT px around, as _reach."""
    r = MOVING_SOFT
    x = F.avg_pool2d(x, (r, 1), 1, (r // 2, 0), count_include_pad=False)
    return F.avg_pool2d(x, (1, r), 1, (0, r // 2), count_include_pad=False)


def _moving(video: torch.Tensor, f: int, other: int, offsets: list[tuple[int, int]] | None) -> torch.Tensor:
    """[B,1,H,W] in [0, 1]: how surely frame f differs from frame `other` (aligned along the drift) as a
    moving subject does; 0 in the strip the alignment brings across the edge."""
    near, edge = _aligned(video, f, other, offsets)
    low, high = MOVING
    sure = ((_difference(near, video[:, :, f]) - low) / (high - low)).clamp(0, 1)
    return sure if edge is None else sure.masked_fill(edge, 0.0)


def _aligned(video: torch.Tensor, f: int, other: int, offsets: list[tuple[int, int]] | None
             ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Frame `other` of video [B,C,T,H,W] rolled onto frame f along the drift's offsets, and [H,W] the
    strip the roll brought across the frame's edge (None for a still camera)."""
    near = video[:, :, other]
    if offsets is None:
        return near, None
    h, w = video.shape[-2:]
    dy, dx = offsets[f][0] - offsets[other][0], offsets[f][1] - offsets[other][1]
    return torch.roll(near, (dy, dx), (-2, -1)), wrapped(h, w, dy, dx, video.device)
