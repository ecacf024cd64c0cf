"""Held frames: where a new latent frame starts when known frames are near it.

In the camera frame (model/camera.py) a scene holds still, so the best first guess for a new
frame is the known frame next to it (between two known frames, the blend of both). Sampling
keeps such a frame at its anchor, noised to each step's level, until its release level: after
that the steps left refine it rather than redraw it. Frames next to the known ones are released
late (kept close: no seam), frames further away earlier (free to change): per frame what
restyle's strength is for a whole clip.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

# A long shot's later windows: cells within this many (odd) of the subject's box, where it covers more
# than this share of a cell, are not held to the known frames (free_subject). Over 12 held-out 8 s
# shots (seeds from 700), the biggest change over the median fell from 1.67 to 1.64; with
# move_within_blocks, to 1.41 (seeds from 300: 1.39 to 1.34).
SUBJECT_FREE, SUBJECT_FREE_COVER = 5, 0.05


def held_frames(z: torch.Tensor, have: torch.Tensor, ramp: tuple[float, float]
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """z [B,C,T,h,w] latents, of which the frames in `have` [T] are known; ramp (first, step):
    the release level of a new frame d frames from the nearest known one is first + step (d - 1),
    at most 1. Returns (anchor latents like z, release levels [1,1,T,1,1]); known frames have
    release 0 (always held), frames with nothing known in the window 1 (never held)."""
    first, step = ramp
    frames = z.shape[2]
    known = [i for i in range(frames) if bool(have[i])]
    anchor = z.clone()
    release = torch.ones(frames, dtype=z.dtype, device=z.device)
    release[have.to(z.device)] = 0.0
    for f in range(frames):
        if bool(have[f]) or not known:
            continue
        before = max((k for k in known if k < f), default=None)
        after = min((k for k in known if k > f), default=None)
        if before is not None and after is not None:
            share = (f - before) / (after - before)
            anchor[:, :, f] = (1 - share) * z[:, :, before] + share * z[:, :, after]
            distance = min(f - before, after - f)
        else:
            near = before if before is not None else after
            anchor[:, :, f] = z[:, :, near]
            distance = abs(f - near)
        release[f] = min(1.0, first + step * (distance - 1))
    return anchor, release.reshape(1, 1, frames, 1, 1)


def free_subject(release: torch.Tensor, layout: torch.Tensor, have: torch.Tensor) -> torch.Tensor:
    """release [1,1,T,1,1] (held_frames) -> [1,1,T,h,w]: new frames are never held to the known ones
    in the cells within SUBJECT_FREE cells of the subject's box there or in any known frame, so the
    subject moves on from where the frames before left it rather than standing on its known place."""
    spread = (1, SUBJECT_FREE, SUBJECT_FREE), 1, (0, SUBJECT_FREE // 2, SUBJECT_FREE // 2)
    known = have.view(1, 1, -1, 1, 1).to(layout.device)
    box = layout[:, None].float()
    box = torch.maximum(F.max_pool3d(box, *spread), F.max_pool3d((box * known).amax(2, keepdim=True), *spread))
    free = (box > SUBJECT_FREE_COVER) & ~known
    return torch.where(free, torch.ones_like(free, dtype=release.dtype), release.expand_as(free))
