"""Peak memory (RSS) of a default CPU generate, against the process with the model loaded and idle.

Figures: peak RSS in MB during the generate, and peak / loaded-idle RSS.

    python benchmarks/bench_generate_memory.py           # default model (shipped, else random)
    python benchmarks/bench_generate_memory.py --tiny    # tiny random model, quick
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.backends.embedded import EMBEDDED_MODEL_DIR  # noqa: E402
from engine.model.tiny import make_random_model_folder, make_tiny_model_folder  # noqa: E402
from engine.pipeline import LatentCutPipeline  # noqa: E402
from engine.requests import GenerateRequest


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak so far) of this process, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: shipped model, else random default config)")
    parser.add_argument("--tiny", action="store_true", help="tiny random model (quick)")
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.model:
            folder = Path(args.model)
        elif args.tiny:
            folder = make_tiny_model_folder(Path(tmp) / "tiny")
        elif (EMBEDDED_MODEL_DIR / "model.safetensors").is_file():
            folder = EMBEDDED_MODEL_DIR
        else:
            print("shipped weights absent: using a random model at the default config", file=sys.stderr)
            folder = make_random_model_folder(Path(tmp) / "random-default")
        pipe = LatentCutPipeline.from_pretrained(folder, device="cpu", threads=args.threads)
        pipe.text_encoder.encode([""])  # the idle state of a warm engine
        reset_peak()
        loaded = rss_mb("VmRSS")
        result = pipe.generate(GenerateRequest(prompt="zoom in on a yellow box in a city, day", seconds=args.seconds, seed=0))
        peak = rss_mb("VmHWM")
    params = sum(p.numel() for p in pipe.model.parameters()) / 1e6
    print(f"model {pipe.name}: {params:.1f}M parameters; output {result.frames.shape}")
    print(f"peak RSS of a {args.seconds:g}s CPU generate: {peak:.0f} MB "
          f"(loaded idle {loaded:.0f} MB; peak / loaded = {peak / loaded:.2f}x)")


if __name__ == "__main__":
    main()
