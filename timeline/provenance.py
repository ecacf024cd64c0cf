"""Provenance: the ``metadata["latentcut"]`` record of a generated clip, and the list of
generated segments a rendered or exported cut contains (so generated frames are never
passed off as camera footage)."""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

import opentimelineio as otio

APP_KEY = "latentcut"
STATUSES = ("pending", "done", "failed")


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


def is_generated(item) -> bool:
    """True when ``item`` is a clip whose frames come from a generative model."""
    md = item.metadata.get(APP_KEY) if isinstance(item, otio.schema.Clip) else None
    return bool(md is not None and md.get("generated"))


def _timeline_rate(timeline) -> float:
    md = timeline.metadata.get(APP_KEY)
    if md is not None and md.get("rate"):
        return float(md["rate"])
    gst = timeline.global_start_time
    return float(gst.rate) if gst is not None else 24.0


def _plain(value):
    if isinstance(value, otio.opentime.TimeRange):
        return {"start": value.start_time.to_seconds(), "duration": value.duration.to_seconds()}
    if isinstance(value, otio.opentime.RationalTime):
        return value.to_seconds()
    if hasattr(value, "items"):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) or type(value).__name__ == "AnyVector":
        return [_plain(v) for v in value]
    return value


def _segment(clip, track, record: otio.opentime.TimeRange, rate: float) -> dict:
    md = clip.metadata[APP_KEY]
    ref = clip.media_reference
    url = getattr(ref, "target_url", None)
    return {
        "track": track.name,
        "kind": track.kind,
        "clip": clip.name,
        "start": record.start_time.to_seconds(),
        "end": record.end_time_exclusive().to_seconds(),
        "start_frame": round(record.start_time.rescaled_to(rate).value),
        "end_frame": round(record.end_time_exclusive().rescaled_to(rate).value),
        "rate": rate,
        "op": md.get("op"),
        "prompt": md.get("prompt"),
        "seed": md.get("seed"),
        "model": _plain(md.get("model")),
        "status": md.get("status"),
        "take": clip.active_media_reference_key,
        "path": url,
    }


def _walk(track, offset, window, rate, out):
    """Collect generated clips of ``track``; ``offset`` maps the track's time to the
    timeline's, ``window`` (timeline time) is the part that is visible."""
    t = otio.opentime.RationalTime(0, rate)
    for child in track:
        if isinstance(child, otio.schema.Transition):
            continue
        dur = child.duration()
        record = otio.opentime.TimeRange(offset + t, dur)  # timeline time
        t = t + dur
        if window is not None:
            lo = max(record.start_time, window.start_time)
            hi = min(record.end_time_exclusive(), window.end_time_exclusive())
            if hi <= lo:
                continue
            record = otio.opentime.TimeRange.range_from_start_end_time(lo, hi)
        if isinstance(child, otio.schema.Stack):
            inner = child.trimmed_range()  # the stack's own time
            for sub in child:
                if isinstance(sub, otio.schema.Track):
                    _walk(sub, record.start_time - inner.start_time, record, rate, out)
        elif is_generated(child):
            out.append(_segment(child, track, record, rate))


def generated_segments(timeline: otio.schema.Timeline) -> list[dict]:
    """Every generated clip in ``timeline`` with its record range (seconds and frames at the
    timeline rate), op, prompt, seed, model, status, active take key and take path. JSON-ready."""
    rate = _timeline_rate(timeline)
    out: list[dict] = []
    zero = otio.opentime.RationalTime(0, rate)
    for track in timeline.tracks:
        if isinstance(track, otio.schema.Track):
            _walk(track, zero, None, rate, out)
    return out


def generated_note(clip) -> str:
    """One line naming a generated clip as AI-generated, for EDL and FCP XML comments."""
    md = clip.metadata[APP_KEY]
    model = md.get("model")
    name = model.get("name") if model is not None and hasattr(model, "get") else model
    url = getattr(clip.media_reference, "target_url", None)
    take = f" take={Path(url).name}" if url else ""
    creds = md.get("credentials")  # the take's Content Credentials: state and manifest identifier
    c2pa = (f" c2pa={creds.get('state')}:{creds.get('manifest')}"
            if creds is not None and hasattr(creds, "get") and creds.get("manifest") else "")
    return (f"AI-GENERATED by LatentCut: op={md.get('op')} seed={md.get('seed')} "
            f"model={name or 'unknown'}{take}{c2pa} prompt={md.get('prompt')!r}")
