"""New frames that meet the clip they continue.

The decoded first frame of an extension never equals the clip's frame next to it: the autoencoder
loses some detail and the denoiser redraws the rest, so a seam showed 5-15 times a frame's change.
An editor blends there. The difference at the seam (the clip's frame, carried one frame along the
camera's drift, less the new frame next to it) is added to the new frames, moving with the camera
and fading out linearly over `span` frames, as if the seam were the frame before the first new
one: the new frames leave the clip in even steps (none repeats its frame) and the generated
picture takes over. Between two seams (a fill) the two differences cross-fade, each gone at the
other seam. Where the drift carries the difference across the
frame's edge it is left out (the strip the move reveals is new). An animated still is its first
frame: there the difference is whole at the first new frame (lead 0), so the shot starts on the
still itself rather than on the autoencoder's copy of it.
"""
from __future__ import annotations

import torch

from .camera import frame_offsets, wrapped


def match_seams(video: torch.Tensor, before: torch.Tensor | None, after: torch.Tensor | None,
                drift: tuple[float, float] | None, span: int, lead: int = 1) -> torch.Tensor:
    """video [B,C,T,H,W] new frames; before / after [B,C,H,W] the clip's frames just before and
    just after them (None where nothing is given); drift (dx, dy) px per frame or None; span: the
    frames a difference takes to fade (between two seams, at most the frames between them); lead:
    frames from `before` to the first new frame (0: the first new frame stands where it is)."""
    out = video.clone()
    frames = video.shape[2]
    drift = drift or (0.0, 0.0)
    if before is not None and after is not None:  # each side's difference is gone at the other seam
        span = min(span, frames)
    if before is not None:
        out += _carried(before, video[:, :, 0], drift, frames, span, forward=True, lead=lead)
    if after is not None:
        back = (-drift[0], -drift[1])
        out += _carried(after, video[:, :, -1], back, frames, span, forward=False)
    return out


def _carried(clip_frame: torch.Tensor, new_frame: torch.Tensor, drift: tuple[float, float], frames: int,
             span: int, forward: bool, lead: int = 1) -> torch.Tensor:
    """The seam's difference for each of `frames` frames [B,C,T,H,W], fading over span frames away
    from the seam (forward: from the first frame on; else from the last frame back), the clip's
    frame standing `lead` frames before the first."""
    h, w = new_frame.shape[-2:]
    offsets = frame_offsets(drift, frames + lead)
    expected = torch.roll(clip_frame, offsets[lead], (-2, -1))
    expected = torch.where(wrapped(h, w, *offsets[lead], clip_frame.device), new_frame, expected)
    difference = expected - new_frame
    parts = []
    for j in range(frames):
        weight = max(0.0, 1.0 - (j + lead) / (span + lead))
        dy, dx = offsets[j + lead][0] - offsets[lead][0], offsets[j + lead][1] - offsets[lead][1]
        moved = torch.roll(difference, (dy, dx), (-2, -1))
        moved = moved.masked_fill(wrapped(h, w, dy, dx, moved.device), 0.0)
        parts.append(weight * moved)
    carried = torch.stack(parts, dim=2)
    return carried if forward else carried.flip(2)
