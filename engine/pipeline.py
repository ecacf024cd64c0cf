"""LatentCutPipeline: generate, animate, extend, fill and restyle with one LatentCut model.

Every operation is one latent sequence of N latent frames in which some frames are *known*
(encoded from the input: none for generate, the first for animate, the first/last for extend,
both ends for fill) and, for restyle, every frame has an initial latent and a structure map.
`__call__` runs the numbered steps of a diffusers pipeline on that sequence; sequences longer
than the model's window are made window by window, each conditioned on its overlap with the
frames already made, so a long shot holds together.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from einops import rearrange

from .backends.base import DIRECTIONS, StepCallback, VideoResult
from .backends.constraints import Constraints, warn_adjusted
from .device import default_dtype, pick_device, set_threads
from .errors import Cancelled
from .media.retime import hold_indices, retime
from .model.conditioning import build_condition
from .model.flow import predicted_x0
from .model.ldm import LatentCutLDM
from .model.loading import load_model, load_text_encoder, weights_sha256
from .model.text_encoder import TextEncoder
from .version import ENGINE_VERSION


@dataclass
class _Sequence:
    """What step 2 prepares: the latent sequence to complete and how to cut the output from it."""
    latent_frames: int
    known: torch.Tensor | None = None        # [1,C,N,h,w] scaled latents (only known frames used)
    known_mask: torch.Tensor | None = None   # [N] bool
    init: torch.Tensor | None = None         # [1,C,N,h,w] restyle start latents
    structure: torch.Tensor | None = None    # [1,S,N,h,w]
    out_start: int = 0                       # first native output frame in the decoded sequence
    out_frames: int = 0                      # native output frames
    stretch_to: int | None = None            # fill: resample the new frames to exactly this many


def _check_seconds(seconds, name: str = "seconds") -> float:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise ValueError(f"{name}: expected a finite number of seconds, got {seconds!r}")
    if seconds <= 0:
        raise ValueError(f"{name}: must be > 0, got {seconds}")
    return float(seconds)


def _check_frames(value, name: str) -> np.ndarray:
    """uint8 RGB frames [T,H,W,3] (a list of HxWx3 arrays is stacked; an alpha channel is dropped)."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{name}: no frames given")
        try:
            value = np.stack([np.asarray(v) for v in value])
        except ValueError as exc:
            raise ValueError(f"{name}: frames of different shapes ({exc})") from None
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name}: expected uint8 RGB frames as a numpy array [T,H,W,3], got {type(value).__name__}")
    if value.dtype != np.uint8:
        raise ValueError(f"{name}: expected dtype uint8, got {value.dtype}")
    if value.ndim != 4 or value.shape[-1] not in (3, 4):
        raise ValueError(f"{name}: expected shape [T,H,W,3], got {list(value.shape)}")
    if value.shape[0] == 0 or value.shape[1] == 0 or value.shape[2] == 0:
        raise ValueError(f"{name}: empty frames, shape {list(value.shape)}")
    return value[..., :3]


def _check_image(value, name: str = "image") -> np.ndarray:
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype == np.uint8:
        value = np.repeat(value[..., None], 3, axis=-1)
    if isinstance(value, np.ndarray) and value.ndim == 3:
        value = value[None]
    frames = _check_frames(value, name)
    if frames.shape[0] != 1:
        raise ValueError(f"{name}: expected one image [H,W,3], got {frames.shape[0]} frames")
    return frames


class LatentCutPipeline:
    """A loaded LatentCut model folder, implementing engine.backends.base.Backend."""

    def __init__(self, model: LatentCutLDM, text_encoder: TextEncoder, *, name: str, sha256: str,
                 device: torch.device, dtype: torch.dtype, folder: Path | None = None):
        self.model = model
        self.text_encoder = text_encoder
        self.config = model.config
        self.name = name
        self.sha256 = sha256
        self.device = device
        self.dtype = dtype
        self.folder = folder
        self.operations = frozenset(self.config.operations)
        self.native_size = (self.config.width, self.config.height)
        self.native_rate = float(self.config.fps)

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | torch.device | None = None,
                        threads: int | None = None, dtype: torch.dtype | None = None) -> "LatentCutPipeline":
        set_threads(threads)
        dev = pick_device(device)
        dtype = dtype or default_dtype(dev)
        folder = Path(folder)
        model = load_model(folder, dev, dtype)
        text_encoder = load_text_encoder(folder, model.config, dev, dtype)
        return cls(model, text_encoder, name=model.config.name, sha256=weights_sha256(folder),
                   device=dev, dtype=dtype, folder=folder)

    # ----------------------------------------------------------------- public operations
    def generate(self, prompt: str, seconds: float, size=None, seed: int = 0, steps: int | None = None,
                 guidance: float | None = None, negative_prompt: str = "", callback: StepCallback | None = None,
                 cancel: threading.Event | None = None, rate: float | None = None) -> VideoResult:
        return self(op="generate", prompt=prompt, seconds=seconds, size=size, seed=seed, steps=steps,
                    guidance=guidance, negative_prompt=negative_prompt, callback=callback, cancel=cancel, rate=rate)

    def animate(self, image, prompt: str, seconds: float, size=None, seed: int = 0, steps: int | None = None,
                guidance: float | None = None, negative_prompt: str = "", callback: StepCallback | None = None,
                cancel: threading.Event | None = None, rate: float | None = None) -> VideoResult:
        return self(op="animate", image=image, prompt=prompt, seconds=seconds, size=size, seed=seed, steps=steps,
                    guidance=guidance, negative_prompt=negative_prompt, callback=callback, cancel=cancel, rate=rate)

    def extend(self, frames, seconds: float, direction: str = "tail", prompt: str | None = None, size=None,
               seed: int = 0, steps: int | None = None, guidance: float | None = None, negative_prompt: str = "",
               callback: StepCallback | None = None, cancel: threading.Event | None = None,
               rate: float | None = None) -> VideoResult:
        """New frames only, continuing `frames` (given at `rate`) after its end or before its start."""
        return self(op="extend", frames=frames, seconds=seconds, direction=direction, prompt=prompt, size=size,
                    seed=seed, steps=steps, guidance=guidance, negative_prompt=negative_prompt, callback=callback,
                    cancel=cancel, rate=rate)

    def fill(self, before_frames, after_frames, seconds: float, prompt: str | None = None, size=None,
             seed: int = 0, steps: int | None = None, guidance: float | None = None, negative_prompt: str = "",
             callback: StepCallback | None = None, cancel: threading.Event | None = None,
             rate: float | None = None) -> VideoResult:
        """The frames of a `seconds` gap between the end of before_frames and the start of after_frames."""
        return self(op="fill", before_frames=before_frames, after_frames=after_frames, seconds=seconds,
                    prompt=prompt, size=size, seed=seed, steps=steps, guidance=guidance,
                    negative_prompt=negative_prompt, callback=callback, cancel=cancel, rate=rate)

    def restyle(self, frames, prompt: str, strength: float = 0.7, structure_weight: float = 1.0, size=None,
                seed: int = 0, steps: int | None = None, guidance: float | None = None, negative_prompt: str = "",
                callback: StepCallback | None = None, cancel: threading.Event | None = None,
                rate: float | None = None) -> VideoResult:
        """As many frames as given (at `rate`), with the input's layout and motion and the prompt's look."""
        return self(op="restyle", frames=frames, prompt=prompt, strength=strength, structure_weight=structure_weight,
                    size=size, seed=seed, steps=steps, guidance=guidance, negative_prompt=negative_prompt,
                    callback=callback, cancel=cancel, rate=rate)

    # ----------------------------------------------------------------- the pipeline
    @torch.inference_mode()
    def __call__(self, op: str, prompt: str | None = None, seconds: float | None = None, *, image=None,
                 frames=None, before_frames=None, after_frames=None, direction: str = "tail",
                 strength: float | None = None, structure_weight: float = 1.0, size=None, seed: int = 0,
                 steps: int | None = None, guidance: float | None = None, negative_prompt: str = "",
                 callback: StepCallback | None = None, cancel: threading.Event | None = None,
                 rate: float | None = None) -> VideoResult:
        # 1. Check inputs (everything, before any work).
        args = self.check_inputs(op, prompt, seconds, image, frames, before_frames, after_frames, direction,
                                 strength, structure_weight, size, seed, steps, guidance, negative_prompt,
                                 callback, cancel, rate)
        width, height = args["size"]
        out_rate = args["rate"]

        # 2. Encode the conditions: text (prompt and negative prompt in one batch) and input frames.
        # guidance 1 is the conditional pass alone; identical prompts make both passes the same.
        use_cfg = args["guidance"] != 1.0 and args["prompt"] != args["negative_prompt"]
        prompts = [args["prompt"], args["negative_prompt"]] if use_cfg else [args["prompt"]]
        text, text_mask = self.text_encoder.encode(prompts)
        text = text.to(self.dtype)
        seq = self._prepare_sequence(op, args, width, height)

        # 3. Set the timesteps: made per window by _denoise_window (a fresh diffusers scheduler each).
        # 4. Prepare the latents: the window plan and one seeded generator for all noise.
        generator = torch.Generator(device="cpu").manual_seed(args["seed"])
        windows = self._plan_windows(seq)
        run_steps = self._steps_run(args["steps"], args["strength"] if op == "restyle" else None)
        progress = {"step": 0, "total": run_steps * len(windows)}
        z = torch.zeros(1, self.config.latent_channels, seq.latent_frames, height // self.config.space_compression,
                        width // self.config.space_compression, device=self.device)
        have = torch.zeros(seq.latent_frames, dtype=torch.bool, device=self.device)
        if seq.known is not None:
            known_mask = seq.known_mask.to(self.device)
            z[:, :, known_mask] = seq.known[:, :, known_mask].float()
            have |= known_mask

        # 5. Denoising loop, window by window; frames already made (or given) condition the next window.
        for start, length in windows:
            part = slice(start, start + length)
            made = self._denoise_window(
                z[:, :, part], have[part].clone(),
                None if seq.init is None else seq.init[:, :, part],
                None if seq.structure is None else seq.structure[:, :, part],
                args, text, text_mask, use_cfg, generator, progress, (width, height))
            new = ~have[part]
            z[:, :, part][:, :, new] = made[:, :, new]
            have[part] = True
        self._check_cancel(args["cancel"])

        # 6. Decode, cut the output frames and conform them to the requested rate.
        video = self.model.decode_latents(z.to(self.dtype))
        video = video[:, :, seq.out_start:seq.out_start + seq.out_frames]
        native = rearrange(((video[0].float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8),
                           "c t h w -> t h w c").cpu().numpy()
        out = self._conform(native, op, args, seq)
        return VideoResult(frames=out, rate=out_rate, metadata=self._metadata(op, args, out, out_rate))

    # ----------------------------------------------------------------- step 1
    def check_inputs(self, op, prompt, seconds, image, frames, before_frames, after_frames, direction, strength,
                     structure_weight, size, seed, steps, guidance, negative_prompt, callback, cancel, rate) -> dict:
        cfg = self.config
        if op not in self.operations:
            raise ValueError(f"op: model {self.name!r} cannot {op!r} (it supports {sorted(self.operations)})")
        args: dict = {"cancel": cancel, "callback": callback}
        if prompt is None and op in ("generate", "animate", "restyle"):
            raise ValueError(f"prompt: {op} needs a prompt")
        if prompt is not None and not isinstance(prompt, str):
            raise ValueError(f"prompt: expected a string, got {type(prompt).__name__}")
        if not isinstance(negative_prompt, str):
            raise ValueError(f"negative_prompt: expected a string, got {type(negative_prompt).__name__}")
        args["prompt"], args["negative_prompt"] = prompt or "", negative_prompt
        if size is None:
            size = self.native_size
        if (not isinstance(size, (tuple, list)) or len(size) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in size)):
            raise ValueError(f"size: expected (width, height) integers, got {size!r}")
        # rounded to the model's grid with a warning, as the diffusers backends do
        args["size"], note = Constraints(self.name, 1, cfg.size_multiple).fit_size(int(size[0]), int(size[1]))
        warn_adjusted(note, [])
        if rate is None:
            rate = self.native_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
            raise ValueError(f"rate: expected a frame rate > 0, got {rate!r}")
        args["rate"] = float(rate)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2 ** 63:
            raise ValueError(f"seed: expected an integer in 0..2**63-1, got {seed!r}")
        args["seed"] = int(seed)
        steps = cfg.default_steps if steps is None else steps
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= 1000:
            raise ValueError(f"steps: expected an integer in 1..1000, got {steps!r}")
        args["steps"] = int(steps)
        guidance = cfg.default_guidance if guidance is None else guidance
        if isinstance(guidance, bool) or not isinstance(guidance, (int, float)) or not math.isfinite(guidance) \
                or guidance < 0:
            raise ValueError(f"guidance: expected a number >= 0, got {guidance!r}")
        args["guidance"] = float(guidance)
        if callback is not None and not callable(callback):
            raise ValueError("callback: expected a callable(step, total, preview)")
        if cancel is not None and not hasattr(cancel, "is_set"):
            raise ValueError("cancel: expected a threading.Event")
        if op != "restyle":
            args["seconds"] = _check_seconds(seconds)
            args["out_frames"] = round(args["seconds"] * args["rate"])
            if args["out_frames"] < 1:
                raise ValueError(f"seconds: {seconds} s is less than one frame at {args['rate']} fps")
        args["strength"] = None
        if op == "animate":
            args["image"] = _check_image(image)
        elif op == "extend":
            args["frames"] = _check_frames(frames, "frames")
            if direction not in DIRECTIONS:
                raise ValueError(f"direction: expected 'tail' or 'head', got {direction!r}")
            args["direction"] = direction
        elif op == "fill":
            args["before_frames"] = _check_frames(before_frames, "before_frames")
            args["after_frames"] = _check_frames(after_frames, "after_frames")
        elif op == "restyle":
            args["frames"] = _check_frames(frames, "frames")
            strength = 0.7 if strength is None else strength
            if isinstance(strength, bool) or not isinstance(strength, (int, float)) or not 0 < strength <= 1:
                raise ValueError(f"strength: expected a number in (0, 1], got {strength!r}")
            if (isinstance(structure_weight, bool) or not isinstance(structure_weight, (int, float))
                    or not math.isfinite(structure_weight) or structure_weight < 0):
                raise ValueError(f"structure_weight: expected a number >= 0, got {structure_weight!r}")
            args["strength"], args["structure_weight"] = float(strength), float(structure_weight)
        return args

    # ----------------------------------------------------------------- step 2 (frames)
    def _to_tensor(self, frames: np.ndarray, width: int, height: int, chunk: int = 16) -> torch.Tensor:
        """uint8 [T,H,W,3] -> [1,3,T,height,width] in [-1,1] on the device. Resized a few frames at a
        time, so full-HD footage never exists as one float tensor."""
        parts = []
        for start in range(0, frames.shape[0], chunk):
            x = torch.from_numpy(np.ascontiguousarray(frames[start:start + chunk])).to(self.device)
            x = rearrange(x, "t h w c -> t c h w").float() / 127.5 - 1
            if x.shape[-2:] != (height, width):
                x = F.interpolate(x, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
            parts.append(x.clamp(-1, 1).to(self.dtype))
        return rearrange(torch.cat(parts), "t c h w -> 1 c t h w")

    def _to_native(self, frames: np.ndarray, rate: float) -> np.ndarray:
        """Input frames at `rate` -> the same span at the model's frame rate."""
        return retime(frames, rate, self.native_rate)

    def _context(self, frames: np.ndarray, rate: float, at_end: bool, width: int, height: int) -> torch.Tensor:
        """Encode the frames next to the new ones (the clip's end, or its start) into known latents."""
        kt = self.config.time_compression
        count = max(1, self.config.overlap_latent_frames) * kt
        native = self._to_native(frames, rate)
        native = native[-count:] if at_end else native[:count]
        if native.shape[0] < count:  # a short clip: hold its outer frame to fill the context
            pad = np.repeat(native[:1] if at_end else native[-1:], count - native.shape[0], axis=0)
            native = np.concatenate([pad, native] if at_end else [native, pad])
        return self.model.encode_frames(self._to_tensor(native, width, height))

    def _prepare_sequence(self, op: str, args: dict, width: int, height: int) -> _Sequence:
        kt = self.config.time_compression
        if op == "restyle":
            native = self._to_native(args["frames"], args["rate"])
            n = native.shape[0]
            padded = np.concatenate([native, np.repeat(native[-1:], -n % kt, axis=0)])
            x = self._to_tensor(padded, width, height)
            init = self.model.encode_frames(x)
            return _Sequence(latent_frames=init.shape[2], init=init, structure=self.model.structure(x).float(),
                             out_start=0, out_frames=n)
        # Native frames needed so that every output frame (at args["rate"]) has one to show.
        n = int(hold_indices(args["out_frames"], self.native_rate, args["rate"])[-1]) + 1
        new_latents = math.ceil(n / kt)
        if op == "generate":
            return _Sequence(latent_frames=new_latents, out_frames=n)
        if op == "animate":
            still = np.repeat(args["image"], kt, axis=0)
            known = self.model.encode_frames(self._to_tensor(still, width, height))
            total = max(1, new_latents)
            return self._known_sequence(total, [(0, known)], out_start=0, out_frames=n)
        if op == "extend":
            tail = args["direction"] == "tail"
            known = self._context(args["frames"], args["rate"], at_end=tail, width=width, height=height)
            k = known.shape[2]
            total = k + new_latents
            if tail:
                return self._known_sequence(total, [(0, known)], out_start=k * kt, out_frames=n)
            return self._known_sequence(total, [(new_latents, known)], out_start=new_latents * kt - n, out_frames=n)
        # fill: the gap is new_latents latent frames between the two contexts; its frames are then
        # stretched to the exact gap length so both seams meet.
        before = self._context(args["before_frames"], args["rate"], True, width, height)
        after = self._context(args["after_frames"], args["rate"], False, width, height)
        k1, k2 = before.shape[2], after.shape[2]
        total = k1 + new_latents + k2
        seq = self._known_sequence(total, [(0, before), (k1 + new_latents, after)], out_start=k1 * kt,
                                   out_frames=new_latents * kt)
        seq.stretch_to = args["out_frames"]
        return seq

    def _known_sequence(self, total: int, parts: list[tuple[int, torch.Tensor]], out_start: int,
                        out_frames: int) -> _Sequence:
        c, h, w = parts[0][1].shape[1], parts[0][1].shape[3], parts[0][1].shape[4]
        known = torch.zeros(1, c, total, h, w, device=self.device, dtype=self.dtype)
        mask = torch.zeros(total, dtype=torch.bool)
        for start, latents in parts:
            known[:, :, start:start + latents.shape[2]] = latents
            mask[start:start + latents.shape[2]] = True
        return _Sequence(latent_frames=total, known=known, known_mask=mask, out_start=out_start,
                         out_frames=out_frames)

    # ----------------------------------------------------------------- steps 3-5
    def _plan_windows(self, seq: _Sequence) -> list[tuple[int, int]]:
        """(start, length) of each window, in the order they are made. Windows overlap by at least
        overlap_latent_frames; they run backwards when only the end is known (extend head)."""
        n, size = seq.latent_frames, self.config.latent_window
        if n <= size:
            windows = [(0, n)]
        else:
            stride = size - self.config.overlap_latent_frames
            starts = list(range(0, n - size, stride)) + [n - size]
            windows = [(s, size) for s in starts]
            mask = seq.known_mask
            if mask is not None and mask[-1] and not mask[0]:
                windows = [(n - size - s, size) for s in starts]
        if seq.known_mask is not None:
            windows = [(s, l) for s, l in windows if not bool(seq.known_mask[s:s + l].all())]
        return windows

    @staticmethod
    def _steps_run(steps: int, strength: float | None) -> int:
        return steps if strength is None else max(1, min(steps, round(steps * strength)))

    def _check_cancel(self, cancel: threading.Event | None) -> None:
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled")

    def _denoise_window(self, z_known: torch.Tensor, have: torch.Tensor, init: torch.Tensor | None,
                        structure: torch.Tensor | None, args: dict, text: torch.Tensor, text_mask: torch.Tensor,
                        use_cfg: bool, generator: torch.Generator, progress: dict,
                        out_size: tuple[int, int]) -> torch.Tensor:
        from diffusers import FlowMatchEulerDiscreteScheduler

        shape = tuple(z_known.shape)
        any_known = bool(have.any())
        cond = build_condition(shape, z_known if any_known else None, have[None] if any_known else None,
                               structure, args.get("structure_weight", 1.0), dtype=self.dtype, device=self.device)
        # 3. Timesteps: a few-step flow-matching Euler schedule; restyle (SDEdit) starts part-way.
        scheduler = FlowMatchEulerDiscreteScheduler(num_train_timesteps=1000, shift=self.config.scheduler_shift)
        scheduler.set_timesteps(args["steps"], device=self.device)
        begin = args["steps"] - self._steps_run(args["steps"], args["strength"] if init is not None else None)
        timesteps = scheduler.timesteps[begin:]
        scheduler.set_begin_index(begin)
        # 4. Latents: noise from the seeded CPU generator (same frames on every run and device).
        noise = torch.randn(shape, generator=generator, dtype=torch.float32).to(self.device)
        x = noise if init is None else scheduler.scale_noise(init.float(), timesteps[:1], noise)
        if use_cfg:
            cond = torch.cat([cond, cond])
        batch = cond.shape[0]
        sigmas = scheduler.sigmas.to(self.device)
        for i, t in enumerate(timesteps):
            self._check_cancel(args["cancel"])
            sigma = sigmas[begin + i]
            x_in = x.to(self.dtype).expand(batch, *shape[1:])
            v = self.model.denoiser(x_in, cond, sigma.float().expand(batch), text, text_mask).float()
            if use_cfg:
                v_cond, v_uncond = v.chunk(2)
                v = v_uncond + args["guidance"] * (v_cond - v_uncond)
            progress["step"] += 1
            if args["callback"] is not None:
                args["callback"](progress["step"], progress["total"], self._preview(x, v, sigma, out_size))
            x = scheduler.step(v, t, x).prev_sample
        return x

    def _preview(self, x: torch.Tensor, v: torch.Tensor, sigma: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
        """The middle latent frame of the current estimate of x0, through the 1x1 preview projection."""
        x0 = predicted_x0(x, v, float(sigma))
        return self.model.preview(x0[0, :, x0.shape[2] // 2], size).cpu().numpy()

    # ----------------------------------------------------------------- step 6
    def _conform(self, native: np.ndarray, op: str, args: dict, seq: _Sequence) -> np.ndarray:
        if op == "restyle":
            count = args["frames"].shape[0]
            return native[hold_indices(count, self.native_rate, args["rate"], native.shape[0])]
        if seq.stretch_to is not None:  # fill: spread the made frames evenly over the gap
            idx = np.floor(np.arange(seq.stretch_to) * native.shape[0] / seq.stretch_to).astype(np.int64)
            return native[idx]
        return native[hold_indices(args["out_frames"], self.native_rate, args["rate"], native.shape[0])]

    def _metadata(self, op: str, args: dict, frames: np.ndarray, rate: float) -> dict:
        meta = {
            "op": op, "prompt": args["prompt"], "negative_prompt": args["negative_prompt"], "seed": args["seed"],
            "steps": args["steps"], "guidance": args["guidance"], "strength": args["strength"],
            "model": {"name": self.name, "sha256": self.sha256}, "engine_version": ENGINE_VERSION,
            "frames": int(frames.shape[0]), "rate": rate, "width": int(frames.shape[2]),
            "height": int(frames.shape[1]),
        }
        if op == "extend":
            meta["direction"] = args["direction"]
        if op == "restyle":
            meta["structure_weight"] = args["structure_weight"]
        else:
            meta["seconds"] = args["seconds"]
        return meta
