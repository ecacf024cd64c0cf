"""Start-up: seconds from launching `latentcut serve` to its first job accepted (a 201 from
POST /v1/videos), against the local engine thread's start to its first job started, with the
same model (both load it before taking work).

Figure: serve start-up / local start-up; the serve time itself is the figure to quote.

    python benchmarks/bench_serve_startup.py [--tiny]
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCAL = """
import sys, time, threading
start = time.perf_counter()
from engine.engine_thread import Engine
from engine.jobs import GenerateJob
started = threading.Event()
engine = Engine(on_event=lambda e: e.kind == "started" and started.set(), model=sys.argv[1])
engine.warm_up()
engine.submit(GenerateJob(prompt="x", seconds=0.5, steps=1, output=sys.argv[2]))
started.wait()
print(time.perf_counter() - start)
engine.shutdown()
"""


def first_accepted(url: str, deadline: float) -> None:
    body = json.dumps({"prompt": "a red ball", "seconds": 0.5, "steps": 1}).encode()
    while time.monotonic() < deadline:
        request = urllib.request.Request(url + "/v1/videos", data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 201:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    raise SystemExit("the server accepted no job in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="a tiny random model")
    parser.add_argument("--model", help="model folder (default: the embedded model)")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory() as tmp:
        if args.tiny:
            from engine.model.tiny import make_tiny_model_folder
            model = str(make_tiny_model_folder(Path(tmp) / "tiny"))
        else:
            from engine.backends.embedded import embedded_model_dir
            model = args.model or str(embedded_model_dir())
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        start = time.monotonic()
        server = subprocess.Popen([sys.executable, "-m", "desktop", "serve", "--port", str(port), "--model", model,
                                   "--threads", "1"], cwd=REPO, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            first_accepted(f"http://127.0.0.1:{port}", start + 600)
            serve_s = time.monotonic() - start
        finally:
            server.terminate()
            server.wait(120)
        local = subprocess.run([sys.executable, "-c", LOCAL, model, str(Path(tmp) / "out")], cwd=REPO,
                               capture_output=True, text=True, check=True, env=dict(os.environ))
        local_s = float(local.stdout.split()[-1])
    print(f"latentcut serve start to first job accepted: {serve_s:.1f} s "
          f"(local engine thread start to first job started: {local_s:.1f} s)")
    print(f"serve / local start-up: {serve_s / local_s:.1f}x")


if __name__ == "__main__":
    main()
