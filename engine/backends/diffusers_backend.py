"""A Backend over a local diffusers video model folder (Wan, LTX-Video, CogVideoX, UNet3D).

`load_diffusers_backend(path, device)` reads model_index.json, recognises the family, checks that
every weight file is there and whole, loads the pipeline once (safetensors only, no network) and
returns a `DiffusersBackend`. Each operation checks its arguments and that the model can do it
before any work starts, fits frame count and size to the family's rules (with a warning), runs the
family's pipeline with a step hook for progress, previews and cancel, and returns uint8 frames.
"""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from engine.constraints import warn_adjusted
from engine.backends.families import family_module, recognise
from engine.backends.families.common import LatentProjection, OpContext
from engine.backends.model_folders import remember
from engine.backends.memory import MemoryOptions, apply_memory_plan, plan_memory, torch_dtype
from engine.backends.speed import apply_speedups
from engine.backends.weights import folder_sha256, weight_files
from engine.errors import Cancelled, LatentCutError
from engine.media.retime import retime
from engine.requests import (AnimateRequest, ExtendRequest, FillRequest, GenerateRequest, Request, RestyleRequest,
                             VideoResult)

PREVIEWS_PER_JOB = 8


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
    remember(folder)  # so `latentcut models` and the app's model list show it next time
    return DiffusersBackend(folder, files, family, plan, device, recognised.class_name, speed_notes)


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
    def generate(self, request: GenerateRequest) -> VideoResult:
        self._check_op(request)
        return self._run(request, request.size or self.native_size,
                         lambda fam, ctx: fam.generate(ctx, self._frames_for(request.seconds)),
                         extra={"seconds": request.seconds})

    def animate(self, request: AnimateRequest) -> VideoResult:
        self._check_op(request)
        image = request.image
        return self._run(request, request.size or (image.shape[1], image.shape[0]),
                         lambda fam, ctx: fam.animate(ctx, image, self._frames_for(request.seconds)),
                         extra={"seconds": request.seconds})

    def extend(self, request: ExtendRequest) -> VideoResult:
        self._check_op(request)
        frames = request.frames
        # The model sees its context at its own frame rate.
        context = retime(frames, request.rate, self.native_rate) if request.rate else frames
        return self._run(request, request.size or (frames.shape[2], frames.shape[1]),
                         lambda fam, ctx: fam.extend(ctx, context, self._frames_for(request.seconds), request.direction),
                         extra={"seconds": request.seconds, "direction": request.direction})

    def fill(self, request: FillRequest) -> VideoResult:
        self._check_op(request)
        before, after = request.before_frames, request.after_frames
        return self._run(request, request.size or (before.shape[2], before.shape[1]),
                         lambda fam, ctx: fam.fill(ctx, before, after, self._frames_for(request.seconds)),
                         extra={"seconds": request.seconds})

    def restyle(self, request: RestyleRequest) -> VideoResult:
        self._check_op(request)
        frames = request.frames
        # Restyle keeps the source's frames one for one, so its rate is the source's (no retiming).
        return self._run(request, request.size or (frames.shape[2], frames.shape[1]),
                         lambda fam, ctx: fam.restyle(ctx, frames, request.strength, request.structure_weight),
                         extra={"strength": request.strength, "structure_weight": request.structure_weight},
                         conform=False)

    # --- shared machinery ------------------------------------------------------------------
    def _check_op(self, request: Request) -> None:
        op = request.op
        if op not in self.operations:
            can = ", ".join(sorted(self.operations)) or "nothing"
            raise ValueError(f"{self.name} ({self.family.name}, {self.class_name}) cannot {op}; it can {can}")

    def _frames_for(self, seconds: float) -> int:
        return max(1, round(seconds * self.native_rate))

    def _run(self, request: Request, requested: tuple[int, int], work, extra: dict,
             conform: bool = True) -> VideoResult:
        """Run ``work(family, ctx)`` under the lock with the request's seed, steps and guidance
        (the family's defaults where it gives none); frames come back at the request's rate."""
        import torch

        op, prompt, negative_prompt = request.op, request.prompt, request.negative_prompt
        seed, rate, callback, cancel = request.seed, request.rate, request.callback, request.cancel
        steps = request.steps if request.steps is not None else self.family.default_steps
        guidance = float(request.guidance if request.guidance is not None else self.family.default_guidance)
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
