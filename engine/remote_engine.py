"""RemoteEngine: the local engine thread's interface, run by a `latentcut serve` engine over HTTP.

It takes the same job specs and emits the same events (queued, started, progress, preview,
done, failed, cancelled), so the CLI and the app's bridge use it unchanged. Model jobs go to
the server: the conditioning media are uploaded, the events stream back (with JPEG previews),
and the finished file is downloaded into the job's `output` (the project's media folder) with
the provenance the server wrote into it. Media jobs (render, proxy, thumbnails) read local files,
so they run on a local engine thread beside it.

Only the standard library speaks HTTP here, and nothing imports ray or torch.
"""
from __future__ import annotations

import http.client
import json
import logging
import os
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Callable

from engine.engine_thread import Engine, EngineEvent, failure_sentence
from engine.jobs import Job, ModelJob
from engine.operations import operation_of
from engine.serve.wire import SERVER_FIELDS, frame_from_jpeg, jpeg_of, parse_sse

log = logging.getLogger("latentcut.remote")

CONNECT_TIMEOUT_S = 10
STREAM_TIMEOUT_S = 60        # the server sends a keep-alive comment every 15 s
RECONNECTS = 3               # an event stream that breaks is reopened while the job still exists
ENGINE_URL_VAR, TOKEN_VAR = "LATENTCUT_ENGINE", "LATENTCUT_TOKEN"


class EngineUnreachable(ConnectionError):
    """The server did not answer, refused the token, or answered with an error."""


def open_engine(on_event: Callable[[EngineEvent], None] | None = None, url: str | None = None,
                token: str | None = None, **local):
    """The local engine thread, or a RemoteEngine when `url` names a server."""
    if url:
        return RemoteEngine(url, token=token, on_event=on_event, **local)
    return Engine(on_event=on_event, **local)


class _Remote:
    def __init__(self, job_id: str, job: ModelJob):
        self.job_id = job_id
        self.job = job
        self.state = "queued"
        self.server_id: str | None = None
        self.cancel = threading.Event()
        self.finished = threading.Event()
        self.final: EngineEvent | None = None


class RemoteEngine:
    """Same methods as `engine.engine_thread.Engine`. `model` names a model the server serves (a
    folder's name; a folder path is reduced to its name); `device`, `threads` and `signing` apply
    to local media jobs only: the server picks its replicas' devices and signs with its own signer."""

    def __init__(self, url: str, token: str | None = None, on_event: Callable[[EngineEvent], None] | None = None,
                 model: str | None = None, device: str | None = None, threads: int | None = None, signing=None):
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"engine: expected an http:// or https:// URL, got {url!r}")
        self.url = url.rstrip("/")
        self._token = token
        self._on_event = on_event
        self._model = model
        self._media = Engine(on_event=on_event, device=device, threads=threads, signing=signing)
        self._lock = threading.Lock()
        self._jobs: dict[str, _Remote] = {}
        self._threads: list[threading.Thread] = []
        self._stopping = False

    # ---- the engine thread's API -----------------------------------------------------------
    def submit(self, job: Job, priority: int = 0) -> str:
        if not isinstance(job, Job):
            raise ValueError(f"job: expected a job spec from engine.jobs, got {type(job).__name__}")
        if not isinstance(job, ModelJob):
            return self._media.submit(job, priority)
        with self._lock:
            if self._stopping:
                raise RuntimeError("the engine has been shut down")
            entry = _Remote(uuid.uuid4().hex[:12], job)
            self._jobs[entry.job_id] = entry
        self._emit(EngineEvent("queued", entry.job_id, job=job))
        thread = threading.Thread(target=self._run, args=(entry,), name=f"latentcut-remote-{entry.job_id}",
                                  daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        return entry.job_id

    def set_signing(self, signing) -> None:
        """Who signs the local media jobs (renders) that start from now on."""
        self._media.set_signing(signing)

    def cancel(self, job_id: str) -> bool:
        entry = self._jobs.get(job_id)
        if entry is None:
            return self._media.cancel(job_id)
        if entry.finished.is_set():
            return False
        entry.cancel.set()
        if entry.server_id is not None:  # else the job's thread cancels it once the server names it
            threading.Thread(target=self._cancel_on_server, args=(entry,), daemon=True).start()
        return True

    def job(self, job_id: str) -> Job:
        entry = self._jobs.get(job_id)
        return entry.job if entry is not None else self._media.job(job_id)

    def state(self, job_id: str) -> str:
        entry = self._jobs.get(job_id)
        return entry.state if entry is not None else self._media.state(job_id)

    def wait(self, job_id: str, timeout: float | None = None) -> EngineEvent | None:
        entry = self._jobs.get(job_id)
        if entry is None:
            return self._media.wait(job_id, timeout)
        entry.finished.wait(timeout)
        return entry.final

    def shutdown(self, timeout: float | None = None) -> None:
        """Cancels running remote jobs on the server, joins their threads, and stops the media worker."""
        with self._lock:
            self._stopping = True
            threads = list(self._threads)
        for entry in list(self._jobs.values()):
            self.cancel(entry.job_id)
        for thread in threads:
            thread.join(timeout if timeout is not None else CONNECT_TIMEOUT_S)
        self._media.shutdown(timeout)

    def __enter__(self) -> "RemoteEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.shutdown()

    @property
    def loaded_backend(self):
        return None  # the models live on the server

    @property
    def threads_alive(self) -> bool:
        return self._media.threads_alive or any(t.is_alive() for t in self._threads)

    def engine_state(self) -> dict:
        """The server's models, live replicas, nodes and queue (`GET /v1/engine`);
        raises EngineUnreachable with a sentence."""
        return self._json("GET", "/v1/engine")

    # ---- one remote job ----------------------------------------------------------------------
    def _run(self, entry: _Remote) -> None:
        try:
            if entry.cancel.is_set():
                return self._finish(entry, EngineEvent("cancelled", entry.job_id))
            fields, files = self._request_of(entry.job)
            entry.server_id = self._json("POST", "/v1/videos", fields=fields, files=files)["id"]
            if entry.cancel.is_set():
                self._cancel_on_server(entry)
            self._follow(entry)
        except EngineUnreachable as exc:
            self._finish(entry, EngineEvent("failed", entry.job_id, message=str(exc)))
        except OSError as exc:  # reading an input or writing the result
            self._finish(entry, EngineEvent("failed", entry.job_id, message=failure_sentence(exc)))

    def _request_of(self, job: ModelJob) -> tuple[dict, dict]:
        """The job's JSON with each media input replaced by an upload of its file."""
        spec = job.to_dict()
        for name in SERVER_FIELDS:
            spec.pop(name)
        if spec.get("model"):
            spec["model"] = Path(spec["model"]).name
        elif self._model:
            spec["model"] = Path(self._model).name
        files = {}
        for name in operation_of(job).inputs:
            value = spec[name]
            path = Path(value["path"])
            files[name] = (path.name, path.read_bytes())
            spec[name] = {"upload": name, "start": value["start"], "stop": value["stop"]}
        return {"job": json.dumps(spec)}, files

    def _follow(self, entry: _Remote) -> None:
        """Reads the job's event stream until it ends, reopening it if it breaks."""
        for _ in range(RECONNECTS):
            try:
                with self._open("GET", f"/v1/videos/{entry.server_id}/events", timeout=STREAM_TIMEOUT_S) as stream:
                    for event, data in parse_sse(line.decode("utf-8").rstrip("\r\n") for line in stream):
                        if self._apply(entry, event, data):
                            return
            except (OSError, http.client.HTTPException) as exc:
                if isinstance(exc, EngineUnreachable):
                    raise
                log.debug("event stream of %s broke", entry.job_id, exc_info=True)
            # Gone or restarted: EngineUnreachable. Still there: the reopened stream replays the job.
            self._json("GET", f"/v1/videos/{entry.server_id}", lost=True)
        raise EngineUnreachable(f"engine unreachable: the event stream from {self.url} kept breaking; "
                                f"the job may still run there")

    def _apply(self, entry: _Remote, event: str, data: dict) -> bool:
        """Turns one server event into engine events; True once the job has ended."""
        if event == "in_progress" and entry.state == "queued":
            entry.state = "running"
            self._emit(EngineEvent("started", entry.job_id))
        elif event == "progress":
            self._emit(EngineEvent("progress", entry.job_id, step=data["step"], total=data["total"]))
        elif event == "preview":
            self._emit(EngineEvent("preview", entry.job_id, step=data["step"], total=data["total"],
                                   preview=frame_from_jpeg(jpeg_of(data))))
        elif event == "completed":
            result = self._download(entry, data["result"])
            self._finish(entry, EngineEvent("done", entry.job_id, result=result))
        elif event == "failed":
            self._finish(entry, EngineEvent("failed", entry.job_id, message=data.get("message") or "the job failed."))
        elif event == "cancelled":
            self._finish(entry, EngineEvent("cancelled", entry.job_id))
        return entry.finished.is_set()

    def _download(self, entry: _Remote, result: dict) -> dict:
        """Writes the finished file into the job's output (a temp name, renamed when complete)."""
        from engine.results import output_path_for

        path = output_path_for(entry.job, result["provenance"]["seed"])
        partial = path.with_name(f".{path.name}.part")
        try:
            with self._open("GET", f"/v1/videos/{entry.server_id}/content", timeout=STREAM_TIMEOUT_S) as body, \
                    open(partial, "wb") as out:
                while chunk := body.read(1 << 20):
                    out.write(chunk)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        return dict(result, path=str(path))

    def _cancel_on_server(self, entry: _Remote) -> None:
        try:
            self._json("POST", f"/v1/videos/{entry.server_id}/cancel")
        except EngineUnreachable as exc:
            log.warning("cancel of %s: %s", entry.job_id, exc)

    def _finish(self, entry: _Remote, event: EngineEvent) -> None:
        entry.state = {"done": "done", "failed": "failed", "cancelled": "cancelled"}[event.kind]
        entry.final = event
        self._emit(event)
        entry.finished.set()

    def _emit(self, event: EngineEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken listener must not take the job's thread down
            log.exception("event listener failed on %s event of job %s", event.kind, event.job_id)

    # ---- HTTP ---------------------------------------------------------------------------
    def _json(self, method: str, path: str, fields: dict | None = None, files: dict | None = None,
              lost: bool = False) -> dict:
        with self._open(method, path, fields=fields, files=files, lost=lost) as response:
            return json.loads(response.read() or b"{}")

    def _open(self, method: str, path: str, fields: dict | None = None, files: dict | None = None,
              timeout: float = CONNECT_TIMEOUT_S, lost: bool = False):
        """An open response; any failure becomes EngineUnreachable with a sentence. `lost`: a 404
        means the server was restarted and no longer has the job."""
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = None
        if fields is not None or files is not None:
            body, headers["Content-Type"] = _multipart(fields or {}, files or {})
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        try:
            return urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as exc:
            message = _error_message(exc)
            if exc.code == 401:
                raise EngineUnreachable(f"the engine at {self.url} refused the token ({message.rstrip('.')}); "
                                        f"set it with --token or {TOKEN_VAR}") from None
            if exc.code == 404 and lost:
                raise EngineUnreachable(f"engine unreachable: {self.url} was restarted and no longer has this job; "
                                        f"retry it") from None
            raise EngineUnreachable(f"the engine at {self.url} answered {exc.code}: {message}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise EngineUnreachable(f"engine unreachable: {self.url} ({reason})") from None


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                     + str(value).encode() + b"\r\n")
    for name, (filename, data) in files.items():
        safe = filename.replace('"', "_")
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{safe}"\r\n'
                     f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        return json.loads(exc.read())["error"]["message"]
    except Exception:  # not our JSON error (a proxy's page, say)
        return exc.reason or "an error"
