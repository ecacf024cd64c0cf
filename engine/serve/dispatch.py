"""The jobs a server has accepted: each is handed to its model's deployment through a Serve
handle, and its events are kept for `/v1/videos/{id}` and `/events`.

Serve spreads the calls over the replicas and queues what does not fit (one job per replica);
the queue lives in this process, so a node that leaves the cluster loses no queued job. A job
whose replica dies mid-run is sent again once (Serve routes it to a live replica), with the
same seed, so it makes the same frames; a second death fails it with a sentence.
"""
from __future__ import annotations

import asyncio
import collections
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ray.exceptions import RayActorError, TaskCancelledError
from ray.serve.exceptions import RequestCancelledError

from engine.engine_thread import failure_sentence
from engine.jobs import draw_seed
from engine.serve.wire import FINAL_STATUSES, preview_data

KEEP_FINISHED = 256  # finished jobs remembered (with their files) before the oldest is forgotten
ATTEMPTS = 2         # a replica that dies mid-job: tried once more, then failed


@dataclass
class JobRecord:
    id: str
    spec: dict
    uploads: dict
    model: str
    created: int = field(default_factory=lambda: int(time.time()))
    status: str = "queued"
    step: int = 0
    total: int = 0
    error: str | None = None
    result: dict | None = None
    content: Path | None = None
    where: dict | None = None
    attempts: int = 0
    events: list = field(default_factory=list)    # (event name, data) for /events, replayed to each reader
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    response: object = None                       # the Serve call in flight
    cancel_requested: bool = False

    def emit(self, name: str, data: dict) -> None:
        self.events.append((name, data))
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()

    def describe(self) -> dict:
        """The `GET /v1/videos/{id}` body."""
        size = self.spec.get("size")
        return {
            "id": self.id, "object": "video", "status": self.status, "model": self.model,
            "operation": self.spec["kind"], "created_at": self.created, "seconds": self.spec.get("seconds"),
            "size": f"{size[0]}x{size[1]}" if size else None, "seed": self.spec.get("seed"),
            "progress": round(100 * self.step / self.total) if self.total else (100 if self.status == "completed" else 0),
            "step": self.step, "total": self.total, "attempts": self.attempts, "replica": self.where,
            "error": {"message": self.error} if self.error else None, "result": self.result,
        }


class Dispatcher:
    """Runs on the HTTP server's event loop. `handles` maps model name to its deployment handle."""

    def __init__(self, handles: dict, folder: Path | None = None):
        self._handles = handles
        self._records: dict[str, JobRecord] = {}
        self._finished: collections.deque[str] = collections.deque()
        self._tasks: set[asyncio.Task] = set()
        self._tmp = None if folder is not None else tempfile.TemporaryDirectory(prefix="latentcut-serve-")
        self._folder = folder or Path(self._tmp.name)
        self.closing = False  # set when the server stops: event streams end, no job is waited for

    def submit(self, spec: dict, uploads: dict, model: str) -> JobRecord:
        if spec.get("seed") is None:  # drawn here, so a retry on another replica makes the same frames
            spec = dict(spec, seed=draw_seed())  # the one seed range (engine.jobs)
        record = JobRecord(uuid.uuid4().hex[:16], spec, uploads, model)
        self._records[record.id] = record
        record.emit("queued", {})
        task = asyncio.get_running_loop().create_task(self._run(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return record

    def records(self) -> list[JobRecord]:
        """The jobs remembered, newest first."""
        return list(reversed(self._records.values()))

    def get(self, job_id: str) -> JobRecord | None:
        return self._records.get(job_id)

    def cancel(self, record: JobRecord) -> None:
        if record.status in FINAL_STATUSES:
            return
        record.cancel_requested = True
        if record.response is not None:
            record.response.cancel()

    def counts(self) -> dict[str, int]:
        states = collections.Counter(r.status for r in self._records.values())
        return {"queued": states["queued"], "in_progress": states["in_progress"]}

    async def close(self) -> None:
        for record in list(self._records.values()):
            self.cancel(record)
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        if self._tmp is not None:
            self._tmp.cleanup()

    # ---- one job ----------------------------------------------------------------------
    async def _run(self, record: JobRecord) -> None:
        handle = self._handles[record.model].options(stream=True)
        try:
            for attempt in range(1, ATTEMPTS + 1):
                if record.cancel_requested:
                    return self._end(record, "cancelled")
                record.attempts = attempt
                record.response = handle.run.remote(record.spec, record.uploads)
                try:
                    async for message in record.response:
                        self._apply(record, message)
                except RayActorError as exc:
                    if record.cancel_requested:
                        return self._end(record, "cancelled")
                    reason = failure_sentence(exc).rstrip(".")
                    if attempt == ATTEMPTS:
                        return self._end(record, "failed", f"the replica running this job stopped {ATTEMPTS} "
                                                           f"times ({reason}); retry it when the cluster is healthy.")
                    record.status = "queued"
                    record.emit("retry", {"attempt": attempt + 1, "message": f"the replica stopped ({reason})"})
                    continue
                if record.status not in FINAL_STATUSES:
                    self._end(record, "failed", "the replica ended the job without a result")
                return
        except (asyncio.CancelledError, TaskCancelledError, RequestCancelledError):
            self._end(record, "cancelled")
        except Exception as exc:  # anything else: the job fails, the server goes on
            self._end(record, "failed", failure_sentence(exc))
        finally:
            record.response = None
            record.uploads = {}

    def _apply(self, record: JobRecord, message: dict) -> None:
        kind = message["kind"]
        if kind == "started":
            record.status, record.where = "in_progress", message["where"]
            record.emit("in_progress", {"replica": record.where, "attempt": record.attempts})
        elif kind == "progress":
            record.step, record.total = message["step"], message["total"]
            record.emit("progress", {"step": record.step, "total": record.total})
        elif kind == "preview":
            record.emit("preview", preview_data(message["step"], message["total"], message["jpeg"]))
        elif kind == "done":
            record.content = self._folder / f"{record.id}.mp4"
            record.content.write_bytes(message["content"])
            record.result = message["result"]
            self._end(record, "completed")
        elif kind == "failed":
            self._end(record, "failed", message["message"])
        else:
            self._end(record, "cancelled")

    def _end(self, record: JobRecord, status: str, error: str | None = None) -> None:
        if record.status in FINAL_STATUSES:
            return
        record.status, record.error = status, error
        data = {"result": record.result} if status == "completed" else {"message": error} if error else {}
        record.emit(status, data)
        self._finished.append(record.id)
        while len(self._finished) > KEEP_FINISHED:
            old = self._records.pop(self._finished.popleft(), None)
            if old is not None and old.content is not None:
                old.content.unlink(missing_ok=True)
