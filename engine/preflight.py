"""Checks of a model job made before anything loads (loading takes seconds): the frame size
against the model's grid (rounded, with a warning) and its native size, and the prompt
against the embedded previz model's vocabulary.

Only LatentCut models are described by a `config.json` that can be read this cheaply; the
diffusers backends round sizes and frame counts themselves when they load.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from engine.jobs import ModelJob

# A size whose area is this many times the native one (or a fraction of it) is far from what
# the model learned: the previz model draws a grid texture at 1920x1088, not a scene.
FAR_FROM_NATIVE = 4.0


def _latentcut_config(job: ModelJob):
    """The job's model config when it is a LatentCut model folder, else None."""
    from engine.backends.embedded import EMBEDDED_MODEL_DIR
    from engine.model.config import CLASS_NAME, ModelConfig

    folder = Path(job.model) if job.model is not None else EMBEDDED_MODEL_DIR
    path = folder / "config.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # not ours to judge: the loader names what is wrong with the folder
    if not isinstance(data, dict) or data.get("_class_name") != CLASS_NAME:
        return None
    try:
        return ModelConfig.from_dict(data, source=str(path))
    except ValueError:
        return None


def check_job(job: ModelJob, what: str = "") -> tuple[ModelJob, list[str]]:
    """The job with its steps resolved and its size fitted to the model's grid, and warnings (one line each) for a
    rounded size, a size far from the model's native one, prompt words the embedded previz model does
    not know, and a prompt that names no scene. ``what`` prefixes each warning (e.g. "shot 2")."""
    from engine.constraints import Constraints
    from engine.vocabulary import look_only_note, vocabulary_note

    config = _latentcut_config(job)
    if config is None:
        return job, []
    notes = []
    if job.steps is None:  # resolved now, so progress can count steps per window
        job = dataclasses.replace(job, steps=config.default_steps)
    native = (config.width, config.height)
    if job.size is not None:
        size, note = Constraints(config.name, 1, config.size_multiple).fit_size(*job.size, what="--size")
        if note:
            notes.append(note)
            job = dataclasses.replace(job, size=size)
        ratio = (size[0] * size[1]) / (native[0] * native[1])
        if not 1 / FAR_FROM_NATIVE <= ratio <= FAR_FROM_NATIVE:
            notes.append(f"{config.name} learned {native[0]}x{native[1]}; at {size[0]}x{size[1]} "
                         f"({ratio:.2g}x its area) it draws texture rather than a scene")
    notes += [n for n in (vocabulary_note(job.prompt, config.name), look_only_note(job.prompt, config.name)) if n]
    return job, [f"{what}: {n}" if what else n for n in notes]
