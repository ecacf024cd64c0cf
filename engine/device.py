"""Device choice: CUDA in bf16 when present, then MPS, then CPU in float32 (its matrix products in bf16
where the CPU computes bf16 natively); torch thread count."""
from __future__ import annotations

import torch


def pick_device(name: str | torch.device | None = None) -> torch.device:
    """None/"auto" -> best available; otherwise the named device, checked to exist."""
    if name is None or name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError):
        raise ValueError(f"device: unknown device {name!r} (use cpu, cuda, mps or auto)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: cuda was asked for but CUDA is not available")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device: mps was asked for but MPS is not available")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device: unsupported device type {device.type!r}")
    return device


def default_dtype(device: torch.device) -> torch.dtype:
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float32


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX512-BF16 or AMX); elsewhere bf16 is emulated,
    and a denoiser step in it measured over 10x slower than in fp32."""
    is_supported = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(is_supported and is_supported())


def bf16_autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast on a CUDA device that has bf16 and on a CPU that computes it natively; a
    context that changes nothing elsewhere. Weights, norms and the latents stay in their own dtype.
    On this project's AVX512-BF16 CPU a training step took 0.59 s against 0.77 s in fp32
    (benchmarks/bench_train_step.py), a warm 2 s clip 0.77 s against 1.02 s."""
    if device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=torch.cuda.is_bf16_supported())
    return torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=device.type == "cpu" and cpu_has_bf16())


def set_threads(threads: int | None) -> None:
    """Set torch's intra-op thread count (None leaves torch's default)."""
    if threads is None:
        return
    if not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    torch.set_num_threads(threads)
