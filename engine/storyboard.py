"""From storyboard shots to generate jobs and pending clips, the same for the app and the CLI.

Shots lie end to end from the start of their track; shot i (from 0) gets the seed ``seed + i``
when a seed is given, so a storyboard can be made again exactly, and ``None`` otherwise (the
engine draws a seed for each and records it).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import opentimelineio as otio

from engine.jobs import GenerateJob
from timeline.generated import make_pending_clip
from timeline.storyboard import Shot


@dataclass
class StoryboardShot:
    job: GenerateJob
    clip: otio.schema.Clip            # pending, not on a track yet
    start: otio.opentime.RationalTime  # where it goes on its track (track time)


def shot_seed(seed: int | None, index: int) -> int | None:
    """The seed of shot ``index`` (from 0) of a storyboard generated with ``seed``."""
    return None if seed is None else seed + index


def storyboard_shots(shots: list[Shot], fields: dict, rate: float,
                     check: Callable[[GenerateJob, str], GenerateJob] | None = None) -> list[StoryboardShot]:
    """One job and pending clip per shot. ``fields`` are the GenerateJob fields every shot shares
    (``seed`` is the storyboard's: see ``shot_seed``); each lasts its shot's length in whole
    frames at ``rate``. ``check(job, "shot N")`` may return a corrected job (the CLI's checks
    before loading); the clip's recipe is made from what it returns."""
    out = []
    start = otio.opentime.RationalTime(0, rate)
    for i, shot in enumerate(shots):
        frames = round(float(shot.seconds) * rate)
        length = otio.opentime.RationalTime(max(1, frames), rate)
        # A shot shorter than a frame keeps its seconds, so its job fails naming them (the
        # storyboard is still saved, with that shot's recipe marked failed).
        seconds = length.to_seconds() if frames >= 1 else float(shot.seconds)
        job = GenerateJob(**{**fields, "prompt": shot.prompt, "seconds": seconds, "rate": rate,
                             "seed": shot_seed(fields.get("seed"), i)})
        if check is not None:
            job = check(job, f"shot {i + 1}")
        clip = make_pending_clip(op=job.op, params=job.to_dict(), duration=length, name=f"shot {i + 1}")
        out.append(StoryboardShot(job, clip, start))
        start += length
    return out
