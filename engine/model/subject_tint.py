"""A white subject as the prompt asks for it: the tint the denoiser draws over it taken off.

The denoiser draws a white ball or box with a cast of the scene's light, pale yellow over a field by
day or pink at sunset, which is neither white nor a colour: the free-phrasing judge found no subject
in 2 of 12 held-out prompts (quality.py's seeds from 2,200), both white subjects. Guidance does not
cure it: at 6 instead of 4 those two came out white, but over 72 held-out prompts the times of day and
subject paths got worse (sample 1's free times of day 1.00 to 0.75).

Where the prompt's subject is white, the pipeline knows where it drew it: the box it told the denoiser
(pipeline._path_layout). In each frame the pixels of that box nearer the subject's drawn colour (the
median of the box's middle) than any colour of the ground round the box are taken as the subject, and
their colour is set to the grey of their brightest channel, which keeps the drawn shading. A drawn
subject that is saturated is another colour, not a tint, and is left as drawn.
"""
from __future__ import annotations

import re

import numpy as np
import torch
import torch.nn.functional as F

from .subject import names_subject
from .subject_key import SUBJECT_MIN_SATURATION, hsv

# The colour words of the previz subjects (engine/train/world.COLORS).
COLOUR_WORDS = frozenset({"red", "green", "blue", "yellow", "white"})
# The ring of ground round the box: from this far outside its side (px) to RING_WIDTH further.
RING_GAP = 2
RING_WIDTH = 4
# Pixels of the ring this near the subject's drawn colour (RGB distance in [0, 1]) are its bleed, not
# ground: where blocks of frames meet, the decoder blends two drawings of the subject.
BLEED = 0.12
# A box's drawn colour this bright (value) and less saturated than a coloured subject is a white one
# drawn tinted.
TINT_MIN_VALUE = 0.5


def asks_white(prompt: str) -> bool:
    """Whether the prompt's subject is white: it names a subject and white, and no other colour."""
    words = set(re.findall(r"[a-z]+", (prompt or "").lower()))
    return names_subject(prompt) and words & COLOUR_WORDS == {"white"}


def untint_subject(video: torch.Tensor, boxes: np.ndarray) -> torch.Tensor:
    """video [1,3,T,H,W] in [-1, 1], boxes [T,3] each frame's subject box (centre x, y and half side,
    px, in the picture; NaN where there is none): the box the denoiser was told, or where a restyle's
    input shows its subject -> the video with the subject in each box drawn white."""
    out = video.float().cpu()  # per-pixel masks and the drawn colour's hsv are worked on the CPU
    height, width = video.shape[-2:]
    for t, (cx, cy, half) in enumerate(boxes):
        if not np.isfinite(cx):
            continue  # the frame shows no subject
        reach = int(np.ceil(half)) + RING_GAP + RING_WIDTH
        x0, x1 = max(0, int(cx) - reach), min(width, int(cx) + reach + 1)
        y0, y1 = max(0, int(cy) - reach), min(height, int(cy) + reach + 1)
        if x1 - x0 < 3 or y1 - y0 < 3:
            continue  # the box is out of the picture
        patch = (out[0, :, t, y0:y1, x0:x1] + 1) / 2  # [3,h,w] in [0, 1]
        ys, xs = torch.meshgrid(torch.arange(y0, y1) - cy, torch.arange(x0, x1) - cx, indexing="ij")
        apart = torch.maximum(xs.abs(), ys.abs())
        middle = patch[:, apart <= half / 2]
        ring = patch[:, (apart > half + RING_GAP) & (apart <= half + RING_GAP + RING_WIDTH)]
        if middle.shape[1] == 0 or ring.shape[1] == 0:
            continue
        drawn = middle.median(dim=1).values
        _, s, v = hsv((drawn.numpy() * 255).round().astype(np.uint8)[None])
        if v[0] < TINT_MIN_VALUE or s[0] > SUBJECT_MIN_SATURATION:
            continue  # dark, or a colour of its own
        ground = (ring - drawn[:, None]).norm(dim=0) > BLEED
        if ground.float().mean() < 0.5:
            continue  # the box's middle is the ground round it: no subject drawn there
        ring = ring[:, ground]
        pixels = patch.flatten(1)
        to_subject = (pixels - drawn[:, None]).norm(dim=0)
        to_ground = torch.cdist(pixels.T[None], ring.T[None])[0].min(dim=1).values
        inside = ((to_subject < to_ground) & (apart.flatten() <= half + RING_GAP)).float().view(1, 1, *patch.shape[1:])
        weight = torch.maximum(inside, F.avg_pool2d(inside, 3, 1, 1, count_include_pad=False))[0, 0]  # soft outside
        grey = patch.amax(dim=0, keepdim=True).expand_as(patch)
        white = patch + weight * (grey - patch)
        out[0, :, t, y0:y1, x0:x1] = white * 2 - 1
    return out.to(video)
