"""The model folders LatentCut knows, and what each can do, read from JSON alone (no torch).

Known folders are: the embedded model, the remembered folders (engine.backends.model_folders:
every folder a model was loaded from or added in the app), and the model folders inside each
directory of $LATENTCUT_MODELS (os.pathsep separated).

    from engine.backends.registry import describe, known_model_folders
    for folder in known_model_folders():
        row = describe(folder)   # {"name", "path", "family", "pipeline", "operations", "error"}
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from engine.operations import OPERATIONS
from engine.backends.families import UnsupportedModel, recognise
from engine.backends.model_folders import is_model_folder, remembered
from engine.backends.weights import weight_files
from engine.errors import LatentCutError


def describe(folder: str | os.PathLike) -> dict:
    """What a model folder is and which operations it can do. A folder that is not a model at all
    raises ValueError; a model that cannot run (unsupported pipeline, missing or cut-off weights)
    comes back with no operations and `error` saying why, so a listing shows every folder."""
    folder = Path(folder).expanduser().resolve()
    row = {"name": folder.name, "path": str(folder), "family": None, "pipeline": None, "operations": [],
           "error": None}
    if (folder / "model_index.json").is_file():
        try:
            found = recognise(folder)
            row.update(family=found.family, pipeline=found.class_name)
            weight_files(folder, found.index)
            row["operations"] = sorted(found.operations())
        except (UnsupportedModel, LatentCutError, ValueError) as exc:
            row["error"] = str(exc)
        return row
    config = folder / "config.json"
    if not config.is_file():
        raise ValueError(f"model: {folder} is not a model folder (no model_index.json or config.json)")
    try:
        class_name = json.loads(config.read_text(encoding="utf-8")).get("_class_name")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        row["error"] = f"model: {config} is not valid JSON ({exc})"
        return row
    if class_name != "LatentCutLDM":
        row["error"] = f"model: {config} names {class_name!r}, which is not a LatentCut model"
        return row
    row.update(family="LatentCut", pipeline="LatentCutPipeline")
    if not (folder / "model.safetensors").is_file():
        row["error"] = f"model: {folder} is incomplete: model.safetensors is missing"
    else:
        row["operations"] = sorted(OPERATIONS)
    return row


def default_settings(folder: str | os.PathLike | None = None) -> dict:
    """{"steps", "guidance"} a model runs with when a job leaves them unset (None: the embedded
    model), read from JSON alone; ValueError naming the folder when it is not a model."""
    from engine.backends.embedded import EMBEDDED_MODEL_DIR
    from engine.backends.families import family_module
    from engine.model.config import ModelConfig

    folder = Path(folder).expanduser() if folder else EMBEDDED_MODEL_DIR
    if (folder / "model_index.json").is_file():
        family = family_module(recognise(folder).module).FAMILY
        return {"steps": int(family.default_steps), "guidance": float(family.default_guidance)}
    config = folder / "config.json"
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
        values = ModelConfig.from_dict(data, str(config))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError, TypeError) as exc:
        raise ValueError(f"model: {config} cannot be read ({exc})") from None
    return {"steps": int(values.default_steps), "guidance": float(values.default_guidance)}


def known_model_folders() -> list[Path]:
    """The embedded model (when shipped), remembered folders that still exist, and model folders
    found one level inside each $LATENTCUT_MODELS directory; each once, in that order."""
    from engine.backends.embedded import EMBEDDED_MODEL_DIR

    found: list[Path] = []
    if EMBEDDED_MODEL_DIR.is_dir():
        found.append(EMBEDDED_MODEL_DIR)
    found.extend(p for p in remembered() if p.is_dir())
    for root in filter(None, os.environ.get("LATENTCUT_MODELS", "").split(os.pathsep)):
        root = Path(root).expanduser()
        if is_model_folder(root):
            found.append(root)
        elif root.is_dir():
            found.extend(sorted(p for p in root.iterdir() if p.is_dir() and is_model_folder(p)))
    unique: dict[Path, None] = {}
    for p in found:
        unique.setdefault(p.resolve(), None)
    return list(unique)
