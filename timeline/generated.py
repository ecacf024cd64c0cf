"""The generated-clip contract (DESIGN.md): a pending clip whose "recipe" media reference is a
``GeneratorReference`` holding every job parameter, takes as named ``ExternalReference``s
("take-1", "take-2", ...) with one active, and provenance under ``metadata["latentcut"]``
with ``status`` pending | done | failed."""
from __future__ import annotations

import re
from pathlib import Path

import opentimelineio as otio

from .commands import EditCommand
from .edits import Overwrite, SetAppMetadata, SetMediaReferences, SetSourceRange
from .errors import EditError
from .provenance import app_data, is_generated, latentcut_metadata, write_app_data

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange

RECIPE = "recipe"
_TAKE = re.compile(r"^take-(\d+)$")
_PROVENANCE_FIELDS = ("prompt", "negative_prompt", "seed", "steps", "guidance", "strength")


def _jsonable(value, name: str):
    """Job parameters as values OTIO metadata can hold (tuples become lists, paths strings)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v, f"{name}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, name) for v in value]
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"{name}: cannot store a {type(value).__name__} in a recipe")


def make_pending_clip(op: str, params: dict, duration: RationalTime, name: str = "",
                      engine_version: str = "") -> otio.schema.Clip:
    """A clip whose active media reference is the recipe for generating it.

    ``params`` is the job spec as a dict (prompt, seed, steps, ...); ``duration`` is the
    clip's length. The clip is not on a track yet: place it with ``PlacePendingClip``.
    """
    if not op or not isinstance(op, str) or not re.fullmatch(r"[a-z][a-z_]*", op):
        raise ValueError(f"op: expected a lower-case operation name, got {op!r}")
    if not isinstance(params, dict):
        raise ValueError(f"params: expected a dict, got {type(params).__name__}")
    if not isinstance(duration, RationalTime) or duration.value <= 0:
        raise ValueError(f"duration: expected a RationalTime > 0, got {duration!r}")
    params = _jsonable(params, "params")
    available = TimeRange(RationalTime(0, duration.rate), duration)  # the recipe's own time
    recipe = otio.schema.GeneratorReference(
        name=name, generator_kind=f"latentcut.{op}", parameters=params, available_range=available)
    clip = otio.schema.Clip(name=name or op, source_range=available)
    clip.set_media_references({RECIPE: recipe}, RECIPE)
    fields = {k: params.get(k) for k in _PROVENANCE_FIELDS}
    write_app_data(clip, latentcut_metadata(
        op, model=params.get("model"), source=_source_of(params),
        engine_version=engine_version, status="pending", **fields))
    return clip


def _source_of(params: dict):
    """The media a job reads from (restyle/extend ``source``; fill ``before``/``after``;
    animate ``image``), or None for a plain generation."""
    if params.get("source") is not None:
        return params["source"]
    inputs = {k: params[k] for k in ("before", "after", "image") if params.get(k) is not None}
    return inputs or None


def take_keys(clip) -> list[str]:
    """The clip's take keys in take order ("take-1", "take-2", ...)."""
    keys = [k for k in clip.media_references().keys() if _TAKE.match(k)]
    return sorted(keys, key=lambda k: int(_TAKE.match(k).group(1)))


def _require_generated(clip) -> dict:
    if not is_generated(clip):
        raise EditError(f"clip {clip.name!r} is not a generated clip")
    return app_data(clip)


class PlacePendingClip(Overwrite):
    """Put a pending clip on ``track`` at ``start`` (track time), overwriting that range."""

    def __init__(self, clip, track, start: RationalTime):
        _require_generated(clip)
        super().__init__(track, start, clip, text=f"Place {clip.name or 'generated clip'}")


class AddTake(EditCommand):
    """Add a rendered result as a new take ("take-N"), make it active and mark the clip done.

    ``available_range`` is the file's range (its media time); ``provenance`` is the engine's
    record (seed, model, created, engine_version, ...). The clip keeps its length on the
    timeline so nothing else moves.
    """

    def __init__(self, clip, path, available_range: TimeRange, provenance: dict | None = None):
        super().__init__(f"Add take to {clip.name or 'clip'}")
        if not isinstance(available_range, TimeRange) or available_range.duration.value <= 0:
            raise ValueError(f"available_range: expected a TimeRange > 0, got {available_range!r}")
        self.clip, self.path, self.available_range = clip, str(path), available_range
        self.provenance = _jsonable(dict(provenance or {}), "provenance")
        self.key = None

    def build(self, doc):
        md = _require_generated(self.clip)
        refs = dict(self.clip.media_references())
        numbers = [int(_TAKE.match(k).group(1)) for k in take_keys(self.clip)]
        self.key = f"take-{max(numbers, default=0) + 1}"
        refs[self.key] = otio.schema.ExternalReference(
            target_url=self.path, available_range=self.available_range)
        takes = dict(md.get("takes") or {})
        takes[self.key] = self.provenance
        md.pop("credentials", None)  # the last take's; this take brings its own, if signed
        md.update(self.provenance)
        md.update(takes=takes, status="done", generated=True)
        md.pop("error", None)
        self.step(doc, SetMediaReferences(self.clip, refs, self.key))
        self.step(doc, SetAppMetadata(self.clip, md))
        self.step(doc, SetSourceRange(self.clip, TimeRange(self.available_range.start_time,
                                                           self.clip.duration())))


def take_from_result(clip, result: dict) -> AddTake:
    """The AddTake for an engine's ``done`` result (``path``, ``frames``, ``rate``,
    ``provenance``): the take is all of the written file (its media time from 0)."""
    rate = float(result["rate"])
    available = TimeRange(RationalTime(0, rate), RationalTime(int(result["frames"]), rate))
    return AddTake(clip, result["path"], available, result.get("provenance") or {})


class SwitchTake(EditCommand):
    """Make another take (or the recipe) the active media reference."""

    def __init__(self, clip, key: str):
        super().__init__(f"Switch {clip.name or 'clip'} to {key}")
        self.clip, self.key = clip, key

    def build(self, doc):
        md = _require_generated(self.clip)
        refs = dict(self.clip.media_references())
        if self.key not in refs:
            raise EditError(f"take: clip {self.clip.name!r} has no take {self.key!r}")
        _activate(self, doc, self.clip, refs, self.key, md)


class DropTake(EditCommand):
    """Delete a take; if it was active, the newest remaining take (or the recipe) becomes active."""

    def __init__(self, clip, key: str):
        super().__init__(f"Delete {key} of {clip.name or 'clip'}")
        self.clip, self.key = clip, key

    def build(self, doc):
        md = _require_generated(self.clip)
        refs = dict(self.clip.media_references())
        if not _TAKE.match(self.key) or self.key not in refs:
            raise EditError(f"take: clip {self.clip.name!r} has no take {self.key!r}")
        del refs[self.key]
        takes = dict(md.get("takes") or {})
        takes.pop(self.key, None)
        md["takes"] = takes
        active = self.clip.active_media_reference_key
        if active == self.key:
            remaining = [k for k in take_keys(self.clip) if k != self.key]
            active = remaining[-1] if remaining else RECIPE
        _activate(self, doc, self.clip, refs, active, md)


def _activate(cmd, doc, clip, refs: dict, key: str, md: dict) -> None:
    """Steps that make ``key`` active with ``md`` updated from that take's provenance."""
    if key == RECIPE:
        if md.get("status") == "done":
            md["status"] = "pending"
    else:
        take = (md.get("takes") or {}).get(key)
        if take is not None:
            md.pop("credentials", None)  # the other take's; this one brings its own, if signed
            md.update(take)
        md["status"] = "done"
        md.pop("error", None)
    cmd.step(doc, SetMediaReferences(clip, refs, key))
    cmd.step(doc, SetAppMetadata(clip, md))
    avail = refs[key].available_range
    if avail is not None and clip.source_range is not None \
            and clip.source_range.start_time != avail.start_time:
        cmd.step(doc, SetSourceRange(clip, TimeRange(avail.start_time, clip.duration())))


class MarkFailed(EditCommand):
    """Record that generating the clip failed or was cancelled; the recipe stays for a retry."""

    def __init__(self, clip, message: str):
        super().__init__(f"Generation failed: {clip.name or 'clip'}")
        self.clip, self.message = clip, str(message)

    def build(self, doc):
        md = _require_generated(self.clip)
        md.update(status="failed", error=self.message)
        self.step(doc, SetAppMetadata(self.clip, md))


def clip_from_generated_file(path, available_range: TimeRange, provenance: dict, name: str = "") -> otio.schema.Clip:
    """A clip for a file LatentCut generated, rebuilt from the provenance in its container:
    the recipe (the job it records) and the file as take-1, marked generated and done, so an
    imported take is never passed off as camera footage. ``available_range`` is the file's
    range (its media time)."""
    params = provenance.get("job") if isinstance(provenance.get("job"), dict) else {}
    params = {k: v for k, v in params.items() if k != "kind"}
    op = str(provenance.get("op") or "generate")
    clip = make_pending_clip(op, params, available_range.duration, name=name or Path(str(path)).stem,
                             engine_version=str(provenance.get("engine_version") or ""))
    take = _jsonable(dict(provenance), "provenance")
    refs = dict(clip.media_references())
    refs["take-1"] = otio.schema.ExternalReference(target_url=str(path), available_range=available_range)
    clip.set_media_references(refs, "take-1")
    md = app_data(clip)
    md.update(take)
    md.update(takes={"take-1": take}, status="done", generated=True)
    write_app_data(clip, md)
    clip.source_range = available_range
    return clip
