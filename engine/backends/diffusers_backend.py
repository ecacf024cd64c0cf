"""A Backend over a local diffusers video model folder (Wan, LTX-Video, CogVideoX, UNet3D).

`load_diffusers_backend(path, device)` reads model_index.json, recognises the family, checks that
every weight file is there and whole, loads the pipeline once (safetensors only, no network) and
returns a `DiffusersBackend`. Each operation checks its arguments and that the model can do it
before any work starts, fits frame count and size to the family's rules (with a warning), runs the
family's pipeline with a step hook for progress, previews and cancel, and returns uint8 frames.
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
import threading
from pathlib import Path

import numpy as np

from engine.backends.base import DIRECTIONS, VideoResult
from engine.backends.constraints import warn_adjusted
from engine.backends.families import component_names, family_module, recognise
from engine.backends.families.common import LatentProjection, OpContext
from engine.backends.memory import MemoryOptions, apply_memory_plan, plan_memory, torch_dtype
from engine.backends.speed import apply_speedups
from engine.errors import Cancelled, LatentCutError
from engine.media.retime import retime

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")
PARTIAL_SUFFIXES = (".incomplete", ".part", ".partial", ".tmp")
PREVIEWS_PER_JOB = 8


# --- the folder: weights present and whole ------------------------------------------------------
def weight_files(folder: Path, index: dict) -> list[Path]:
    """Every safetensors file the pipeline's model components need; a clear error for any gap."""
    files: list[Path] = []
    for name in component_names(index):
        sub = folder / name
        if not sub.is_dir():
            raise LatentCutError(f"model: {folder} is incomplete: the {name}/ folder is missing")
        partial = [p.name for p in sub.iterdir() if p.name.endswith(PARTIAL_SUFFIXES)]
        if partial:
            raise LatentCutError(f"model: {folder} is half-downloaded: {name}/{partial[0]} is unfinished")
        if not (sub / "config.json").is_file():
            continue  # tokenizer, scheduler, image processor: no weights
        files.extend(_component_weights(folder, sub))
    if not files:
        raise LatentCutError(f"model: {folder} has no weight files")
    return files


def _component_weights(folder: Path, sub: Path) -> list[Path]:
    shard_indexes = sorted(sub.glob("*.safetensors.index.json"))
    if shard_indexes:
        try:
            weight_map = json.loads(shard_indexes[0].read_text(encoding="utf-8"))["weight_map"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise LatentCutError(f"model: {shard_indexes[0]} is not a valid shard index ({exc})") from None
        shards = [sub / s for s in sorted(set(weight_map.values()))]
        missing = [s.name for s in shards if not s.is_file()]
        if missing:
            raise LatentCutError(f"model: {folder} is incomplete: {sub.name}/{missing[0]} is missing "
                                 f"({len(missing)} of {len(shards)} shards)")
    else:
        shards = sorted(sub.glob("*.safetensors"))
    if not shards:
        pickled = [p.name for p in sub.iterdir() if p.suffix in PICKLE_SUFFIXES]
        if pickled:
            raise LatentCutError(f"model: {sub}/{pickled[0]} is a pickle checkpoint; LatentCut loads only "
                                 "safetensors (convert the model, or download its safetensors files)")
        raise LatentCutError(f"model: {folder} is incomplete: no weights in {sub.name}/ (missing safetensors)")
    for shard in shards:
        check_safetensors_whole(shard)
    return shards


def check_safetensors_whole(path: Path) -> None:
    """A safetensors file is an 8-byte header length, a JSON header, then the tensor data; a cut-off
    download is shorter than the header's last data offset."""
    size = path.stat().st_size
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            n = int.from_bytes(head, "little") if len(head) == 8 else -1
            if n <= 0 or 8 + n > size:
                raise ValueError("header cut off")
            header = json.loads(f.read(n))
        end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise LatentCutError(f"model: {path} is not a readable safetensors file ({exc})") from None
    if size < 8 + n + end:
        raise LatentCutError(f"model: {path} is truncated ({size} of {8 + n + end} bytes): "
                             "the download did not finish")


def folder_sha256(folder: Path, files: list[Path]) -> str:
    """One hash for the model: sha256 over each weight file's relative path and its own sha256
    (engine.hashing caches those by path, size and mtime)."""
    from engine.hashing import sha256_file

    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(f"{path.relative_to(folder).as_posix()} {sha256_file(path)}\n".encode())
    return digest.hexdigest()


def load_diffusers_backend(path, device=None, memory: "str | MemoryOptions | None" = None,
                           fast: bool = True) -> "DiffusersBackend":
    """Load a local diffusers folder. device None: the best available. memory: see MemoryOptions.parse
    (None = auto). fast: our faster default path (GPU speed-ups, and Wan text-to-video with batched
    CFG and no per-step syncs); False runs the stock diffusers pipelines."""
    from engine.device import pick_device

    folder = Path(path).expanduser().resolve()
    recognised = recognise(folder)
    files = weight_files(folder, recognised.index)
    device = str(pick_device(device))
    options = MemoryOptions.parse(memory)
    sizes = {}
    for f in files:
        sizes[f.parent.name] = sizes.get(f.parent.name, 0) + f.stat().st_size
    plan = plan_memory(options, device, sum(sizes.values()), max(sizes.values()))

    import diffusers

    cls = getattr(diffusers, recognised.class_name)
    try:
        pipe = cls.from_pretrained(folder, torch_dtype=torch_dtype(plan.dtype), local_files_only=True,
                                   use_safetensors=True)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise LatentCutError(f"model: could not load {folder} as {recognised.class_name}: {exc}") from None
    pipe.set_progress_bar_config(disable=True)
    apply_memory_plan(pipe, plan, device)
    speed_notes = apply_speedups(pipe, device, plan.offload) if fast else []
    family_cls = family_module(recognised.module).FAMILY
    family = family_cls(pipe, prepare=lambda p: apply_memory_plan(p, plan, device))
    family.fast = fast
    from engine.backends.registry import remember

    remember(folder)  # so `latentcut models` lists it next time
    return DiffusersBackend(folder, files, family, plan, device, recognised.class_name, speed_notes)


# --- argument checks ---------------------------------------------------------------------------
def _video_arg(frames, name: str) -> np.ndarray:
    try:
        array = np.asarray(frames)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected uint8 frames [T,H,W,3]") from None
    if array.ndim != 4 or array.shape[-1] != 3 or array.shape[0] < 1 or array.dtype != np.uint8:
        raise ValueError(f"{name}: expected uint8 frames [T,H,W,3], got {array.dtype} {array.shape}")
    return array


def _image_arg(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim != 3 or array.shape[-1] != 3 or array.dtype != np.uint8:
        raise ValueError(f"image: expected a uint8 RGB image [H,W,3], got {array.dtype} {array.shape}")
    return array


def _positive(value, name: str, integer: bool = False, zero_ok: bool = False):
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if isinstance(value, bool) or not ok_type or not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
        kind = "an integer" if integer else "a number"
        raise ValueError(f"{name}: expected {kind} {'>= 0' if zero_ok else '> 0'}, got {value!r}")
    return value


def _size_arg(size) -> tuple[int, int] | None:
    if size is None:
        return None
    try:
        w, h = size
    except (TypeError, ValueError):
        raise ValueError(f"size: expected (width, height), got {size!r}") from None
    return int(_positive(w, "size width", integer=True)), int(_positive(h, "size height", integer=True))


def _resize(frames: np.ndarray, width: int, height: int) -> np.ndarray:
    if frames.shape[1:3] == (height, width):
        return frames
    import torch

    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    x = torch.nn.functional.interpolate(x, size=(height, width), mode="bilinear", antialias=True,
                                        align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


class DiffusersBackend:
    """The Backend protocol over one loaded diffusers pipeline and its family."""

    def __init__(self, folder: Path, files: list[Path], family, plan, device: str, class_name: str,
                 speed_notes: list[str] = ()):
        self.folder = folder
        self.name = folder.name
        self.family = family
        self.class_name = class_name
        self.memory = plan
        self.speed_notes = list(speed_notes)
        self.device = device
        self.operations = family.operations()
        self.native_size = family.native_size()
        self.native_rate = float(family.native_rate)
        self._files = files
        self._sha256: str | None = None
        self._projection = None
        self._lock = threading.Lock()

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = folder_sha256(self.folder, self._files)
        return self._sha256

    def describe(self) -> dict:
        return {"name": self.name, "family": self.family.name, "pipeline": self.class_name,
                "operations": sorted(self.operations), "path": str(self.folder)}

    # --- operations ----------------------------------------------------------------------
    def generate(self, prompt, seconds, size=None, seed=0, steps=None, guidance=None, negative_prompt="",
                 callback=None, cancel=None, rate=None) -> VideoResult:
        self._check_op("generate")
        seconds = _positive(seconds, "seconds")
        return self._run("generate", prompt, size, seed, steps, guidance, negative_prompt, callback, cancel, rate,
                         lambda fam, ctx: fam.generate(ctx, self._frames_for(seconds)), extra={"seconds": seconds})

    def animate(self, image, prompt, seconds, size=None, seed=0, steps=None, guidance=None, negative_prompt="",
                callback=None, cancel=None, rate=None) -> VideoResult:
        self._check_op("animate")
        image = _image_arg(image)
        seconds = _positive(seconds, "seconds")
        size = _size_arg(size) or (image.shape[1], image.shape[0])
        return self._run("animate", prompt, size, seed, steps, guidance, negative_prompt, callback, cancel, rate,
                         lambda fam, ctx: fam.animate(ctx, image, self._frames_for(seconds)),
                         extra={"seconds": seconds})

    def extend(self, frames, seconds, direction="tail", prompt=None, size=None, seed=0, steps=None, guidance=None,
               negative_prompt="", callback=None, cancel=None, rate=None) -> VideoResult:
        self._check_op("extend")
        frames = _video_arg(frames, "frames")
        seconds = _positive(seconds, "seconds")
        if direction not in DIRECTIONS:
            raise ValueError(f"direction: expected one of {', '.join(DIRECTIONS)}, got {direction!r}")
        size = _size_arg(size) or (frames.shape[2], frames.shape[1])
        rate = None if rate is None else float(_positive(rate, "rate"))
        # The model sees its context at its own frame rate.
        context = retime(frames, rate, self.native_rate) if rate else frames
        return self._run("extend", prompt or "", size, seed, steps, guidance, negative_prompt, callback, cancel,
                         rate, lambda fam, ctx: fam.extend(ctx, context, self._frames_for(seconds), direction),
                         extra={"seconds": seconds, "direction": direction})

    def fill(self, before_frames, after_frames, seconds, prompt=None, size=None, seed=0, steps=None, guidance=None,
             negative_prompt="", callback=None, cancel=None, rate=None) -> VideoResult:
        self._check_op("fill")
        before = _video_arg(before_frames, "before_frames")
        after = _video_arg(after_frames, "after_frames")
        seconds = _positive(seconds, "seconds")
        size = _size_arg(size) or (before.shape[2], before.shape[1])
        return self._run("fill", prompt or "", size, seed, steps, guidance, negative_prompt, callback, cancel, rate,
                         lambda fam, ctx: fam.fill(ctx, before, after, self._frames_for(seconds)),
                         extra={"seconds": seconds})

    def restyle(self, frames, prompt, strength=0.7, structure_weight=1.0, size=None, seed=0, steps=None,
                guidance=None, negative_prompt="", callback=None, cancel=None, rate=None) -> VideoResult:
        self._check_op("restyle")
        frames = _video_arg(frames, "frames")
        if not isinstance(strength, numbers.Real) or not 0 < strength <= 1:
            raise ValueError(f"strength: expected a number in (0, 1], got {strength!r}")
        structure_weight = _positive(structure_weight, "structure_weight", zero_ok=True)
        size = _size_arg(size) or (frames.shape[2], frames.shape[1])
        # Restyle keeps the source's frames one for one, so its rate is the source's (no retiming).
        return self._run("restyle", prompt, size, seed, steps, guidance, negative_prompt, callback, cancel, rate,
                         lambda fam, ctx: fam.restyle(ctx, frames, float(strength), float(structure_weight)),
                         extra={"strength": float(strength), "structure_weight": float(structure_weight)},
                         conform=False)

    # --- shared machinery ------------------------------------------------------------------
    def _check_op(self, op: str) -> None:
        if op not in self.operations:
            can = ", ".join(sorted(self.operations)) or "nothing"
            raise ValueError(f"{self.name} ({self.family.name}, {self.class_name}) cannot {op}; it can {can}")

    def _frames_for(self, seconds: float) -> int:
        return max(1, round(seconds * self.native_rate))

    def _run(self, op, prompt, size, seed, steps, guidance, negative_prompt, callback, cancel, rate, work,
             extra: dict, conform: bool = True) -> VideoResult:
        import torch

        if not isinstance(prompt, str):
            raise ValueError(f"prompt: expected text, got {type(prompt).__name__}")
        if negative_prompt is not None and not isinstance(negative_prompt, str):
            raise ValueError(f"negative_prompt: expected text, got {type(negative_prompt).__name__}")
        seed = int(_positive(seed, "seed", integer=True, zero_ok=True))
        steps = int(_positive(steps, "steps", integer=True)) if steps is not None else self.family.default_steps
        guidance = (float(_positive(guidance, "guidance", zero_ok=True)) if guidance is not None
                    else float(self.family.default_guidance))
        if rate is not None:
            rate = float(_positive(rate, "rate"))
        if callback is not None and not callable(callback):
            raise ValueError("callback: expected a function (step, total, preview)")
        requested = _size_arg(size) or self.native_size
        constraints = self.family.constraints()
        notes: list[str] = []
        (width, height), note = constraints.fit_size(*requested)
        warn_adjusted(note, notes)
        if cancel is not None and cancel.is_set():
            raise Cancelled()

        with self._lock:  # one job at a time on a pipeline (the scheduler holds per-call state)
            projection = self._preview_projection() if callback is not None else None

            def on_step(index: int, latents, total: int | None) -> None:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if callback is not None:
                    total = int(total or steps)
                    # A preview copies latents to the CPU, which waits for the GPU: about 8 per job.
                    show = (index + 1) % max(1, total // PREVIEWS_PER_JOB) == 0 or index + 1 == total
                    preview = projection(self.family.latents_cfhw(latents, ctx)) if show else None
                    callback(index + 1, total, preview)

            ctx = OpContext(prompt, negative_prompt or "", width, height, steps, guidance,
                            torch.Generator("cpu").manual_seed(seed), on_step, constraints, notes)
            with torch.inference_mode():
                made = work(self.family, ctx)
        frames = (np.clip(made, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
        if (width, height) != tuple(requested):
            frames = _resize(frames, *requested)
            notes.append(f"output scaled from {width}x{height} back to {requested[0]}x{requested[1]}")
        result_rate = self.native_rate if rate is None else rate
        if rate is not None and conform:
            frames = retime(frames, self.native_rate, rate)
        metadata = {
            "op": op, "prompt": prompt, "negative_prompt": negative_prompt or "", "seed": seed, "steps": steps,
            "guidance": guidance, "strength": extra.get("strength"),
            "model": {"name": self.name, "sha256": self.sha256, "family": self.family.name,
                      "pipeline": self.class_name},
            "size": [int(frames.shape[2]), int(frames.shape[1])], "frames": int(frames.shape[0]),
            "native_rate": self.native_rate, "model_size": [width, height], "device": self.device,
            "memory": self.memory.as_dict(), "speed": self.speed_notes, "adjusted": notes,
            **{k: v for k, v in extra.items() if k != "strength"},
        }
        return VideoResult(frames=frames, rate=result_rate, metadata=metadata)

    def _preview_projection(self):
        if self._projection is None:
            import torch

            with torch.inference_mode():
                self._projection = LatentProjection.fit(self.family)
        return self._projection
