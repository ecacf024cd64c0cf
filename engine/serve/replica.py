"""The Ray Serve deployment: a replica holds one loaded model in a local engine thread and runs
one job at a time (`max_ongoing_requests=1`), streaming the job's events back to the caller.

Cancelling the call (DeploymentResponseGenerator.cancel) reaches `run` as CancelledError,
which cancels the engine job; the engine stops within one denoising step.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from pathlib import Path
from typing import AsyncIterator

import ray
from ray import serve

from engine.engine_thread import FINAL_KINDS, Engine, EngineEvent
from engine.jobs import job_from_dict
from engine.serve.video_request import runnable_spec
from engine.serve.wire import preview_jpeg


class EngineReplica:
    """`model` is a model folder on this node (None: the embedded model); `engine_url` is what
    clients call the server, recorded in provenance with this replica's node and device."""

    def __init__(self, model: str | None, device: str | None, threads: int | None, engine_url: str):
        self.where = {
            "engine": engine_url,
            "node": ray.get_runtime_context().get_node_id(),
            "node_ip": ray.util.get_node_ip_address(),
            "replica": serve.get_replica_context().replica_id.unique_id,
            "pid": os.getpid(),
        }
        self._lock = threading.RLock()  # submit registers its listener before the job's events are routed
        self._listeners: dict[str, callable] = {}
        self._engine = Engine(on_event=self._route, model=model, device=device, threads=threads, where=self.where)
        self._backend = self._engine.warm_up()

    def describe(self) -> dict:
        backend = self._backend
        return {"name": backend.name, "sha256": backend.sha256, "operations": sorted(backend.operations),
                "native_size": list(backend.native_size), "native_rate": float(backend.native_rate),
                "device": str(getattr(backend, "device", "")), "where": self.where}

    async def run(self, spec: dict, uploads: dict[str, tuple[str, bytes]]) -> AsyncIterator[dict]:
        """Runs one job; yields started, progress, preview, then done (with the file's bytes),
        failed or cancelled."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[EngineEvent] = asyncio.Queue()
        with tempfile.TemporaryDirectory(prefix="latentcut-job-") as folder:
            job = job_from_dict(runnable_spec(spec, uploads, Path(folder)))
            with self._lock:
                job_id = self._engine.submit(job)
                self._listeners[job_id] = lambda event: loop.call_soon_threadsafe(events.put_nowait, event)
            try:
                while True:
                    event = await events.get()
                    yield self._message(event)
                    if event.kind in FINAL_KINDS:
                        return
            except asyncio.CancelledError:
                self._engine.cancel(job_id)
                await asyncio.to_thread(self._engine.wait, job_id)  # the writer leaves no file behind
                raise
            finally:
                with self._lock:
                    self._listeners.pop(job_id, None)

    def _route(self, event: EngineEvent) -> None:
        with self._lock:
            listener = self._listeners.get(event.job_id)
        if listener is not None and event.kind != "queued":
            listener(event)

    def _message(self, event: EngineEvent) -> dict:
        if event.kind == "started":
            return {"kind": "started", "where": self.where}
        if event.kind == "progress":
            return {"kind": "progress", "step": event.step, "total": event.total}
        if event.kind == "preview":
            return {"kind": "preview", "step": event.step, "total": event.total, "jpeg": preview_jpeg(event.preview)}
        if event.kind == "done":
            result = dict(event.result)
            path = Path(result.pop("path"))
            return {"kind": "done", "result": result, "content": path.read_bytes()}
        if event.kind == "failed":
            return {"kind": "failed", "message": event.message}
        return {"kind": "cancelled"}


def engine_deployment(name: str, replicas: int, cpus: float, gpus: float, scale: tuple[int, int] | None = None):
    """The deployment of one model: `replicas` copies, each asking Ray for `cpus` and `gpus`;
    with `scale` (min, max), Serve starts `replicas` and scales between min and max with the
    queue (min 0: none while idle)."""
    count = {"num_replicas": replicas} if scale is None else {"autoscaling_config": {
        "min_replicas": scale[0], "initial_replicas": replicas, "max_replicas": scale[1],
        "target_ongoing_requests": 1}}  # one job per replica: a waiting job asks for another replica
    return serve.deployment(
        EngineReplica,
        name=name,
        **count,
        max_ongoing_requests=1,          # one job per replica; Serve queues the rest at the caller
        ray_actor_options={"num_cpus": cpus, "num_gpus": gpus},
        graceful_shutdown_timeout_s=5,   # a stopping server cancels jobs rather than waiting for them
    )
