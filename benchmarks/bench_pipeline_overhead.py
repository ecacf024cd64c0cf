"""Pipeline overhead: a job's wall time against the summed time of its own model calls.

Figure: wall / (text-encode + denoiser + autoencoder decode + autoencoder encode), same run.
Goal: <= 1.1 (nothing recomputed, no per-step copies beyond the preview).

    python benchmarks/bench_pipeline_overhead.py              # default model (shipped, else random)
    python benchmarks/bench_pipeline_overhead.py --tiny       # tiny random model, seconds to run
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backends.embedded import EMBEDDED_MODEL_DIR  # noqa: E402
from engine.model.tiny import make_random_model_folder, make_tiny_model_folder  # noqa: E402
from engine.pipeline import LatentCutPipeline  # noqa: E402
from engine.requests import ExtendRequest, GenerateRequest, RestyleRequest


def model_folder(args, tmp: Path) -> Path:
    if args.model:
        return Path(args.model)
    if args.tiny:
        return make_tiny_model_folder(tmp / "tiny")
    if (EMBEDDED_MODEL_DIR / "model.safetensors").is_file():
        return EMBEDDED_MODEL_DIR
    print("shipped weights absent: using a random model at the default config", file=sys.stderr)
    return make_random_model_folder(tmp / "random-default")


class CallTimer:
    """Adds up the wall time spent inside the forward() of the given modules."""

    def __init__(self, modules: dict):
        self.total = {name: 0.0 for name in modules}
        self.calls = {name: 0 for name in modules}
        self._start: dict = {}
        for name, module in modules.items():
            module.register_forward_pre_hook(self._pre(name))
            module.register_forward_hook(self._post(name))

    def _pre(self, name):
        def hook(module, args):
            self._start[name] = time.perf_counter()
        return hook

    def _post(self, name):
        def hook(module, args, output):
            self.total[name] += time.perf_counter() - self._start.pop(name)
            self.calls[name] += 1
        return hook

    def reset(self):
        for name in self.total:
            self.total[name], self.calls[name] = 0.0, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: shipped model, else random default config)")
    parser.add_argument("--tiny", action="store_true", help="use a tiny random model (quick)")
    parser.add_argument("--op", choices=["generate", "extend", "restyle"], default="generate")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        pipe = LatentCutPipeline.from_pretrained(model_folder(args, Path(tmp)), device="cpu", threads=args.threads)
        timer = CallTimer({"text_encode": pipe.text_encoder.model, "denoiser": pipe.model.denoiser,
                           "decode": pipe.model.autoencoder.decoder, "encode": pipe.model.autoencoder.encoder})
        w, h = pipe.native_size
        clip = np.random.default_rng(0).integers(0, 256, (int(args.seconds * pipe.native_rate), h, w, 3), np.uint8)
        prompt = "a red ball moving left over a field at sunset, static camera"

        def job():
            if args.op == "generate":
                return pipe.generate(GenerateRequest(prompt=prompt, seconds=args.seconds, steps=args.steps, seed=1))
            if args.op == "extend":
                return pipe.extend(ExtendRequest(frames=clip, seconds=args.seconds, prompt=prompt, steps=args.steps, seed=1))
            return pipe.restyle(RestyleRequest(frames=clip, prompt=prompt, steps=args.steps, seed=1))

        job()  # warm-up: first-call allocations and the prompt's text embedding
        ratios = []
        for _ in range(args.repeats):
            timer.reset()
            start = time.perf_counter()
            job()
            wall = time.perf_counter() - start
            parts = sum(timer.total.values())
            ratios.append(wall / parts)
            detail = ", ".join(f"{k} {v:.3f}s/{timer.calls[k]}" for k, v in timer.total.items())
            print(f"wall {wall:.3f}s  model calls {parts:.3f}s ({detail})")
    print(f"pipeline overhead ({args.op}, {args.seconds:g}s, {pipe.name}): "
          f"wall / model calls = {statistics.median(ratios):.3f}x (goal <= 1.1x)")


if __name__ == "__main__":
    main()
