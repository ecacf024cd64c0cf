"""Classifier-free guidance: conditional + unconditional denoiser passes as one batch of 2, against
two sequential batch-1 passes on the same inputs (the pipeline uses the batched form).

Figure: sequential time / batched time (> 1 means batching wins), median over interleaved repeats.

    python benchmarks/bench_cfg_batching.py            # default (shipped) architecture
    python benchmarks/bench_cfg_batching.py --tiny     # tiny architecture, quick
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.model.config import ModelConfig  # noqa: E402
from engine.model.tiny import make_tiny_model, tiny_config  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="tiny architecture (quick)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    cfg = tiny_config() if args.tiny else ModelConfig()
    dit = make_tiny_model(cfg).denoiser  # random weights: the same compute as trained ones
    g = torch.Generator().manual_seed(0)
    h, w = cfg.height // cfg.space_compression, cfg.width // cfg.space_compression
    x = torch.randn(1, cfg.latent_channels, cfg.latent_window, h, w, generator=g)
    cond = torch.randn(1, cfg.latent_channels + 1 + cfg.structure_channels, cfg.latent_window, h, w, generator=g)
    t = torch.full((1,), 0.6)
    text = torch.randn(2, 12, cfg.text_dim, generator=g)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, 2:] = False  # the empty negative prompt: [CLS] [SEP] and padding

    def batched():
        dit(torch.cat([x, x]), torch.cat([cond, cond]), torch.cat([t, t]), text, mask)

    def sequential():
        dit(x, cond, t, text[:1], mask[:1])
        dit(x, cond, t, text[1:], mask[1:])

    def timed(fn) -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    with torch.inference_mode():
        batched(), sequential()  # warm-up
        ratios = []
        for _ in range(args.repeats):
            tb, ts = timed(batched), timed(sequential)
            ratios.append(ts / tb)
            print(f"batched {tb:.3f}s  sequential {ts:.3f}s")
    print(f"CFG batching ({'tiny' if args.tiny else 'default'} denoiser, {cfg.latent_window} latent frames "
          f"{h}x{w}): sequential / batched = {statistics.median(ratios):.3f}x")


if __name__ == "__main__":
    main()
