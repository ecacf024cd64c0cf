"""Training: the autoencoder on rendered clips, then the denoiser on a pool of cached latents.

Stages, each resumable from the run folder:
  1. ae    - the video autoencoder on random crops of freshly rendered clips (L1 + a small latent
             penalty); then the latent scaling factor is set so pooled latents have std ~1.
  2. pool  - a fixed pool of restyle pairs is rendered, encoded by the frozen autoencoder, and
             saved with the caption embeddings (one text-encoder pass per unique caption).
  3. decoder - the decoder alone is refined on the pool's latents against their renders (the
             encoder stays frozen, so the pool stays valid); cheap latent crops.
  4. dit   - the denoiser, rectified flow (x_t = (1-t)x0 + t*eps, target v = eps - x0), on a mix
             of the operation cases (engine/train/cases.py) with 10% caption dropout for CFG.
             Periodic evaluation generates held-out prompts and scores them from pixels; the best
             checkpoint is kept in <out>/best.
Every random draw is derived from (seed, step), so a resumed run continues exactly as an
uninterrupted one would. Nothing is pickled: weights and optimizer state are safetensors.
"""
from __future__ import annotations

import dataclasses
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.model.config import ModelConfig
from engine.model.flow import add_noise, sample_timesteps, velocity_target
from engine.model.ldm import LatentCutLDM
from engine.model.loading import load_model, load_text_encoder, save_model
from engine.model.preview import fit_preview
from engine.train import evaluate
from engine.train.captions import prompt
from engine.train.cases import DEFAULT_MIX, make_batch
from engine.train.data import LatentPool, TextCache, autoencoder_batch, build_pool, check_training_seed
from engine.train.world import EVAL_SEED_START, sample_scene
from timeline.files import atomic_path, write_atomic
from engine.requests import GenerateRequest

STATE_NAME = "train_state.json"
OPTIMIZER_NAME = "optimizer.safetensors"


@dataclass
class Preset:
    config: dict  # ModelConfig overrides
    ae_steps: int
    ae_batch: int
    ae_lr: float
    ae_frames: int  # frames rendered per autoencoder sample (a whole clip's motion)
    ae_crop: tuple[int, int] | None  # (height, width) crop, None for whole frames
    pool_pairs: int
    decoder_steps: int  # decoder refinement on the pool (encoder frozen)
    steps: int
    batch: int
    lr: float
    warmup: int = 50
    eval_every: int = 200
    eval_prompts: int = 8
    checkpoint_every: int = 50
    mix: dict = field(default_factory=lambda: dict(DEFAULT_MIX))


PRESETS = {
    # The shipped model: native 256x144, 24 frames at 12 fps; a DiT small enough to train on CPU.
    "previz": Preset(
        config=dict(name="previz-v1", dit_dim=128, dit_depth=4, dit_heads=4, mlp_ratio=3.0, default_steps=10,
                    default_guidance=4.0),
        ae_steps=90, ae_batch=4, ae_lr=2e-3, ae_frames=8, ae_crop=(64, 112),
        pool_pairs=90, decoder_steps=600, steps=600, batch=8, lr=5e-4, eval_every=150, eval_prompts=4, checkpoint_every=25),
    # A few seconds end to end: tests and smoke runs.
    "tiny": Preset(
        config=dict(name="previz-tiny", width=64, height=32, frames=8, fps=8.0, latent_channels=4,
                    ae_channels=[8, 8, 8, 16], text_max_length=24, dit_dim=32, dit_depth=2, dit_heads=2,
                    mlp_ratio=2.0, default_steps=3, overlap_latent_frames=1),
        ae_steps=12, ae_batch=2, ae_lr=3e-3, ae_frames=8, ae_crop=None,
        pool_pairs=2, decoder_steps=6, steps=30, batch=4, lr=2e-3, warmup=2, eval_every=12, eval_prompts=2, checkpoint_every=6),
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


def _autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return torch.autocast(device_type="cpu", enabled=False)


# ----------------------------------------------------------------------------- stage 1


def train_autoencoder(model: LatentCutLDM, preset: Preset, state: dict, out: Path, device: torch.device) -> None:
    cfg = model.config
    ae = model.autoencoder
    ae.train().requires_grad_(True)
    opt = torch.optim.AdamW(ae.parameters(), lr=preset.ae_lr, betas=(0.9, 0.99), weight_decay=0.0)
    opt_path = out / "ae_optimizer.safetensors"
    if state["ae_step"] > 0 and opt_path.is_file():
        _load_optimizer(opt_path, opt)
    t0 = time.time()
    while state["ae_step"] < preset.ae_steps:
        step = state["ae_step"]
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, preset.ae_steps, preset.ae_lr, min(preset.warmup, preset.ae_steps // 5 + 1))
        x = autoencoder_batch(state["seed"] * 1_000_003 + step, preset.ae_batch, cfg.width, cfg.height,
                              preset.ae_frames, preset.ae_crop).to(device)
        with _autocast(device):
            recon, z = ae(x)
            l1 = (recon.float() - x).abs().mean()
            loss = l1 + 1e-4 * z.float().pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ae.parameters(), 1.0)
        opt.step()
        state["ae_step"] = step + 1
        state["ae_l1"] = float(l1.detach())
        state.setdefault("ae_l1_first", state["ae_l1"])
        state["wall_s"] += time.time() - t0
        t0 = time.time()
        if (step + 1) % 10 == 0 or step + 1 == preset.ae_steps:
            _log(out, {"stage": "ae", "step": step + 1, "l1": round(state["ae_l1"], 5), "wall_s": round(state["wall_s"], 1)})
        if (step + 1) % preset.checkpoint_every == 0 or step + 1 == preset.ae_steps:
            save_model(out / "checkpoint", model)
            _save_optimizer(opt_path, opt)
            _save_state(out, state)
    ae.eval().requires_grad_(False)


@torch.no_grad()
def set_scaling_factor(model: LatentCutLDM, seed: int, device: torch.device, clips: int = 8) -> float:
    """Choose config.scaling_factor so encoded world clips have unit latent std."""
    cfg = model.config
    cfg.scaling_factor = 1.0
    x = autoencoder_batch(seed * 7 + 1, clips, cfg.width, cfg.height, cfg.frames, None).to(device)
    std = float(model.encode_frames(x).float().std())
    cfg.scaling_factor = round(1.0 / max(std, 1e-6), 6)
    return cfg.scaling_factor


# ----------------------------------------------------------------------------- decoder refinement


class _ClipCache:
    """Renders of pool clips, made on first use (the world is deterministic in the scene)."""

    def __init__(self, pool: LatentPool, width: int, height: int, frames: int):
        self.pool, self.size, self.clips = pool, (width, height, frames), {}

    def __getitem__(self, i: int) -> torch.Tensor:
        if i not in self.clips:
            from engine.train.data import to_tensor
            from engine.train.world import Scene, render

            self.clips[i] = to_tensor(render(Scene(**self.pool.scenes[i]), *self.size))
        return self.clips[i]


def refine_decoder(model: LatentCutLDM, pool: LatentPool, steps: int, seed: int, out: Path, device: torch.device,
                   batch: int = 4, lr: float = 1e-3, crop: tuple[int, int, int] = (2, 8, 12),
                   checkpoint_every: int = 25) -> None:
    """Train the decoder alone on the pool's latents (encoder frozen, so the pool and the denoiser
    stay valid): random latent crops (t, h, w) against the pixels they cover."""
    cfg = model.config
    kt, ks = cfg.time_compression, cfg.space_compression
    dec = model.autoencoder.decoder
    dec.train().requires_grad_(True)
    opt = torch.optim.AdamW(dec.parameters(), lr=lr, betas=(0.9, 0.99), weight_decay=0.0)
    clips = _ClipCache(pool, cfg.width, cfg.height, cfg.frames)
    _, _, lt, lh, lw = pool.latents.shape
    ct, ch, cw = min(crop[0], lt), min(crop[1], lh), min(crop[2], lw)
    t0 = time.time()
    for step in range(steps):
        rng = np.random.default_rng([seed, 13, step])
        zs, xs = [], []
        for _ in range(batch):
            i = int(rng.integers(0, len(pool)))
            a, b, c = (int(rng.integers(0, n - m + 1)) for n, m in ((lt, ct), (lh, ch), (lw, cw)))
            zs.append(pool.latents[i, :, a:a + ct, b:b + ch, c:c + cw])
            xs.append(clips[i][:, a * kt:(a + ct) * kt, b * ks:(b + ch) * ks, c * ks:(c + cw) * ks])
        z, x = torch.stack(zs).to(device), torch.stack(xs).to(device)
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, steps, lr, min(20, steps // 5 + 1))
        with _autocast(device):
            l1 = (model.decode_latents(z).float() - x).abs().mean()
        opt.zero_grad(set_to_none=True)
        l1.backward()
        torch.nn.utils.clip_grad_norm_(dec.parameters(), 1.0)
        opt.step()
        if (step + 1) % 10 == 0 or step + 1 == steps:
            _log(out, {"stage": "decoder", "step": step + 1, "l1": round(float(l1.detach()), 5),
                       "wall_s": round(time.time() - t0, 1)})
        if (step + 1) % checkpoint_every == 0 or step + 1 == steps:
            save_model(out / "checkpoint", model)
    dec.eval().requires_grad_(False)


# ----------------------------------------------------------------------------- stage 3


def flow_loss(model: LatentCutLDM, batch, text: torch.Tensor, text_mask: torch.Tensor, t: torch.Tensor,
              noise: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Mean squared velocity error over the frames to be made."""
    x0 = batch.x0.to(device)
    x_t = add_noise(x0, noise, t)
    with _autocast(device):
        v = model.denoiser(x_t, batch.cond.to(device), t, text.to(device), text_mask.to(device))
    err = (v.float() - velocity_target(x0, noise)).pow(2).mean(dim=(1, 3, 4))  # [B, T]
    w = batch.loss_mask.to(device)
    return (err * w).sum() / w.sum().clamp(min=1.0)


@torch.no_grad()
def probe_loss(model: LatentCutLDM, pool: LatentPool, texts: TextCache, preset: Preset, device: torch.device,
               seed: int = 12345, batch: int = 8) -> float:
    """The flow loss on one fixed batch, fixed timesteps and noise: comparable across steps."""
    rng = np.random.default_rng([seed, 1])
    b = make_batch(pool, rng, batch, model.config.overlap_latent_frames, preset.mix, caption_dropout=0.0)
    text, mask = texts.batch(b.captions)
    gen = torch.Generator().manual_seed(seed)
    t = torch.linspace(0.1, 0.9, batch)
    noise = torch.randn(b.x0.shape, generator=gen)
    return float(flow_loss(model, b, text, mask, t.to(device), noise.to(device), device))


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
        clip = pipe.generate(GenerateRequest(prompt=prompt(scene), seconds=model.config.frames / model.config.fps, seed=i, steps=steps)).frames
        guess = evaluate.classify_clip(clip)
        for k in hits:
            hits[k].append(int(guess[k] == getattr(scene, k)))
    model.train(was_training)
    acc = {k: float(np.mean(v)) for k, v in hits.items()}
    acc["mean"] = float(np.mean(list(acc.values())))
    return acc


def train_denoiser(model: LatentCutLDM, text_encoder, pool: LatentPool, texts: TextCache, preset: Preset,
                   state: dict, out: Path, device: torch.device, total_steps: int) -> None:
    den = model.denoiser
    den.train().requires_grad_(True)
    opt = torch.optim.AdamW(den.parameters(), lr=preset.lr, betas=(0.9, 0.99), weight_decay=0.01)
    opt_path = out / "checkpoint" / OPTIMIZER_NAME
    if state["step"] > 0 and opt_path.is_file():
        _load_optimizer(opt_path, opt)
    if "probe_loss_start" not in state:
        state["probe_loss_start"] = probe_loss(model, pool, texts, preset, device)
        _log(out, {"stage": "dit", "step": 0, "probe_loss": round(state["probe_loss_start"], 5)})
    t0 = time.time()
    recent: list[float] = []
    while state["step"] < total_steps:
        step = state["step"]
        for g in opt.param_groups:
            g["lr"] = _lr_at(step, total_steps, preset.lr, preset.warmup)
        rng = np.random.default_rng([state["seed"], 3, step])
        gen = torch.Generator().manual_seed(state["seed"] * 1_000_003 + step)
        batch = make_batch(pool, rng, preset.batch, model.config.overlap_latent_frames, preset.mix)
        text, mask = texts.batch(batch.captions)
        t = sample_timesteps(preset.batch, gen, shift=model.config.scheduler_shift)
        noise = torch.randn(batch.x0.shape, generator=gen)
        loss = flow_loss(model, batch, text, mask, t.to(device), noise.to(device), device)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(den.parameters(), 1.0)
        opt.step()
        recent.append(float(loss.detach()))
        state["step"] = step + 1
        state["wall_s"] += time.time() - t0
        t0 = time.time()
        if (step + 1) % 10 == 0:
            _log(out, {"stage": "dit", "step": step + 1, "loss": round(float(np.mean(recent)), 5),
                       "lr": round(opt.param_groups[0]["lr"], 7), "wall_s": round(state["wall_s"], 1)})
            recent = []
        last = step + 1 == total_steps
        if (step + 1) % preset.checkpoint_every == 0 or last:
            save_model(out / "checkpoint", model)
            _save_optimizer(opt_path, opt)
            _save_state(out, state)
        if (step + 1) % preset.eval_every == 0 or last:
            state["probe_loss"] = probe_loss(model, pool, texts, preset, device)
            acc = evaluate_generation(model, text_encoder, preset.eval_prompts, device)
            record = {"stage": "eval", "step": step + 1, "probe_loss": round(state["probe_loss"], 5),
                      **{k: round(v, 3) for k, v in acc.items()}}
            _log(out, record)
            state.setdefault("evals", []).append(record)
            best = state.get("best")
            if best is None or (acc["mean"], -state["probe_loss"]) >= (best["mean"], -best["probe_loss"]):
                fit_preview_on_samples(model, text_encoder, device, count=preset.eval_prompts)
                save_model(out / "best", model)
                state["best"] = {"step": step + 1, "mean": acc["mean"], "probe_loss": state["probe_loss"],
                                 "wall_s": round(state["wall_s"], 1)}
            state["wall_s"] += time.time() - t0
            t0 = time.time()
            _save_state(out, state)
    den.eval().requires_grad_(False)


@torch.no_grad()
def fit_preview_on_samples(model: LatentCutLDM, text_encoder, device: torch.device, count: int = 8,
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
    hook = model.autoencoder.decoder.register_forward_hook(
        lambda module, args, out: seen.append((args[0].float() * model.config.scaling_factor, out.float().clamp(-1, 1))))
    try:
        for i in range(count):
            scene = sample_scene(int(rng.integers(0, EVAL_SEED_START)))
            pipe.generate(prompt(scene), seconds=model.config.frames / model.config.fps, seed=i)
    finally:
        hook.remove()
        model.train(was_training)
    latents, frames = torch.cat([z for z, _ in seen]), torch.cat([f for _, f in seen])
    return fit_preview(model.preview, latents.to(device), frames.to(device))


# ----------------------------------------------------------------------------- driver


def run(preset_name: str, out: Path, device: str = "cpu", steps: int | None = None, seed: int = 0,
        resume: Path | None = None, threads: int | None = None) -> Path:
    """Train (or continue training) into `out`; returns the folder of the best model."""
    from engine.device import pick_device, set_threads

    if preset_name not in PRESETS:
        raise ValueError(f"preset: unknown preset {preset_name!r} (known: {', '.join(PRESETS)})")
    if steps is not None and steps < 1:
        raise ValueError(f"steps: must be >= 1, got {steps}")
    preset = PRESETS[preset_name]
    dev = pick_device(device)
    set_threads(threads)
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
        config = ModelConfig(**preset.config).validate()
        torch.manual_seed(seed)
        model = LatentCutLDM(config).to(dev)
        state = {"preset": preset_name, "seed": seed, "device": str(dev), "torch_threads": torch.get_num_threads(),
                 "stage": "ae", "ae_step": 0, "step": 0, "wall_s": 0.0}
        _save_state(out, state)
        _log(out, {"event": "started", "preset": preset_name, "device": str(dev), "seed": seed,
                   "config": config.to_dict()})
    total_steps = steps if steps is not None else state.get("total_steps", preset.steps)
    state["total_steps"] = total_steps
    if state["stage"] == "done" and state["step"] < total_steps:
        state["stage"] = "dit"  # --steps beyond a finished run extends it
    model.requires_grad_(False)

    if state["stage"] == "ae":
        train_autoencoder(model, preset, state, out, dev)
        t0 = time.time()
        sf = set_scaling_factor(model, state["seed"], dev)
        state["wall_s"] += time.time() - t0
        state["stage"] = "pool"
        save_model(out / "checkpoint", model)
        _save_state(out, state)
        _log(out, {"stage": "ae", "event": "done", "scaling_factor": sf})

    text_encoder = load_text_encoder(out / "checkpoint", model.config, dev)
    if state["stage"] == "pool":
        t0 = time.time()
        pool = build_pool(model, preset.pool_pairs, state["seed"], dev,
                          log=lambda m: _log(out, {"stage": "pool", "event": m}))
        texts = TextCache()
        texts.add([c for caps in pool.captions for c in caps] + [""], text_encoder)
        pool.save(out / "pool.safetensors")
        texts.save(out / "text.safetensors")
        state["wall_s"] += time.time() - t0
        state["stage"] = "decoder"
        _save_state(out, state)
        _log(out, {"stage": "pool", "event": "done", "clips": len(pool), "captions": len(texts.states),
                   "wall_s": round(state["wall_s"], 1)})
    else:
        pool = LatentPool.load(out / "pool.safetensors")
        texts = TextCache.load(out / "text.safetensors")

    if state["stage"] == "decoder":
        t0 = time.time()
        refine_decoder(model, pool, preset.decoder_steps, state["seed"], out, dev)
        state["wall_s"] += time.time() - t0
        state["stage"] = "dit"
        _save_state(out, state)

    if state["stage"] == "dit":
        train_denoiser(model, text_encoder, pool, texts, preset, state, out, dev, total_steps)
        state["stage"] = "done" if state["step"] >= total_steps else "dit"
        _save_state(out, state)
        _log(out, {"event": "finished", "step": state["step"], "wall_s": round(state["wall_s"], 1),
                   "best": state.get("best")})
    return out / "best"


def export(src: Path, dst: Path, half: bool = True, decoder_from: Path | None = None) -> Path:
    """Write a shipping model folder (fp16 weights where harmless) from a training checkpoint,
    optionally with the decoder of another checkpoint of the same autoencoder (a refined decoder).
    The preview projection is refitted on the model's own samples either way."""
    model = load_model(Path(src), "cpu")
    if decoder_from is not None:
        other = load_model(Path(decoder_from), "cpu")
        enc_a, enc_b = model.autoencoder.encoder.state_dict(), other.autoencoder.encoder.state_dict()
        if any(not torch.equal(enc_a[k], enc_b[k]) for k in enc_a):
            raise ValueError(f"decoder_from: {decoder_from} has another encoder than {src}; its decoder "
                             f"would not understand these latents")
        model.autoencoder.decoder.load_state_dict(other.autoencoder.decoder.state_dict())
    fit_preview_on_samples(model, load_text_encoder(Path(src), model.config, "cpu"), torch.device("cpu"))
    return save_model(dst, model, model.config, half=half)


def settings_of(preset_name: str) -> dict:
    """The preset as plain data (for the model card)."""
    return dataclasses.asdict(PRESETS[preset_name])
