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

A fading difference still changed every new frame: the first new frame differed from the clip's by
18-24 levels (mean, luma), so fading it over 2 s moved a still shot by about 1 level a frame, twice
the world's own change, and seams failed on it. Where the new frames show nothing changing since
the seam (hold_still), they keep the clip's own picture, carried along the camera's drift, as an
editor holds a clean plate; what the model moves, and the strip a move reveals, are its own. Over
quality.py's 12 held-out clips, extend seam regions passing went from 58% to 71%, fill's from 54% to
79%; 12 with still cameras among them: 46% to 92%, the subject's path read right as often.

A subject the clip moves is not still: carried with the camera, the seam's difference left a copy of the
clip's subject standing where the clip left it, fading over 2 s, and the subject seemed to stop at the seam
(it moved on across 3 in 24 of quality.py's extension seams, 1 in 24 of 12 more clips'). Where the clip shows
a subject, the part of the difference where either frame shows it moves on with the subject's own step on
screen instead (`moving`): extension seams whose subject moves on went from 12% to 71% and 4% to 79% on two
held-out sets, fill's from 50% to 100% and 25% to 92%. The ground such a subject uncovers takes the share of
the difference the ground round it has (_spread_under); without it a patch of the new frames' colours stood
where the clip left the subject, a ghost of it (seen on a tilt of quality.py's held-out set; the seam figures read
the same, 88% / 67% of extension seam regions passing).

That share is still not the ground: an extension's first frames must draw where the clip's subject stood
at the seam, which no frame the denoiser is given shows, and it drew a faint patch of the subject's
colours there that the ground steadying then held for the rest of the shot. The clip's earlier frames
show that ground once the subject has moved on. On a still shot, as an editor pulls a clean plate, each
pixel is the median of the clip's frames within PLATE_SECONDS of the seam where the subject covered it in
under a third of them and the rest agree (clean_plate); the new frames take it where they do not show
the subject and either the seam's frame showed it or they are that ground give or take their boil
(uncover). On 12 held-out clips (seeds from 600, 5 still shots) the still shots' extension seam regions
went 2.09, 1.53, 1.50, 0.73 to 1.56, 1.35, 1.01, 0.53 times the typical change (extend 75% passing
against 67%), fill's 1.71, 0.95, 0.80 to 1.23, 0.82, 0.60 (100% against 92%); nothing else moved, and
quality.py's 12 clips (no still shot with a subject among them) read the same. Only the seam's own
footprint, without the boil: 71% and 92%. Plates of tilts and zooms made their fills' regions worse (a
zoom fill 1.28 to 3.19), so a shot with a drift or a zoom measured gets none, nor one whose ground
strays over PLATE_MAX_MOVING (slow moves the drift missed), and only the clip's own frames count (a short
clip's held frames stood for the subject's place).

A pan whose subject holds still on screen showed the subject twice: the one the new frames hold still,
and a ghost of the clip's moving off with the ground. The hold kept the clip's subject, carried with the
camera, wherever it overlapped the new one; and the key fell short of a ball's shaded side, so that rim
of the seam's difference was carried with the ground too, and spread under the subject as a bright disc.
Now the subject's part of the difference reaches SUBJECT_RIM px past its key and covers where the clip's
frame carried one step shows it, and an extension's subject that moves apart from a moving camera's
ground is not held (one that moves with it is part of the still scene; a fill's hold is left as it
was). Over 48 held-out extensions (seeds from 500 and 1,500) the doubles are gone (a faint rim stays
on one); seam regions passing stayed 92% and 83%, though a pan's region reads 0.03 to 0.09 higher:
the held copy had hidden the step from the clip's subject to the one the new frames draw. On 12
held-out fills (seeds from 1,500) the subject now moves on across all 24 seams (18), regions passing
92% as before (median 1.09 against 1.05).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .camera import frame_offsets, wrapped


def match_seams(video: torch.Tensor, before: torch.Tensor | None, after: torch.Tensor | None,
                drift: tuple[float, float] | None, span: int, lead: int = 1, first: int = 0,
                moving: tuple = (None, None)) -> torch.Tensor:
    """video [B,C,T,H,W] new frames; before / after [B,C,H,W] the clip's frames just before and
    just after them (None where nothing is given); drift (dx, dy) px per frame or None; span: the
    frames a difference takes to fade (between two seams, at most the frames between them); lead:
    frames from `before` to the first new frame (0: the first new frame stands where it is); first:
    the first new frame's place in the sequence the drift's whole-pixel offsets count from
    (camera.frame_offsets), so that a carried picture steps with the frames' own offsets. moving: for
    each seam, None or (mask [B,1,H,W] where its frames show the subject, step (dy, dx) px a frame the
    subject moves on screen away from the seam): that part of the difference moves with the subject,
    not the camera, so the clip's subject goes on with it rather than standing where the clip left it.
    """
    out = video.clone()
    frames = video.shape[2]
    drift = drift or (0.0, 0.0)
    if before is not None and after is not None:  # each side's difference is gone at the other seam
        span = min(span, frames)
    if before is not None:
        out += _carried(before, video[:, :, 0], _steps(drift, first - lead, frames + lead, True), frames, span,
                        forward=True, lead=lead, moving=moving[0])
    if after is not None:
        out += _carried(after, video[:, :, -1], _steps(drift, first + frames, frames + 1, False), frames, span,
                        forward=False, moving=moving[1])
    return out


def _steps(drift: tuple[float, float], start: int, count: int, forward: bool) -> list[tuple[int, int]]:
    """The whole (dy, dx) offsets of `count` frames of the sequence from frame `start` on (forward)
    or back, each less frame start's own."""
    whole = frame_offsets(drift, count, start if forward else start - count + 1)
    whole = whole if forward else whole[::-1]
    return [(dy - whole[0][0], dx - whole[0][1]) for dy, dx in whole]


def _carried(clip_frame: torch.Tensor, new_frame: torch.Tensor, offsets: list[tuple[int, int]], frames: int,
             span: int, forward: bool, lead: int = 1, moving: tuple | None = None) -> torch.Tensor:
    """The seam's difference for each of `frames` frames [B,C,T,H,W], fading over span frames away
    from the seam (forward: from the first frame on; else from the last frame back), the clip's
    frame standing `lead` frames before the first; offsets: _steps from the clip's frame."""
    h, w = new_frame.shape[-2:]
    expected = torch.roll(clip_frame, offsets[lead], (-2, -1))
    expected = torch.where(wrapped(h, w, *offsets[lead], clip_frame.device), new_frame, expected)
    difference = expected - new_frame
    if moving is not None:
        mask, (sy, sx) = moving
        # and where `expected` shows the clip's subject, carried with the camera: a subject still on screen in
        # a pan stood there, its rim left in the ground's part, as a ghost moving off with the ground
        mask = _with_rim(torch.maximum(mask, torch.roll(mask, offsets[lead], (-2, -1))))
        ahead = one_step_on(clip_frame, (sy, sx), lead)
        around = _spread_under(difference, mask)
        subject, difference = mask * (ahead - new_frame - around), (1 - mask) * difference + mask * around
    parts = []
    for j in range(frames):
        weight = max(0.0, 1.0 - (j + lead) / (span + lead))
        dy, dx = offsets[j + lead][0] - offsets[lead][0], offsets[j + lead][1] - offsets[lead][1]
        moved = torch.roll(difference, (dy, dx), (-2, -1))
        moved = moved.masked_fill(wrapped(h, w, dy, dx, moved.device), 0.0)
        if moving is not None:
            my, mx = round(j * sy), round(j * sx)
            carried = torch.roll(subject, (my, mx), (-2, -1))
            moved = moved + carried.masked_fill(wrapped(h, w, my, mx, carried.device), 0.0)
        parts.append(weight * moved)
    carried = torch.stack(parts, dim=2)
    return carried if forward else carried.flip(2)


def one_step_on(clip_frame: torch.Tensor, step: tuple[float, float], lead: int) -> torch.Tensor:
    """The clip's frame [B,C,H,W] with its subject moved on to the first new frame: `lead` frames at
    `step` (dy, dx) px a frame (the whole frame is rolled; only the subject's part is used)."""
    return torch.roll(clip_frame, (round(lead * step[0]), round(lead * step[1])), (-2, -1))


# How far (px) past the subject's key its part of a seam's difference reaches: a ball's shaded side keys short.
SUBJECT_RIM = 3


def _with_rim(mask: torch.Tensor) -> torch.Tensor:
    """A subject's mask [B,1,H,W] grown by SUBJECT_RIM px."""
    return F.max_pool2d(mask, 2 * SUBJECT_RIM + 1, 1, SUBJECT_RIM)


# How far (px, odd) the ground's difference round a subject is spread under it (_spread_under).
UNDER_REACH = 33


def _spread_under(difference: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """difference [B,C,H,W] where mask [B,1,H,W] is 0, spread in under the mask: the mean of the
    unmasked difference within UNDER_REACH px. Where a subject moves away, the ground it leaves has
    only the new frame's colours: without its own share of the seam's difference it stood out as a
    patch of them, a ghost of the subject standing where the clip left it."""
    kernel = (UNDER_REACH, UNDER_REACH)
    pad = UNDER_REACH // 2
    open_ = 1 - mask
    total = F.avg_pool2d(difference * open_, kernel, 1, pad, count_include_pad=False)
    share = F.avg_pool2d(open_.expand_as(difference), kernel, 1, pad, count_include_pad=False)
    return total / share.clamp_min(1e-3) * (share > 1e-3)


# A new pixel whose own change since the seam (5x5 mean, its largest channel, in [-1, 1] units) is
# well under this counts as unchanged, and keeps the clip's picture; a subject moving against the
# ground changes it by a hundred levels or more.
HOLD_ALIKE = 40 / 127.5
# Where the clip's frame and the first new frame differ at the seam by more than about this (5x5 mean,
# [-1, 1] units), one of them shows a subject the other does not have there: the clip's is not held
# over the new frames, or it stood on as a copy beside the subject the new frames move on.
HOLD_SEAM_APART = 64 / 127.5


def hold_still(video: torch.Tensor, matched: torch.Tensor, before: torch.Tensor | None, after: torch.Tensor | None,
               drift: tuple[float, float] | None, lead: int = 1, first: int = 0, alike: float = HOLD_ALIKE,
               apart: float | None = None, moving: tuple = (None, None)) -> torch.Tensor:
    """Where the new frames show nothing changing since the seam, the clip's own picture, carried
    along the camera's drift; elsewhere `matched` (match_seams of `video`). video [B,C,T,H,W] the new
    frames as made; before / after [B,C,H,W] the clip's frames either side, lead and first as match_seams'.
    Between two seams the clip's frames (and the new frames next to them) cross-fade over the gap.
    apart (HOLD_SEAM_APART, where the clip shows a subject): where the clip's frame and the new frames
    differ by about this much at the seam, nothing is held: it is made for a subject drawn elsewhere,
    and held-out clips without a subject were not measured with it. moving: match_seams'; where its
    subject moves apart from the ground (a pan with it still on screen), the clip's subject carried
    with the ground is not held."""
    frames = video.shape[2]
    drift = drift or (0.0, 0.0)
    sides, apart_subject = [], []
    if before is not None:
        offsets = _steps(drift, first - lead, frames + lead, True)
        sides.append((*_still_picture(before, video[:, :, 0], offsets, frames, lead), 1.0 - _ramp(frames)))
        subject = _apart_from_ground(moving[0], drift, 1)
        if subject is not None:
            apart_subject.append(_carried_subject(subject, offsets, frames, lead))
    if after is not None:
        offsets = _steps(drift, first + frames, frames + 1, False)
        clip, made, known = _still_picture(after, video[:, :, -1], offsets, frames, 1)
        sides.append((clip.flip(2), made.flip(2), known.flip(2), _ramp(frames)))
        subject = _apart_from_ground(moving[1], drift, -1)
        if subject is not None:
            apart_subject.append(_carried_subject(subject, offsets, frames, 1).flip(2))
    if not sides:
        return matched
    if len(sides) == 1:  # one seam: its frame holds over every new frame
        sides[0] = (*sides[0][:3], torch.ones(frames))
    weight = [seen * fade.to(seen)[None, None, :, None, None] for _, _, seen, fade in sides]
    total = sum(weight)
    share = [w / total.clamp_min(1e-6) for w in weight]
    clip = sum(s * side[0] for s, side in zip(share, sides))
    made = sum(s * side[1] for s, side in zip(share, sides))
    known = (total > 0).to(video)
    change = _local_mean((video - made).abs().amax(1, keepdim=True) * known) / _local_mean(known).clamp_min(1e-6)
    gate = -(change / alike) ** 2
    if apart is not None:
        seam = _local_mean((clip - made).abs().amax(1, keepdim=True) * known) / _local_mean(known).clamp_min(1e-6)
        gate = gate - (seam / apart) ** 2
    still = known * torch.exp(gate)
    for subject in apart_subject:  # held with the ground, it stood on as a ghost beside the one the new frames move
        still = still * (1 - subject)
    return still * clip + (1.0 - still) * matched


def _local_mean(x: torch.Tensor) -> torch.Tensor:
    """x [B,1,T,H,W] averaged over 5x5 pixels of each frame."""
    return F.avg_pool3d(x, (1, 5, 5), stride=1, padding=(0, 2, 2), count_include_pad=False)


def _ramp(frames: int) -> torch.Tensor:
    """[T] how far each new frame stands from the first seam towards the second, in (0, 1)."""
    return torch.arange(1, frames + 1, dtype=torch.float32) / (frames + 1)


# A subject whose step on screen differs from the ground's by more than this (px a frame) moves apart from it.
APART_STEP = 0.5


def _apart_from_ground(moving: tuple | None, drift: tuple[float, float], sign: int) -> torch.Tensor | None:
    """moving (match_seams' for one seam): its subject's mask [B,1,H,W] where the subject's step on screen
    differs from the ground's (drift, away from the seam: sign 1 forward in time, -1 back) by over
    APART_STEP; None where it moves with the ground or there is none."""
    if moving is None or drift == (0.0, 0.0):  # a still camera's or a zoom's subject held stays where the clip left it
        return None
    mask, (sy, sx) = moving
    if max(abs(sy - sign * drift[1]), abs(sx - sign * drift[0])) <= APART_STEP:
        return None
    return _with_rim(mask)


def _still_picture(clip_frame: torch.Tensor, new_frame: torch.Tensor, offsets: list[tuple[int, int]], frames: int,
                   lead: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The clip's frame and the first new frame, each carried to every new frame [B,C,T,H,W] as a
    still scene along offsets (_steps from the clip's frame), and [1,1,T,H,W] where both hold a
    picture (not a strip a roll brings across the edge)."""
    h, w = new_frame.shape[-2:]
    clips, made, known = [], [], []
    for j in range(frames):
        dy, dx = offsets[j + lead]
        my, mx = dy - offsets[lead][0], dx - offsets[lead][1]
        clips.append(torch.roll(clip_frame, (dy, dx), (-2, -1)))
        made.append(torch.roll(new_frame, (my, mx), (-2, -1)))
        known.append(~(wrapped(h, w, dy, dx, new_frame.device) | wrapped(h, w, my, mx, new_frame.device)))
    return torch.stack(clips, 2), torch.stack(made, 2), torch.stack(known)[None, None].to(new_frame)


def _carried_subject(subject: torch.Tensor, offsets: list[tuple[int, int]], frames: int, lead: int) -> torch.Tensor:
    """subject [B,1,H,W] at the seam carried to every new frame [B,1,T,H,W] as _still_picture carries
    both its frames: where either shows it."""
    parts = []
    for j in range(frames):
        dy, dx = offsets[j + lead]
        my, mx = dy - offsets[lead][0], dx - offsets[lead][1]
        parts.append(torch.maximum(torch.roll(subject, (dy, dx), (-2, -1)), torch.roll(subject, (my, mx), (-2, -1))))
    return torch.stack(parts, 2)


# A clean plate: the clip's frames next to a seam it is pulled from, and the share of them in which
# the subject may cover a pixel for the median there still to be the ground.
PLATE_SECONDS = 2.0
PLATE_MAX_COVER = 1 / 3
# and how far the other frames may stray from the median there (10 levels of 255): where they stray
# the clip's ground moves (a zoom, water), and no one picture of it holds.
PLATE_ALIKE = 10 / 127.5
# A pixel's median is its ground where at most this share of the frames that show the ground stray so.
PLATE_MAX_STRAY = 0.2
# The plate holds only for a still shot: at most this share of the clip's ground strays so. Held-out
# still shots: 0.7% (the subject's rim); slow tilts and zooms the drift did not catch: 4.7-11%, and
# their plates pasted in stood apart from the new frames.
PLATE_MAX_MOVING = 0.02


def clean_plate(frames: torch.Tensor, covered: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The ground behind the clip's subject at a seam of a still shot, as an editor pulls a clean
    plate: the median of the clip's frames [B,C,K,H,W] (covered [1,1,K,H,W] where each shows the
    subject), where the subject covered a pixel in under PLATE_MAX_COVER of them and the rest agree
    with it (PLATE_ALIKE). Returns the plate [B,C,H,W] and where it holds [1,1,H,W]: nowhere when
    over PLATE_MAX_MOVING of the ground strays (not a still shot)."""
    frames = frames.float()
    plate = frames.median(dim=2).values
    stray = (frames - plate[:, :, None]).abs().amax(1, keepdim=True) > PLATE_ALIKE
    ground = covered == 0  # frames that show the ground there
    still = (stray & ground).sum(2) <= PLATE_MAX_STRAY * ground.sum(2)
    held = (covered.sum(2) < PLATE_MAX_COVER * frames.shape[2]) & still
    if float((stray & ground).sum()) > PLATE_MAX_MOVING * float(ground.sum()):
        held = torch.zeros_like(held)
    return plate, held


def uncover(video: torch.Tensor, plate: torch.Tensor, held: torch.Tensor, left: torch.Tensor,
            shown: torch.Tensor) -> torch.Tensor:
    """A still shot's new frames video [B,C,T,H,W] with the clip's ground (clean_plate's plate and
    held) where a new frame does not show a subject (shown [1,1,T,H,W], soft) and either the clip's
    seam frame showed its subject (left [1,1,H,W], soft: the ground the subject leaves, which no frame
    the denoiser is given shows) or the new frame is the ground within HOLD_ALIKE (its boil, a faint
    trail, as hold_still's)."""
    ground = plate[:, :, None]
    change = _local_mean((video - ground).abs().amax(1, keepdim=True))
    where = torch.maximum(left[:, :, None], torch.exp(-(change / HOLD_ALIKE) ** 2))
    weight = held[:, :, None].to(video) * where * (1.0 - shown)
    return weight * ground + (1.0 - weight) * video
