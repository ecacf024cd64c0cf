"""What the `latentcut serve` benchmarks share: a server on a local Ray, and timed jobs."""
from __future__ import annotations

import logging
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

    from engine.serve.server import EngineServer, ServeOptions

    if not ray.is_initialized():
        ray.init(num_cpus=cpus, object_store_memory=OBJECT_STORE, include_dashboard=False,
                 logging_level=logging.WARNING, log_to_driver=False)
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
