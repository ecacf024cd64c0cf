"""Media files onto the timeline: one probe, then the clips a file becomes.

A file with picture and sound becomes a linked video clip and audio clip; a still is held
for a default length (5 s, as in Premiere and Resolve); a file LatentCut generated keeps its
marking (a generated clip with its recipe, the file as its take), from its `latentcut` tag or,
when the tag was stripped, from its Content Credentials (C2PA), which are read for every file.
The CLI's `add` and the app's drop both place what `clips_for_file` returns.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio

from engine.credentials.reading import Credentials, read_credentials
from engine.media.probe import MediaInfo, probe
from timeline.generated import clip_from_generated_file
from timeline.links import link
from timeline.provenance import provenance_from_tags

STILL_SECONDS = 5.0
# Beyond this a still's length is surely a typo (a day).
MAX_STILL_SECONDS = 24 * 3600.0


@dataclass
class FileClips:
    """What one file becomes: a video clip, an audio clip, or both (then linked)."""

    path: Path
    info: MediaInfo
    video: otio.schema.Clip | None
    audio: otio.schema.Clip | None
    generated: bool
    credentials: Credentials

    @property
    def duration(self) -> otio.opentime.RationalTime:
        return (self.video or self.audio).duration()


def clips_for_file(path, rate: float, still_seconds: float = STILL_SECONDS,
                   trust_anchors: str | None = None) -> FileClips:
    """Probe ``path`` (MediaError naming it when unreadable) and build its clips. ``rate`` is
    the timeline's frame rate (a still's and an audio file's length are counted in it);
    ``trust_anchors`` (a PEM file of CAs) decides whose signatures read as valid."""
    if not 0 < still_seconds <= MAX_STILL_SECONDS:
        raise ValueError(f"a still's length must be more than 0 s and at most a day, got {still_seconds:g} s")
    path = Path(path).absolute()
    info = probe(path)
    name = path.name
    video = audio = None
    credentials = read_credentials(path, trust_anchors=trust_anchors)
    provenance = provenance_from_tags(info.metadata) or credentials.as_provenance()
    if provenance is not None and credentials.state != "none":
        provenance = {**provenance, "credentials": credentials.record()}
    if info.video is not None:
        media_rate = info.video.rate
        if info.video.frame_count <= 1:  # a still, held at the timeline's rate
            available = _range(round(still_seconds * rate), rate)
            video = otio.schema.Clip(name=name, media_reference=otio.schema.ExternalReference(target_url=str(path)),
                                     source_range=available)
        else:
            available = _range(info.video.frame_count, media_rate)
            if provenance is not None:
                video = clip_from_generated_file(path, available, provenance, name=name)
            else:
                video = otio.schema.Clip(name=name, source_range=available,
                                         media_reference=otio.schema.ExternalReference(
                                             target_url=str(path), available_range=available))
    if info.audio is not None and (info.video is None or info.video.frame_count > 1):
        # media time of the sound: beside a picture, the picture's range, so both halves match
        available = video.source_range if video is not None else _range(round(info.duration * rate), rate)
        audio = otio.schema.Clip(name=name, source_range=available,
                                 media_reference=otio.schema.ExternalReference(
                                     target_url=str(path), available_range=available))
    if (video or audio) is None or (video or audio).duration().value <= 0:
        raise ValueError(f"{path}: has no frames to add")
    if video is not None and audio is not None:
        link(video, audio)
    return FileClips(path, info, video, audio, provenance is not None, credentials)


def _range(frames: int, rate: float) -> otio.opentime.TimeRange:
    return otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate))
