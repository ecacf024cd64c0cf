"""The autoencoder's ceiling: held-out world clips encoded and decoded (no denoiser), scored with
the same pixel metrics as generated clips. No denoiser can do better than the decoder it feeds.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.train import evaluate as ev
from engine.train.data import to_tensor
from engine.train.world import EVAL_SEED_START, render, sample_scene

ATTRIBUTES = ("time_of_day", "camera", "color", "motion")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-6))


@torch.no_grad()
def autoencoder_ceiling(model, count: int = 24, device: torch.device | str = "cpu", offset: int = 0) -> dict:
    """Accuracy per attribute of reconstructions of `count` held-out scenes with a subject, their
    PSNR over the frame and over the subject's pixels, and the share of a coloured subject's
    saturation that survives."""
    cfg = model.config
    hits = {k: [] for k in ATTRIBUTES}
    frame_psnr, subject_psnr, saturation = [], [], []
    for i in range(count):
        scene = sample_scene(EVAL_SEED_START + offset + i, subject_probability=1.0)
        clip = render(scene, cfg.width, cfg.height, cfg.frames)
        x = to_tensor(clip)[None].to(device)
        recon = model.decode_latents(model.encode_frames(x))[0].float().cpu()
        frames = ((recon.permute(1, 2, 3, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
        guess = ev.classify_clip(frames)
        for k in ATTRIBUTES:
            hits[k].append(guess[k] == getattr(scene, k))
        frame_psnr.append(psnr(frames, clip))
        mask, kind = ev.subject_mask(clip)
        if mask.any():
            subject_psnr.append(psnr(frames[mask], clip[mask]))
        if kind == "saturated":  # a white subject has no saturation to keep
            _, s_true, _ = ev.hsv(clip[mask])
            _, s_made, _ = ev.hsv(frames[mask])
            saturation.append(float(s_made.mean() / max(s_true.mean(), 1e-6)))
    out = {k: float(np.mean(v)) for k, v in hits.items()}
    out.update(psnr=float(np.mean(frame_psnr)), subject_psnr=float(np.mean(subject_psnr)),
               subject_saturation_kept=float(np.mean(saturation)))
    return out
