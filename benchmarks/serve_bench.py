"""What the `latentcut serve` benchmarks share: a server on a local Ray, and timed jobs."""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.jobs import GenerateJob  # noqa: E402

OBJECT_STORE = 200 * 2**20


def start_server(model: str, replicas: int, threads: int, cpus: int):
    """An EngineServer serving `model` on loopback, on a Ray this process starts with `cpus` CPUs."""
    import ray

    from engine.serve.server import EngineServer, ServeOptions, start_local_ray

    if not ray.is_initialized():
        start_local_ray(cpus, OBJECT_STORE)
    server = EngineServer(ServeOptions(port=0, replicas=replicas, models=[model], threads=threads))
    server.start()
    server.start_background()
    return server


def run_all(engine, jobs: list[GenerateJob]) -> float:
    """Seconds from submitting every job to the last one done (all must succeed)."""
    start = time.perf_counter()
    ids = [engine.submit(job) for job in jobs]
    for job_id in ids:
        final = engine.wait(job_id)
        if final.kind != "done":
            raise SystemExit(f"a benchmark job ended {final.kind}: {final.message}")
    return time.perf_counter() - start


def median_seconds(engine, make_job, repeats: int) -> float:
    return statistics.median(run_all(engine, [make_job(i)]) for i in range(repeats))


def model_folder(args, tmp: str) -> str:
    """--tiny: a tiny random model made in tmp; else --model or the embedded model."""
    from engine.backends.embedded import embedded_model_dir

    if args.tiny:
        from engine.model.tiny import make_tiny_model_folder
        return str(make_tiny_model_folder(Path(tmp) / "tiny"))
    return args.model or str(embedded_model_dir())
