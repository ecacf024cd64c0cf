"""Training: the autoencoder on rendered clips, then the denoiser on a pool of cached latents.

Stages, each resumable from the run folder:
  1. clips - restyle pairs of world clips are rendered once into <out>/clips (chunked, resumable).
  2. ae    - the autoencoder's linear code is fitted as the principal components of the clips'
             patches, then code and decoder residual train on crops (L1 with the saturated subject
             weighted up, plus an edge term); the latent scaling factor is set so latents have std ~1.
  2b. decoder - the decoder alone, on latents with noise added (refine_decoder); the code is kept.
  3. pool  - the clips are encoded by the frozen autoencoder and saved with the caption
             embeddings (one text-encoder pass per unique caption).
  4. dit   - the denoiser, rectified flow (x_t = (1-t)x0 + t*eps, target v = eps - x0), on a mix
             of the operation cases (engine/train/cases.py) with 10% caption dropout for CFG (bf16
             autocast on CUDA and on CPUs with native bf16), with an exponential moving average of
             its weights. Periodic evaluation generates held-out prompts with the EMA weights and
             scores them from pixels; the best checkpoint is kept in <out>/best.
A new run can start from a shipped model folder (--init-from): it keeps that autoencoder, skips
stage 2, and its denoiser starts from the folder's weights (modules the folder lacks start as
initialised, each zero-gated).
Every random draw is derived from (seed, step), so a resumed run continues exactly as an
uninterrupted one would. Nothing is pickled: weights and optimizer state are safetensors.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.device import bf16_autocast
from engine.model.config import ModelConfig
from engine.model.flow import add_noise, sample_timesteps, velocity_target
from engine.model.ldm import LatentCutLDM
from engine.model.loading import WEIGHTS_NAME, load_model, load_text_encoder, save_model, weights_sha256
from engine.model.preview import fit_preview
from engine.train import evaluate
from engine.train.captions import prompt
from engine.train.ceiling import autoencoder_ceiling
from engine.train.eval_prompts import free_prompt
from engine.train.cases import DEFAULT_MIX, make_batch
from engine.train.data import (ClipStore, LatentPool, TextCache, build_pool, camera_targets, check_training_seed,
                               crop_batch, head_captions, subject_layouts, subject_speeds, subject_targets,
                               subject_weights, to_tensor, zoom_targets)
from engine.train.world import EVAL_SEED_START, sample_scene
from timeline.files import atomic_path, write_atomic
from engine.requests import GenerateRequest

STATE_NAME = "train_state.json"
OPTIMIZER_NAME = "optimizer.safetensors"
EMA_NAME = "ema.safetensors"
LOW_NOISE_T_MAX = 0.3  # Preset.low_noise draws t evenly below this
# A restyle case told to start from its partner (Preset.restyle_start) does so from this noise level up:
# the pipeline's restyle starts at its strength (0.7 by default) and then follows its own estimates.
RESTYLE_START_T = 0.5


# Preset settings a run may change (run's overrides): how it is fed, evaluated and saved, not what it
# learns. A smaller pool_pairs renders the first pairs of the same seed's store.
RUN_OVERRIDES = ("batch", "pool_pairs", "eval_every", "eval_prompts", "checkpoint_every")


@dataclass
class Preset:
    config: dict  # ModelConfig overrides
    ae_steps: int
    ae_batch: int
    ae_lr: float
    ae_crop: tuple[int, int] | None  # (height, width) crop of whole clips, None for whole frames
    pool_pairs: int  # restyle pairs rendered once: the autoencoder's crops and the denoiser's pool
    steps: int
    batch: int
    lr: float
    warmup: int = 50
    eval_every: int = 200
    eval_prompts: int = 8
    checkpoint_every: int = 50
    ema: float = 0.999  # decay of the denoiser's weight average, which is evaluated and shipped
    # Shift of the logit-normal training timesteps towards noise. At 1 only 8% of the draws fall
    # above t = 0.8, where the sampler's first steps set the layout: previz-v3's first 1,550 steps
    # drew clean skies and horizons but a ground of independent 16-px tiles (one per token).
    timestep_shift: float = 1.0
    # Share of each batch at t = 1, pure noise, where the sampler's first step starts and the shifted
    # logit-normal almost never draws. There the clean-latent estimate must ignore the noise and give
    # the prompt's layout; untrained, previz-v3 mapped each token's noise to a tile of its own.
    pure_noise: float = 0.0
    # Share of each batch drawn evenly from t in (0, LOW_NOISE_T_MAX]. The shifted logit-normal draws
    # t < 0.2 0.7% of the time, yet the sampler's last steps (t = 0.2 and 0.1 of 10) make the detail
    # of every frame: there previz-v5 passed x_t's grain into flat skies.
    low_noise: float = 0.0
    # Extra loss weight on the latent cells the subject covers (data.subject_weights): 0 for none.
    subject_boost: float = 0.0
    # Weight of the clean-latent loss on the network's own estimate F ("sample_wiener"), beside the
    # loss on the Wiener estimate. That one weighs F by 1 - (1-t)g, under 0.1 at t = 0.1, so F was
    # left a still, blurred clip at low noise (from a real pan at t = 0.1 it moved 0.1 px, not 11),
    # yet the sampler's last step takes F alone: without this no camera move can reach the result.
    estimate_loss: float = 0.0
    # Stage 2b (refine_decoder): steps of the decoder alone on latents with noise added, up to this std.
    decoder_steps: int = 0
    decoder_noise: float = 0.3
    # Weight of its L1 on frame-to-frame changes. At 4 (against 1) 300 steps from previz-v17's decoder
    # kept a world clip's biggest frame change within 1.5x its median in 73% of clips (was 65%); the
    # tiny preset's 6 steps at 4 no longer learn the noised latents, so it keeps 1.
    decoder_time_weight: float = 1.0
    # Share of captioned cases told no subject speed (subject_motion), as a restyle is: the denoiser
    # learns to draw from the words alone too. A dropped caption is always told none.
    speed_dropout: float = 0.1
    # Share of captioned generate cases told their subject's layout (model/subject.py, for a model
    # with subject_layout); the rest learn to place the subject themselves.
    layout_rate: float = 0.8
    # The cases told it: the pipeline tells an extension or fill where its clip shows the subject too
    # (pipeline._given_layout), and a denoiser trained on generate cases alone followed it loosely there.
    layout_cases: tuple = ("generate",)
    # Steps of each head's fit (fit_head), a minute of CPU each: on previz-v30's pool and the composed
    # captions, 6,000 against 2,000 read 216 held-out wordings of the subject's motion right in
    # 0.92-0.96 (0.83-0.87), and the camera's in benchmarks/camera_wording.py in 0.93 (0.92).
    head_steps: int = 6000
    # Share of restyle cases that start as the pipeline's restyle does, from their partner's latents
    # less its broad colours (model/restyle_look.py) noised to t (from RESTYLE_START_T up), the target
    # still their own clip. Otherwise the denoiser only ever saw the target itself noised, and a start
    # that still holds the source's subject kept its colour: the look missed in 5 of 24 held-out
    # restyles, each on the subject's colour.
    restyle_start: float = 0.0
    mix: dict = field(default_factory=lambda: dict(DEFAULT_MIX))


PRESETS = {
    # The shipped model's recipe: native 256x144, 24 frames at 12 fps; a DiT small enough to train on CPU.
    # The shipped weights' lineage, run by run, is in MODEL_CARD.md.
    "previz": Preset(
        config=dict(name="previz-v1", dit_dim=128, dit_depth=4, dit_heads=4, mlp_ratio=3.0,
                    prediction="sample_wiener", refine_channels=32, refine_conditioned=True, motion_attention=1,
                    camera_frame=True, camera_zoom=True, subject_motion=True, subject_layout=True, default_steps=10,
                    default_guidance=4.0),
        ae_steps=200, ae_batch=4, ae_lr=1e-3, ae_crop=(64, 128),
        pool_pairs=3000, steps=40000, batch=8, lr=5e-4, eval_every=500, eval_prompts=8, checkpoint_every=50,
        timestep_shift=3.0, pure_noise=0.1, low_noise=0.1, subject_boost=8.0, estimate_loss=1.0, decoder_steps=800,
        decoder_time_weight=4.0, restyle_start=0.5, layout_cases=("generate", "extend_tail", "extend_head", "fill")),
    # A few seconds end to end: tests and smoke runs.
    "tiny": Preset(
        config=dict(name="previz-tiny", width=64, height=32, frames=8, fps=8.0, latent_channels=4,
                    prediction="sample_wiener", space_compression=8, decoder_channels=8, decoder_blocks=1,
                    patch_size=2, text_max_length=24,
                    dit_dim=32, dit_depth=2, dit_heads=2, mlp_ratio=2.0, refine_channels=8, refine_conditioned=True,
                    motion_attention=1, camera_frame=True, camera_zoom=True, subject_motion=True, subject_layout=True,
                    default_steps=3,
                    overlap_latent_frames=1),
        ae_steps=12, ae_batch=2, ae_lr=3e-3, ae_crop=None,
        pool_pairs=2, steps=30, batch=4, lr=2e-3, warmup=2, eval_every=12, eval_prompts=2, checkpoint_every=6,
        pure_noise=0.25, low_noise=0.25, subject_boost=8.0, decoder_steps=6, head_steps=100, restyle_start=0.5),
}


def _log(out: Path, record: dict, echo: bool = True) -> None:
    record = {"time": time.strftime("%Y-%m-%dT%H:%M:%S"), **record}
    with open(out / "log.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    if echo:
        print(json.dumps(record), flush=True)


def _save_state(out: Path, state: dict) -> None:
    write_atomic(out / STATE_NAME, json.dumps(state, indent=2))


def _save_optimizer(path: Path, opt: torch.optim.Optimizer) -> None:
    from safetensors.torch import save_file

    sd = opt.state_dict()
    tensors = {}
    for idx, st in sd["state"].items():
        for key, value in st.items():
            tensors[f"{idx}.{key}"] = value.detach().reshape(-1).float().cpu().contiguous() if key == "step" \
                else value.detach().cpu().contiguous()
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"param_groups": json.dumps(sd["param_groups"])})


def _load_optimizer(path: Path, opt: torch.optim.Optimizer) -> None:
    from safetensors import safe_open

    state: dict = {}
    with safe_open(str(path), "pt") as f:
        groups = json.loads(f.metadata()["param_groups"])
        for key in f.keys():
            idx, name = key.split(".", 1)
            value = f.get_tensor(key)
            state.setdefault(int(idx), {})[name] = value.reshape(()) if name == "step" else value
    opt.load_state_dict({"state": state, "param_groups": groups})


def _lr_at(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


# ----------------------------------------------------------------------------- stage 1


SUBJECT_WEIGHT = 20.0  # extra L1 weight on saturated pixels: the subject is small but carries the prompt
EDGE_WEIGHT = 0.5  # L1 on image gradients: textures are what the camera move is read from


def autoencoder_loss(recon: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """-> (loss, plain L1). Frames [B,3,T,H,W] in [-1,1]."""
    err = (recon - x).abs().mean(1)
    hi, lo = x.amax(1), x.amin(1)
    value, saturation = (hi + 1) / 2, (hi - lo) / (hi + 1).clamp(min=1e-3)
    weight = 1 + SUBJECT_WEIGHT * ((saturation > 0.5) & (value > 0.35)).float()
    edges = sum((recon.diff(dim=d) - x.diff(dim=d)).abs().mean() for d in (3, 4))
    return (err * weight).sum() / weight.sum() + EDGE_WEIGHT * edges, err.mean()


def train_autoencoder(model: LatentCutLDM, clips: np.ndarray, preset: Preset, state: dict, out: Path,
                      device: torch.device) -> None:
    ae = model.autoencoder
    if state["ae_step"] == 0:
        sample = torch.stack([to_tensor(c) for c in clips[:: max(1, len(clips) // 32)]])
        kept = ae.fit_pca(sample, seed=state["seed"])
        _log(out, {"stage": "ae", "event": "pca", "variance_kept": round(kept, 5)})
    ae.train().requires_grad_(True)
    projections = [*ae.encode_proj.parameters(), *ae.decode_proj.parameters()]
    rest = [p for n, p in ae.named_parameters() if not n.startswith(("encode_proj", "decode_proj"))]
    # The fitted code moves slowly, so the latent space stays close to its principal components.
    opt = torch.optim.AdamW([{"params": projections, "scale": 0.1}, {"params": rest, "scale": 1.0}],
                            lr=preset.ae_lr, betas=(0.9, 0.99), weight_decay=0.0)
    opt_path = out / "ae_optimizer.safetensors"
    if state["ae_step"] > 0 and opt_path.is_file():
        _load_optimizer(opt_path, opt)
    probe = crop_batch(clips, np.random.default_rng([state["seed"], 6]), preset.ae_batch, preset.ae_crop,
                       model.config.space_compression).to(device)

    def probe_l1() -> float:  # on one fixed batch, so it is comparable across steps
        with torch.no_grad():
            return float(autoencoder_loss(ae(probe)[0].float(), probe)[1])

    state.setdefault("ae_probe_first", probe_l1())
    t0 = time.time()
    while state["ae_step"] < preset.ae_steps:
        step = state["ae_step"]
        lr = _lr_at(step, preset.ae_steps, preset.ae_lr, min(preset.warmup, preset.ae_steps // 5 + 1))
        for g in opt.param_groups:
            g["lr"] = lr * g["scale"]
        x = crop_batch(clips, np.random.default_rng([state["seed"], 5, step]), preset.ae_batch, preset.ae_crop,
                       model.config.space_compression).to(device)
        recon, z = ae(x)
        loss, l1 = autoencoder_loss(recon.float(), x)
        loss = loss + 1e-4 * z.float().pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ae.parameters(), 1.0)
        opt.step()
        state["ae_step"] = step + 1
        state["ae_l1"] = float(l1.detach())
        state["wall_s"] += time.time() - t0
        t0 = time.time()
        if (step + 1) % 10 == 0 or step + 1 == preset.ae_steps:
            _log(out, {"stage": "ae", "step": step + 1, "l1": round(state["ae_l1"], 5),
                       "loss": round(float(loss.detach()), 5), "wall_s": round(state["wall_s"], 1)})
        if (step + 1) % preset.checkpoint_every == 0 or step + 1 == preset.ae_steps:
            state["ae_probe"] = probe_l1()
            save_model(out / "checkpoint", model)
            _save_optimizer(opt_path, opt)
            _save_state(out, state)
    ae.eval().requires_grad_(False)


def refine_decoder(model: LatentCutLDM, clips: np.ndarray, steps: int, batch: int, crop: tuple[int, int] | None,
                   noise: float, time_weight: float, seed: int, device: torch.device, lr: float = 3e-4,
                   log=None) -> None:
    """Stage 2b: the decoder alone learns to decode the world's latents with Gaussian noise added
    (std drawn evenly up to `noise` per clip, in the scaled latents' units), against the clean
    frames and their frame-to-frame changes (weighted `time_weight`). The denoiser's latents sit off
    the world's: decoded as they were, a still generated shot changed 2-5 levels a frame, against
    under 1 for the world.
    The code is kept, so every latent (a run's pool, a trained denoiser) stays valid."""
    ae, sf = model.autoencoder, model.config.scaling_factor
    params = ae.decoder_parameters()
    opt = torch.optim.AdamW(params, lr=lr, betas=(0.9, 0.99), weight_decay=0.0)
    gen = torch.Generator().manual_seed(seed)
    with torch.enable_grad():
        for p in params:
            p.requires_grad_(True)
        for step in range(steps):
            for g in opt.param_groups:
                g["lr"] = _lr_at(step, steps, lr, min(50, steps // 5 + 1))
            x = crop_batch(clips, np.random.default_rng([seed, 8, step]), batch, crop,
                           model.config.space_compression).to(device)
            with torch.no_grad():
                z = model.encode_frames(x)
            std = torch.rand(len(z), 1, 1, 1, 1, generator=gen) * noise
            z = z + (std * torch.randn(z.shape, generator=gen)).to(device)
            with bf16_autocast(device):
                recon = ae.decode(z / sf)
            loss, l1 = autoencoder_loss(recon.float(), x)
            loss = loss + time_weight * (recon.float().diff(dim=2) - x.diff(dim=2)).abs().mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            if log is not None and ((step + 1) % 50 == 0 or step + 1 == steps):
                log({"step": step + 1, "l1": round(float(l1.detach()), 5), "loss": round(float(loss.detach()), 5)})
    ae.eval().requires_grad_(False)


@torch.no_grad()
def set_scaling_factor(model: LatentCutLDM, clips: np.ndarray, device: torch.device, count: int = 8) -> float:
    """Choose config.scaling_factor so encoded world clips have unit latent std (the linear code
    first gets unit std in every channel)."""
    cfg = model.config
    cfg.scaling_factor = 1.0
    x = torch.stack([to_tensor(c) for c in clips[:: max(1, len(clips) // count)][:count]]).to(device)
    if hasattr(model.autoencoder, "normalise_channels"):
        model.autoencoder.normalise_channels(x)
    std = float(model.encode_frames(x).float().std())
    cfg.scaling_factor = round(1.0 / max(std, 1e-6), 6)
    return cfg.scaling_factor


# ----------------------------------------------------------------------------- stage 3


def training_timesteps(preset: Preset, gen: torch.Generator) -> torch.Tensor:
    """One batch's timesteps: shifted logit-normal, with the preset's shares at t = 1 and at low t."""
    t = sample_timesteps(preset.batch, gen, shift=preset.timestep_shift)
    t = torch.where(torch.rand(preset.batch, generator=gen) < preset.pure_noise, torch.ones_like(t), t)
    if preset.low_noise > 0:  # no extra draws without it: older runs resume on the same stream
        low = torch.rand(preset.batch, generator=gen) < preset.low_noise
        t = torch.where(low, torch.rand(preset.batch, generator=gen).clamp(min=1e-3) * LOW_NOISE_T_MAX, t)
    return t


def flow_loss(model: LatentCutLDM, batch, text: torch.Tensor, text_mask: torch.Tensor, t: torch.Tensor,
              noise: torch.Tensor, device: torch.device, estimate_weight: float = 0.0,
              subject: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean squared velocity error over the frames to be made, and for "sample_wiener" the error
    variance's own loss (error_variance_nll; 0 otherwise). Their gradients reach separate weights.
    estimate_weight adds that much of F's own clean-latent error (Preset.estimate_loss). subject [B]:
    the denoiser's subject speeds (NaN: none told)."""
    den = model.denoiser
    x0 = batch.x0.to(device)
    target = velocity_target(x0, noise)
    if batch.source is None:
        x_t = add_noise(x0, noise, t)
    else:  # restyle cases from their partner: x_t is not x0 noised, so the velocity is x_t's to x0
        start = (batch.from_source.to(device) & (t >= RESTYLE_START_T)).reshape(-1, 1, 1, 1, 1)
        x_t = add_noise(torch.where(start, batch.source.to(device), x0), noise, t)
        # The clamp only keeps the rows not taken (below RESTYLE_START_T, t may be near 0) finite.
        target = torch.where(start, (x_t - x0) / t.clamp(min=RESTYLE_START_T).reshape(-1, 1, 1, 1, 1), target)
    with bf16_autocast(device):
        out, s2 = den.predict(x_t, batch.cond.to(device), t, text.to(device), text_mask.to(device),
                              None if subject is None else subject.to(device),
                              None if batch.layout is None else batch.layout.to(device))
        v = den.velocity(x_t, t, out, None if s2 is None else s2.detach())
    cell_weight = None if batch.weight is None else batch.weight.to(device)

    def per_frame(sq: torch.Tensor) -> torch.Tensor:  # [B,C,T,h,w] squared errors -> [B, T]
        sq = sq.mean(dim=1)
        return (sq if cell_weight is None else sq * cell_weight).mean(dim=(2, 3))

    err = per_frame((v.float() - target).pow(2))
    if den.predicts_sample:
        # The velocity error of a sample prediction is its clean-latent error over t. Weighted by t^2
        # it is that clean-latent error itself, the same at every noise level: unweighted, the nearly
        # clean cases (which only sharpen) outweighed the noisy ones (which set the layout) ten to one.
        err = err * t.pow(2)[:, None]
    w = batch.loss_mask.to(device)
    flow = _frames_mean(err, w)
    if estimate_weight and s2 is not None:
        flow = flow + estimate_weight * _frames_mean(per_frame((out.float() - x0).pow(2)), w)
    if s2 is None:
        return flow, torch.zeros((), device=device)
    return flow, error_variance_nll(out.detach().float(), s2.float(), x0, w)


def _clip_size(cfg: ModelConfig) -> tuple[int, int, int]:
    """(frames, width, height) of the model's native clip."""
    return cfg.frames, cfg.width, cfg.height


def camera_loss(model: LatentCutLDM, text: torch.Tensor, text_mask: torch.Tensor, captions: list[str],
                drift: torch.Tensor) -> torch.Tensor:
    """The camera head's squared error against each captioned clip's target drift [B,2]
    (camera_targets). The head reads the raw text states, so this reaches its weights alone."""
    said = torch.tensor([bool(c) for c in captions], device=text.device)
    if not bool(said.any()):
        return torch.zeros((), device=text.device)
    guess = model.denoiser.camera(text[said], text_mask[said]).float()
    return (guess - drift.to(guess.device)[said]).pow(2).mean()


# Fresh paraphrases per clip that the heads are fitted on besides the pool's captions (head_captions).
HEAD_CAPTIONS = 12


def fit_head(head: torch.nn.Module, captions: list[list[str]], texts: TextCache, targets: torch.Tensor,
             steps: int, batch: int = 64, lr: float = 1e-3, seed: int = 0) -> float:
    """Fit a head on the text states alone (the camera head against its move's mean drift,
    camera_targets; the zoom head against the zoom rate, zoom_targets; the subject head against its
    direction's mean speed, subject_targets) on every caption of each clip (`captions`, encoded in
    `texts`), targets [N, k] per clip: seconds of CPU, where the camera head learnt slowly at the
    denoiser's batch of 8 and its rate. Returns the squared error over all captions."""
    flat = [c for caps in captions for c in caps]
    rows = torch.tensor([i for i, caps in enumerate(captions) for _ in caps])
    targets = targets[rows]
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(head.parameters(), lr=lr, weight_decay=0.01)
    with torch.enable_grad():
        head.requires_grad_(True)
        for _ in range(steps):
            pick = torch.randint(0, len(flat), (batch,), generator=gen)
            # Padded per batch: all of a 3,000-pair pool's 90,000 captions at once would be gigabytes.
            loss = (head(*texts.batch([flat[i] for i in pick])) - targets[pick]).pow(2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
    with torch.no_grad():
        chunks = range(0, len(flat), 4096)
        error = sum(float((head(*texts.batch(flat[i:i + 4096])) - targets[i:i + 4096]).pow(2).sum()) for i in chunks)
        return error / targets.numel()


def add_camera_head(folder: Path, run_folder: Path) -> dict[str, float]:
    """Give the model folder a camera head (camera_frame) and a zoom head (camera_zoom), and refit
    its subject head if it has one (subject_motion), each fitted on a camera-frame run's pool for its
    preset's head_steps; the rest of its weights are kept as they are. Returns each fit's squared
    error by head."""
    pool_path = Path(run_folder) / "pool.safetensors"
    if not pool_path.is_file():
        raise FileNotFoundError(f"{pool_path}: no pool (run the training's pool stage first)")
    steps = PRESETS[json.loads((Path(run_folder) / STATE_NAME).read_text(encoding="utf-8"))["preset"]].head_steps
    pool = LatentPool.load(pool_path)
    if pool.drifts is None:
        raise ValueError(f"{pool_path}: the pool was encoded without the camera frame; it has no drifts")
    old = load_model(folder, "cpu")
    model = LatentCutLDM(dataclasses.replace(old.config, camera_frame=True, camera_zoom=True))
    model.load_state_dict(old.state_dict(), strict=False)  # all but the new heads
    texts = TextCache.load(Path(run_folder) / "text.safetensors")
    captions = head_captions(pool, HEAD_CAPTIONS, 0)
    texts.add([c for caps in captions for c in caps], load_text_encoder(folder, model.config, "cpu"))
    den = model.denoiser
    fits = {"camera": fit_head(den.camera, captions, texts, camera_targets(pool), steps=steps),
            "zoom": fit_head(den.zoom, captions, texts, zoom_targets(pool, model.config.frames), steps=steps)}
    if den.subject is not None:
        fits["subject"] = fit_head(den.subject, captions, texts, subject_targets(pool, *_clip_size(model.config)),
                                   steps=steps)
    _save_in_place(folder, model)
    return fits


def refit_folder_decoder(folder: Path, run_folder: Path) -> dict:
    """Give the model folder's decoder stage 2b (refine_decoder) on the clips of a run, with the
    run's preset; its code, denoiser and the rest are kept. Returns the autoencoder's ceiling."""
    state_path = Path(run_folder) / STATE_NAME
    if not state_path.is_file():
        raise FileNotFoundError(f"{state_path}: not a training run")
    state = json.loads(state_path.read_text(encoding="utf-8"))
    preset = PRESETS[state["preset"]]
    model = load_model(folder, "cpu")
    cfg = model.config
    store = ClipStore(Path(run_folder) / "clips", cfg.width, cfg.height, cfg.frames)
    try:
        clips, _ = store.load(preset.pool_pairs)
    except FileNotFoundError:
        raise FileNotFoundError(f"{store.folder}: the run has not rendered its clips") from None
    if clips.shape[1:4] != (cfg.frames, cfg.height, cfg.width):
        raise ValueError(f"{store.folder}: clips of {clips.shape[1:4]} (frames, height, width) do not match "
                         f"{folder}'s {(cfg.frames, cfg.height, cfg.width)}")
    refine_decoder(model, clips, preset.decoder_steps, preset.ae_batch, preset.ae_crop, preset.decoder_noise,
                   preset.decoder_time_weight, state["seed"], torch.device("cpu"))
    fit_preview_on_samples(model, load_text_encoder(folder, cfg, "cpu"), torch.device("cpu"))
    _save_in_place(folder, model)
    return autoencoder_ceiling(model, 16)


def _save_in_place(folder: Path, model: LatentCutLDM) -> None:
    """Rewrite a model folder's weights in the precision it had."""
    from safetensors import safe_open

    with safe_open(str(Path(folder) / WEIGHTS_NAME), "pt") as f:
        half = any(f.get_slice(k).get_dtype() == "F16" for k in f.keys())
    save_model(folder, model.eval(), model.config, half=half)


def _frames_mean(per_frame: torch.Tensor, frame_mask: torch.Tensor) -> torch.Tensor:
    """The mean of [B, T] values over the frames to be made."""
    return (per_frame * frame_mask).sum() / frame_mask.sum().clamp(min=1.0)


def error_variance_nll(estimate: torch.Tensor, s2: torch.Tensor, x0: torch.Tensor, frame_mask: torch.Tensor
                       ) -> torch.Tensor:
    """The Gaussian negative log-likelihood of the clean-latent estimate's error under the variance
    s2, over the frames to be made: least where s2 is that cell's expected squared error, so the
    Wiener gain passes x_t's detail where the estimate is unsure and none of its noise where it is
    sure (flat sky). The estimate comes detached: this trains the variance only."""
    return _frames_mean(0.5 * ((estimate - x0).pow(2) / s2 + s2.log()).mean(dim=(1, 3, 4)), frame_mask)


@torch.no_grad()
def probe_loss(model: LatentCutLDM, pool: LatentPool, texts: TextCache, preset: Preset, device: torch.device,
               speeds: torch.Tensor | None = None, seed: int = 12345, batch: int = 8) -> float:
    """The flow loss on one fixed batch, fixed timesteps and noise: comparable across steps. speeds:
    the pool's subject speeds (subject_speeds) for a model with the subject condition."""
    rng = np.random.default_rng([seed, 1])
    b = make_batch(pool, rng, batch, model.config.overlap_latent_frames, preset.mix, caption_dropout=0.0)
    text, mask = texts.batch(b.captions)
    gen = torch.Generator().manual_seed(seed)
    t = torch.linspace(0.1, 0.9, batch)
    noise = torch.randn(b.x0.shape, generator=gen)
    subject = None if speeds is None else speeds[b.clips]
    return float(flow_loss(model, b, text, mask, t.to(device), noise.to(device), device, subject=subject)[0])


def eval_scenes(count: int) -> list:
    """Held-out scenes with a subject, spread over the vocabulary."""
    scenes, seed = [], EVAL_SEED_START
    while len(scenes) < count:
        s = sample_scene(seed, subject_probability=1.0)
        scenes.append(s)
        seed += 1
    return scenes


def evaluate_generation(model: LatentCutLDM, text_encoder, count: int, device: torch.device,
                        steps: int | None = None) -> dict:
    """Generate `count` held-out prompts and score each attribute from pixels."""
    from engine.pipeline import LatentCutPipeline

    was_training = model.training
    model.eval()
    pipe = LatentCutPipeline(model, text_encoder, name=model.config.name, sha256="training", device=device,
                             dtype=torch.float32)
    hits: dict[str, list[int]] = {k: [] for k in ("time_of_day", "camera", "color", "motion")}
    for i, scene in enumerate(eval_scenes(count)):
        # Half the prompts in the fixed wording, half in free phrasing no training caption uses.
        text = prompt(scene) if i % 2 == 0 else free_prompt(scene, i // 2)
        clip = pipe.generate(GenerateRequest(prompt=text, seconds=model.config.frames / model.config.fps, seed=i,
                                             steps=steps)).frames
        guess = evaluate.classify_clip(clip)
        for k in hits:
            hits[k].append(int(guess[k] == getattr(scene, k)))
    model.train(was_training)
    acc = {k: float(np.mean(v)) for k, v in hits.items()}
    acc["mean"] = float(np.mean(list(acc.values())))
    return acc


class WeightAverage:
    """Exponential moving average of a module's weights (float32). Its decay ramps up from 0 so the
    average forgets the random start quickly: min(decay, (1 + step) / (10 + step))."""

    def __init__(self, module: torch.nn.Module, decay: float):
        self.decay = decay
        self.weights = {k: v.detach().float().clone() for k, v in module.state_dict().items()}

    @torch.no_grad()
    def update(self, module: torch.nn.Module, step: int) -> None:
        d = min(self.decay, (1 + step) / (10 + step))
        for k, v in module.state_dict().items():
            self.weights[k].lerp_(v.float(), 1 - d)

    def save(self, path: Path) -> None:
        from safetensors.torch import save_file

        with atomic_path(path) as tmp:
            save_file({k: v.contiguous() for k, v in self.weights.items()}, str(tmp))

    def load(self, path: Path) -> None:
        from safetensors.torch import load_file

        device = next(iter(self.weights.values())).device  # the module's, where update() lerps
        self.weights = load_file(str(path), device=str(device))

    @contextlib.contextmanager
    def swapped_into(self, module: torch.nn.Module):
        """Evaluate with the averaged weights, then put the trained ones back."""
        trained = {k: v.detach().clone() for k, v in module.state_dict().items()}
        module.load_state_dict(self.weights)
        try:
            yield
        finally:
            module.load_state_dict(trained)


def train_denoiser(model: LatentCutLDM, text_encoder, pool: LatentPool, texts: TextCache, preset: Preset,
                   state: dict, out: Path, device: torch.device, total_steps: int) -> None:
    den = model.denoiser
    den.train().requires_grad_(True)
    opt = torch.optim.AdamW(den.parameters(), lr=preset.lr, betas=(0.9, 0.99), weight_decay=0.01)
    opt_path = out / "checkpoint" / OPTIMIZER_NAME
    ema_path = out / "checkpoint" / EMA_NAME
    ema = WeightAverage(den, preset.ema)
    if state["step"] > 0 and opt_path.is_file():
        _load_optimizer(opt_path, opt)
        if ema_path.is_file():
            ema.load(ema_path)
    weights = subject_weights(pool, model.config.time_compression, model.config.space_compression,
                              preset.subject_boost) if preset.subject_boost > 0 else None
    drifts = None  # the camera head's targets
    if den.camera is not None:
        if pool.drifts is None:
            raise ValueError(f"{out / 'pool.safetensors'}: the pool was encoded without the camera frame the "
                             "model's camera_frame needs; start a new run")
        drifts = camera_targets(pool)
        heads = [("camera", den.camera, drifts)]
        if den.zoom is not None:  # fitted apart only: it reads the prompt and no denoiser loss reaches it
            heads.append(("zoom", den.zoom, zoom_targets(pool, model.config.frames)))
        if den.subject is not None:  # likewise
            heads.append(("subject", den.subject, subject_targets(pool, *_clip_size(model.config))))
        new = [(name, head, targets) for name, head, targets in heads if not head.net[2].weight.any()]
        if new:  # a new run, or a run that gains a head
            captions = head_captions(pool, HEAD_CAPTIONS, state["seed"])
            texts.add([c for caps in captions for c in caps], text_encoder)
        for name, head, targets in new:
            mse = fit_head(head, captions, texts, targets, preset.head_steps)
            for k, v in den.state_dict().items():  # the average starts from the fitted head too
                if k.startswith(name + "."):
                    ema.weights[k] = v.detach().float().clone()
            _log(out, {"stage": "dit", "event": f"{name} head fitted apart", "mse": round(mse, 4)})
    speeds = subject_speeds(pool, *_clip_size(model.config)) if den.subject_embed is not None else None
    layouts = (subject_layouts(pool, model.config.time_compression, model.config.space_compression)
               if den.layout_in is not None else None)
    if "probe_loss_start" not in state:
        state["probe_loss_start"] = probe_loss(model, pool, texts, preset, device, speeds)
        _log(out, {"stage": "dit", "step": 0, "probe_loss": round(state["probe_loss_start"], 5)})
    t0 = time.time()
    recent: list[tuple[float, float]] = []
    # In module order (not a set's): the clipped norm's float sum must repeat exactly on resume.
    variance = list(den.error_variance.parameters()) if den.prediction == "sample_wiener" else []
    camera = [] if den.camera is None else list(den.camera.parameters())
    zoom = [] if den.zoom is None else list(den.zoom.parameters())
    trunk = [p for p in den.parameters() if all(p is not v for v in variance + camera + zoom)]
    clip_groups = [g for g in (trunk, variance, camera) if g]
    while state["step"] < total_steps:
        step = state["step"]
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, total_steps, preset.lr, preset.warmup)
        rng = np.random.default_rng([state["seed"], 3, step])
        gen = torch.Generator().manual_seed(state["seed"] * 1_000_003 + step)
        batch = make_batch(pool, rng, preset.batch, model.config.overlap_latent_frames, preset.mix, weights=weights,
                           layouts=layouts, layout_rate=preset.layout_rate, restyle_start=preset.restyle_start,
                           layout_cases=preset.layout_cases)
        text, mask = texts.batch(batch.captions)
        t = training_timesteps(preset, gen)
        noise = torch.randn(batch.x0.shape, generator=gen)
        subject = None
        if speeds is not None:
            told = torch.tensor([bool(c) and rng.random() >= preset.speed_dropout for c in batch.captions])
            subject = torch.where(told, speeds[batch.clips], torch.nan)
        loss, variance_nll = flow_loss(model, batch, text, mask, t.to(device), noise.to(device), device,
                                       preset.estimate_loss, subject)
        drift_loss = torch.zeros(())
        if drifts is not None:
            drift_loss = camera_loss(model, text.to(device), mask.to(device), batch.captions, drifts[batch.clips])
        opt.zero_grad(set_to_none=True)
        (loss + variance_nll + drift_loss).backward()
        for group in clip_groups:  # apart: the variance's steep likelihood must not shrink the trunk's step
            torch.nn.utils.clip_grad_norm_(group, 1.0)
        opt.step()
        ema.update(den, step)
        recent.append((float(loss.detach()), float(variance_nll.detach()), float(drift_loss.detach())))
        state["step"] = step + 1
        state["wall_s"] += time.time() - t0
        t0 = time.time()
        if (step + 1) % 10 == 0:
            losses, nlls, drift_losses = np.mean(recent, axis=0)
            record = {"stage": "dit", "step": step + 1, "loss": round(float(losses), 5)}
            if variance:
                record["variance_nll"] = round(float(nlls), 4)
            if camera:
                record["camera_loss"] = round(float(drift_losses), 4)
            _log(out, {**record, "lr": round(opt.param_groups[0]["lr"], 7), "wall_s": round(state["wall_s"], 1)})
            recent = []
        last = step + 1 == total_steps
        if (step + 1) % preset.checkpoint_every == 0 or last:
            save_model(out / "checkpoint", model)
            _save_optimizer(opt_path, opt)
            ema.save(ema_path)
            _save_state(out, state)
        if (step + 1) % preset.eval_every == 0 or last:
            with ema.swapped_into(den):
                state["probe_loss"] = probe_loss(model, pool, texts, preset, device, speeds)
                acc = evaluate_generation(model, text_encoder, preset.eval_prompts, device)
                record = {"stage": "eval", "step": step + 1, "probe_loss": round(state["probe_loss"], 5),
                          **{k: round(v, 3) for k, v in acc.items()}}
                _log(out, record)
                state.setdefault("evals", []).append(record)
                best = state.get("best")
                if best is None or (acc["mean"], -state["probe_loss"]) >= (best["mean"], -best["probe_loss"]):
                    fit_preview_on_samples(model, text_encoder, device)
                    save_model(out / "best", model)
                    state["best"] = {"step": step + 1, "mean": acc["mean"], "probe_loss": state["probe_loss"],
                                     "wall_s": round(state["wall_s"], 1)}
            state["wall_s"] += time.time() - t0
            t0 = time.time()
            _save_state(out, state)
    den.eval().requires_grad_(False)


@torch.no_grad()
def fit_preview_on_samples(model: LatentCutLDM, text_encoder, device: torch.device, count: int = 24,
                           seed: int = 0) -> float:
    """Fit the preview on latents the model itself samples (at its default steps and guidance)
    against what its decoder makes of them. The preview only ever sees the denoiser's estimates,
    which sit elsewhere than the encoder's latents of rendered clips: a fit on those showed night
    scenes 80 levels too bright. Returns the fit's RMS error."""
    from engine.pipeline import LatentCutPipeline

    was_training = model.training
    model.eval()
    pipe = LatentCutPipeline(model, text_encoder, name=model.config.name, sha256="training", device=device,
                             dtype=next(model.parameters()).dtype)
    rng = np.random.default_rng([seed, 11])
    seen = []  # (scaled latents, decoded frames) of each generation's final decode
    decode = model.decode_latents

    def recording(z: torch.Tensor) -> torch.Tensor:
        frames = decode(z)
        seen.append((z.float(), frames.float()))
        return frames

    model.decode_latents = recording
    try:
        for i in range(count):
            scene = sample_scene(int(rng.integers(0, EVAL_SEED_START)))
            pipe.generate(GenerateRequest(prompt=prompt(scene), seconds=model.config.frames / model.config.fps, seed=i))
    finally:
        del model.decode_latents  # the class's method again
        model.train(was_training)
    latents, frames = torch.cat([z for z, _ in seen]), torch.cat([f for _, f in seen])
    return fit_preview(model.preview, latents.to(device), frames.to(device))


# ----------------------------------------------------------------------------- driver


def run(preset_name: str, out: Path, device: str = "cpu", steps: int | None = None, seed: int = 0,
        resume: Path | None = None, threads: int | None = None, init_from: Path | None = None,
        overrides: dict[str, int] | None = None) -> Path:
    """Train (or continue training) into `out`; returns the folder of the best model. A new run
    starts from the model folder `init_from` when given (model_from_folder). `overrides` set some
    of the preset's settings (RUN_OVERRIDES) from here on, and the run keeps them: a GPU
    takes a larger batch at about the same step time, and a timed run evaluates only at its end."""
    from engine.device import pick_device, set_threads

    if preset_name not in PRESETS:
        raise ValueError(f"preset: unknown preset {preset_name!r} (known: {', '.join(PRESETS)})")
    if steps is not None and steps < 1:
        raise ValueError(f"steps: must be >= 1, got {steps}")
    for name, value in (overrides or {}).items():
        if name not in RUN_OVERRIDES:
            raise ValueError(f"set: {name!r} cannot be set (settable: {', '.join(RUN_OVERRIDES)})")
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"set: {name} must be a whole number >= 1, got {value!r}")
    preset = PRESETS[preset_name]
    dev = pick_device(device)
    set_threads(threads)
    if resume is not None and init_from is not None:
        raise ValueError("init-from: a resumed run continues from its own checkpoint; pass one of --resume "
                         "and --init-from")
    if resume is not None:
        out = Path(resume)
        if not (out / STATE_NAME).is_file():
            raise FileNotFoundError(f"resume: no {STATE_NAME} in {out}")
        state = json.loads((out / STATE_NAME).read_text(encoding="utf-8"))
        if state["preset"] != preset_name:
            raise ValueError(f"preset: {out} was trained with preset {state['preset']!r}, not {preset_name!r}")
        model = load_model(out / "checkpoint", dev).train()
        _log(out, {"event": "resumed", "stage": state["stage"], "step": state["step"], "ae_step": state["ae_step"]})
    else:
        check_training_seed(seed)
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        if (out / STATE_NAME).exists():
            raise FileExistsError(f"out: {out} already holds a run; pass --resume {out} to continue it")
        torch.manual_seed(seed)
        model = (LatentCutLDM(ModelConfig(**preset.config).validate()) if init_from is None
                 else model_from_folder(init_from, preset)).to(dev)
        config = model.config
        state = {"preset": preset_name, "seed": seed, "device": str(dev), "torch_threads": torch.get_num_threads(),
                 "stage": "clips", "ae_step": 0, "step": 0, "wall_s": 0.0}
        if init_from is not None:
            state["init_from"] = {"folder": str(init_from), "sha256": weights_sha256(init_from)}
        _save_state(out, state)
        _log(out, {"event": "started", "preset": preset_name, "device": str(dev), "seed": seed,
                   "config": config.to_dict(), **({"init_from": state["init_from"]} if init_from else {})})
    total_steps = steps if steps is not None else state.get("total_steps", preset.steps)
    state["total_steps"] = total_steps
    state["overrides"] = {**state.get("overrides", {}), **(overrides or {})}
    preset = dataclasses.replace(preset, **state["overrides"])
    if state["stage"] == "done" and state["step"] < total_steps:
        state["stage"] = "dit"  # --steps beyond a finished run extends it
    model.requires_grad_(False)

    store = ClipStore(out / "clips", model.config.width, model.config.height, model.config.frames)
    if state["stage"] == "clips":
        t0 = time.time()
        store.fill(preset.pool_pairs, state["seed"], log=lambda m: _log(out, {"stage": "clips", "event": m}),
                   workers=os.cpu_count() or 1)
        state["wall_s"] += time.time() - t0
        state["stage"] = "decoder" if "init_from" in state else "ae"  # a shipped code is kept as it is
        _save_state(out, state)
    if state["stage"] in ("ae", "decoder", "pool"):
        clips, scenes = store.load(preset.pool_pairs)
    if state["stage"] == "ae":
        train_autoencoder(model, clips, preset, state, out, dev)
        t0 = time.time()
        sf = set_scaling_factor(model, clips, dev)
        state["wall_s"] += time.time() - t0
        state["stage"] = "decoder"
        save_model(out / "checkpoint", model)
        _save_state(out, state)
        _log(out, {"stage": "ae", "event": "done", "scaling_factor": sf,
                   "ceiling": {k: round(v, 3) for k, v in autoencoder_ceiling(model, 16, dev).items()}})
    if state["stage"] == "decoder":  # minutes, so not checkpointed: an interrupted stage starts over
        t0 = time.time()
        refine_decoder(model, clips, preset.decoder_steps, preset.ae_batch, preset.ae_crop, preset.decoder_noise,
                       preset.decoder_time_weight, state["seed"], dev,
                       log=lambda r: _log(out, {"stage": "decoder", **r}))
        state["wall_s"] += time.time() - t0
        state["stage"] = "pool"
        save_model(out / "checkpoint", model)
        _save_state(out, state)
        _log(out, {"stage": "decoder", "event": "done",
                   "ceiling": {k: round(v, 3) for k, v in autoencoder_ceiling(model, 16, dev).items()}})

    text_encoder = load_text_encoder(out / "checkpoint", model.config, dev)
    if state["stage"] == "pool":
        t0 = time.time()
        pool = build_pool(model, clips, scenes, state["seed"], dev,
                          log=lambda m: _log(out, {"stage": "pool", "event": m}))
        del clips
        texts = TextCache()
        texts.add([c for caps in pool.captions for c in caps] + [""], text_encoder)
        pool.save(out / "pool.safetensors")
        texts.save(out / "text.safetensors")
        state["wall_s"] += time.time() - t0
        state["stage"] = "dit"
        _save_state(out, state)
        _log(out, {"stage": "pool", "event": "done", "clips": len(pool), "captions": len(texts.states),
                   "wall_s": round(state["wall_s"], 1)})
    else:
        pool = LatentPool.load(out / "pool.safetensors")
        texts = TextCache.load(out / "text.safetensors")

    if state["stage"] == "dit":
        train_denoiser(model, text_encoder, pool, texts, preset, state, out, dev, total_steps)
        state["stage"] = "done" if state["step"] >= total_steps else "dit"
        _save_state(out, state)
        _log(out, {"event": "finished", "step": state["step"], "wall_s": round(state["wall_s"], 1),
                   "best": state.get("best")})
    return out / "best"


def model_from_folder(folder: Path, preset: Preset) -> LatentCutLDM:
    """The model a run started from a shipped folder trains: the folder's config with the preset's
    settings over it, and the folder's weights. Weights the folder lacks (a module newer than it, or
    the blocks of a deeper denoiser) keep their initialisation; every such module starts gated shut,
    so the model begins as the folder's. A weight of another shape means another architecture,
    which cannot start from it."""
    source = load_model(folder)
    config = dataclasses.replace(source.config, **preset.config).validate()
    model = LatentCutLDM(config)
    theirs = source.state_dict()
    for key, value in model.state_dict().items():
        if key in theirs and theirs[key].shape != value.shape:
            raise ValueError(f"init-from: {folder}: {key} has shape {tuple(theirs[key].shape)}, the preset's "
                             f"model needs {tuple(value.shape)}")
    unknown = sorted(set(theirs) - set(model.state_dict()))
    if unknown:
        raise ValueError(f"init-from: {folder} holds weights the preset's model lacks ({', '.join(unknown[:3])})")
    model.load_state_dict(theirs, strict=False)
    for block in model.denoiser.blocks[source.config.dit_depth:]:  # adaLN-zero gates all but cross-attention
        torch.nn.init.zeros_(block.attn_x.out.weight)
        torch.nn.init.zeros_(block.attn_x.out.bias)
    return model


def export(src: Path, dst: Path, half: bool = True) -> Path:
    """Write a shipping model folder (fp16 weights where harmless) from a training checkpoint, with
    the denoiser's weight average when the checkpoint has one. The preview projection is refitted
    on the model's own samples."""
    model = load_model(Path(src), "cpu")
    if (Path(src) / EMA_NAME).is_file():
        from safetensors.torch import load_file

        model.denoiser.load_state_dict(load_file(str(Path(src) / EMA_NAME)))
    fit_preview_on_samples(model, load_text_encoder(Path(src), model.config, "cpu"), torch.device("cpu"))
    return save_model(dst, model, model.config, half=half)


def settings_of(preset_name: str) -> dict:
    """The preset as plain data (for the model card)."""
    return dataclasses.asdict(PRESETS[preset_name])
