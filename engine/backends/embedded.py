"""The embedded previz model shipped in resources/models/previz-v1 (the default everywhere)."""
from __future__ import annotations

from pathlib import Path

EMBEDDED_NAME = "previz-v1"
EMBEDDED_MODEL_DIR = Path(__file__).resolve().parents[2] / "resources" / "models" / EMBEDDED_NAME


def embedded_model_dir() -> Path:
    """The shipped model folder; FileNotFoundError saying what to do when its weights are absent."""
    missing = [name for name in ("config.json", "model.safetensors") if not (EMBEDDED_MODEL_DIR / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"the embedded model is missing {', '.join(missing)} in {EMBEDDED_MODEL_DIR}; train it with "
            f"`python -m engine.train --preset previz` or pass a model folder (--model DIR)")
    return EMBEDDED_MODEL_DIR


def load_embedded(device=None, threads: int | None = None):
    from ..pipeline import LatentCutPipeline

    return LatentCutPipeline.from_pretrained(embedded_model_dir(), device=device, threads=threads)
