"""The one home of LatentCut's app data: the ``"latentcut"`` metadata key, reading and writing
it on any OTIO object, track flags, plain-Python copies of OTIO values, the provenance record
of a generated clip, and the generated segments a cut contains (so generated frames are never
passed off as camera footage). Nothing else spells the key."""
from __future__ import annotations

import copy
import datetime as _dt
import json as _json
from pathlib import Path

import opentimelineio as otio

APP_KEY = "latentcut"
STATUSES = ("pending", "done", "failed")
TRACK_FLAGS = ("muted", "locked")  # header switches kept in a track's app data ("enabled" is OTIO's own)
RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


# -- reading and writing app data ------------------------------------------------------------
def to_plain(value, json: bool = False):
    """A plain-Python deep copy of an OTIO value (AnyDictionary → dict, AnyVector → list).

    With ``json`` the result is JSON-ready: a RationalTime becomes ``{"value", "rate"}``, a
    TimeRange ``{"start_time", "duration"}`` (OTIO's own field names, lossless), and any other
    object its ``str``. Without it, times stay OTIO values, so an undo restores them exactly.
    """
    if isinstance(value, RationalTime):
        return {"value": value.value, "rate": value.rate} if json else copy.copy(value)
    if isinstance(value, TimeRange):
        if json:
            return {"start_time": to_plain(value.start_time, True), "duration": to_plain(value.duration, True)}
        return copy.copy(value)
    if hasattr(value, "items"):
        return {str(k): to_plain(v, json) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "AnyVector":
        return [to_plain(v, json) for v in value]
    if not json or value is None or isinstance(value, (str, int, float, bool)):
        return copy.copy(value)
    return str(value)


def app_data(obj) -> dict:
    """A plain copy of ``obj.metadata["latentcut"]`` (an empty dict when absent)."""
    data = obj.metadata.get(APP_KEY) if obj is not None and hasattr(obj, "metadata") else None
    return to_plain(data) if data is not None else {}


def has_app_data(obj) -> bool:
    return APP_KEY in obj.metadata


def app_value(obj, key: str, default=None):
    """One field of ``obj``'s app data, read without copying the rest (``default`` when absent)."""
    data = obj.metadata.get(APP_KEY)
    return data.get(key, default) if data is not None else default


def write_app_data(obj, value: dict | None) -> None:
    """Replace ``obj.metadata["latentcut"]`` with a copy of ``value`` (None removes it); the
    metadata of other applications is left untouched. Inside ``timeline/`` only the Document
    and clips not yet on a track are written this way."""
    if value is None:
        if APP_KEY in obj.metadata:
            del obj.metadata[APP_KEY]
    else:
        obj.metadata[APP_KEY] = copy.deepcopy(value)


def track_flag(track, which: str) -> bool:
    """A track header switch: "enabled" (OTIO's own flag), "muted" or "locked"."""
    if which == "enabled":
        return bool(track.enabled)
    if which not in TRACK_FLAGS:
        raise ValueError(f"which: expected 'enabled' or one of {TRACK_FLAGS}, got {which!r}")
    return bool(app_value(track, which, False))


def with_track_flag(track, which: str, value: bool) -> dict:
    """The track's app data with the switch ``which`` ("muted" or "locked") set to ``value``."""
    if which not in TRACK_FLAGS:
        raise ValueError(f"which: expected one of {TRACK_FLAGS}, got {which!r}")
    data = app_data(track)
    data[which] = bool(value)
    return data


def timeline_rate(timeline) -> float:
    """Frames per second of a timeline: its app data, else its global start time, else its
    first clip's rate, else 24."""
    rate = app_value(timeline, "rate")
    if rate:
        return float(rate)
    if timeline.global_start_time is not None:
        return float(timeline.global_start_time.rate)
    for clip in timeline.find_clips():
        rng = clip.source_range or getattr(clip.media_reference, "available_range", None)
        if rng is not None:
            return float(rng.duration.rate)
    return 24.0


# -- provenance of a generated clip ----------------------------------------------------------
def now_iso() -> str:
    """Current UTC time as ISO 8601 (seconds precision)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def latentcut_metadata(op: str, prompt: str = "", negative_prompt: str = "", seed=None,
                       steps=None, guidance=None, strength=None, model=None, source=None,
                       engine_version: str = "", created=None, status: str = "pending",
                       **extra) -> dict:
    """The provenance dict stored under ``metadata["latentcut"]`` of a generated clip.

    ``model`` is ``{"name", "sha256"}`` or just a name; ``source`` is the range a clip came
    from (e.g. ``{"path": str, "range": TimeRange}`` in that media's time) or None;
    ``created`` defaults to now (ISO 8601); ``engine_version`` is passed in by the caller.
    Extra keyword arguments are kept as further fields.
    """
    if not op or not isinstance(op, str):
        raise ValueError(f"op: expected a non-empty string, got {op!r}")
    if status not in STATUSES:
        raise ValueError(f"status: expected one of {STATUSES}, got {status!r}")
    if isinstance(model, dict):
        model_md = {"name": str(model.get("name") or ""), "sha256": str(model.get("sha256") or "")}
    else:
        model_md = {"name": "" if model is None else str(model), "sha256": ""}
    if isinstance(created, _dt.datetime):
        created = created.isoformat(timespec="seconds")
    md = {
        "generated": True,
        "op": op,
        "prompt": prompt or "",
        "negative_prompt": negative_prompt or "",
        "seed": seed,
        "steps": steps,
        "guidance": guidance,
        "strength": strength,
        "model": model_md,
        "source": source,
        "created": created or now_iso(),
        "engine_version": engine_version or "",
        "status": status,
    }
    md.update(extra)
    return md


def provenance_from_tags(tags: dict) -> dict | None:
    """The provenance a generated file carries in its container tags (the JSON under the app
    key; keys lower-cased, as probe gives them); None for a file LatentCut did not generate."""
    text = tags.get(APP_KEY)
    if not text:
        return None
    try:
        provenance = _json.loads(text)
    except ValueError:
        return None
    if not isinstance(provenance, dict) or not provenance.get("generated") or not provenance.get("op"):
        return None
    return provenance


def is_generated(item) -> bool:
    """True when ``item`` is a clip whose frames come from a generative model."""
    return isinstance(item, otio.schema.Clip) and bool(app_value(item, "generated"))


def generated_note(clip) -> str:
    """One line naming a generated clip as AI-generated, for EDL and FCP XML comments."""
    md = clip.metadata[APP_KEY]
    model = md.get("model")
    name = model.get("name") if model is not None and hasattr(model, "get") else model
    url = getattr(clip.media_reference, "target_url", None)
    take = f" take={Path(url).name}" if url else ""
    creds = md.get("credentials")  # the take's Content Credentials: state and manifest identifier
    c2pa = ""
    if creds is not None and hasattr(creds, "get") and creds.get("state"):
        c2pa = f" c2pa={creds.get('state')}" + (f":{creds.get('manifest')}" if creds.get("manifest") else "")
    return (f"AI-GENERATED by LatentCut: op={md.get('op')} seed={md.get('seed')} "
            f"model={name or 'unknown'}{take}{c2pa} prompt={md.get('prompt')!r}")


# -- generated segments of a cut -------------------------------------------------------------
def segment_record(clip, track_name: str, kind: str, record: TimeRange, rate: float) -> dict:
    """The JSON-ready record of one generated piece of a cut: where it is (``record``, in the
    time of the cut it is listed for: seconds, and frames at ``rate``), what made it, and
    which take and file it shows. Renders and interchange files list these."""
    md = to_plain(clip.metadata[APP_KEY], json=True)
    start, end = record.start_time, record.end_time_exclusive()
    return {
        "track": track_name,
        "kind": kind,
        "clip": clip.name,
        "start": round(start.to_seconds(), 6),
        "end": round(end.to_seconds(), 6),
        "start_frame": round(start.rescaled_to(rate).value),
        "end_frame": round(end.rescaled_to(rate).value),
        "rate": rate,
        "op": md.get("op"),
        "prompt": md.get("prompt"),
        "seed": md.get("seed"),
        "model": md.get("model"),
        "status": md.get("status"),
        "take": clip.active_media_reference_key,
        "path": getattr(clip.media_reference, "target_url", None),
        "provenance": md,
    }


def _walk(track, offset: RationalTime, window: TimeRange | None, rate: float, out: list) -> None:
    """Collect generated clips of ``track``; ``offset`` maps the track's time to the
    timeline's, ``window`` (timeline time) is the part that is listed."""
    t = RationalTime(0, rate)
    for child in track:
        if isinstance(child, otio.schema.Transition):
            continue
        dur = child.duration()
        record = TimeRange(offset + t, dur)  # timeline time
        t = t + dur
        if window is not None:
            lo = max(record.start_time, window.start_time)
            hi = min(record.end_time_exclusive(), window.end_time_exclusive())
            if hi <= lo:
                continue
            record = TimeRange.range_from_start_end_time(lo, hi)
        if isinstance(child, otio.schema.Stack):
            inner = child.trimmed_range()  # the stack's own time
            for sub in child:
                if isinstance(sub, otio.schema.Track):
                    _walk(sub, record.start_time - inner.start_time, record, rate, out)
        elif is_generated(child):
            out.append(segment_record(child, track.name, track.kind, record, rate))


def generated_segments(timeline: otio.schema.Timeline, window: TimeRange | None = None) -> list[dict]:
    """Every generated clip in ``timeline`` (or in its part ``window``, timeline time) with its
    record range in timeline time (seconds, and frames at the timeline rate): see
    ``segment_record``. A renderer lists only what its file shows: it calls ``segment_record``
    for the pieces it draws."""
    rate = timeline_rate(timeline)
    out: list[dict] = []
    zero = RationalTime(0, rate)
    for track in timeline.tracks:
        if isinstance(track, otio.schema.Track):
            _walk(track, zero, window, rate, out)
    return out
