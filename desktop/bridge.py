"""EngineBridge: submitting a job returns a JobHandle, a QObject with that job's own signals.

The engine calls back on its worker threads; the bridge hands each event to the UI thread
through one queued signal and there emits it on the job's handle, so slots never race the UI.
Only the code that submitted a job listens to its handle; the jobs panel hears of every job
through the bridge's one `queued` signal, and then listens to that job's handle. The bridge
owns the one map of jobs.
"""
from __future__ import annotations

import functools
import threading

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal


FINISHED = ("done", "failed", "cancelled")


def _if_alive(owner: QObject, slot, *args) -> None:
    if shiboken6.isValid(owner):
        slot(*args)


class JobHandle(QObject):
    """One submitted job: its id, its spec, where it stands, and its events as signals."""

    started = Signal()
    progress = Signal(int, int)         # step, total
    preview = Signal(object)            # HxWx3 uint8 ndarray
    done = Signal(object)               # result dict (object: keeps nested values as they are)
    failed = Signal(str)                # one-sentence message
    cancelled = Signal()
    finished = Signal(str)              # after done, failed or cancelled: which of them

    def __init__(self, job_id: str, job, bridge: "EngineBridge"):
        super().__init__(bridge)
        self.id = job_id
        self.job = job
        self.state = "queued"            # queued | running | done | failed | cancelled
        # How to run it again; a submitter may set its own (a generation reruns its clip's
        # recipe, so the new take lands on that clip). None: submit the same spec again.
        self.on_retry = None
        self._bridge = bridge
        # Connected first, so the state is current (on the UI thread) when any listener runs.
        self.started.connect(lambda: self._set_state("running"))
        self.done.connect(lambda result: self._set_state("done"))
        self.failed.connect(lambda message: self._set_state("failed"))
        self.cancelled.connect(lambda: self._set_state("cancelled"))

    def watch(self, owner: QObject, **slots) -> None:
        """Call each slot (by signal name: ``done=fn``) on this job's events for as long as
        ``owner`` lives: an event that arrives after ``owner`` is deleted is dropped."""
        for name, slot in slots.items():
            getattr(self, name).connect(functools.partial(_if_alive, owner, slot))

    def cancel(self) -> None:
        self._bridge.cancel(self.id)

    def retry(self) -> "JobHandle | None":
        """Run this job again; returns the new job's handle (None when it could not start)."""
        return self.on_retry() if self.on_retry is not None else self._bridge.submit(self.job)

    def _set_state(self, state: str) -> None:
        self.state = state


class EngineBridge(QObject):
    """Wraps the local engine thread, or a remote engine (`latentcut serve` at `engine_url`,
    same interface and events); `submit` hands out a JobHandle per job."""

    queued = Signal(object)             # the JobHandle of a job just submitted
    _arrived = Signal(object)           # an engine event, emitted on a worker thread

    def __init__(self, model=None, device=None, parent=None, signing=None, engine_url: str | None = None,
                 token: str | None = None):
        super().__init__(parent)
        self._handles: dict[str, JobHandle] = {}
        # Held while a job is submitted, so an event always finds its handle.
        self._lock = threading.RLock()
        self._closed = False
        self.model = model
        self.device = device
        self.signing = signing
        # Worker threads emit, the UI thread dispatches: a queued connection. A job's events
        # reach its handle only from the event loop, so whoever submitted it has connected first.
        self._arrived.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._retired: list = []  # engines replaced by use_engine, still finishing their jobs
        self._engine = None
        self.use_engine(engine_url, token)

    def use_engine(self, url: str | None, token: str | None = None) -> None:
        """New jobs go to the remote engine at `url` (None: this computer). Jobs already
        submitted finish where they run, and still report to their handles."""
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
    def submit(self, job, priority: int = 0) -> JobHandle:
        """Queue a job spec; returns its handle. `queued` is emitted before this returns; the
        job's other events come from the event loop, so connecting right after submit misses none."""
        if self._closed:
            raise RuntimeError("the engine bridge is shut down; no more jobs can be submitted")
        with self._lock:
            job_id = self._engine.submit(job, priority=priority)
            handle = self._handles[job_id] = JobHandle(job_id, job, self)
        self.queued.emit(handle)
        return handle

    def set_signing(self, signing) -> None:
        """Who signs the Content Credentials of files written from now on (SigningSettings);
        a remote engine signs its results with its own signer."""
        self.signing = signing
        self._engine.set_signing(signing)

    def cancel(self, job_id: str) -> None:
        for engine in (self._engine, *self._retired):
            if engine.cancel(job_id):
                return

    def handle(self, job_id: str) -> JobHandle | None:
        """The handle of the job submitted under `job_id`, or None."""
        with self._lock:
            return self._handles.get(job_id)

    def job(self, job_id: str):
        """The job spec submitted under `job_id`, or None."""
        handle = self.handle(job_id)
        return None if handle is None else handle.job

    def shutdown(self) -> None:
        """Cancel running jobs and join the engine's threads (idempotent)."""
        if self._closed:
            return
        self._closed = True
        for engine in (self._engine, *self._retired):
            engine.shutdown()

    # -- engine side: runs on the engine's worker threads --
    def _on_event(self, event) -> None:
        if event.kind != "queued" and not self._closed:  # submit() itself announces `queued`
            self._arrived.emit(event)

    # -- UI thread: one queued hop for every event, then the job's own handle --
    def _dispatch(self, event) -> None:
        handle = self.handle(event.job_id)
        if handle is None:
            return
        kind = event.kind
        if kind == "started":
            handle.started.emit()
        elif kind in ("progress", "preview"):
            if kind == "progress":
                handle.progress.emit(int(event.step or 0), int(event.total or 0))
            if event.preview is not None:
                handle.preview.emit(event.preview)
        elif kind == "done":
            handle.done.emit(dict(event.result or {}))
        elif kind == "failed":
            handle.failed.emit(str(event.message or "the job failed"))
        elif kind == "cancelled":
            handle.cancelled.emit()
        if kind in FINISHED:
            handle.finished.emit(kind)
