"""The engine thread: a priority job queue, one model worker and one media worker.

The model worker owns the loaded backend (one at a time: loaded on first use, reused while
jobs name the same model, freed when a job names another). The media worker runs renders,
proxies and thumbnails beside it. Every state change reaches the caller through
`on_event(EngineEvent)`, called on the worker thread that made it.

This module imports no torch: the model worker imports the backends on its first model job,
so the CLI's media commands and `import engine` stay light.
"""
from __future__ import annotations

import collections
import gc
import heapq
import itertools
import json
import logging
import math
import threading
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from engine.credentials import SigningSettings
from engine.errors import Cancelled
from engine.media.retime import retime
from engine.jobs import GenerateJob, Job, MediaInput, ModelJob, ProxyJob, RenderJob, ThumbnailJob, draw_seed
from engine.operations import Operation, operation_of

log = logging.getLogger("latentcut.engine")

# How much of a clip's edge an extend or fill looks at when the job gives no range:
# about one model window, enough to carry the motion on.
CONTEXT_SECONDS = 2.0

# Finished jobs kept for state()/wait(); older ones are forgotten so a long session (thousands
# of thumbnail jobs with their images) does not grow without bound.
KEEP_FINISHED = 256

EVENT_KINDS = ("queued", "started", "progress", "preview", "done", "failed", "cancelled")
FINAL_KINDS = ("done", "failed", "cancelled")


@dataclass
class EngineEvent:
    kind: str
    job_id: str
    step: int | None = None
    total: int | None = None
    preview: Any = None          # np.ndarray HxWx3 uint8 on "preview" events
    result: dict | None = None   # on "done"
    message: str | None = None   # one sentence on "failed"
    job: Job | None = None       # the spec, on "queued"


class _Entry:
    """A submitted job and its life: queued -> running -> done | failed | cancelled."""

    def __init__(self, job_id: str, job: Job, priority: int):
        self.job_id = job_id
        self.job = job
        self.priority = priority
        self.state = "queued"
        self.cancel = threading.Event()
        self.finished = threading.Event()
        self.final: EngineEvent | None = None


class Engine:
    """Runs job specs off the caller's thread. Higher `priority` runs sooner; equal
    priorities run in submission order. `model`/`device` are the defaults for model jobs
    whose spec leaves them None; `threads` caps torch's CPU threads. `signing` says who signs
    the Content Credentials of every file a model job or a render writes (default: the
    environment's studio signer, else the local one). `where` (a server's replica passes it) is
    recorded in each result's provenance, with the model's device."""

    def __init__(self, on_event: Callable[[EngineEvent], None] | None = None, model: str | None = None,
                 device: str | None = None, threads: int | None = None, signing: SigningSettings | None = None,
                 where: dict | None = None):
        if threads is not None and threads < 1:
            raise ValueError(f"threads: must be >= 1, got {threads}")
        self._signing = signing or SigningSettings.resolve()
        self._on_event = on_event
        self._model = None if model is None else str(model)
        self._device = device
        self._threads = threads
        self._where = where
        self._lock = threading.Condition()
        self._heaps: dict[str, list] = {"model": [], "media": []}
        self._entries: dict[str, _Entry] = {}
        self._finished: collections.deque[str] = collections.deque()
        self._seq = itertools.count()
        self._stopping = False
        self._backend = None
        self._backend_key: tuple | None = None
        self._workers = [
            threading.Thread(target=self._work, args=("model",), name="latentcut-model", daemon=True),
            threading.Thread(target=self._work, args=("media",), name="latentcut-media", daemon=True),
        ]
        for worker in self._workers:
            worker.start()

    # ---- public API -------------------------------------------------------------------
    def set_signing(self, signing: SigningSettings) -> None:
        """Who signs the files of jobs that start from now on."""
        self._signing = signing

    def submit(self, job: Job, priority: int = 0) -> str:
        """Queues `job`; returns its id. Emits `queued` before returning."""
        if not isinstance(job, Job) or job.queue not in self._heaps:
            raise ValueError(f"job: expected a job spec from engine.jobs, got {type(job).__name__}")
        job_id = uuid.uuid4().hex[:12]
        entry = _Entry(job_id, job, priority)
        with self._lock:
            if self._stopping:
                raise RuntimeError("the engine has been shut down")
            self._entries[job_id] = entry
        # `queued` goes out before a worker can see the job, so it always precedes `started`.
        self._emit(EngineEvent("queued", job_id, job=job))
        with self._lock:
            if entry.state == "queued" and not self._stopping:  # else cancelled meanwhile
                heapq.heappush(self._heaps[job.queue], (-priority, next(self._seq), job_id))
                self._lock.notify_all()
        return job_id

    def cancel(self, job_id: str) -> bool:
        """Cancels a queued job at once, or a running one within one denoising step.
        Returns False when the job already finished (or is unknown)."""
        with self._lock:
            entry = self._entries.get(job_id)
            if entry is None or entry.finished.is_set():
                return False
            entry.cancel.set()
            was_queued = entry.state == "queued"
            if was_queued:
                entry.state = "cancelled"
        if was_queued:
            self._finish(entry, EngineEvent("cancelled", job_id))
        return True

    def job(self, job_id: str) -> Job:
        """The spec of a job still remembered (queued, running, or among the last finished)."""
        return self._entries[job_id].job

    def state(self, job_id: str) -> str:
        """queued | running | done | failed | cancelled"""
        return self._entries[job_id].state

    def wait(self, job_id: str, timeout: float | None = None) -> EngineEvent | None:
        """Blocks until the job ends; returns its final event (None on timeout)."""
        entry = self._entries[job_id]
        entry.finished.wait(timeout)
        return entry.final

    def shutdown(self, timeout: float | None = None) -> None:
        """Cancels queued and running jobs, joins both workers and frees the model."""
        with self._lock:
            self._stopping = True
            pending = [e for e in self._entries.values() if not e.finished.is_set()]
            for entry in pending:
                entry.cancel.set()
            queued = [e for e in pending if e.state == "queued"]
            for entry in queued:
                entry.state = "cancelled"
            for heap in self._heaps.values():
                heap.clear()
            self._lock.notify_all()
        for entry in queued:
            self._finish(entry, EngineEvent("cancelled", entry.job_id))
        for worker in self._workers:
            if worker is not threading.current_thread():
                worker.join(timeout)
        self._free_backend()

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    def warm_up(self):
        """Loads the default model now, on the caller's thread, so the first job does not wait
        for it; call it before submitting model jobs. Returns the loaded backend."""
        return self._backend_for(GenerateJob())

    @property
    def loaded_backend(self):
        """The model currently held by the model worker (None before the first model job)."""
        return self._backend

    @property
    def threads_alive(self) -> bool:
        return any(w.is_alive() for w in self._workers)

    # ---- workers ----------------------------------------------------------------------
    def _work(self, queue: str) -> None:
        while True:
            with self._lock:
                entry = None
                while entry is None:
                    if self._stopping:
                        return
                    heap = self._heaps[queue]
                    while heap and entry is None:
                        _, _, job_id = heapq.heappop(heap)
                        candidate = self._entries[job_id]
                        if candidate.state == "queued":
                            entry = candidate
                    if entry is None:
                        self._lock.wait()
                entry.state = "running"
            self._emit(EngineEvent("started", entry.job_id))
            try:
                result = self._run(entry)
            except Cancelled:
                entry.state = "cancelled"
                self._finish(entry, EngineEvent("cancelled", entry.job_id))
            except Exception as exc:  # a failing job must not stop the worker
                log.debug("job %s failed", entry.job_id, exc_info=True)
                entry.state = "failed"
                self._finish(entry, EngineEvent("failed", entry.job_id, message=failure_sentence(exc)))
            else:
                entry.state = "done"
                self._finish(entry, EngineEvent("done", entry.job_id, result=result))

    def _run(self, entry: _Entry) -> dict:
        job = entry.job
        if entry.cancel.is_set():
            raise Cancelled()
        if isinstance(job, ModelJob):
            return self._run_model(entry)
        if isinstance(job, RenderJob):
            return _run_render(job, self._progress_cb(entry), entry.cancel, self._signing)
        if isinstance(job, ProxyJob):
            return _run_proxy(job, self._progress_cb(entry), entry.cancel)
        if isinstance(job, ThumbnailJob):
            return _run_thumbnails(job)
        raise ValueError(f"job: no runner for {job.kind!r} jobs")

    def _progress_cb(self, entry: _Entry) -> Callable[[int, int], None]:
        def progress(done: int, total: int) -> None:
            self._emit(EngineEvent("progress", entry.job_id, step=int(done), total=int(total)))
        return progress

    # ---- model jobs -------------------------------------------------------------------
    def _run_model(self, entry: _Entry) -> dict:
        from engine.results import build_provenance, check_signing, output_path_for, write_result
        from engine.version import ENGINE_VERSION

        job: ModelJob = entry.job
        op = operation_of(job)
        inputs = _read_inputs(job, op)  # bad input (or a bad signing key) fails before a model is loaded
        check_signing(job, self._signing)
        backend = self._backend_for(job)
        if op.name not in backend.operations:
            raise ValueError(f"the model {backend.name} cannot {op.name} "
                             f"(it can {', '.join(sorted(backend.operations)) or 'do nothing'})")
        if entry.cancel.is_set():
            raise Cancelled()
        seed = job.seed if job.seed is not None else draw_seed()

        def callback(step: int, total: int, preview: np.ndarray | None) -> None:
            self._emit(EngineEvent("progress", entry.job_id, step=int(step), total=int(total)))
            if preview is not None:
                self._emit(EngineEvent("preview", entry.job_id, step=int(step), total=int(total), preview=preview))

        rate = job.rate
        if op.footage:  # frames in and out share one rate, the job's or else the footage's
            rate = job.rate or next(iter(inputs.values()))[1]
            media = {name: retime(frames, src_rate, rate) for name, (frames, src_rate) in inputs.items()}
        else:  # a still: its one frame
            media = {name: frames[0] for name, (frames, _) in inputs.items()}
        request = op.request_for(job, media, rate, seed, callback=callback, cancel=entry.cancel)
        result = getattr(backend, op.name)(request)
        if entry.cancel.is_set():
            raise Cancelled()

        frames = np.ascontiguousarray(result.frames)
        metadata = dict(result.metadata or {})
        metadata.setdefault("seed", seed)
        provenance = build_provenance(job, metadata, frames, result.rate, backend.name, backend.sha256,
                                      ENGINE_VERSION)
        if self._where is not None:
            provenance["where"] = dict(self._where, device=str(getattr(backend, "device", "")))
        return write_result(frames, result.rate, provenance, output_path_for(job, provenance["seed"]),
                            cancel=entry.cancel, signing=self._signing)

    def _backend_for(self, job: ModelJob):
        model = job.model if job.model is not None else self._model
        device = job.device if job.device is not None else self._device
        key = (None if model is None else str(Path(model).expanduser().resolve()), device)
        if self._backend is not None and self._backend_key == key:
            return self._backend
        self._free_backend()
        from engine.backends import load_backend
        self._backend = load_backend(key[0], device=device, threads=self._threads)
        self._backend_key = key
        return self._backend

    def _free_backend(self) -> None:
        if self._backend is None:
            return
        alive = weakref.ref(self._backend)
        self._backend = None
        self._backend_key = None
        if alive() is not None:  # in a reference cycle, and load_backend froze it out of collection
            gc.unfreeze()
            gc.collect()
        import torch
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    # ---- events -----------------------------------------------------------------------
    def _finish(self, entry: _Entry, event: EngineEvent) -> None:
        entry.final = event
        self._emit(event)
        entry.finished.set()
        with self._lock:
            self._finished.append(entry.job_id)
            while len(self._finished) > KEEP_FINISHED:
                self._entries.pop(self._finished.popleft(), None)

    def _emit(self, event: EngineEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not take the worker down
            log.exception("event listener failed on %s event of job %s", event.kind, event.job_id)


def failure_sentence(exc: BaseException) -> str:
    """One sentence for the user: the error's own first line, no traceback."""
    text = " ".join(str(exc).strip().splitlines()[:1]).strip()
    if isinstance(exc, FileNotFoundError) and getattr(exc, "filename", None):
        text = f"{exc.filename}: file not found"
    if not text:
        text = f"unexpected {type(exc).__name__}"
    elif not isinstance(exc, (ValueError, OSError)) and type(exc).__module__.split(".")[0] not in ("engine", "timeline"):
        text = f"{type(exc).__name__}: {text}"
    return text if text.endswith((".", "!", "?")) else text + "."


# ---- reading conditioning frames ------------------------------------------------------
def _read_inputs(job: ModelJob, op: Operation) -> dict[str, tuple[np.ndarray, float]]:
    """Decodes each input's frames: (frames [T,H,W,3] uint8, source rate). Extend and fill
    take only the edge that touches the new frames, about one model window long; a still
    input (animate) one frame."""
    out = {}
    for name, edge in zip(op.inputs, op.edges):
        edge = job.direction if edge == "direction" else edge
        out[name] = _read(getattr(job, name), name, edge=edge, limit=None if op.footage else 1)
    return out


def _read(inp: MediaInput, name: str, edge: str | None, limit: int | None) -> tuple[np.ndarray, float]:
    from engine.media.reader import FrameReader

    if not Path(inp.path).is_file():
        raise FileNotFoundError(2, "file not found", inp.path)
    reader = FrameReader(inp.path)
    try:
        count = reader.frame_count
        stop = count if inp.stop is None else inp.stop
        if inp.start >= count or stop > count:
            raise ValueError(f"{inp.path}: has {count} frames, so frames {inp.start}-{stop} are not in it")
        if edge is not None:
            if limit is None:
                limit = max(1, math.ceil(CONTEXT_SECONDS * reader.rate))
            if stop - inp.start > limit:
                start, stop = (stop - limit, stop) if edge == "tail" else (inp.start, inp.start + limit)
            else:
                start = inp.start
        else:
            start = inp.start
        frames = np.stack(list(reader.iter_frames(start, stop)))
        return frames, float(reader.rate)
    finally:
        reader.close()


# ---- media jobs -----------------------------------------------------------------------
def _run_render(job: RenderJob, progress, cancel: threading.Event, signing: SigningSettings) -> dict:
    import opentimelineio as otio
    from engine.media.probe import probe
    from engine.media.render import render_timeline
    from engine.results import sign_render, unsigned_target
    from engine.version import ENGINE_VERSION

    from timeline import Document
    from timeline.interchange import import_timeline
    from timeline.provenance import APP_KEY

    if job.project is not None:  # any format export writes (.otio .otioz .otiod .edl .xml)
        doc = Document(import_timeline(job.project))
        base_dir = job.base_dir or str(Path(job.project).resolve().parent)
    else:
        doc = Document(otio.adapters.read_from_string(job.timeline_json, "otio_json"))
        base_dir = job.base_dir or "."
    timeline = doc.timeline
    time_range = None
    if job.range is not None:
        rate = doc.rate
        length = timeline.tracks.duration().to_seconds()
        if job.range[1] > length + 0.5 / rate:
            raise ValueError(f"the range {job.range[0]:g}-{job.range[1]:g} s runs past the end of the cut, "
                             f"which is {length:.2f} s long")
        start = otio.opentime.RationalTime.from_seconds(job.range[0]).rescaled_to(rate)
        end = otio.opentime.RationalTime.from_seconds(job.range[1]).rescaled_to(rate)
        # timeline (track) time
        time_range = otio.opentime.range_from_start_end_time(start, end)
    Path(job.output).parent.mkdir(parents=True, exist_ok=True)
    target = unsigned_target(job.output, signing)  # a bad key or format fails before rendering
    out = render_timeline(timeline, target, base_dir, size=job.size, range=time_range, rate=job.rate,
                          codec=job.codec, progress=progress, cancel=cancel)
    try:
        info = probe(out)
        result = {"path": str(Path(job.output)), "frames": info.video.frame_count, "rate": info.video.rate,
                  "width": info.video.width, "height": info.video.height, "metadata": dict(info.metadata)}
        if signing.enabled:  # the render lists its generated segments in its own tag
            segments = json.loads(info.metadata.get(APP_KEY) or "{}").get("generated_segments") or []
            result["credentials"] = sign_render(out, Path(job.output), segments, signing, ENGINE_VERSION)
    finally:
        if signing.enabled:
            out.unlink(missing_ok=True)
    return result


def _run_proxy(job: ProxyJob, progress, cancel: threading.Event) -> dict:
    from engine.media.proxy import make_proxy, proxy_path_for

    dst = job.output or str(proxy_path_for(job.source, Path(job.source).resolve().parent / ".latentcut-proxies",
                                              height=job.height))
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    out = make_proxy(job.source, dst, height=job.height, progress=progress, cancel=cancel)
    return {"path": str(out), "source": job.source}


def _run_thumbnails(job: ThumbnailJob) -> dict:
    from engine.media.thumbnails import thumbnail, thumbnail_strip

    images = [thumbnail(job.source, 0, job.height)] if job.count == 1 else \
        list(thumbnail_strip(job.source, job.count, job.height))
    return {"source": job.source, "images": images}

