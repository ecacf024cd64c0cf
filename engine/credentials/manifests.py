"""Manifest definitions (plain dicts in the c2pa JSON form) for what the engine writes:
a generated clip (`c2pa.created`, trained algorithmic media, the recipe, its sources as
ingredients) and a rendered cut (a composite listing each generated take it shows, and when)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = IPTC + "trainedAlgorithmicMedia"
COMPOSITE_WITH_TRAINED = IPTC + "compositeWithTrainedAlgorithmicMedia"
COMPOSITE = IPTC + "composite"
RECIPE_LABEL = "org.latentcut.recipe"
SEGMENTS_LABEL = "org.latentcut.segments"
RECIPE_FIELDS = ("op", "prompt", "negative_prompt", "seed", "steps", "guidance", "strength", "model",
                 "created", "engine_version", "frames", "rate", "width", "height")


@dataclass(frozen=True)
class Ingredient:
    """A file the signed one was made from. `relationship` is c2pa's: `inputTo` for the
    footage a model was conditioned on, `componentOf` for a take placed in a cut."""

    path: Path
    instance_id: str
    relationship: str

    def definition(self) -> dict[str, Any]:
        return {"title": self.path.name, "relationship": self.relationship, "instance_id": self.instance_id}


def _agent(engine_version: str, model: dict | None = None) -> dict[str, Any]:
    agent = {"name": "LatentCut", "version": engine_version or "unknown"}
    if model:
        agent["org.latentcut.model"] = {"name": model.get("name") or "", "sha256": model.get("sha256") or ""}
    return agent


def generated_manifest(provenance: dict[str, Any], title: str) -> tuple[dict[str, Any], list[Ingredient]]:
    """The manifest of a file a model wrote, from its provenance dict (the `latentcut` tag)."""
    ingredients = [Ingredient(Path(src["path"]), f"source-{n}", "inputTo")
                   for n, src in enumerate(provenance.get("source") or [], start=1)]
    model = provenance.get("model") or {}
    created = {
        "action": "c2pa.created",
        "digitalSourceType": TRAINED,
        "softwareAgent": _agent(provenance.get("engine_version", ""), model),
        "description": f"{provenance['op']} by the model {model.get('name') or 'unknown'}",
    }
    if ingredients:
        created["parameters"] = {"ingredientIds": [i.instance_id for i in ingredients]}
    recipe = {key: provenance.get(key) for key in RECIPE_FIELDS if key in provenance}
    recipe["source"] = provenance.get("source") or []
    definition = {
        "claim_generator_info": [_agent(provenance.get("engine_version", ""))],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": [created]}},
            {"label": RECIPE_LABEL, "data": recipe},
        ],
    }
    return definition, ingredients


def render_manifest(segments: list[dict[str, Any]], title: str,
                    engine_version: str) -> tuple[dict[str, Any], list[Ingredient]]:
    """The manifest of a rendered cut. `segments` are the generated segments it shows (seconds
    from the file's start, and each take's `file`); each distinct take is one ingredient, placed
    at every time range where it shows."""
    ingredients: dict[str, Ingredient] = {}
    for seg in segments:
        if seg.get("file") and seg["file"] not in ingredients:
            ingredients[seg["file"]] = Ingredient(Path(seg["file"]), f"take-{len(ingredients) + 1}", "componentOf")
    source_type = COMPOSITE_WITH_TRAINED if segments else COMPOSITE
    actions: list[dict[str, Any]] = [{
        "action": "c2pa.created",
        "digitalSourceType": source_type,
        "softwareAgent": _agent(engine_version),
        "description": "a cut rendered by LatentCut",
    }]
    listed = []
    for file, ingredient in ingredients.items():
        mine = [s for s in segments if s.get("file") == file]
        actions.append({
            "action": "c2pa.placed",
            "parameters": {"ingredientIds": [ingredient.instance_id]},
            "changes": [{"description": f"{s.get('clip') or ingredient.path.name} ({s.get('kind', 'Video').lower()})",
                         "region": [{"type": "temporal",
                                     "time": {"type": "npt", "start": f"{s['start']:g}", "end": f"{s['end']:g}"}}]}
                        for s in mine],
        })
        listed += [{**_segment_fields(s), "ingredient": ingredient.instance_id} for s in mine]
    listed += [_segment_fields(s) for s in segments if not s.get("file")]
    actions.append({"action": "c2pa.edited", "digitalSourceType": source_type,
                    "description": f"{len(segments)} generated segment(s) in the cut"})
    definition = {
        "claim_generator_info": [_agent(engine_version)],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": SEGMENTS_LABEL, "data": {"segments": listed}},
        ],
    }
    return definition, list(ingredients.values())


def _segment_fields(seg: dict[str, Any]) -> dict[str, Any]:
    keys = ("track", "kind", "clip", "start", "end", "start_frame", "end_frame", "rate", "op", "prompt",
            "seed", "model", "take")
    return {k: seg.get(k) for k in keys if k in seg}
