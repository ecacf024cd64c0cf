"""The autoencoder's ceiling: held-out world clips encoded and decoded (no denoiser), scored with
the same pixel metrics as generated clips. No denoiser can do better than the decoder it feeds.

The code is linear over 4 frames, so motion inside those frames decodes as a blend: a pan's decoded
frames move about half as far, and most zooms read as still shots. The denoiser never has to carry
a camera move, though: it draws in the camera frame and the move is made after decoding. So the
ceiling is also measured as the pipeline encodes a clip it is given (camera_frame): the drift and
zoom measured from its frames, the clip stilled by them, and decoded as the pipeline decodes (blocks
blended, engine/model/block_blend.py), the move put back after.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.model.block_blend import decode_blended
from engine.model.camera import frame_offsets, measure_drift, roll_frames, subpixel_frames
from engine.model.zoom import measure_zoom, scale_frames, still_scales
from engine.train import evaluate as ev
from engine.train.data import to_tensor
from engine.train.world import EVAL_SEED_START, render, sample_scene

ATTRIBUTES = ("time_of_day", "camera", "color", "motion")


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-6))


def reconstruct(model, x: torch.Tensor, camera_frame: bool = False) -> torch.Tensor:
    """Frames [1,3,T,H,W] in [-1,1] encoded and decoded; with camera_frame (and a model that draws
    in it), as the pipeline encodes and decodes a given clip: rolled back by its measured drift or,
    without one, scaled to the tightest framing of its measured zoom; decoded out of the camera
    frame with its blocks blended (decode_blended), the fraction of a pixel and the zoom put back."""
    cfg = model.config
    if not (camera_frame and cfg.camera_frame):
        return model.decode_latents(model.encode_frames(x))
    luma = x[0].float().mean(dim=0, keepdim=True)
    drift = measure_drift(luma)
    if drift != (0.0, 0.0):
        still = roll_frames(x, frame_offsets(drift, x.shape[2]), forward=False)
        return subpixel_frames(decode_blended(model, model.encode_frames(still), drift).float(), drift)
    scales = still_scales(measure_zoom(luma) if cfg.camera_zoom else 0.0, x.shape[2])
    video = decode_blended(model, model.encode_frames(scale_frames(x, scales)), None).float()
    return scale_frames(video, [1.0 / s for s in scales])


@torch.no_grad()
def autoencoder_ceiling(model, count: int = 24, device: torch.device | str = "cpu", offset: int = 0,
                        camera_frame: bool = False) -> dict:
    """Accuracy per attribute of reconstructions (reconstruct) of `count` held-out scenes with a
    subject, their PSNR over the frame and over the subject's pixels, the share of a coloured
    subject's saturation that survives, and the biggest frame-to-frame change over the world's median
    one (median over clips, and the share within the seam bar's 1.5): a decoded clip that steps at
    each latent frame fails an extension's seam region however well the denoiser draws."""
    cfg = model.config
    hits = {k: [] for k in ATTRIBUTES}
    frame_psnr, subject_psnr, saturation, jumps = [], [], [], []
    for i in range(count):
        scene = sample_scene(EVAL_SEED_START + offset + i, subject_probability=1.0)
        clip = render(scene, cfg.width, cfg.height, cfg.frames)
        x = to_tensor(clip)[None].to(device)
        recon = reconstruct(model, x, camera_frame)[0].float().cpu()
        frames = ((recon.permute(1, 2, 3, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
        guess = ev.classify_clip(frames)
        for k in ATTRIBUTES:
            hits[k].append(guess[k] == getattr(scene, k))
        frame_psnr.append(psnr(frames, clip))
        jumps.append(float(ev.frame_changes(frames).max() / max(np.median(ev.frame_changes(clip)), 0.5)))
        mask, kind = ev.subject_mask(clip)
        if mask.any():
            subject_psnr.append(psnr(frames[mask], clip[mask]))
        if kind == "saturated":  # a white subject has no saturation to keep
            _, s_true, _ = ev.hsv(clip[mask])
            _, s_made, _ = ev.hsv(frames[mask])
            saturation.append(float(s_made.mean() / max(s_true.mean(), 1e-6)))
    out = {k: float(np.mean(v)) for k, v in hits.items()}
    out.update(psnr=float(np.mean(frame_psnr)), subject_psnr=float(np.mean(subject_psnr)),
               subject_saturation_kept=float(np.mean(saturation)), biggest_change=float(np.median(jumps)),
               biggest_change_pass=float(np.mean(np.array(jumps) <= ev.SEAM_PASS)))
    return out
