"""Memory options for diffusers pipelines: dtype, CPU offload, VAE tiling/slicing, and an automatic pick.

`auto` looks at the free GPU memory (torch.cuda.mem_get_info) against the size of the weights:
everything resident when it fits with room for activations, model offload (one component on the
GPU at a time) when the largest component fits, sequential offload (layer by layer) otherwise.
On CPU there is nothing to offload to and half precision is slow, so dtype and offload are no-ops
there (with a note); VAE tiling and slicing still bound the decoder's RAM, so they apply anywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

DTYPES = ("auto", "bf16", "fp16", "fp32")
OFFLOADS = ("none", "model", "sequential")
GIB = 1 << 30
# Room left for activations and the VAE decode beyond the weights (video attention is large).
ACTIVATION_HEADROOM = 6 * GIB


@dataclass(frozen=True)
class MemoryOptions:
    dtype: str = "auto"        # auto: bf16 where the GPU supports it, else fp16; fp32 on CPU
    offload: str = "none"      # none | model | sequential
    vae_tiling: bool = False
    vae_slicing: bool = False
    auto: bool = False         # pick offload and tiling from free GPU memory at load time

    def __post_init__(self):
        if self.dtype not in DTYPES:
            raise ValueError(f"memory dtype: expected one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.offload not in OFFLOADS:
            raise ValueError(f"memory offload: expected one of {', '.join(OFFLOADS)}, got {self.offload!r}")

    @classmethod
    def parse(cls, spec: "str | MemoryOptions | None") -> "MemoryOptions":
        """'auto', or comma-separated words: bf16, fp16, fp32, model-offload, sequential-offload,
        vae-tiling, vae-slicing. None means auto."""
        if spec is None:
            return cls(auto=True)
        if isinstance(spec, MemoryOptions):
            return spec
        opts = cls()
        for word in (w.strip().lower() for w in str(spec).split(",") if w.strip()):
            if word == "auto":
                opts = replace(opts, auto=True)
            elif word in ("bf16", "fp16", "fp32"):
                opts = replace(opts, dtype=word)
            elif word in ("model-offload", "sequential-offload"):
                opts = replace(opts, offload=word.split("-")[0])
            elif word == "vae-tiling":
                opts = replace(opts, vae_tiling=True)
            elif word == "vae-slicing":
                opts = replace(opts, vae_slicing=True)
            else:
                raise ValueError(f"memory: unknown option {word!r} (expected auto, bf16, fp16, fp32, "
                                 "model-offload, sequential-offload, vae-tiling, vae-slicing)")
        return opts


@dataclass
class MemoryPlan:
    """What was actually applied, with the reasons, for the result's metadata."""
    dtype: str
    offload: str
    vae_tiling: bool
    vae_slicing: bool
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"dtype": self.dtype, "offload": self.offload, "vae_tiling": self.vae_tiling,
                "vae_slicing": self.vae_slicing, "notes": list(self.notes)}


def torch_dtype(name: str):
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]


def plan_memory(options: MemoryOptions, device: str, weight_bytes: int, largest_component_bytes: int,
                free_bytes: int | None = None) -> MemoryPlan:
    """Decide dtype/offload/tiling. Sizes are of the weights as stored; free_bytes overrides the query."""
    import torch

    notes: list[str] = []
    if not str(device).startswith("cuda"):
        if options.dtype not in ("auto", "fp32") or options.offload != "none":
            notes.append(f"{device}: dtype {options.dtype} and offload {options.offload} are GPU options; "
                         "running in fp32 with everything resident")
        return MemoryPlan("fp32", "none", options.vae_tiling, options.vae_slicing, notes)

    dtype = options.dtype
    if dtype == "auto":
        dtype = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if not options.auto:
        return MemoryPlan(dtype, options.offload, options.vae_tiling, options.vae_slicing, notes)

    if free_bytes is None:
        free_bytes, _total = torch.cuda.mem_get_info(torch.device(device))
    # Stored weights may be fp32; resident size follows the dtype we load them in (2 bytes for half).
    scale = 0.5 if dtype in ("bf16", "fp16") else 1.0
    need_all = int(weight_bytes * scale) + ACTIVATION_HEADROOM
    need_largest = int(largest_component_bytes * scale) + ACTIVATION_HEADROOM
    free_gib = free_bytes / GIB
    if free_bytes >= need_all:
        offload, tiling = "none", False
        notes.append(f"auto: {free_gib:.1f} GiB free holds all weights ({need_all / GIB:.1f} GiB with headroom)")
    elif free_bytes >= need_largest:
        offload, tiling = "model", True
        notes.append(f"auto: {free_gib:.1f} GiB free < {need_all / GIB:.1f} GiB; model CPU offload, VAE tiling")
    else:
        offload, tiling = "sequential", True
        notes.append(f"auto: {free_gib:.1f} GiB free < largest component {need_largest / GIB:.1f} GiB; "
                     "sequential CPU offload, VAE tiling and slicing")
    return MemoryPlan(dtype, offload, tiling or options.vae_tiling, options.vae_slicing or offload == "sequential",
                      notes)


def apply_memory_plan(pipe, plan: MemoryPlan, device: str) -> None:
    """Place the pipeline's modules as the plan says (the pipeline was loaded on CPU in plan.dtype)."""
    if plan.offload == "model":
        pipe.enable_model_cpu_offload(device=device)
    elif plan.offload == "sequential":
        pipe.enable_sequential_cpu_offload(device=device)
    else:
        pipe.to(device)
    vae = getattr(pipe, "vae", None)
    if vae is not None:
        _toggle(vae, "tiling", plan.vae_tiling, plan)
        _toggle(vae, "slicing", plan.vae_slicing, plan)


def _toggle(vae, what: str, on: bool, plan: MemoryPlan) -> None:
    method = getattr(vae, f"{'enable' if on else 'disable'}_{what}", None)
    if method is None:
        if on:
            plan.notes.append(f"{type(vae).__name__} has no VAE {what}; left off")
        return
    try:
        method()
    except NotImplementedError:
        if on:
            plan.notes.append(f"{type(vae).__name__} does not support VAE {what}; left off")
