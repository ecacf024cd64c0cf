"""Starting and stopping `latentcut serve`: Ray (joined, or started here), one Serve application
per model, and the HTTP front on uvicorn.

The HTTP socket is bound first, so a busy port or a refused address fails before Ray starts.
Stopping shuts the applications down and stops a Ray that this server started (on Ctrl-C or
SIGTERM uvicorn ends `run`; `stop` does the rest).
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import socket
import threading
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn

log = logging.getLogger("latentcut.serve")

# The object store carries uploads and finished files (a few MB each) between the front and the
# replicas; a Ray started here keeps it small and spills to disk beyond it.
LOCAL_OBJECT_STORE_BYTES = 200 * 2**20


@dataclass
class ServeOptions:
    address: str | None = None      # "auto", "ray://HOST:PORT", or None: start a local Ray
    host: str = "127.0.0.1"
    port: int = 8765
    replicas: int = 1
    min_replicas: int | None = None  # with max_replicas: Serve autoscales between them
    max_replicas: int | None = None
    gpus_per_replica: float = 0.0
    models: list[str] = field(default_factory=list)   # model folders; empty: the embedded model
    token: str | None = None
    threads: int | None = None      # CPU threads per replica (and the CPUs each asks Ray for)
    max_upload_mb: float = 512.0
    object_store_bytes: int = LOCAL_OBJECT_STORE_BYTES

    def check(self) -> None:
        """Refuses a bad option before anything starts; the ValueError names the option."""
        if not _is_loopback(self.host) and not self.token:
            raise ValueError(f"--token: the server only binds {self.host} (beyond this computer) with a token; "
                             f"give --token or LATENTCUT_TOKEN, or keep --host 127.0.0.1")
        if self.replicas < 1:
            raise ValueError(f"--replicas: must be 1 or more, got {self.replicas}")
        if self.min_replicas is not None and self.max_replicas is None:
            raise ValueError("--min-replicas: give --max-replicas too (autoscaling runs between them)")
        if self.max_replicas is not None:
            low = 0 if self.min_replicas is None else self.min_replicas
            if not 0 <= low <= self.replicas <= self.max_replicas:
                raise ValueError(f"--max-replicas: need 0 <= --min-replicas ({low}) <= --replicas ({self.replicas}) "
                                 f"<= --max-replicas ({self.max_replicas})")
        if self.gpus_per_replica < 0:
            raise ValueError(f"--gpus-per-replica: must be 0 or more, got {self.gpus_per_replica}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"--port: must be 0 to 65535, got {self.port}")
        if self.max_upload_mb <= 0:
            raise ValueError(f"--max-upload-mb: must be greater than 0, got {self.max_upload_mb}")
        for folder in self.models:
            if not Path(folder, "config.json").is_file() and not Path(folder, "model_index.json").is_file():
                raise ValueError(f"--model: {folder} is not a model folder (no config.json or model_index.json)")
        names = [model_name(f) for f in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"--model: two model folders share the name {_first_repeat(names)!r}; "
                             f"models are served by folder name")


class EngineServer:
    """`start()` binds, joins or starts Ray and deploys; then `run()` serves until a signal (the
    CLI), or `start_background()` serves on a thread (tests, benchmarks); `stop()` undoes all."""

    def __init__(self, options: ServeOptions):
        options.check()
        self.options = options
        self._socket = _bind(options.host, options.port)
        self.port = self._socket.getsockname()[1]
        host = options.host if ":" not in options.host else f"[{options.host}]"
        self.url = f"http://{host}:{self.port}"
        self.apps: dict[str, str] = {}          # model name -> Serve application name
        self.models: dict[str, dict] = {}       # model name -> describe()
        self._started_ray = False
        self._uvicorn = None
        self._thread: threading.Thread | None = None

    # ---- start ------------------------------------------------------------------------
    def start(self) -> None:
        import ray
        from ray import serve

        from engine.serve.replica import engine_deployment

        opts = self.options
        cpus = float(opts.threads or 1)
        if not ray.is_initialized():
            if opts.address:
                ray.init(address=opts.address, logging_level=logging.WARNING, log_to_driver=False)
            else:
                start_local_ray(max(os.cpu_count() or 1, int(cpus * opts.replicas)), opts.object_store_bytes)
                self._started_ray = True
        gpus = opts.gpus_per_replica
        if gpus and ray.cluster_resources().get("GPU", 0) < gpus:
            log.warning("the cluster has no %g GPUs for a replica; replicas run on the CPU", gpus)
            gpus = 0.0
        serve.start(proxy_location="Disabled")  # our own HTTP front speaks to the replicas through handles
        folders = [str(Path(m).resolve()) for m in opts.models] or [_embedded()]
        handles = {}
        for folder in folders:
            name = model_name(folder)
            app = f"latentcut-{name}"
            scale = None if opts.max_replicas is None else (opts.min_replicas or 0, opts.max_replicas)
            deployment = engine_deployment(name, opts.replicas, cpus, gpus, scale)
            handles[name] = serve.run(deployment.bind(folder, None if gpus else "cpu", opts.threads, self.url),
                                      name=app, route_prefix=None)
            self.apps[name] = app
            self.models[name] = handles[name].describe.remote().result()
        self._build(handles)

    def _build(self, handles: dict) -> None:
        from engine.serve.api import build_app
        from engine.serve.dispatch import Dispatcher

        self.dispatcher = Dispatcher(handles)
        app = build_app(self.dispatcher, self.models, self.options.token,
                        int(self.options.max_upload_mb * 2**20), self.engine_state)
        self._uvicorn = _HttpServer(self.dispatcher, uvicorn.Config(app, log_level="warning", access_log=False,
                                                                    timeout_graceful_shutdown=5))

    def engine_state(self) -> dict:
        """Live replicas per model and nodes alive, from Serve and Ray."""
        import ray
        from ray import serve

        apps = serve.status().applications
        replicas = {}
        for name, app in self.apps.items():
            deployments = apps[app].deployments if app in apps else {}
            states = deployments[name].replica_states if name in deployments else {}
            replicas[name] = int(states.get("RUNNING", 0))
        return {"replicas": replicas, "nodes": sum(1 for n in ray.nodes() if n["Alive"])}

    # ---- serve ------------------------------------------------------------------------
    def run(self) -> None:
        """Serves on this thread until Ctrl-C or SIGTERM (uvicorn catches both)."""
        asyncio.run(self._serve())

    def start_background(self) -> None:
        self._thread = threading.Thread(target=self.run, name="latentcut-serve-http", daemon=True)
        self._thread.start()
        while not self._uvicorn.started and self._thread.is_alive():
            self._thread.join(0.05)

    async def _serve(self) -> None:
        try:
            await self._uvicorn.serve(sockets=[self._socket])
        finally:
            await self.dispatcher.close()

    # ---- stop -------------------------------------------------------------------------
    def stop(self) -> None:
        """Stops the HTTP front, deletes the applications, and stops a Ray started here."""
        import ray
        from ray import serve

        if self._uvicorn is not None:
            self._uvicorn.handle_exit(None, None)
        if self._thread is not None:
            self._thread.join(30)
        self._socket.close()
        if not ray.is_initialized():
            return
        try:
            if self._started_ray:
                serve.shutdown()
            else:
                for app in self.apps.values():
                    serve.delete(app)
        finally:
            if self._started_ray:
                ray.shutdown()


class _HttpServer(uvicorn.Server):
    """uvicorn, telling the dispatcher first that the server is stopping (on a signal or stop())."""

    def __init__(self, dispatcher, config: uvicorn.Config):
        super().__init__(config)
        self.dispatcher = dispatcher

    def handle_exit(self, sig, frame) -> None:
        self.dispatcher.closing = True
        super().handle_exit(sig, frame)


def start_local_ray(cpus: int, object_store_bytes: int, attempts: int = 3) -> None:
    """Starts a Ray on this machine. Ray gives its node 30 s to register (not configurable),
    which a loaded machine can miss; then the half-started daemons are stopped and it tries again."""
    import ray

    for attempt in range(1, attempts + 1):
        try:
            ray.init(num_cpus=cpus, object_store_memory=object_store_bytes, include_dashboard=False,
                     logging_level=logging.WARNING, log_to_driver=False)
            return
        except Exception as exc:  # Ray raises a bare Exception for this
            ray.shutdown()
            _stop_half_started_ray()
            if "timed out during startup" not in str(exc) or attempt == attempts:
                raise
            log.warning("Ray's node did not start in time (attempt %d); trying again", attempt)


def _stop_half_started_ray() -> None:
    """Kills the daemons of a Ray session this process started but never joined (their
    session folder ends with this process's id); ray.shutdown does not know them."""
    import psutil

    mine = re.compile(rf"/session_[0-9_-]+_{os.getpid()}(/|\s|$)")
    for proc in psutil.Process().children(recursive=True):
        try:
            if mine.search(" ".join(proc.cmdline())):
                proc.kill()
        except psutil.Error:
            continue


def model_name(folder: str) -> str:
    """A model is served under its folder's name (letters, digits, - _ .)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", Path(folder).resolve().name)


def _embedded() -> str:
    from engine.backends.embedded import embedded_model_dir

    try:
        return str(embedded_model_dir())
    except FileNotFoundError as exc:
        raise ValueError(f"--model: {exc}") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"--port: cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.listen(128)
    sock.set_inheritable(False)
    return sock


def _first_repeat(names: list[str]) -> str:
    seen = set()
    for name in names:
        if name in seen:
            return name
        seen.add(name)
    return ""
