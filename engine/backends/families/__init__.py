"""The diffusers video families LatentCut knows, recognised from a folder's model_index.json.

Recognition reads only JSON (model_index.json and the components' config.json), so listing the
models a user has (`latentcut models`) imports neither torch nor diffusers.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

# family module -> (family name, pipeline class names). Kept here, not in the modules, so
# recognition does not import torch.
FAMILIES = {
    "wan": ("Wan", frozenset({"WanPipeline", "WanImageToVideoPipeline", "WanVideoToVideoPipeline",
                              "WanVACEPipeline"})),
    "ltx": ("LTX-Video", frozenset({"LTXPipeline", "LTXImageToVideoPipeline", "LTXConditionPipeline"})),
    "cogvideox": ("CogVideoX", frozenset({"CogVideoXPipeline", "CogVideoXImageToVideoPipeline",
                                          "CogVideoXVideoToVideoPipeline"})),
    "unet3d": ("UNet3D text-to-video", frozenset({"TextToVideoSDPipeline", "VideoToVideoSDPipeline"})),
}
SUPPORTED = ", ".join(sorted(c for _n, classes in FAMILIES.values() for c in classes))


class UnsupportedModel(ValueError):
    """model_index.json names a pipeline LatentCut has no backend for."""


@dataclass(frozen=True)
class Recognised:
    module: str                  # key of FAMILIES
    family: str                  # display name
    class_name: str              # model_index.json's _class_name
    index: dict                  # model_index.json
    configs: dict                # component name -> its config.json (models only)

    def operations(self) -> frozenset[str]:
        return family_module(self.module).operations_from_config(self.class_name, self.index, self.configs)


def read_index(folder: Path) -> dict:
    path = folder / "model_index.json"
    if not folder.is_dir():
        raise FileNotFoundError(f"model: {folder} is not a folder")
    if not path.is_file():
        raise ValueError(f"model: {folder} is not a diffusers model folder (no model_index.json)")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"model: {path} is not valid JSON ({exc})") from None
    if not isinstance(index, dict) or not isinstance(index.get("_class_name"), str):
        raise ValueError(f"model: {path} has no _class_name")
    return index


def component_names(index: dict) -> list[str]:
    """Components the pipeline loads from subfolders (entries like ["diffusers", "AutoencoderKLWan"])."""
    return [k for k, v in index.items()
            if not k.startswith("_") and isinstance(v, list) and len(v) == 2 and v[0] is not None]


def recognise(folder: str | Path) -> Recognised:
    folder = Path(folder).expanduser()
    index = read_index(folder)
    class_name = index["_class_name"]
    for module, (family, classes) in FAMILIES.items():
        if class_name in classes:
            break
    else:
        raise UnsupportedModel(f"model: {folder} is a {class_name}, which LatentCut does not support "
                               f"(supported pipelines: {SUPPORTED})")
    configs = {}
    for name in component_names(index):
        config = folder / name / "config.json"
        if config.is_file():
            try:
                configs[name] = json.loads(config.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValueError(f"model: {config} is not valid JSON ({exc})") from None
    return Recognised(module, family, class_name, index, configs)


def family_module(module: str):
    return importlib.import_module(f"engine.backends.families.{module}")
