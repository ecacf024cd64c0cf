"""The formats whose OTIO adapter does the whole job: Final Cut Pro X (.fcpxml), GStreamer
Editing Services (.xges, rendered by ``ges-launch-1.0``) and MLT XML (.mlt, rendered by
``melt``, opened by Shotcut and Kdenlive). This module shapes the cut for each writer.

FCPXML and xges are read back to find what they lost. The MLT adapter writes only, so what
MLT cannot hold is taken out here before writing, and each removal is reported.
"""
from __future__ import annotations

import re
from fractions import Fraction

import opentimelineio as otio

from .generated import RECIPE
from .interchange_prepare import active_media_only, flatten_nested, media_path, nesting_as_stacks_of_tracks
from .provenance import APP_KEY, is_generated

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


def _conform(item, rate: float) -> None:
    """Every time of ``item`` and below it at ``rate`` (the MLT and xges writers count frames
    in each item's own rate and assume they all match)."""
    def at(t):
        return t.rescaled_to(rate)

    def rng(r):
        return TimeRange(at(r.start_time), at(r.duration)) if r is not None else None

    if isinstance(item, otio.schema.Transition):
        item.in_offset, item.out_offset = at(item.in_offset), at(item.out_offset)
        return
    if hasattr(item, "source_range"):
        item.source_range = rng(item.source_range)
    if isinstance(item, otio.schema.Clip):
        for ref in item.media_references().values():
            ref.available_range = rng(ref.available_range)
    for marker in item.markers:
        marker.marked_range = rng(marker.marked_range)
    if isinstance(item, otio.core.Composition):
        for child in item:
            _conform(child, rate)


def conformed(tl, rate: float) -> otio.schema.Timeline:
    """``tl`` (in place) with every time at ``rate``."""
    _conform(tl.tracks, rate)
    if tl.global_start_time is not None:
        tl.global_start_time = tl.global_start_time.rescaled_to(rate)
    else:
        tl.global_start_time = RationalTime(0, rate)
    return tl


def _has_media(item) -> bool:
    return isinstance(item, otio.schema.Clip) and isinstance(
        item.media_reference, (otio.schema.ExternalReference, otio.schema.ImageSequenceReference))


def _generators_as_gaps(tl) -> None:
    """The FCPXML writer cannot write generators; they become gaps (the report says so)."""
    for clip in list(tl.find_clips()):
        if isinstance(clip.media_reference, otio.schema.GeneratorReference):
            parent = clip.parent()
            parent[parent.index(clip)] = otio.schema.Gap(source_range=clip.trimmed_range())


def _transitions_between_media(track) -> None:
    """GES makes a transition from two clips overlapping; one next to a gap or a generator
    (which xges writes as a gap) cannot be read back, so it becomes a cut."""
    for i in range(len(track) - 1, -1, -1):
        if isinstance(track[i], otio.schema.Transition):
            before = track[i - 1] if i > 0 else None
            after = track[i + 1] if i + 1 < len(track) else None
            if not (_has_media(before) and _has_media(after)):
                del track[i]


def fcpxml_timeline(tl, rate: float) -> otio.schema.Timeline:
    active_media_only(tl)
    nesting_as_stacks_of_tracks(tl)
    _generators_as_gaps(tl)
    return conformed(tl, rate)


def xges_timeline(tl, rate: float) -> otio.schema.Timeline:
    active_media_only(tl)
    for track in tl.tracks:
        if isinstance(track, otio.schema.Track):
            flatten_nested(track)
            _transitions_between_media(track)
    return conformed(tl, rate)


def xges_text(text: str, rate: float, width: int | None, height: int | None) -> str:
    """The adapter gives every video track a 30 fps output whatever the cut's rate; GES
    renders at the track's restriction caps, so they say the cut's rate and frame size."""
    frac = Fraction(rate).limit_denominator(1001)
    caps = f"framerate\\=\\(fraction\\){frac.numerator}/{frac.denominator}"
    if width and height:
        caps += f"\\,\\ width\\=\\(int\\){width}\\,\\ height\\=\\(int\\){height}"
    return re.sub(r"framerate\\=\\\(fraction\\\)\d+/\d+", lambda _: caps, text)


def _mlt_item_losses(track, label: str, notes: list[str]) -> None:
    for i, item in enumerate(list(track)):
        if isinstance(item, otio.schema.Stack):
            continue
        where = f"clip {item.name!r} on {label}"
        if isinstance(item, otio.schema.Transition):
            if item.transition_type != otio.schema.TransitionTypes.SMPTE_Dissolve:
                kind = "wipe" if item.transition_type == "SMPTE_Wipe" else "transition"
                notes.append(f"{kind} {item.name!r} on {label}: became a dissolve "
                             "(MLT export writes dissolves only)")
            continue
        if not isinstance(item, otio.schema.Clip):
            continue
        if not item.enabled:
            track[i] = otio.schema.Gap(duration=item.duration())
            notes.append(f"{where}: left out, as it is disabled (MLT export has no disabled clips)")
            continue
        ref = item.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
            ref.target_url = media_path(ref.target_url)  # MLT resources are paths
        elif isinstance(ref, otio.schema.ImageSequenceReference):
            ref.target_url_base = media_path(ref.target_url_base)
        elif not isinstance(ref, otio.schema.ImageSequenceReference):
            track[i] = otio.schema.Gap(duration=item.duration())
            notes.append(f"{where}: left out, as it has no media file "
                         "(MLT export holds files and image sequences only)")
            continue
        if item.markers:
            notes.append(f"{where}: its {len(item.markers)} marker(s) are left out (MLT export has no markers)")
        kept = {"LinearTimeWarp", "FreezeFrame"}
        for effect in item.effects:
            if effect.effect_name not in kept:
                notes.append(f"{where}: effect {effect.effect_name or effect.schema_name()} is left out")
        others = sorted(k for k in item.media_references()
                        if k not in (item.active_media_reference_key, RECIPE))
        if others:
            notes.append(f"{where}: the other take(s) {', '.join(others)} are left out")
        if is_generated(item):
            notes.append(f"{where}: it is no longer marked AI-generated, and its generation "
                         "settings are lost")
        for app in sorted(k for k in item.metadata.keys() if k != APP_KEY):
            notes.append(f"{where}: data from {app} is left out")


def mlt_timeline(tl, rate: float) -> tuple[otio.schema.Timeline, list[str]]:
    """Shape ``tl`` (in place) to what MLT export holds; returns it and every removal."""
    notes: list[str] = []
    counts = {}
    for i in range(len(tl.tracks) - 1, -1, -1):
        track = tl.tracks[i]
        if isinstance(track, otio.schema.Track) and not track.enabled:
            state = "muted" if track.kind == otio.schema.TrackKind.Audio else "hidden"
            notes.append(f"{track.kind.lower()} track {track.name}: left out, as it is {state} "
                         "(MLT export has no muted or hidden tracks)")
            del tl.tracks[i]
    for track in tl.tracks:
        if not isinstance(track, otio.schema.Track):
            continue
        counts[track.kind] = counts.get(track.kind, 0) + 1
        label = f"{track.kind.lower()} track {track.name or counts[track.kind]}"
        if track.name:
            notes.append(f"{label}: its name is not kept (MLT export numbers tracks)")
        if track.markers:
            notes.append(f"{label}: its {len(track.markers)} marker(s) are left out")
        for stack in [c for c in track if isinstance(c, otio.schema.Stack)]:
            for sub in stack:
                if isinstance(sub, otio.schema.Track):
                    _mlt_item_losses(sub, f"nested stack {stack.name!r}", notes)
        _mlt_item_losses(track, label, notes)
    if tl.tracks.markers:
        notes.append(f"{len(tl.tracks.markers)} timeline marker(s) are left out")
    active_media_only(tl)
    return conformed(tl, rate), notes
