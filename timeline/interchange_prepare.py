"""Preparing a copy of the cut for a writer that is not OTIO JSON: media as file:// URLs,
every clip with a source and an available range, only the active media of each clip, and
nested stacks flattened for the formats that cannot nest.

Each step works on a copy and says in the editor's words what it changed, so the export
report can tell the user (the read-back comparison in ``interchange_report`` catches the rest).
"""
from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

import opentimelineio as otio

from .generated import RECIPE
from .provenance import track_flag

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


def track_is_on(track) -> bool:
    """Whether a track is seen or heard: enabled, and not muted in LatentCut's track header."""
    return track_flag(track, "enabled") and not track_flag(track, "muted")


def with_header_mutes_disabled(timeline) -> None:
    """Other formats know no header mute apart from a track's enabled state: a track muted
    in LatentCut is written disabled, so other editors do not play it either."""
    for track in timeline.tracks:
        if isinstance(track, otio.schema.Track) and not track_is_on(track):
            track.enabled = False


# -- media locations ------------------------------------------------------------------------
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")


def media_path(url: str) -> str:
    """A local path for a bare path or a file URL (``file:///a``, ``file://localhost/a``,
    ``file:///C:/a``); other URLs come back unchanged."""
    if url.startswith("file:"):
        parsed = urlparse(url)
        path = unquote(parsed.path)
        if parsed.netloc not in ("", "localhost"):  # a UNC host: //host/share/...
            path = f"//{parsed.netloc}{path}"
        elif _WINDOWS_PATH.match(path[1:]):  # /C:/a is the drive path C:/a
            path = path[1:]
        return path
    return url


def file_url(url: str, base_dir: Path) -> str:
    """``url`` as an absolute file:// URL when it names a local file (relative paths resolve
    against ``base_dir``); URLs with another scheme come back unchanged."""
    if not url or ("://" in url and not url.startswith("file:")):
        return url
    if _WINDOWS_PATH.match(url):  # a Windows drive path, from another system: as it is
        return "file:///" + quote(url.replace("\\", "/"), safe="/:")
    if url.startswith("\\\\"):  # a Windows share \\host\share: file://host/share
        return "file:" + quote(url.replace("\\", "/"), safe="/:")
    path = Path(media_path(url))
    if not path.is_absolute():
        path = base_dir / path
    return Path(os.path.normpath(str(path))).as_uri()  # percent-encoded, as URLs must be


def with_file_urls(timeline, base_dir: Path) -> None:
    """Every media reference of every clip points at an absolute file:// URL."""
    for clip in timeline.find_clips():
        for ref in clip.media_references().values():
            if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
                ref.target_url = file_url(ref.target_url, base_dir)
            elif isinstance(ref, otio.schema.ImageSequenceReference) and ref.target_url_base:
                base = file_url(ref.target_url_base.rstrip("/"), base_dir)
                ref.target_url_base = base + "/"


def with_local_paths(timeline) -> None:
    """After reading another editor's file: file URLs become plain paths, as in projects."""
    for clip in timeline.find_clips():
        for ref in clip.media_references().values():
            if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
                ref.target_url = media_path(ref.target_url)
            elif isinstance(ref, otio.schema.ImageSequenceReference) and ref.target_url_base:
                ref.target_url_base = media_path(ref.target_url_base)


def image_sequences_as_files(timeline) -> None:
    """For formats without image sequences: each becomes a file reference to its first frame
    (editors import it as a still or detect the numbered sequence)."""
    for clip in timeline.find_clips():
        refs = dict(clip.media_references())
        for key, ref in refs.items():
            if isinstance(ref, otio.schema.ImageSequenceReference):
                first = ref.target_url_for_image_number(0)
                refs[key] = otio.schema.ExternalReference(
                    target_url=first, available_range=ref.available_range)
        clip.set_media_references(refs, clip.active_media_reference_key)


# -- ranges -----------------------------------------------------------------------------------
def with_ranges(timeline) -> list[str]:
    """Give every clip a source range and every media reference an available range, as the
    EDL and XML writers need (simple cuts from other tools often have neither). Filling them
    in changes nothing on screen: a clip without a source range shows its whole media. A clip
    with neither has no length at all; it is taken out, and said so."""
    notes = []
    for clip in list(timeline.find_clips()):
        if clip.source_range is None and clip.media_reference.available_range is None:
            parent = clip.parent()
            del parent[parent.index(clip)]
            notes.append(f"clip {clip.name!r}: left out, as it has no length "
                         "(neither a source range nor a media range)")
            continue
        for ref in clip.media_references().values():
            if ref.available_range is None and clip.source_range is not None:
                ref.available_range = clip.source_range  # media time
        if clip.source_range is None:
            clip.source_range = clip.media_reference.available_range
    for nested in timeline.tracks.find_children(descended_from_type=otio.core.Composition):
        if nested.source_range is None and nested.parent() is not timeline.tracks:
            nested.source_range = nested.trimmed_range()  # writers place nested items by it
    return notes


# -- nesting ----------------------------------------------------------------------------------
def flatten_nested(track) -> None:
    """Replace each nested stack (or nested track) on ``track`` by the clips it shows, top
    layer winning, for formats without nesting. A stack may hold clips directly; each counts
    as a layer of its own."""
    for i in range(len(track) - 1, -1, -1):
        child = track[i]
        if not isinstance(child, (otio.schema.Stack, otio.schema.Track)):
            continue
        layers = []
        for sub in (child if isinstance(child, otio.schema.Stack) else [child]):
            layer = copy.deepcopy(sub)
            if isinstance(layer, otio.schema.Track):
                if sub is child:
                    layer.source_range = None  # a nested track's own trim applies below
                flatten_nested(layer)
            else:
                layer = otio.schema.Track(children=[layer])
            layers.append(layer)
        shown = otio.schema.Track()
        if layers:
            flat = otio.algorithms.flatten_stack(layers)  # in the nested item's own time
            shown = otio.algorithms.track_trimmed_to_range(flat, child.trimmed_range())
        pieces = [copy.deepcopy(x) for x in shown]
        covered = sum((p.duration() for p in pieces if not isinstance(p, otio.schema.Transition)),
                      RationalTime(0, child.duration().rate))
        if covered < child.duration():  # keep the nested item's length on the track
            pieces.append(otio.schema.Gap(duration=child.duration() - covered))
        del track[i]
        for j, item in enumerate(pieces):
            track.insert(i + j, item)


def _nested_items_in_tracks(stack) -> None:
    """A stack may hold clips directly; FCP XML sequences hold tracks, so wrap each in one."""
    for i, child in enumerate(list(stack)):
        if not isinstance(child, otio.schema.Track):
            layer = otio.schema.Track(kind=otio.schema.TrackKind.Video)
            stack[i] = layer  # detaches child from the stack
            layer.append(child)


def _nested_tracks_in_stacks(track) -> None:
    """A track nested in a track becomes a one-track stack: a nested sequence in FCP XML."""
    for i, child in enumerate(list(track)):
        if isinstance(child, otio.schema.Track):
            rng, child.source_range = child.source_range, None
            stack = otio.schema.Stack(name=child.name, source_range=rng)
            track[i] = stack
            stack.append(child)


def nesting_as_stacks_of_tracks(timeline) -> None:
    """Writers that nest (FCP XML, FCPXML) take a nested stack of tracks only."""
    pending = [t for t in timeline.tracks if isinstance(t, otio.schema.Track)]
    while pending:
        track = pending.pop()
        _nested_tracks_in_stacks(track)
        for child in track:
            if isinstance(child, otio.schema.Stack):
                _nested_items_in_tracks(child)
                pending += [t for t in child if isinstance(t, otio.schema.Track)]


# -- takes ----------------------------------------------------------------------------------
def active_media_only(timeline) -> None:
    """Formats without takes hold the active media reference of each clip only; a clip not
    generated yet is offline there (its recipe travels in the provenance record)."""
    for clip in timeline.find_clips():
        refs = clip.media_references()
        key = clip.active_media_reference_key
        ref = refs[key]
        if key == RECIPE and isinstance(ref, otio.schema.GeneratorReference):
            ref = otio.schema.MissingReference(name=clip.name, available_range=ref.available_range)
        elif len(refs) == 1:
            continue
        clip.set_media_references({otio.schema.Clip.DEFAULT_MEDIA_KEY: ref},
                                  otio.schema.Clip.DEFAULT_MEDIA_KEY)


def prepared_copy(timeline, base_dir: Path) -> tuple[otio.schema.Timeline, list[str]]:
    """A copy of ``timeline`` with file URLs and every range filled in, ready for a writer,
    and what had to change on the way."""
    tl = copy.deepcopy(timeline)
    with_header_mutes_disabled(tl)
    with_file_urls(tl, base_dir)
    return tl, with_ranges(tl)
