"""`latentcut serve`: the command that runs the engine as a server on a Ray cluster."""
from __future__ import annotations

import os
import signal
import sys


def add_serve_parser(sub, positive_int) -> None:
    p = sub.add_parser("serve", help="run the engine as a server on a Ray cluster (the /v1/videos HTTP API)",
                       description="Deploys the engine on Ray Serve (one deployment per model, N replicas each) "
                                   "and serves the /v1/videos API. Stops cleanly on Ctrl-C or SIGTERM.")
    p.add_argument("--address", metavar="auto|ray://HOST:PORT",
                   help="the Ray cluster to join (auto: the one `ray start` runs on this machine); "
                        "default: start a Ray on this machine, stopped with the server")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; any other "
                                                       "needs --token)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
    p.add_argument("--replicas", type=positive_int, default=1, help="replicas per model (default 1)")
    p.add_argument("--max-replicas", type=positive_int, metavar="M",
                   help="let Serve scale each model between --min-replicas and M replicas with the queue")
    p.add_argument("--min-replicas", type=int, metavar="m",
                   help="the fewest replicas when autoscaling (default 0: none while idle)")
    p.add_argument("--gpus-per-replica", type=float, default=0.0, metavar="G",
                   help="GPUs each replica asks Ray for (default 0: the CPU)")
    p.add_argument("--model", nargs="+", action="extend", default=[], metavar="DIR",
                   help="model folders to serve, each under its folder's name (default: the embedded model)")
    p.add_argument("--token", default=os.environ.get("LATENTCUT_TOKEN"),
                   help="bearer token clients must send (default $LATENTCUT_TOKEN)")
    p.add_argument("--threads", type=positive_int, help="CPU threads per replica (and CPUs it asks Ray for)")
    p.add_argument("--max-upload-mb", type=float, default=512.0, metavar="MB",
                   help="largest request with its uploaded media (default 512)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args) -> int:
    from desktop.cli import UsageError
    from engine.serve.server import EngineServer, ServeOptions

    options = ServeOptions(address=args.address, host=args.host, port=args.port, replicas=args.replicas,
                           min_replicas=args.min_replicas, max_replicas=args.max_replicas,
                           gpus_per_replica=args.gpus_per_replica, models=args.model, token=args.token,
                           threads=args.threads, max_upload_mb=args.max_upload_mb)
    try:
        options.check()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    server = EngineServer(options)
    # Until uvicorn installs its own handlers, SIGTERM unwinds like Ctrl-C so Ray is still stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        where = args.address or "a new local Ray"
        print(f"latentcut serve: starting {args.replicas} replica(s) per model on {where}...", file=sys.stderr,
              flush=True)
        server.start()
        signal.signal(signal.SIGTERM, _interrupt)  # ray.init put its own (an exit with status 15) in its place
        models = ", ".join(f"{name} ({info['device']})" for name, info in server.models.items())
        print(f"latentcut serve: serving {models} at {server.url}; Ctrl-C stops", file=sys.stderr, flush=True)
        try:
            server.run()
        except KeyboardInterrupt:  # uvicorn re-raises the signal that stopped it: a clean stop
            pass
    finally:
        server.stop()
        print("latentcut serve: stopped", file=sys.stderr, flush=True)
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt

