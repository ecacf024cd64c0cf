"""Model backends: load_backend() picks the one a model folder needs (no torch import until then)."""
from __future__ import annotations

import gc
import json
from contextlib import contextmanager
from pathlib import Path

from engine.requests import Backend, VideoResult

__all__ = ["Backend", "VideoResult", "load_backend"]


def load_backend(path: str | Path | None = None, device=None, threads: int | None = None) -> Backend:
    """None -> the embedded previz model; a folder with model_index.json -> a diffusers backend;
    a folder whose config.json has "_class_name": "LatentCutLDM" -> a LatentCutPipeline."""
    with _collector_paused():
        return _load(path, device, threads)


@contextmanager
def _collector_paused():
    """A first load imports torch, diffusers and scipy: some 360,000 objects the collector tracks, which
    live as long as the process. It would scan them again and again while they load and at every
    full collection after (0.6-0.7 s of a cold 2 s generate), so it is paused while they load;
    then one collection frees the garbage the imports left (frames in reference cycles hold the
    caller's locals) and the rest is frozen out of later scans. engine_thread unfreezes a backend
    it lets go that only a collection can free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.collect()
        gc.freeze()
        if enabled:
            gc.enable()


def _load(path: str | Path | None, device, threads: int | None) -> Backend:
    if path is None:
        from .embedded import load_embedded

        return load_embedded(device=device, threads=threads)
    folder = Path(path)
    if not folder.exists():
        raise FileNotFoundError(f"model folder not found: {folder}")
    if not folder.is_dir():
        raise ValueError(f"model: {folder} is not a folder (a model is a folder with config.json "
                         f"and model.safetensors, or a diffusers folder with model_index.json)")
    if (folder / "model_index.json").is_file():
        from .diffusers_backend import load_diffusers_backend

        return load_diffusers_backend(folder, device)
    config = folder / "config.json"
    if not config.is_file():
        raise ValueError(f"model: {folder} has neither config.json nor model_index.json")
    try:
        class_name = json.loads(config.read_text(encoding="utf-8")).get("_class_name")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        raise ValueError(f"{config}: not a valid JSON config ({exc})") from None
    if class_name != "LatentCutLDM":
        raise ValueError(f"{config}: unsupported model class {class_name!r} (expected 'LatentCutLDM')")
    from ..pipeline import LatentCutPipeline

    return LatentCutPipeline.from_pretrained(folder, device=device, threads=threads)
