"""Random models of the real architecture: tiny folders for tests everywhere (CLI, engine thread,
desktop), and full-size random folders for benchmarks before trained weights exist.

64x32, 8 frames at 8 fps (1 s), a 2-layer BERT text encoder with the MiniLM tokenizer, all inside
the folder. Zero-initialised output layers (adaLN-zero) get small random values so the output
really depends on the prompt, the seed and the conditions.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import torch

from .config import ModelConfig
from .ldm import LatentCutLDM
from .loading import save_model
from .preview import fit_preview
from .text_encoder import default_text_encoder_folder

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")


def tiny_config(**overrides) -> ModelConfig:
    values = dict(name="tiny-random", width=64, height=32, frames=8, fps=8.0, time_compression=4,
                  latent_channels=4, space_compression=8, decoder_channels=8, decoder_blocks=1,
                  patch_size=2, text_encoder="text_encoder", text_dim=32,
                  text_max_length=16, dit_dim=32, dit_depth=2, dit_heads=2, mlp_ratio=2.0,
                  default_steps=3, default_guidance=3.0, overlap_latent_frames=1)
    values.update(overrides)
    return ModelConfig(**values).validate()


def _write_tiny_text_encoder(folder: Path, dim: int, seed: int) -> None:
    from transformers import BertConfig, BertModel

    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    source = default_text_encoder_folder()
    folder.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copy2(source / name, folder / name)
    cfg = BertConfig(vocab_size=30522, hidden_size=dim, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=2 * dim, max_position_embeddings=64)
    with torch.random.fork_rng():  # BERT initialises from the global RNG; leave the caller's alone
        torch.manual_seed(seed)
        bert = BertModel(cfg)
    bert.save_pretrained(str(folder), safe_serialization=True)


def make_tiny_model(config: ModelConfig | None = None, seed: int = 0) -> LatentCutLDM:
    config = config or tiny_config()
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LatentCutLDM(config)
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1 and not p.any():
                p.normal_(0.0, 0.2, generator=gen)
        # Fit the preview to what this random decoder makes of random latents.
        z = torch.randn(2, config.latent_channels, 2, config.height // config.space_compression,
                        config.width // config.space_compression, generator=gen)
        fit_preview(model.preview, z, model.decode_latents(z))
    return model.eval()


def make_tiny_model_folder(path: str | Path, seed: int = 0, **overrides) -> Path:
    """Write a tiny random model folder (config.json, model.safetensors, text_encoder/) and return it."""
    path = Path(path)
    config = tiny_config(**overrides)
    _write_tiny_text_encoder(path / "text_encoder", config.text_dim, seed)
    return save_model(path, make_tiny_model(config, seed), config)


def make_random_model_folder(path: str | Path, config: ModelConfig | None = None, seed: int = 0) -> Path:
    """A randomly initialised model folder at any config (default: the shipped architecture), whose
    text encoder is the configured one (MiniLM by default). Same compute cost as trained weights."""
    config = (config or ModelConfig()).validate()
    return save_model(path, make_tiny_model(config, seed), config)
