"""Model folder <-> LatentCutLDM: config.json + model.safetensors (never pickle), and its sha256."""
from __future__ import annotations

from pathlib import Path

import torch

from ..hashing import sha256_file
from .config import ModelConfig
from .ldm import LatentCutLDM
from .text_encoder import TextEncoder, resolve_text_encoder_folder
from timeline.files import atomic_path

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


def save_model(folder: str | Path, model: LatentCutLDM, config: ModelConfig | None = None,
               half: bool = False) -> Path:
    """Write config.json and model.safetensors into folder (fp16 weights when half, for shipping).
    Each file is written under a temporary name and renamed, so an old model is never half-replaced."""
    from safetensors.torch import save_file

    config = (config or model.config).validate()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    dtype = torch.float16 if half else torch.float32
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in model.state_dict().items()}
    # Both written before either is renamed; the weights are renamed first, as before.
    with atomic_path(folder / CONFIG_NAME) as tmp_config, atomic_path(folder / WEIGHTS_NAME) as tmp_weights:
        save_file(tensors, str(tmp_weights), metadata={"format": "pt", "class": "LatentCutLDM"})
        config.save(tmp_config)
    return folder


def _check_folder(folder: str | Path) -> Path:
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"model folder not found: {folder}")
    if not folder.is_dir():
        raise ValueError(f"model path is not a folder: {folder}")
    return folder


def load_config(folder: str | Path) -> ModelConfig:
    folder = _check_folder(folder)
    return ModelConfig.load(folder / CONFIG_NAME)


def load_model(folder: str | Path, device: torch.device | str = "cpu",
               dtype: torch.dtype = torch.float32) -> LatentCutLDM:
    """Build the model from folder/config.json and load folder/model.safetensors onto device/dtype."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    config = load_config(folder)
    weights = Path(folder) / WEIGHTS_NAME
    if not weights.is_file():
        raise FileNotFoundError(f"model weights not found: {weights}")
    try:
        state = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"{weights}: unreadable safetensors file ({exc})") from None
    model = LatentCutLDM(config)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise ValueError(f"{weights}: weights do not match {Path(folder) / CONFIG_NAME} "
                         f"(missing {missing[:5]}, unexpected {unexpected[:5]})")
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise ValueError(f"{weights}: {key} has shape {tuple(value.shape)}, "
                             f"config expects {tuple(expected[key].shape)}")
    model.load_state_dict({k: v.float() for k, v in state.items()})
    return model.to(device=device, dtype=dtype).eval().requires_grad_(False)


def load_text_encoder(folder: str | Path, config: ModelConfig, device: torch.device | str = "cpu",
                      dtype: torch.dtype = torch.float32) -> TextEncoder:
    encoder = TextEncoder(resolve_text_encoder_folder(config.text_encoder, folder), config.text_max_length,
                          device=device, dtype=dtype)
    if encoder.dim != config.text_dim:
        raise ValueError(f"{Path(folder) / CONFIG_NAME}: text_dim is {config.text_dim} but the text encoder "
                         f"{encoder.folder} has hidden size {encoder.dim}")
    return encoder


def weights_sha256(folder: str | Path) -> str:
    return sha256_file(_check_folder(folder) / WEIGHTS_NAME)
