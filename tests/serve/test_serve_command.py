"""`latentcut serve` as a user runs it: refusals before anything starts, then a real server whose
SIGTERM mid-job makes the app say "engine unreachable" (its timeline unchanged but for the
failed mark), and leaves no Ray process behind."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from job_fixtures import clip, tiny_model  # noqa: F401  (fixtures are registered by import)
from serving import TOKEN, http

pytestmark = pytest.mark.timeout(900)
REPO = Path(__file__).resolve().parents[2]


def latentcut(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from desktop.cli import main; raise SystemExit(main())", *args],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


@pytest.mark.parametrize("args, message", [
    (["--host", "0.0.0.0"], "--token: the server only binds 0.0.0.0 (beyond this computer) with a token"),
    (["--replicas", "0"], "--replicas: must be 1 or more"),
    (["--min-replicas", "1"], "--min-replicas: give --max-replicas too"),
    (["--replicas", "3", "--max-replicas", "2"], "--max-replicas: need 0 <= --min-replicas (0) <= --replicas (3)"),
    (["--model", "/nowhere"], "--model: /nowhere is not a model folder"),
])
def test_serve_refuses_bad_options_before_starting_anything(args, message):
    proc = latentcut("serve", *args, env={k: v for k, v in os.environ.items() if k != "LATENTCUT_TOKEN"})
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert message in err and "Traceback" not in err


def test_a_busy_port_is_a_sentence():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = latentcut("serve", "--port", str(port))
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in err and "Traceback" not in err


def _session_processes(sid: int) -> list[str]:
    """Command lines of the processes still in session `sid` (Ray's daemons and workers inherit it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[4]) == sid:
                found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, ValueError, IndexError):
            continue
    return found


def test_sigterm_mid_job_fails_it_as_unreachable_in_the_app_and_leaves_no_ray_process(qtbot, tiny_model, clip,
                                                                                      tmp_path):
    from PySide6.QtCore import QSettings

    from desktop.app import MainWindow
    from desktop.bridge import EngineBridge
    from desktop.timeline_items import generation_status

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    # autoscaling between 1 and 2 replicas (Serve's autoscaling_config), starting with 1
    server = latentcut("serve", "--port", str(port), "--model", str(tiny_model), "--threads", "1",
                       "--min-replicas", "1", "--max-replicas", "2", "--token", TOKEN, start_new_session=True)
    bridge = window = None
    try:
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if http(url + "/health", token=None)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert server.poll() is None, server.communicate()[1]

        bridge = EngineBridge(engine_url=url, token=TOKEN)
        window = MainWindow(bridge=bridge, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
        window.actions.prompt = lambda title, text, choices: pytest.fail(f"unexpected prompt {title!r}: {text}")
        track = window.document.video_tracks[0]
        window.edits.place_media([str(clip)], track, 0)
        progressed = []
        params = dict(window.generate_panel.params(), prompt="a long shot", steps=500, seconds=0.5, seed=1)
        handle = window.generation.request("extend_tail", params, list(track)[0])
        assert handle is not None
        handle.progress.connect(lambda step, total: progressed.append(step))
        qtbot.waitUntil(lambda: bool(progressed), timeout=300_000)
        before = [(c.name, c.source_range) for c in track]

        server.send_signal(signal.SIGTERM)
        pending = list(track)[1]
        qtbot.waitUntil(lambda: generation_status(pending) == "failed", timeout=120_000)
        assert pending.metadata["latentcut"]["error"].startswith("Engine unreachable") or \
            pending.metadata["latentcut"]["error"].startswith("engine unreachable"), pending.metadata["latentcut"]
        assert [(c.name, c.source_range) for c in track] == before
        assert "recipe" in pending.media_references() and pending.active_media_reference_key == "recipe"
        assert server.wait(120) == 0, server.communicate()[1]
    finally:
        if window is not None:
            window.undo_stack.setClean()
            window.close()
        if bridge is not None:
            bridge.shutdown()
        if server.poll() is None:
            server.kill()
            server.wait(60)
    deadline = time.monotonic() + 30
    while _session_processes(server.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _session_processes(server.pid) == []
