"""A BERT encoder (the text encoder's network) read straight from a Hugging Face folder.

The embedded model needs only the encoder's token states. Importing transformers for them cost
about 2.5 s of every cold `latentcut generate` (most of it modules the encoder never uses), so the
forward pass is written here, about a hundred lines of torch, and the tokenizer is the folder's
own tokenizer.json through the `tokenizers` library. Weights are the folder's model.safetensors
(the BertModel layout); the states match transformers' BertModel (tests/model/test_text_encoder.py).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


class _Layer(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int, eps: float):
        super().__init__()
        self.heads = heads
        self.query, self.key, self.value = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.attention_out = nn.Linear(dim, dim)
        self.attention_norm = nn.LayerNorm(dim, eps=eps)
        self.intermediate = nn.Linear(dim, hidden)
        self.out = nn.Linear(hidden, dim)
        self.out_norm = nn.LayerNorm(dim, eps=eps)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = self.heads

        def split(t):
            return t.view(b, n, h, d // h).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h) + bias, dim=-1)
        attended = (weights @ v).transpose(1, 2).reshape(b, n, d)
        x = self.attention_norm(x + self.attention_out(attended))
        return self.out_norm(x + self.out(F.gelu(self.intermediate(x))))


class BertEncoder(nn.Module):
    """BERT's embeddings and encoder layers (post-norm, GELU); no pooler."""

    def __init__(self, config: dict):
        super().__init__()
        dim, eps = config["hidden_size"], config.get("layer_norm_eps", 1e-12)
        absolute = config.get("position_embedding_type", "absolute") == "absolute"
        if config.get("hidden_act", "gelu") != "gelu" or not absolute:
            raise ValueError("text encoder: only BERT with GELU and absolute positions is supported")
        if dim % config["num_attention_heads"]:
            raise ValueError(f"text encoder: hidden_size {dim} is not a multiple of the heads")
        self.hidden_size = dim
        self.word = nn.Embedding(config["vocab_size"], dim)
        self.position = nn.Embedding(config["max_position_embeddings"], dim)
        self.token_type = nn.Embedding(config.get("type_vocab_size", 2), dim)
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.layers = nn.ModuleList([_Layer(dim, config["num_attention_heads"], config["intermediate_size"], eps)
                                     for _ in range(config["num_hidden_layers"])])

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """ids, mask [B, L] -> token states [B, L, hidden]; masked-out tokens are not attended to."""
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.norm(self.word(ids) + self.position(positions)[None] + self.token_type.weight[0])
        bias = torch.zeros(mask.shape, dtype=x.dtype, device=x.device)
        bias = bias.masked_fill(~mask.bool(), torch.finfo(x.dtype).min)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        return x

    @classmethod
    def from_folder(cls, folder: Path) -> "BertEncoder":
        from safetensors.torch import load_file

        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        model = cls(config)
        state = load_file(str(folder / "model.safetensors"))
        state = {k.removeprefix("bert."): v for k, v in state.items()}
        names = {"word": "embeddings.word_embeddings", "position": "embeddings.position_embeddings",
                 "token_type": "embeddings.token_type_embeddings", "norm": "embeddings.LayerNorm"}
        for i in range(len(model.layers)):
            base = f"encoder.layer.{i}."
            names.update({f"layers.{i}.{ours}": base + theirs for ours, theirs in (
                ("query", "attention.self.query"), ("key", "attention.self.key"), ("value", "attention.self.value"),
                ("attention_out", "attention.output.dense"), ("attention_norm", "attention.output.LayerNorm"),
                ("intermediate", "intermediate.dense"), ("out", "output.dense"), ("out_norm", "output.LayerNorm"))})
        mapped = {}
        for ours, theirs in names.items():
            for part in ("weight", "bias"):
                key = f"{theirs}.{part}"
                if part == "bias" and ours in ("word", "position", "token_type"):  # embeddings have none
                    continue
                if key not in state:
                    raise ValueError(f"text encoder: {folder / 'model.safetensors'} has no {key}")
                mapped[f"{ours}.{part}"] = state[key]
        model.load_state_dict(mapped)
        return model
