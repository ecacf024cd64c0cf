"""A training step of the previz denoiser (forward and backward at its batch), with temporal
attention fused (scaled_dot_product_attention, as shipped) against plain matmuls, alternated in
the same run. Prints the step times and their ratio."""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from engine.model.config import ModelConfig
from engine.model.denoiser import VideoDiT
from engine.train.train import PRESETS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=6, help="timed steps per variant")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    preset = PRESETS["previz"]
    cfg = ModelConfig(**preset.config)
    den = VideoDiT(cfg)
    b, c = preset.batch, cfg.latent_channels
    t, h, w = cfg.latent_window, cfg.height // cfg.space_compression, cfg.width // cfg.space_compression
    g = torch.Generator().manual_seed(0)
    x = torch.randn(b, c, t, h, w, generator=g)
    cond = torch.randn(b, den.cond_channels, t, h, w, generator=g)
    steps = torch.rand(b, generator=g)
    text = torch.randn(b, cfg.text_max_length, cfg.text_dim, generator=g)
    mask = torch.ones(b, cfg.text_max_length, dtype=torch.bool)

    def step(fused: bool) -> float:
        for block in den.blocks:
            block.attn_t.fused = fused
        start = time.perf_counter()
        den(x, cond, steps, text, mask).pow(2).mean().backward()
        return time.perf_counter() - start

    step(True), step(False)  # warm-up
    times: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.runs):
        for fused in (True, False):
            times[fused].append(step(fused))
    fused, plain = statistics.median(times[True]), statistics.median(times[False])
    print(f"train step (batch {b}, {args.threads} threads): fused temporal {fused:.3f} s, "
          f"plain {plain:.3f} s, ratio {fused / plain:.2f}x")


if __name__ == "__main__":
    main()
