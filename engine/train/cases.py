"""The per-operation training cases, built from pooled latents.

Each case says which latent frames are known (and what they hold), whether a structure map is
given, and which clip is the target. It matches what engine/pipeline.py feeds the denoiser for
that operation:
  generate     nothing known
  extend_tail  the first `overlap` latent frames known (the clip before the new frames)
  extend_head  the last `overlap` latent frames known
  fill         both ends known
  animate      latent frame 0 known, encoded from the first frame held still
  restyle      the structure map of the partner rendering (same geometry, other style); a share
               of them also start from the partner's latents less their broad colours, noised, as
               the pipeline's restyle starts (model/restyle_look.py, train.flow_loss)
The loss covers only the frames that are not known.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.model.conditioning import build_condition
from engine.model.restyle_look import without_look

CASES = ("generate", "extend_tail", "extend_head", "fill", "animate", "restyle")
DEFAULT_MIX = {"generate": 0.35, "extend_tail": 0.13, "extend_head": 0.09, "fill": 0.1, "animate": 0.1,
               "restyle": 0.23}


def check_mix(mix: dict) -> dict:
    unknown = set(mix) - set(CASES)
    if unknown:
        raise ValueError(f"mix: unknown cases {sorted(unknown)} (known: {', '.join(CASES)})")
    if any(w < 0 for w in mix.values()) or sum(mix.values()) <= 0:
        raise ValueError("mix: weights must be >= 0 and not all zero")
    return mix


@dataclass
class Batch:
    x0: torch.Tensor  # [B,C,T,h,w] target latents
    cond: torch.Tensor  # [B,C+1+S,T,h,w]
    loss_mask: torch.Tensor  # [B,T] 1 where the frame is to be made
    captions: list[str]
    cases: list[str]
    weight: torch.Tensor | None = None  # [B,T,h,w] per-cell loss weight, None for even
    clips: torch.Tensor | None = None  # [B] the pool index of each target clip
    layout: torch.Tensor | None = None  # [B,T,h,w] the subject's layout where told (zeros elsewhere)
    source: torch.Tensor | None = None  # [B,C,T,h,w] a restyle's start where it starts from its partner
    from_source: torch.Tensor | None = None  # [B] bool: the cases that do


def make_batch(pool, rng: np.random.Generator, batch: int, overlap: int, mix: dict | None = None,
               caption_dropout: float = 0.1, weights: torch.Tensor | None = None,
               layouts: torch.Tensor | None = None, layout_rate: float = 0.0, restyle_start: float = 0.0,
               layout_cases: tuple[str, ...] = ("generate",)) -> Batch:
    """A batch of training cases drawn from the pool. Captions are '' with probability
    caption_dropout, which trains the unconditional branch of classifier-free guidance. `weights`
    ([N,t,h,w], data.subject_weights) gives each clip's per-cell loss weight. `layouts` ([N,t,h,w],
    data.subject_layouts): a captioned case of layout_cases is told its clip's with probability
    layout_rate, as the pipeline tells a generate (and an extension or fill where its clip shows the
    subject); the rest are told none. A restyle case starts
    from its partner (Batch.source) with probability restyle_start (no draw at 0, so older runs
    resume on the same stream)."""
    mix = check_mix(mix or DEFAULT_MIX)
    names = list(mix)
    probs = np.asarray([mix[n] for n in names], np.float64)
    probs /= probs.sum()
    n, c, t, h, w = pool.latents.shape
    k = max(1, min(overlap, t - 1))
    idx = rng.integers(0, n, batch)
    x0 = pool.latents[idx].clone()
    known = torch.zeros_like(x0)
    mask = torch.zeros(batch, t, dtype=torch.bool)
    structure = torch.zeros(batch, pool.structure.shape[1], t, h, w)
    cases, captions = [], []
    told = None if layouts is None else torch.zeros(batch, t, h, w)
    source = torch.zeros_like(x0) if restyle_start > 0 else None
    from_source = torch.zeros(batch, dtype=torch.bool) if source is not None else None
    for b, i in enumerate(idx):
        case = names[int(rng.choice(len(names), p=probs))]
        if case in ("extend_tail", "fill"):
            mask[b, :k] = True
        if case in ("extend_head", "fill"):
            mask[b, t - k:] = True
        if case in ("extend_tail", "extend_head", "fill"):
            known[b] = x0[b]  # build_condition keeps only the masked frames
        elif case == "animate":
            mask[b, 0] = True
            known[b, :, :1] = pool.still[i]
        elif case == "restyle":
            structure[b] = pool.structure[pool.partner(int(i))]
            if source is not None and rng.random() < restyle_start:
                source[b] = without_look(pool.latents[pool.partner(int(i))][None])[0]
                from_source[b] = True
        options = pool.captions[int(i)]
        text = options[int(rng.integers(0, len(options)))]
        captions.append("" if rng.random() < caption_dropout else text)
        cases.append(case)
        if layouts is not None and case in layout_cases and captions[-1] and rng.random() < layout_rate:
            told[b] = layouts[i]
    has_structure = any(cs == "restyle" for cs in cases)
    cond = build_condition(tuple(x0.shape), known, mask, structure if has_structure else None)
    return Batch(x0=x0, cond=cond, loss_mask=(~mask).float(), captions=captions, cases=cases,
                 weight=None if weights is None else weights[torch.as_tensor(idx)], clips=torch.as_tensor(idx),
                 layout=told, source=source, from_source=from_source)
