"""CMX 3600 EDL: one video track of the active media, valid reel names, the frame rate in a
header comment, and each generated clip's provenance in ``* LATENTCUT:`` comment lines.

Reading takes the rate from that comment (our own EDLs), else from the caller, else from the
timecodes themselves when they rule 24 fps out (a frame count of 24 or more); when nothing
says, it reads at 24 fps and says so rather than reopening at a silently wrong rate.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import opentimelineio as otio

from .errors import ProjectError
from .interchange_prepare import active_media_only, flatten_nested
from .interchange_recipe import TAG, parse_lines, provenance_record, record_lines, restore
from .provenance import APP_KEY, app_value, generated_note, is_generated

RATE_LINE = f"* {TAG} RATE: "
_RATE_COMMENT = re.compile(r"^\*\s*" + TAG + r" RATE:\s*([0-9.]+)\s*$", re.M)
_EVENT = re.compile(r"^\d{3,}\s")
_TIMECODE = re.compile(r"\b\d\d:\d\d:\d\d[:;.](\d\d)\b")
_REEL_CHARS = re.compile(r"[^A-Za-z0-9_]")
# Generators an EDL names by reel (OTIO's reader turns them back into these generators).
_GENERATOR_REELS = {"SMPTEBars": "BARS", "black": "BL", "Black": "BL"}
REEL_LEN = 8  # CMX 3600 reel names: up to 8 characters, no spaces
_STAMP = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})[:;.+](\d{1,3})$")
# Rates that can be written as non-drop EDL timecode, and the next one up for each frame count.
_COMMON_RATES = (24.0, 25.0, 30.0, 50.0, 60.0)


def _reel(clip, reels: dict) -> tuple[str, str | None]:
    """A valid reel name for ``clip`` and the name it replaces when it had to change it.
    Each media file gets its own reel, unique in the EDL (``reels`` maps file to reel so
    far): a generated take is named after its clip and take number (``shot_1T2``), so two
    takes never share one; other media keep a given reel or take the file's name."""
    ref = clip.media_reference
    if isinstance(ref, otio.schema.GeneratorReference) and ref.generator_kind in _GENERATOR_REELS:
        return _GENERATOR_REELS[ref.generator_kind], None
    media = getattr(ref, "target_url", None) or f"clip {id(clip)}"
    if media in reels:
        return reels[media], None
    given = str((clip.metadata.get("cmx_3600") or {}).get("reel") or "")
    take = re.fullmatch(r"take-(\d+)", clip.active_media_reference_key) if is_generated(clip) else None
    suffix = f"T{take.group(1)}" if take else ""
    if given:
        wanted = given
    elif take or not getattr(ref, "target_url", None):
        wanted = clip.name or ""
    else:
        wanted = Path(otio.url_utils.filepath_from_url(ref.target_url)).stem
    base = _REEL_CHARS.sub("_", wanted.strip())[:REEL_LEN - len(suffix)] + suffix or "AX"
    reel, n = base, 2
    while reel in reels.values():
        reel = base[:REEL_LEN - len(str(n))] + str(n)
        n += 1
    reels[media] = reel
    changed = given if given and given != reel else None
    return reel, changed


def _timecode_start(clip, rate: float):
    """Where a generated take's file starts in source timecode (the time of day it was made,
    stamped in the file), at `rate`; None when it carries none. The stamp's frames count at the
    file's own rate, which need not be a SMPTE one (the embedded model writes 12 fps), so it is
    read as a time, the same whatever rate the clip is counted in, on writing and on reading."""
    timecode = app_value(clip, "timecode") if is_generated(clip) else None
    match = _STAMP.match(str(timecode or "").strip())
    if match is None:
        return None
    h, m, s, ff = (int(g) for g in match.groups())
    file_rate = app_value(clip, "rate")
    file_rate = float(file_rate) if isinstance(file_rate, (int, float)) and file_rate > 0 else rate
    seconds = h * 3600 + m * 60 + s + ff / max(1, round(file_rate))
    return otio.opentime.RationalTime(round(seconds * rate), rate)


def _shift_media_time(clip, by) -> None:
    """Move a clip's media time (its source range and its media's range) by ``by``."""
    src = clip.source_range
    shift = by.rescaled_to(src.start_time.rate)
    clip.source_range = otio.opentime.TimeRange(src.start_time + shift, src.duration)
    ref = clip.media_reference
    if ref is not None and ref.available_range is not None:
        ref.available_range = otio.opentime.TimeRange(ref.available_range.start_time + shift,
                                                      ref.available_range.duration)


def _video_track(tl) -> otio.schema.Track:
    for track in tl.tracks:
        if isinstance(track, otio.schema.Track) and track.kind == otio.schema.TrackKind.Video \
                and track.enabled:
            return track
    raise ValueError("an EDL holds one video track, and this cut has no video track that is switched on")


def _cuts_for_early_dissolves(track) -> None:
    """An EDL dissolve starts its incoming clip early, by the transition's in offset; where the
    media has no frames that early the EDL would need a negative timecode, so it stays a cut
    (the report says so)."""
    for i in range(len(track) - 2, -1, -1):
        child, after = track[i], track[i + 1]
        if isinstance(child, otio.schema.Transition) and isinstance(after, otio.schema.Clip):
            if (after.source_range.start_time - child.in_offset).value < 0:
                del track[i]


def edl_timeline(tl) -> tuple[otio.schema.Timeline, list[str]]:
    """Shape the prepared copy ``tl`` for the CMX writer (in place); returns it and what was
    changed on the way, in the editor's words."""
    keep = _video_track(tl)
    for i in range(len(tl.tracks) - 1, -1, -1):
        if tl.tracks[i] is not keep:
            del tl.tracks[i]
    flatten_nested(keep)
    notes = []
    _cuts_for_early_dissolves(keep)
    reels: dict[str, str] = {}
    for clip in keep.find_clips():
        reel, changed = _reel(clip, reels)
        cmx = dict(clip.metadata.get("cmx_3600") or {})
        cmx["reel"] = reel
        if changed is not None:
            notes.append(f"clip {clip.name!r}: reel name {changed!r} written as {reel!r} "
                         "(EDL reel names hold up to 8 letters, digits or _)")
        record = provenance_record(clip)
        if record is not None:
            comments = [c for c in (cmx.get("comments") or []) if not str(c).startswith(TAG)]
            cmx["comments"] = comments + [generated_note(clip)] + record_lines(record)
        clip.metadata["cmx_3600"] = cmx
        start = _timecode_start(clip, clip.source_range.start_time.rate) if clip.source_range else None
        if start is not None:  # the event's source timecode is the one in the take's file
            _shift_media_time(clip, start)
    active_media_only(tl)
    return tl, notes


def write_edl(tl, rate: float) -> str:
    """EDL text of the shaped timeline ``tl`` at ``rate``, with the rate in a comment of the
    first event (readers refuse comments before it)."""
    text = otio.adapters.write_to_string(tl, adapter_name="cmx_3600", rate=rate)
    lines = text.split("\n")
    at = next((i + 1 for i, line in enumerate(lines) if _EVENT.match(line)), None)
    if at is not None:
        lines.insert(at, f"{RATE_LINE}{rate!r}")
    return "\n".join(lines)


def check_edl(text: str, rate: float) -> otio.schema.Timeline:
    """Read ``text`` back with OTIO's reader and with pycmx, as an editor would; raises
    ``ValueError`` saying what a reader refused."""
    import pycmx

    try:
        back = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=rate)
    except Exception as exc:  # the reader raises many kinds of errors for bad input
        raise ValueError(f"OTIO's EDL reader refuses it: {str(exc).splitlines()[0]}") from exc
    try:
        edits = [e for event in pycmx.parse_cmx3600(io.StringIO(text)).events for e in event.edits]
    except Exception as exc:
        raise ValueError(f"pycmx refuses it: {str(exc).splitlines()[0]}") from exc
    for edit in edits:
        if not edit.source or not edit.source.strip():
            raise ValueError(f"pycmx finds an event without a reel name: {edit.line_number}")
    return back


def _guess_rate(text: str) -> float | None:
    """The rate the EDL's own comment names, else the lowest common rate its timecodes allow
    when they rule out 24 fps (None when 24 fps is possible)."""
    found = _RATE_COMMENT.search(text)
    if found:
        return float(found.group(1))
    frames = [int(m.group(1)) for m in _TIMECODE.finditer(text)]
    top = max(frames, default=0)
    if top < 24:
        return None
    for rate in _COMMON_RATES:
        if top < rate:
            return 30000 / 1001 if rate == 30.0 and ";" in text else rate
    raise ValueError(f"a timecode has frame {top}, more than any common rate allows")


def edl_rate(path) -> float | None:
    """The rate an EDL states (our own) or its timecodes imply, or None when 24 fps is only a
    guess; raises ``ProjectError`` when no common rate fits its timecodes."""
    try:
        return _guess_rate(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as exc:
        raise ProjectError(path, f"cannot read it: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise ProjectError(path, str(exc)) from exc


def read_edl(path, rate: float | None = None, notes: list | None = None) -> otio.schema.Timeline:
    """Read an EDL at ``rate`` (else the rate it states or its timecodes imply, else 24 fps,
    noted in ``notes``); generated clips come back generated."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ProjectError(path, f"cannot read it: {exc.strerror or exc}") from exc
    if rate is None:
        try:
            rate = _guess_rate(text)
        except ValueError as exc:
            raise ProjectError(path, str(exc)) from exc
        if rate is None:
            rate = 24.0
            if notes is not None:
                notes.append(f"{path.name} does not say its frame rate; it was read at 24 fps "
                             "(choose the rate it was made at if that is wrong)")
    try:
        tl = otio.adapters.read_from_string(text, adapter_name="cmx_3600", rate=rate)
    except Exception as exc:  # the reader raises many kinds of errors for bad input
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        hint = " (is the frame rate right?)" if "rate" in first.lower() else ""
        raise ProjectError(path, f"cannot read it as an EDL at {rate:g} fps: {first}{hint}") from exc
    restore_generated(tl)
    settings = dict(tl.metadata.get(APP_KEY) or {})
    settings["rate"] = float(rate)
    tl.metadata[APP_KEY] = settings
    return tl


_TO_CLIP = re.compile(r"^TO (?:CLIP|FILE):\s*(\S.*)$")


def _incoming_media(clip, comments: list) -> list:
    """OTIO's reader gives the incoming clip of a dissolve the outgoing clip's media and leaves
    the right one in a ``TO CLIP:`` comment; point the clip at it."""
    for i, comment in enumerate(comments):
        found = _TO_CLIP.match(str(comment))
        if found and isinstance(clip.media_reference, otio.schema.ExternalReference):
            clip.media_reference.target_url = found.group(1).strip()
            return comments[:i] + comments[i + 1:]
    return comments


def restore_generated(tl) -> otio.schema.Timeline:
    """After OTIO's reader: each dissolve's incoming media, and our own comment lines back into
    provenance (they leave the carried comments)."""
    for clip in tl.find_clips():
        cmx = clip.metadata.get("cmx_3600")
        comments = list(cmx.get("comments") or []) if cmx is not None else []
        if comments:
            comments = _incoming_media(clip, comments)
            cmx["comments"] = comments
        record = parse_lines(comments)
        if record is None:
            continue
        cmx["comments"] = [c for c in comments if not str(c).startswith(TAG)
                           and not str(c).startswith("AI-GENERATED by LatentCut")]
        restore(clip, record)
        start = _timecode_start(clip, clip.source_range.start_time.rate) if clip.source_range else None
        if start is not None:  # back to the file's own frames, counted from its first
            _shift_media_time(clip, otio.opentime.RationalTime(-start.value, start.rate))
    return tl
