"""EngineBridge: the engine thread's events as Qt signals.

The engine calls back on its worker threads; emitting a signal of this QObject (which lives on
the UI thread) from there makes Qt queue the call to the UI thread, so slots never race the UI.
"""
from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal


class EngineBridge(QObject):
    """Wraps the local engine thread, or a remote engine (`latentcut serve` at `engine_url`,
    same interface and events), and re-emits its events as Qt signals."""

    queued = Signal(str, object)        # job_id, job spec
    started = Signal(str)               # job_id
    progress = Signal(str, int, int)    # job_id, step, total
    preview = Signal(str, object)       # job_id, HxWx3 uint8 ndarray
    done = Signal(str, object)          # job_id, result dict (object: keeps nested values as they are)
    failed = Signal(str, str)           # job_id, one-sentence message
    cancelled = Signal(str)             # job_id

    def __init__(self, model=None, device=None, parent=None, signing=None, engine_url: str | None = None,
                 token: str | None = None):
        super().__init__(parent)
        self._jobs: dict[str, object] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.model = model
        self.device = device
        self.signing = signing
        self._retired: list = []  # engines replaced by use_engine, still finishing their jobs
        self._engine = None
        self.use_engine(engine_url, token)

    def use_engine(self, url: str | None, token: str | None = None) -> None:
        """New jobs go to the remote engine at `url` (None: this computer). Jobs already
        submitted finish where they run, and still report here."""
        from engine.remote_engine import open_engine  # the engine imports torch lazily; keep Qt start fast

        if self._engine is not None:
            self._retired.append(self._engine)
        self.engine_url = url or None
        self._engine = open_engine(on_event=self._on_event, url=self.engine_url, token=token, model=self.model,
                                   device=self.device, signing=self.signing)

    @property
    def engine(self):
        """The engine new jobs go to (an Engine or a RemoteEngine)."""
        return self._engine

    # -- API used by the window and the panels --
    def submit(self, job, priority: int = 0) -> str:
        """Queue a job spec; returns its id. `queued` is emitted before this returns."""
        if self._closed:
            raise RuntimeError("the engine bridge is shut down; no more jobs can be submitted")
        job_id = self._engine.submit(job, priority=priority)
        with self._lock:
            self._jobs[job_id] = job
        self.queued.emit(job_id, job)
        return job_id

    def set_signing(self, signing) -> None:
        """Who signs the Content Credentials of files written from now on (SigningSettings);
        a remote engine signs its results with its own signer."""
        self.signing = signing
        self._engine.set_signing(signing)

    def cancel(self, job_id: str) -> None:
        for engine in (self._engine, *self._retired):
            if engine.cancel(job_id):
                return

    def job(self, job_id: str):
        """The job spec submitted under `job_id`, or None."""
        with self._lock:
            return self._jobs.get(job_id)

    def shutdown(self) -> None:
        """Cancel running jobs and join the engine's threads (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for engine in (self._engine, *self._retired):
            engine.shutdown()

    # -- engine side: runs on the engine's worker threads --
    def _on_event(self, event) -> None:
        kind = event.kind
        if kind == "queued" or self._closed:
            return  # `queued` is emitted by submit() itself, so it always precedes `started`
        job_id = event.job_id
        if kind == "started":
            self.started.emit(job_id)
        elif kind == "progress":
            self.progress.emit(job_id, int(event.step or 0), int(event.total or 0))
            if event.preview is not None:
                self.preview.emit(job_id, event.preview)
        elif kind == "preview":
            if event.preview is not None:
                self.preview.emit(job_id, event.preview)
        elif kind == "done":
            self.done.emit(job_id, dict(event.result or {}))
        elif kind == "failed":
            self.failed.emit(job_id, str(event.message or "the job failed"))
        elif kind == "cancelled":
            self.cancelled.emit(job_id)
