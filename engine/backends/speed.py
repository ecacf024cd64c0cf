"""GPU speed-ups for a loaded diffusers pipeline: flash attention (flash-attn when installed, else
PyTorch SDPA's flash kernel), regional torch.compile, channels-last VAE convolutions and TF32
matmuls. On CPU they do not apply (compile needs a toolchain and pays back only over many steps;
the others are CUDA kernels), and say so.

torch.compile pays where the same blocks run many times: a video transformer runs its 30-40
identical blocks twice per step for 30-50 steps, so only the repeated blocks are compiled
(regional compilation: one block is compiled and reused), once per process, on the first job.
"""
from __future__ import annotations

import importlib.util


def apply_speedups(pipe, device: str, offload: str, compile_blocks: bool = True) -> list[str]:
    """Turn on what fits this device and placement; returns notes of what was done."""
    import torch

    if not str(device).startswith("cuda"):
        return [f"{device}: flash attention, torch.compile and channels-last are GPU speed-ups; not applied"]
    notes = []
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    notes.append("TF32 matmuls and cuDNN autotuning on")

    vae = getattr(pipe, "vae", None)
    if vae is not None and offload != "sequential":
        channels_last_convolutions(vae)
        notes.append("VAE convolutions channels-last")

    major, _minor = torch.cuda.get_device_capability(torch.device(device))
    for name in ("transformer", "transformer_2", "unet"):
        model = getattr(pipe, name, None)
        if model is None:
            continue
        half = model.dtype in (torch.bfloat16, torch.float16)
        if not (half and major >= 8):
            notes.append(f"{name}: SDPA attention (flash kernels need half precision on sm80+)")
        elif importlib.util.find_spec("flash_attn") and hasattr(model, "set_attention_backend"):
            model.set_attention_backend("flash")
            notes.append(f"{name}: flash-attn attention")
        else:
            # PyTorch's SDPA already dispatches to its flash/cuDNN kernels for these shapes.
            notes.append(f"{name}: SDPA attention (PyTorch flash kernel)")
        if compile_blocks and offload != "sequential" and getattr(model, "_repeated_blocks", None):
            model.compile_repeated_blocks(fullgraph=True)
            notes.append(f"{name}: repeated blocks compiled (torch.compile, on first use)")
    return notes


def channels_last_convolutions(model) -> None:
    """3-D convolution weights channels-last (cuDNN's fast layout for video VAEs), each module on its
    own: a module-wide .to(memory_format=...) refuses the 1-D scales and biases beside them (Wan's
    VAE on an H200: 'required rank 5 tensor to use channels_last_3d format')."""
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Conv3d):
            module.to(memory_format=torch.channels_last_3d)
