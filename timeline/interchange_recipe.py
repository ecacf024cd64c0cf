"""A generated clip's provenance and recipe as text that EDL comments and FCP XML log notes
can carry, and back: LatentCut → EDL/XML → LatentCut keeps every generated clip generated,
with its full recipe (prompt, negative prompt, seed, steps, guidance, model and its sha256,
creation time, engine version) and, for a clip not generated yet, the recipe to generate it.

Values are written as OTIO JSON, so time ranges and nested fields come back exactly.
"""
from __future__ import annotations

import opentimelineio as otio

from .generated import RECIPE
from .provenance import APP_KEY, is_generated

TAG = "LATENTCUT"  # first word of every provenance line, in EDL comments and XML log notes


def _dumps(value) -> str:
    return otio.core.serialize_json_to_string(value, indent=-1)


def _loads(text: str):
    return otio.core.deserialize_json_from_string(text)


def provenance_record(clip) -> dict | None:
    """What a format must carry to bring ``clip`` back generated: the provenance, the recipe
    (kind and parameters) and the key of the active take. None for a clip not generated."""
    if not is_generated(clip):
        return None
    record = {APP_KEY: clip.metadata[APP_KEY], "take": clip.active_media_reference_key}
    recipe = clip.media_references().get(RECIPE)
    if isinstance(recipe, otio.schema.GeneratorReference):
        record["recipe"] = {"kind": recipe.generator_kind, "parameters": recipe.parameters}
    return record


def record_lines(record: dict) -> list[str]:
    """One ``LATENTCUT: {"field": value}`` line per field (EDL comment lines stay short)."""
    lines = []
    for key, value in record.items():
        if key == APP_KEY:
            lines += [f"{TAG}: {_dumps({k: v})}" for k, v in value.items()]
        else:
            lines.append(f"{TAG} {key.upper()}: {_dumps(value)}")
    return lines


def record_text(record: dict) -> str:
    """The whole record as one line of text (for an XML log note)."""
    return f"{TAG}: {_dumps(record)}"


def parse_lines(lines) -> dict | None:
    """The record ``record_lines`` wrote, from the comment lines of one event (others are
    ignored); None when there is none or it does not parse."""
    fields, record = {}, {}
    try:
        for line in lines:
            text = str(line).strip().lstrip("*").strip()
            if text.startswith(f"{TAG}: "):
                fields.update(_loads(text[len(TAG) + 2:]))
            elif text.startswith(f"{TAG} ") and ": " in text:
                key, value = text[len(TAG) + 1:].split(": ", 1)
                record[key.lower()] = _loads(value)
    except (ValueError, otio.exceptions.OTIOError):
        return None
    if not fields.get("generated"):
        return None
    record[APP_KEY] = fields
    return record


def parse_text(text: str) -> dict | None:
    """The record ``record_text`` wrote, or None."""
    if not text or not text.startswith(f"{TAG}: "):
        return None
    try:
        record = _loads(text[len(TAG) + 2:])
    except (ValueError, otio.exceptions.OTIOError):
        return None
    md = record.get(APP_KEY) if hasattr(record, "get") else None
    return dict(record) if md is not None and md.get("generated") else None


def restore(clip, record: dict) -> None:
    """Make ``clip`` (as another editor's file gave it back) a generated clip again: its
    provenance, its recipe, and its media as the take it was."""
    clip.metadata[APP_KEY] = record[APP_KEY]
    refs = {}
    recipe = record.get("recipe")
    if recipe is not None:
        rng = clip.media_reference.available_range if clip.media_reference else None
        refs[RECIPE] = otio.schema.GeneratorReference(
            name=clip.name, generator_kind=str(recipe["kind"]), parameters=recipe["parameters"],
            available_range=rng or clip.source_range)
    take = str(record.get("take") or "")
    media = clip.media_reference
    has_media = isinstance(media, (otio.schema.ExternalReference,
                                   otio.schema.ImageSequenceReference))
    if has_media and take and take != RECIPE:
        refs[take] = media
    if not refs:
        return
    active = take if take in refs else next(iter(refs))
    clip.set_media_references(refs, active)

