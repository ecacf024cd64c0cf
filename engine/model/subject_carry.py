"""An extension's or fill's subject as the clip shows it: the clip's own subject carried over the new frames.

The denoiser redraws the clip's subject in every block of new frames, and a plain ball or box came
out textured, ringed and a little bigger or smaller from block to block. Next to the clip's smooth
subject that boil was the biggest change among the new frames: a night pan's white ball, still on
screen, read 1.90 and 2.23 times the typical change at its tail and head (quality.py's seeds from
1,500). The world's subjects are rigid and convex, so the subject the clip shows at the seam, cut
out with its shaded side, filled convex and with a soft rim (cut_subject), is carried on along the
clip's own path on screen at its pace, growing as it grew through a zoom (carry_subject). Where the
new frames' own subject reaches past the carried one, its pixels are filled from a still shot's clean
plate, else from the ground round them.
Over 72 held-out extensions (quality.py's seeds from 500, 1,500 and 2,500) seam regions passing went
from 100%, 88% and 96% to 100%, 100% and 92%, their geometric mean from 1.16, 1.19 and 1.22 to 1.11,
1.07 and 1.17 (the last without a still shot's still subject); the night pan's ball read 0.94, 0.93.

A fill carries both sides' subjects across its gap, their places and pictures cross-fading from the
one path to the other, each whole at its own seam: over 36 held-out fills (seeds from 500, 1,500 and
2,500) seam regions passing went from 92%, 92% and 75% to 96%, 100% and 88%.

A new subject of another colour is left as drawn: the prompt asked for a change.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .subject_key import SUBJECT_MIN_SATURATION, WHITE_MAX_SATURATION, hsv, subject_boxes, subject_mask

# The clip's subject's path is fitted over its frames this long next to the seam.
PATH_SECONDS = 1.0
# The new frames' own subject is grown by this much (px) before what shows of it outside the carried
# one is filled: a drawn ball's ring reaches past its key.
OWN_RIM = 3
# The fill is the ground round the hole, weighted by a Gaussian of this sigma (px).
FILL_SIGMA = 3.0
# The cover reaches this far (px) past the subject's key, over pixels of its kind; a white subject's
# shaded side keeps down to this value (the key's: subject_key.WHITE_MIN_VALUE).
COVER_REACH = 6
COVER_MIN_VALUE = 0.4
# New frames whose median difference from a still shot's clean plate (where it holds, in [-1, 1]) is
# under this show its scene; more is a new look, which the plate must not stamp over.
SAME_SCENE = 0.1
# A new subject whose hue is further than this (degrees) from the clip's is another subject.
MAX_HUE_APART = 40.0


@dataclass
class Sprite:
    """The clip's subject at the seam: premultiplied colour and cover [4,H,W] ([-1, 1] colour times cover,
    then cover), its centre (x, y) and half side (px), and its step on screen (dx, dy) and growth of the
    half side, per frame away from the seam. kind and hue: its key (subject_key.subject_mask)."""
    rgba: torch.Tensor
    centre: tuple[float, float]
    half: float
    step: tuple[float, float]
    growth: float
    kind: str
    hue: float


def _mean_hue(hue: np.ndarray, mask: np.ndarray) -> float:
    """The circular mean (degrees) of the masked pixels' hue (subject_key.hsv's)."""
    h = np.deg2rad(hue[mask])
    return float(np.rad2deg(np.arctan2(np.sin(h).mean(), np.cos(h).mean())) % 360.0) if h.size else 0.0


def _alike(colours: tuple, kind: str, hue: float, saturation: float, value: float) -> np.ndarray:
    """[T,H,W] the pixels of frames (colours: their subject_key.hsv) that look like a subject of this kind and
    hue: a white one's greys down to `value`, a saturated one's hue from `saturation` up."""
    h, s, v = colours
    if kind == "white":
        return (s < WHITE_MAX_SATURATION) & (v > value)
    return (s > saturation) & (v > value) & (np.abs((h - hue + 180.0) % 360.0 - 180.0) < MAX_HUE_APART / 2)


def _reach(colours: tuple, key: np.ndarray, kind: str, hue: float) -> torch.Tensor:
    """[T,1,H,W] (0 or 1) a subject's key [T,H,W] in frames (colours: their subject_key.hsv), and the pixels
    of its kind (_alike) within COVER_REACH px of it: the key falls short of a ball's shaded side. Cut at the key, the
    carried ball lost that side, a crescent that the new frames' own drawing showed through; and the new
    frames' own ball left it standing by the carried one."""
    key = torch.from_numpy(key).float()[:, None]
    near = F.max_pool2d(key, 2 * COVER_REACH + 1, 1, COVER_REACH)
    alike = torch.from_numpy(_alike(colours, kind, hue, SUBJECT_MIN_SATURATION, COVER_MIN_VALUE)).float()[:, None]
    return torch.maximum(key, alike * near)


def _solid(cover: torch.Tensor) -> torch.Tensor:
    """[T,1,H,W] (0 or 1) a cover filled between its first and last pixel along each row and along each
    column: the world's subjects, a ball or a box, are convex, and the model's own drawn subject has tinted
    marks and a shaded side that fall out of the key; cut with them, the carried subject showed a dark
    streak of the ground through it."""
    def between(x: torch.Tensor, dim: int) -> torch.Tensor:
        return torch.cummax(x, dim).values * torch.cummax(x.flip(dim), dim).values.flip(dim)

    return torch.maximum(cover, between(cover, -1) * between(cover, -2))


def cut_subject(frames: np.ndarray, at_end: bool) -> Sprite | None:
    """The subject of uint8 RGB frames [T,H,W,3] next to a seam (the last frame at the end, else the first)
    and its path through them, fitted as a line; None where the frame next to the seam shows no subject,
    or fewer than three frames do."""
    boxes = subject_boxes(frames)
    if boxes is None:
        return None
    seen = ~np.isnan(boxes[:, 0])
    k = len(frames) - 1 if at_end else 0
    if seen.sum() < 3 or not seen[k]:
        return None
    (dx, dy, growth), _ = np.polyfit(np.flatnonzero(seen), boxes[seen], 1)
    mask, kind = subject_mask(frames)
    cx, cy, half = boxes[k]
    h, w = mask.shape[1:]
    ys, xs = np.mgrid[0:h, 0:w]
    near = (np.abs(xs - cx) < 2.5 * half) & (np.abs(ys - cy) < 2.5 * half)  # the subject, not a bright patch
    colours = tuple(c[None] for c in hsv(frames[k]))
    hue = _mean_hue(colours[0], mask[k:k + 1])
    cover = _solid(_reach(colours, (mask[k] & near)[None], kind, hue))[0]
    cover = (1.5 * F.avg_pool2d(F.max_pool2d(cover, 3, 1, 1), 3, 1, 1)).clamp(max=1.0)  # and a soft rim
    rgb = torch.from_numpy(frames[k]).permute(2, 0, 1).float() / 127.5 - 1.0
    return Sprite(torch.cat([rgb * cover, cover]), (float(cx), float(cy)), float(half), (float(dx), float(dy)),
                  float(growth), kind, hue)


def _placed(sprite: Sprite, centres: torch.Tensor, scales: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """[T,4,H,W] the sprite with its centre moved to each of centres [T,2] (x, y) and scaled by scales [T]."""
    h, w = size
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    x = sprite.centre[0] + (xs - centres[:, 0, None, None]) / scales[:, None, None]
    y = sprite.centre[1] + (ys - centres[:, 1, None, None]) / scales[:, None, None]
    grids = torch.stack([2 * x / (w - 1) - 1, 2 * y / (h - 1) - 1], -1)
    rgba = sprite.rgba[None].expand(len(centres), -1, -1, -1)
    return F.grid_sample(rgba, grids, mode="bilinear", padding_mode="zeros", align_corners=True)


def _path(sprite: Sprite, distances: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """The sprite's centre [T,2] and scale [T] `distances` frames on along its path."""
    d = torch.tensor(distances, dtype=torch.float32)[:, None]
    centres = torch.tensor(sprite.centre) + d * torch.tensor(sprite.step)
    scales = (sprite.half + d[:, 0] * sprite.growth).clamp(min=1.0) / sprite.half
    return centres, scales


def _gaussian(x: torch.Tensor) -> torch.Tensor:
    """[N,C,H,W] blurred by a Gaussian of FILL_SIGMA, each channel alone, zero outside."""
    r = int(3 * FILL_SIGMA)
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32) ** 2 / (2 * FILL_SIGMA ** 2))
    k = (k / k.sum()).to(x)
    c = x.shape[1]
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), padding=(0, r), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), padding=(r, 0), groups=c)


def _filled(frames: torch.Tensor, hole: torch.Tensor, shown: torch.Tensor, ground: tuple | None) -> torch.Tensor:
    """[T,3,H,W] frames with what shows of the hole [T,1,H,W] (bool) filled, where `shown` [T,1,H,W] (bool):
    from a still shot's clean plate where it holds (ground: the plate [1,3,H,W] and where it holds in each
    frame [T,1,H,W], bool, _scene_plate), else from the pixels round the hole."""
    keep = (~hole).float()
    estimate = _gaussian(frames * keep) / _gaussian(keep).clamp(min=1e-4)
    if ground is not None:
        estimate = torch.where(ground[1], ground[0].to(frames), estimate)
    return torch.where(hole & shown, estimate, frames)


def _scene_plate(frames: torch.Tensor, ground: tuple) -> tuple:
    """A still shot's clean plate (ground: the plate [1,3,H,W] and where it holds [1,1,H,W], bool) with
    where it holds per frame [T,1,H,W]: nowhere in a frame of another look than the plate's (a median
    difference of SAME_SCENE or more where it holds), which the plate must not stamp over."""
    plate, held = ground[0].to(frames), ground[1]
    apart = (frames - plate).abs().amax(1, keepdim=True)
    same = torch.stack([a[h].median() < SAME_SCENE if h.any() else torch.zeros((), dtype=torch.bool, device=a.device)
                        for a, h in zip(apart, held.expand_as(apart))])
    return plate, held & same.view(-1, 1, 1, 1)


def _plate_round(frames: torch.Tensor, carried: torch.Tensor, ground: tuple, reach: int) -> torch.Tensor:
    """[T,3,H,W] frames with the ground within `reach` px of the carried subject (carried [T,1,H,W], bool)
    taken from a still shot's clean plate where it holds (_scene_plate). There the denoiser smears its
    own subject into the ground, and unkeyed it stayed: a white box crossing a night city blurred the
    lit windows beside it, and a fill's seam regions read 1.55."""
    near = F.max_pool2d(carried.float(), 2 * reach + 1, 1, reach) > 0
    return torch.where(near & ground[1], ground[0], frames)


def _touching(mask: torch.Tensor, seed: torch.Tensor, reach: int) -> torch.Tensor:
    """[T,1,H,W] (0 or 1) the parts of a mask [T,1,H,W] that touch the seed [T,1,H,W] (bool) or its rim of
    OWN_RIM px, as far as `reach` px from it: a night city's lit windows next to the drawn subject are the
    ground, and filled with the ground round them they came and went as the subject passed."""
    grown = mask * F.max_pool2d(seed.float(), 2 * OWN_RIM + 1, 1, OWN_RIM)
    for _ in range(reach):
        wider = F.max_pool2d(grown, 3, 1, 1) * mask
        if torch.equal(wider, grown):
            break
        grown = wider
    return grown


def carry_subject(video: torch.Tensor, pixels: np.ndarray, sprites: list[Sprite], distances: list[list[int]],
                  ground: tuple | None = None) -> torch.Tensor:
    """New frames [1,3,T,H,W] in [-1, 1] (pixels: the same as uint8 RGB [T,H,W,3]) with the clip's subject
    carried over them in place of their own, filled from a still shot's clean plate where there is one
    (_filled's ground); as they are where they show a subject of another kind or colour. sprites: the
    clip's at an extension's seam, or the clip's before and after a fill's gap; distances: each frame's
    from each sprite's seam frame, negative before it. Across a gap the two paths and pictures
    cross-fade, each whole at its own seam."""
    mask, kind = subject_mask(pixels)
    if kind != "none":
        colours = hsv(pixels)
        if any(kind != sprite.kind for sprite in sprites):
            return video
        hue = _mean_hue(colours[0], mask)
        if kind == "saturated" and any(abs((hue - s.hue + 180.0) % 360.0 - 180.0) > MAX_HUE_APART for s in sprites):
            return video
    frames = video[0].permute(1, 0, 2, 3).float()  # [T,3,H,W]
    paths = [_path(sprite, d) for sprite, d in zip(sprites, distances)]
    n = frames.shape[0]
    share = torch.arange(1, n + 1, dtype=torch.float32) / (n + 1) if len(sprites) == 2 else torch.zeros(n)
    weights = [1 - share, share][:len(sprites)]
    centres = sum(w[:, None] * c for w, (c, _) in zip(weights, paths))
    scales = sum(w * s for w, (_, s) in zip(weights, paths))
    placed = sum(w[:, None, None, None] * _placed(sprite, centres, scales, frames.shape[-2:])
                 for w, sprite in zip(weights, sprites)).to(frames)
    cover = placed[:, 3:]
    reach = 2 * round(max(sprite.half for sprite in sprites)) + 1
    if ground is not None:
        ground = _scene_plate(frames, ground)
        frames = _plate_round(frames, cover > 0.05, ground, reach)
    if kind != "none":  # the new frames' own subject near the carried one, and its ring
        own = _touching(_reach(colours, mask, kind, sprites[0].hue).to(frames), cover > 0.05, reach)
        own = F.max_pool2d(own, 2 * OWN_RIM + 1, 1, OWN_RIM) > 0
        frames = _filled(frames, own, cover < 0.99, ground)  # the drawn subject lights no fill under the carried one
    out = placed[:, :3] + frames * (1 - cover)
    return out.permute(1, 0, 2, 3)[None].to(video.dtype)
