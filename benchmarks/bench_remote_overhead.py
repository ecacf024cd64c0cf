"""Remote path overhead: a 2 s generate through `latentcut serve` on loopback against the local
engine thread, same model, seed and threads.

Figure: median remote wall time / median local wall time. Goal: <= 1.15 (upload, event stream
with JPEG previews and the download cost little next to the model).

    python benchmarks/bench_remote_overhead.py            # the embedded model
    python benchmarks/bench_remote_overhead.py --tiny     # tiny random model, quick
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from serve_bench import GenerateJob, model_folder, median_seconds, start_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--tiny", action="store_true", help="a tiny random model (a smoke run)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from engine.engine_thread import Engine
    from engine.remote_engine import RemoteEngine

    with tempfile.TemporaryDirectory() as tmp:
        model = model_folder(args, tmp)

        def job(i: int) -> GenerateJob:
            return GenerateJob(prompt="a red ball moving left over a field at sunset, static camera", seconds=2.0,
                               seed=7, model=model, output=str(Path(tmp) / "out"))

        with Engine(model=model, threads=args.threads) as local:
            median_seconds(local, job, 1)  # loads the model and warms the caches
            local_s = median_seconds(local, job, args.repeats)
        server = start_server(model, replicas=1, threads=args.threads, cpus=args.threads)
        try:
            with RemoteEngine(server.url) as remote:
                median_seconds(remote, job, 1)
                remote_s = median_seconds(remote, job, args.repeats)
        finally:
            server.stop()
    print(f"2 s generate, median of {args.repeats}: local engine thread {local_s:.2f} s, "
          f"through latentcut serve {remote_s:.2f} s")
    print(f"remote / local: {remote_s / local_s:.3f}x (goal <= 1.15)")


if __name__ == "__main__":
    main()
