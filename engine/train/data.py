"""Training data: rendered batches for the autoencoder, and the latent pool for the denoiser.

The denoiser never sees pixels: a fixed pool of world clips is rendered once, encoded by the
frozen autoencoder, and kept as latents together with everything the training cases need
(the latent of the first frame held still, the structure map, the restyle partner, caption
embeddings cached per unique caption). Pools are saved as safetensors so a resumed run does not
encode again.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from einops import rearrange

from engine.train.captions import caption, prompt
from engine.train.world import EVAL_SEED_START, render, restyled, sample_scene


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 [T,H,W,3] -> float [3,T,H,W] in [-1, 1]."""
    return rearrange(torch.from_numpy(np.ascontiguousarray(frames)).float() / 127.5 - 1.0, "t h w c -> c t h w")


def check_training_seed(seed: int) -> int:
    if not 0 <= seed < EVAL_SEED_START:
        raise ValueError(f"seed: training seeds must be in 0..{EVAL_SEED_START - 1} (above is held out), got {seed}")
    return seed


def autoencoder_batch(step_seed: int, batch: int, width: int, height: int, frames: int,
                      crop: tuple[int, int] | None) -> torch.Tensor:
    """[B,3,frames,h,w] random crops of freshly rendered world clips (frames spans a whole clip, so
    motion per frame is at least the native one)."""
    rng = np.random.default_rng([step_seed, 5])
    out = []
    for _ in range(batch):
        scene = sample_scene(int(rng.integers(0, EVAL_SEED_START)))
        if rng.random() < 0.3:
            scene = restyled(scene, int(rng.integers(0, 2**31)))
        clip = render(scene, width, height, frames)
        if crop is not None:
            ch, cw = crop
            y = int(rng.integers(0, height - ch + 1))
            x = int(rng.integers(0, width - cw + 1))
            clip = clip[:, y:y + ch, x:x + cw]
        out.append(to_tensor(clip))
    return torch.stack(out)


class TextCache:
    """Token states per unique caption, computed once by the (frozen) text encoder."""

    def __init__(self):
        self.states: dict[str, torch.Tensor] = {}

    def add(self, captions, encoder, batch: int = 64) -> None:
        missing = [c for c in dict.fromkeys(captions) if c not in self.states]
        for i in range(0, len(missing), batch):
            chunk = missing[i:i + batch]
            states, mask = encoder.encode(chunk)
            for j, c in enumerate(chunk):
                self.states[c] = states[j, : int(mask[j].sum())].float().cpu().clone()

    def batch(self, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """-> (states [B,L,D], mask [B,L] bool), zero padded."""
        seqs = [self.states[c] for c in captions]
        length = max(s.shape[0] for s in seqs)
        out = torch.zeros(len(seqs), length, seqs[0].shape[1])
        mask = torch.zeros(len(seqs), length, dtype=torch.bool)
        for i, s in enumerate(seqs):
            out[i, : s.shape[0]] = s
            mask[i, : s.shape[0]] = True
        return out, mask

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        keys = list(self.states)
        tensors = {f"t{i}": self.states[k].contiguous() for i, k in enumerate(keys)}
        save_file(tensors, str(path), metadata={"captions": json.dumps(keys)})

    @classmethod
    def load(cls, path: Path) -> "TextCache":
        from safetensors import safe_open

        cache = cls()
        with safe_open(str(path), "pt") as f:
            keys = json.loads(f.metadata()["captions"])
            for i, k in enumerate(keys):
                cache.states[k] = f.get_tensor(f"t{i}")
        return cache


@dataclass
class LatentPool:
    """Clips as latents. Clips come in restyle pairs: clip 2i and 2i+1 share geometry and motion."""

    latents: torch.Tensor  # [N,C,t,h,w] scaled latents of the whole clip
    still: torch.Tensor  # [N,C,1,h,w] latent of the first frame held for one latent frame (animate)
    structure: torch.Tensor  # [N,S,t,h,w] structure map of the clip (restyle conditioning)
    captions: list[list[str]]  # per clip: its captions (the first is the evaluation wording)
    scenes: list[dict]

    def __len__(self) -> int:
        return self.latents.shape[0]

    def partner(self, i: int) -> int:
        return i ^ 1

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        meta = {"captions": json.dumps(self.captions), "scenes": json.dumps(self.scenes)}
        save_file({"latents": self.latents.contiguous(), "still": self.still.contiguous(),
                   "structure": self.structure.contiguous()}, str(path), metadata=meta)

    @classmethod
    def load(cls, path: Path) -> "LatentPool":
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            meta = f.metadata()
            return cls(f.get_tensor("latents"), f.get_tensor("still"), f.get_tensor("structure"),
                       json.loads(meta["captions"]), json.loads(meta["scenes"]))


@torch.no_grad()
def build_pool(model, pairs: int, seed: int, device, captions_per_clip: int = 3, log=print) -> LatentPool:
    """Render `pairs` restyle pairs from training seeds derived from `seed` and encode them."""
    cfg = model.config
    rng = np.random.default_rng([seed, 9])
    kt = cfg.time_compression
    latents, stills, structures, caps, scenes = [], [], [], [], []
    for p in range(pairs):
        scene = sample_scene(int(rng.integers(0, EVAL_SEED_START)))
        for s in (scene, restyled(scene, int(rng.integers(0, 2**31)))):
            x = to_tensor(render(s, cfg.width, cfg.height, cfg.frames))[None].to(device)
            latents.append(model.encode_frames(x).float().cpu())
            still = x[:, :, :1].expand(-1, -1, kt, -1, -1)
            stills.append(model.encode_frames(still).float().cpu())
            structures.append(model.structure(x).float().cpu())
            caps.append([prompt(s)] + [caption(s, rng) for _ in range(captions_per_clip - 1)])
            scenes.append(s.to_dict())
        if log is not None and (p + 1) % 50 == 0:
            log(f"pool: {p + 1}/{pairs} pairs encoded")
    return LatentPool(torch.cat(latents), torch.cat(stills), torch.cat(structures), caps, scenes)
