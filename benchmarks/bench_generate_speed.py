"""Speed of a default 2 s generate: warm engine median, and a cold `latentcut generate`.

Figures, each as a ratio against its goal (<= 1.0 meets it; the embedded model's bar is 2 s warm
and 6 s cold):
  warm: median wall time of GenerateJob(2 s) on a warm Engine, from submit to the written
        file (denoising, latent decode, H.264 encode and provenance included);
  cold: wall time of `latentcut generate PROMPT -o OUT.mp4` from process start to exit, and its
        peer measured in the same run: a process that only imports torch, the floor every run pays.

    python benchmarks/bench_generate_speed.py                   # shipped model, 5 warm runs
    python benchmarks/bench_generate_speed.py --runs 2 --steps 2 --no-cold   # quick
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WARM_GOAL_S = 2.0
COLD_GOAL_S = 6.0
PROMPT = "a red ball moving left over a field at sunset, static camera"


def warm_runs(model: str | None, runs: int, steps: int | None, threads: int, out: Path) -> list[float]:
    from engine.engine_thread import Engine
    from engine.jobs import GenerateJob

    times = []
    with Engine(model=model, device="cpu", threads=threads) as eng:
        for i in range(runs + 1):  # the first job loads the model: not counted
            job = GenerateJob(prompt=PROMPT, seconds=2.0, seed=i, steps=steps, output=str(out / f"warm{i}.mp4"))
            t0 = time.perf_counter()
            event = eng.wait(eng.submit(job))
            wall = time.perf_counter() - t0
            if event is None or event.kind != "done":
                raise SystemExit(f"warm run {i} did not finish: {event}")
            if i:
                times.append(wall)
    return times


def cold_run(model: str | None, steps: int | None, threads: int, out: Path) -> float:
    cmd = [sys.executable, "-m", "desktop", "generate", PROMPT, "-o", str(out / "cold.mp4"), "--seed", "1",
           "--threads", str(threads), "--device", "cpu"]
    if model:
        cmd += ["--model", model]
    if steps:
        cmd += ["--steps", str(steps)]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"cold run failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return wall


def torch_floor() -> float:
    """Wall time of a Python process that imports torch and exits."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], cwd=ROOT, check=True)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the shipped previz-v1)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-cold", action="store_true", help="skip the cold CLI run")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        times = warm_runs(args.model, args.runs, args.steps, args.threads, out)
        median = statistics.median(times)
        print(f"warm engine, 2 s clip: median {median:.2f} s over {len(times)} runs "
              f"(min {min(times):.2f}, max {max(times):.2f}); ratio to the {WARM_GOAL_S:g} s goal "
              f"{median / WARM_GOAL_S:.2f}")
        if not args.no_cold:
            cold = cold_run(args.model, args.steps, args.threads, out)
            floor = torch_floor()
            print(f"cold `latentcut generate`, 2 s clip: {cold:.2f} s from process start; "
                  f"ratio to the {COLD_GOAL_S:g} s goal {cold / COLD_GOAL_S:.2f}; importing torch alone "
                  f"{floor:.2f} s (cold / that {cold / floor:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
