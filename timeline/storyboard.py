"""The storyboard text format: one shot per line, ``SECONDS: prompt`` or just ``prompt``
(2 seconds). Blank lines and ``#`` comments are ignored."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import opentimelineio as otio

from timeline.provenance import app_value, is_generated

DEFAULT_SECONDS = 2.0
# The longest shot a line may ask for (10 minutes): `100000: a red ball` is surely a typo.
MAX_SHOT_SECONDS = 600.0
STORYBOARD_TRACK = "Storyboard"  # the track the app's Build animatic lays shots on
_TIMED = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(?:s\b)?\s*:\s*(.*)$")


@dataclass
class Shot:
    """One storyboard shot: how long it lasts and what it shows."""

    seconds: float
    prompt: str


def parse_storyboard(text: str) -> list[Shot]:
    """Parse storyboard text into shots; ValueError naming the line number for a bad line."""
    shots: list[Shot] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _TIMED.match(line)
        if match:
            seconds = float(match.group(1))
            prompt = match.group(2).strip()
            if not math.isfinite(seconds) or seconds <= 0:
                raise ValueError(f"line {number}: seconds must be > 0, got {match.group(1)}")
            if seconds > MAX_SHOT_SECONDS:
                raise ValueError(f"line {number}: a shot lasts at most {MAX_SHOT_SECONDS:g} seconds, "
                                 f"got {match.group(1)}")
        else:
            if re.match(r"^\s*[-+]?[0-9.]+\s*s?\s*:", line):
                raise ValueError(f"line {number}: bad duration in {line!r} "
                                 "(expected SECONDS: prompt with SECONDS > 0)")
            seconds, prompt = DEFAULT_SECONDS, line
        if not prompt:
            raise ValueError(f"line {number}: the shot has no prompt")
        shots.append(Shot(seconds, prompt))
    return shots


def format_storyboard(shots) -> str:
    """Storyboard text for ``shots`` (one ``SECONDS: prompt`` line each); parses back equal."""
    lines = []
    for i, shot in enumerate(shots, start=1):
        prompt = " ".join(str(shot.prompt).split())
        if not prompt:
            raise ValueError(f"shots[{i - 1}]: the shot has no prompt")
        if not shot.seconds > 0:
            raise ValueError(f"shots[{i - 1}]: seconds must be > 0, got {shot.seconds}")
        seconds = repr(float(shot.seconds))
        lines.append(f"{seconds.removesuffix('.0')}: {prompt}")
    return "\n".join(lines) + ("\n" if lines else "")


def storyboard_track(timeline: otio.schema.Timeline):
    """The track holding a project's storyboard: the one named Storyboard (the app's), else the
    first video track holding only generated shots (`latentcut storyboard` writes those on V1)."""
    video = [t for t in timeline.tracks if t.kind == otio.schema.TrackKind.Video]
    for track in video:
        if track.name == STORYBOARD_TRACK:
            return track
    for track in video:
        clips = [item for item in track if isinstance(item, otio.schema.Clip)]
        if clips and all(is_generated(c) and app_value(c, "op") == "generate" for c in clips):
            return track
    return None


def shots_of(timeline: otio.schema.Timeline) -> list[Shot]:
    """The storyboard of a saved project, shot by shot (gaps are left out), or [] when it has none."""
    track = storyboard_track(timeline)
    if track is None:
        return []
    return [Shot(clip.duration().to_seconds(), str(app_value(clip, "prompt") or clip.name))
            for clip in track if isinstance(clip, otio.schema.Clip) and is_generated(clip)]
