"""Storyboard throughput: 8 shots on 2 replicas against 1 replica, each replica limited to one
CPU thread, on one local Ray.

Figure: shots per second with 2 replicas / with 1. Goal: >= 1.6 (Serve keeps both replicas busy;
on a machine with fewer free cores than replicas the figure shows the cores, not Serve).

    python benchmarks/bench_serve_replicas.py            # the embedded model
    python benchmarks/bench_serve_replicas.py --tiny     # tiny random model, quick
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from serve_bench import GenerateJob, model_folder, run_all, start_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    parser.add_argument("--tiny", action="store_true", help="a tiny random model (a smoke run)")
    parser.add_argument("--shots", type=int, default=8)
    args = parser.parse_args()

    from engine.remote_engine import RemoteEngine

    with tempfile.TemporaryDirectory() as tmp:
        model = model_folder(args, tmp)
        shots = [GenerateJob(prompt=f"shot {i}: pan left over mountains at sunset", seconds=2.0, seed=i,
                             output=str(Path(tmp) / "out")) for i in range(args.shots)]
        seconds = {}
        for replicas in (1, 2):
            server = start_server(model, replicas=replicas, threads=1, cpus=2)
            try:
                with RemoteEngine(server.url) as remote:
                    run_all(remote, shots[:replicas])  # every replica warm
                    seconds[replicas] = run_all(remote, shots)
            finally:
                server.stop()
    for replicas, took in seconds.items():
        print(f"{args.shots} shots on {replicas} replica(s) x 1 thread: {took:.1f} s "
              f"({args.shots / took:.2f} shots/s)")
    print(f"throughput 2 replicas / 1: {seconds[1] / seconds[2]:.2f}x (goal >= 1.6)")


if __name__ == "__main__":
    main()
