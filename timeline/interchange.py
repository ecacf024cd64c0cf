"""Interchange: export a cut to .otio .otioz .otiod .edl .xml (saying what each format could
not hold) and import whatever OTIO's adapters read.

OTIO formats keep everything (nested stacks, transitions, every take, other applications'
metadata). CMX 3600 EDL keeps one video track and the active media only; FCP 7 XML keeps all
tracks but only the active media. Generated clips are labelled AI-generated in every format
(EDL comments, FCP XML clip comments; OTIO formats keep ``metadata["latentcut"]``).
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio
from opentimelineio.adapters.file_bundle_utils import MediaReferencePolicy

from .document import Document
from .errors import ProjectError
from .project import read_timeline, timeline_from_json, write_text_atomic, write_timeline
from .generated import RECIPE
from .provenance import APP_KEY, generated_note, is_generated

FORMATS = {".otio": "otio_json", ".otioz": "otioz", ".otiod": "otiod",
           ".edl": "cmx_3600", ".xml": "fcp_xml"}


@dataclass
class ExportReport:
    """What ``export_timeline`` wrote and what the format could not hold."""

    path: Path
    format: str
    dropped: list[str] = field(default_factory=list)


def _timeline_of(doc_or_timeline) -> otio.schema.Timeline:
    if isinstance(doc_or_timeline, Document):
        return doc_or_timeline.timeline
    if isinstance(doc_or_timeline, otio.schema.Timeline):
        return doc_or_timeline
    raise TypeError(f"doc_or_timeline: expected Document or Timeline, "
                    f"got {type(doc_or_timeline).__name__}")


def _rate(timeline) -> float:
    md = timeline.metadata.get("latentcut")
    if md is not None and md.get("rate"):
        return float(md["rate"])
    gst = timeline.global_start_time
    return float(gst.rate) if gst is not None else 24.0


def _label(kind: str, track) -> str:
    return f"{kind} track {track.name or '(unnamed)'}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _the_other_takes(keys: list[str]) -> str:
    """What an editor calls the media references a clip does not show (its other takes and
    the generation settings, i.e. the recipe), with the verb that agrees: "... are"."""
    takes = [k for k in keys if k != RECIPE]
    parts = []
    if takes:
        parts.append(f"the other take{'s' if len(takes) > 1 else ''} ({', '.join(takes)})")
    if RECIPE in keys:
        parts.append("the generation settings")
    return " and ".join(parts) + (" is" if keys == takes and len(takes) == 1 else " are")


def _active_only(timeline, dropped: list[str], fmt: str) -> None:
    """Keep only each clip's active media (formats without takes); note what goes."""
    for clip in timeline.find_clips():
        refs = clip.media_references()
        active = clip.active_media_reference_key
        others = sorted(k for k in refs.keys() if k != active)
        ref = refs[active]
        if isinstance(ref, otio.schema.GeneratorReference):
            dropped.append(f"{clip.name}: not generated yet, so it goes out as offline media, "
                           f"without its generation settings")
            ref = otio.schema.MissingReference(name=clip.name,
                                               available_range=ref.available_range)
        if others:
            dropped.append(f"{clip.name}: {_the_other_takes(others)} not kept in {fmt}")
        if others or isinstance(refs[active], otio.schema.GeneratorReference):
            clip.set_media_references({otio.schema.Clip.DEFAULT_MEDIA_KEY: ref},
                                      otio.schema.Clip.DEFAULT_MEDIA_KEY)


def _name_reels(timeline) -> None:
    """Give each media file of an EDL its own reel (at most 8 characters, unique; a generated
    take is named after its clip and take number, e.g. SHOT1T2), and a generated take the
    source timecode its file carries (the time of day it was made)."""
    reels: dict[str, str] = {}
    for clip in timeline.find_clips():
        ref = clip.media_reference
        url = getattr(ref, "target_url", None)
        if not url:
            continue
        md = clip.metadata.get(APP_KEY) if is_generated(clip) else None
        if url not in reels:
            take = re.fullmatch(r"take-(\d+)", clip.active_media_reference_key) if md is not None else None
            suffix = f"T{take.group(1)}" if take else ""
            stem = clip.name if md is not None else Path(url).stem
            base = re.sub(r"[^A-Za-z0-9]", "", stem).upper()[:8 - len(suffix)] + suffix or "REEL"
            reel, n = base, 2
            while reel in reels.values():
                reel = base[:8 - len(str(n))] + str(n)
                n += 1
            reels[url] = reel
        cmx = dict(clip.metadata.get("cmx_3600") or {})
        cmx["reel"] = reels[url]
        clip.metadata["cmx_3600"] = cmx
        timecode = (md or {}).get("timecode")
        if timecode and clip.source_range is not None:
            _start_at_timecode(clip, str(timecode))


def _start_at_timecode(clip, timecode: str) -> None:
    """Shift a clip's media time so its file's first frame is at ``timecode``."""
    src = clip.source_range  # media time
    try:
        start = otio.opentime.from_timecode(timecode, round(src.start_time.rate))
    except (ValueError, TypeError):
        return  # a rate timecode cannot count in: the EDL writer refuses such media anyway
    shift = start.rescaled_to(src.start_time.rate)
    clip.source_range = otio.opentime.TimeRange(src.start_time + shift, src.duration)
    avail = clip.media_reference.available_range
    if avail is not None:
        clip.media_reference.available_range = otio.opentime.TimeRange(avail.start_time + shift, avail.duration)


def _flatten_nested(track, dropped: list[str]) -> None:
    """EDL/XML writers need flat tracks: a nested stack becomes its flattened top layer."""
    for i in range(len(track) - 1, -1, -1):
        child = track[i]
        if isinstance(child, otio.schema.Stack):
            flat = otio.algorithms.flatten_stack(child)  # in the stack's own time
            shown = otio.algorithms.track_trimmed_to_range(flat, child.trimmed_range())
            pieces = [copy.deepcopy(x) for x in shown]
            del track[i]
            for j, item in enumerate(pieces):
                track.insert(i + j, item)
            dropped.append(f"nested sequence {child.name}: only its top layer is kept")


def _for_edl(timeline, dropped: list[str], out: Path) -> otio.schema.Timeline:
    tl = copy.deepcopy(timeline)
    video = [t for t in tl.tracks if isinstance(t, otio.schema.Track)
             and t.kind == otio.schema.TrackKind.Video and t.enabled]
    keep = video[0] if video else None
    for i in range(len(tl.tracks) - 1, -1, -1):
        t = tl.tracks[i]
        if t is keep:
            continue
        kind = t.kind.lower() if isinstance(t, otio.schema.Track) else "nested"
        why = "an EDL holds one video track" if kind == "video" else "an EDL holds no sound"
        dropped.append(f"{_label(kind, t)}: not kept ({why})")
        del tl.tracks[i]
    if keep is None:
        raise ProjectError(out, "an EDL holds one video track, and this cut has no video track that is switched on")
    if len(tl.tracks.markers):
        dropped.append(f"{_plural(len(tl.tracks.markers), 'timeline marker')}: not kept in an EDL")
        del tl.tracks.markers[:]
    if len(keep.markers):
        dropped.append(f"{_plural(len(keep.markers), 'marker')} on {_label('video', keep)}: not kept in an EDL")
        del keep.markers[:]
    _flatten_nested(keep, dropped)
    return tl


def _for_xml(timeline, dropped: list[str]) -> otio.schema.Timeline:
    tl = copy.deepcopy(timeline)
    for t in tl.tracks:
        if not isinstance(t, otio.schema.Track):
            continue
        if len(t.markers):  # FCP 7 XML has sequence and clip markers, none on tracks
            dropped.append(f"{_plural(len(t.markers), 'marker')} on {_label(t.kind.lower(), t)}: "
                           f"not kept in FCP XML (it has no track markers)")
            del t.markers[:]
        _flatten_nested(t, dropped)
    return tl


def _label_generated(timeline) -> None:
    """Write an AI-generated note into each generated clip's EDL and FCP XML comments."""
    for clip in timeline.find_clips():
        if not is_generated(clip):
            continue
        note = generated_note(clip)
        cmx = dict(clip.metadata.get("cmx_3600") or {})
        cmx["comments"] = list(cmx.get("comments") or []) + [note]
        clip.metadata["cmx_3600"] = cmx
        fcp = dict(clip.metadata.get("fcp_xml") or {})
        fcp["comments"] = {"mastercomment1": note}
        clip.metadata["fcp_xml"] = fcp


def _bundle(timeline, out: Path, adapter: str, base_dir, dropped: list[str]) -> None:
    """Write an .otioz/.otiod bundle with the active media of each clip copied in."""
    # a copy with every media path absolute, as the bundle adapters need
    tl = timeline_from_json(timeline.to_json_string(), out, Path(base_dir) if base_dir else Path.cwd())
    for clip in tl.find_clips():
        refs = clip.media_references()
        ref = clip.media_reference
        others = [k for k, r in refs.items() if r is not ref
                  and isinstance(r, otio.schema.ExternalReference)]
        if others:
            dropped.append(f"{clip.name}: {_the_other_takes(sorted(others))} not copied into the bundle "
                           "(they still point at their files)")
        url = getattr(ref, "target_url", None)
        if url is not None:
            path = otio.url_utils.filepath_from_url(url) if url.startswith("file:") else url
            if not os.path.isfile(path):
                dropped.append(f"{clip.name}: its media {url} is missing, so the bundle goes without it")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    _remove(tmp)
    try:
        otio.adapters.write_to_file(tl, str(tmp), adapter_name=adapter,
                                    media_policy=MediaReferencePolicy.MissingIfNotFile)
    except (otio.exceptions.OTIOError, OSError) as exc:
        _remove(tmp)
        raise ProjectError(out, f"cannot bundle: {exc}") from exc
    try:
        if out.is_dir():  # an older .otiod: swap it out, then delete it
            old = out.with_name(f".{out.name}.{os.getpid()}.old")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except OSError as exc:
        _remove(tmp)
        raise ProjectError(out, f"cannot replace it: {exc.strerror or exc}") from exc


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def export_timeline(doc_or_timeline, out_path, base_dir=None) -> ExportReport:
    """Write the cut in the format ``out_path``'s extension names (.otio .otioz .otiod .edl
    .xml). ``base_dir`` resolves relative media paths (defaults to the current folder).
    Returns an ``ExportReport`` listing what the format could not hold."""
    timeline = _timeline_of(doc_or_timeline)
    out = Path(out_path).absolute()
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"out_path: unknown export format {out.suffix!r} "
                         f"(use one of {', '.join(FORMATS)})")
    if not out.parent.is_dir():
        raise ProjectError(out, "the folder does not exist")
    dropped: list[str] = []
    if fmt == "otio_json":
        write_timeline(timeline, out)
    elif fmt in ("otioz", "otiod"):
        _bundle(timeline, out, fmt, base_dir, dropped)
    else:
        if fmt == "cmx_3600":
            tl = _for_edl(timeline, dropped, out)
        else:
            tl = _for_xml(timeline, dropped)
        _label_generated(tl)
        if fmt == "cmx_3600":
            _name_reels(tl)
        _active_only(tl, dropped, "an EDL" if fmt == "cmx_3600" else "FCP XML")
        kwargs = {"rate": _rate(timeline)} if fmt == "cmx_3600" else {}
        try:
            text = otio.adapters.write_to_string(tl, adapter_name=fmt, **kwargs)
        except (otio.exceptions.OTIOError, ValueError) as exc:
            raise ProjectError(out, f"the {fmt} writer refused the cut: {exc}") from exc
        write_text_atomic(text, out)
    return ExportReport(path=out, format=out.suffix.lower().lstrip("."), dropped=dropped)


def otioz_media_folder(path) -> Path:
    """Where ``import_timeline`` unpacks an .otioz bundle: ``NAME_otioz/`` next to it."""
    path = Path(path)
    return path.with_name(path.stem + "_otioz")


def _read_otioz(path: Path) -> otio.schema.Timeline:
    """Read an .otioz, unpacking it (again) so the clips point at real files."""
    folder = otioz_media_folder(path).absolute()
    if folder.exists() and not (folder / "content.otio").is_file():
        raise ProjectError(path, f"cannot unpack: {folder} exists and is not an unpacked bundle")
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(path) as bundle:
            text = bundle.read("content.otio").decode("utf-8")
            _remove(tmp)
            bundle.extractall(tmp)
        if folder.exists():  # an earlier unpack: swap it out, then delete it
            old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old)
        else:
            os.replace(tmp, folder)
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError) as exc:
        _remove(tmp)
        raise ProjectError(path, f"not an OTIOZ bundle ({exc})") from exc
    except OSError as exc:
        _remove(tmp)
        raise ProjectError(path, f"cannot unpack to {folder}: {exc.strerror or exc}") from exc
    return timeline_from_json(text, path, folder)


def import_timeline(path) -> otio.schema.Timeline:
    """Read any file an OTIO adapter reads (.otio .otioz .otiod .edl .xml ...) as a Timeline.
    Relative media paths in .otio files and .otiod bundles are resolved against their folder;
    an .otioz is unpacked once into ``NAME_otioz/`` next to it and its clips point there."""
    path = Path(path)
    if not path.exists():
        raise ProjectError(path, "the file does not exist")
    suffix = path.suffix.lower()
    if suffix == ".otio":
        return read_timeline(path, path.parent.absolute())
    if suffix == ".otioz":
        return _read_otioz(path)
    if suffix == ".otiod":  # media paths inside the bundle are relative to its folder
        return read_timeline(path / "content.otio", path.absolute())
    try:
        result = otio.adapters.read_from_file(str(path))
    except Exception as exc:  # adapters raise many kinds of errors for bad input
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ProjectError(path, f"cannot read as a timeline: {first}") from exc
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = [t for t in result if isinstance(t, otio.schema.Timeline)]
        if not timelines:
            raise ProjectError(path, "holds no timeline")
        result = timelines[0]
    if not isinstance(result, otio.schema.Timeline):
        raise ProjectError(path, f"holds a {type(result).__name__}, not a Timeline")
    return result
