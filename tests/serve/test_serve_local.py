"""`latentcut serve` on a real local Ray (loopback, tiny random model, 2 replicas): the HTTP API,
its refusals, the remote engine from the CLI, cancel, and a replica killed mid-job.

One cluster for the whole module; the fault tests come last because they kill replicas.
"""
from __future__ import annotations

import json
import os
import signal
import threading
import time

import av
import numpy as np
import pytest

from job_fixtures import clip, clip_b, encode_still, tiny_model  # noqa: F401  (fixtures are registered by import)
from serving import TOKEN, http, post_json, serving
from engine.jobs import GenerateJob
from engine.media.probe import probe
from engine.remote_engine import RemoteEngine

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def server(tiny_model):
    with serving(tiny_model, replicas=2) as running:
        yield running


def frames_of(path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


def wait_status(server, job_id, final=("completed", "failed", "cancelled"), timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = http(f"{server.url}/v1/videos/{job_id}")
        assert status == 200, body
        if body["status"] in final:
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {body}")


def provenance_of(path) -> dict:
    return json.loads(probe(str(path)).metadata["latentcut"])


# ---- the plain /v1/videos API -------------------------------------------------------------
def test_a_plain_client_sending_prompt_seconds_and_size_gets_a_generated_clip(server, tmp_path):
    status, body = post_json(f"{server.url}/v1/videos", {"prompt": "a red ball over a field", "seconds": "1",
                                                          "size": "64x32"})
    assert status == 201 and body["status"] == "queued", body
    final = wait_status(server, body["id"])
    assert final["status"] == "completed", final
    status, data = http(f"{server.url}/v1/videos/{body['id']}/content")
    assert status == 200
    (tmp_path / "out.mp4").write_bytes(data)
    info = probe(str(tmp_path / "out.mp4"))
    assert (info.video.width, info.video.height) == (64, 32)
    assert "AI-generated" in info.metadata["comment"]
    where = provenance_of(tmp_path / "out.mp4")["where"]
    assert where["engine"] == server.url and where["device"] == "cpu" and where["node"]
    status, models = http(f"{server.url}/v1/models")
    name = next(iter(server.models))
    assert status == 200 and models["data"][0]["id"] == name and models["data"][0]["sha256"]
    status, engine = http(f"{server.url}/v1/engine")
    assert status == 200 and engine["replicas"] == {name: 2} and engine["nodes"] == 1


def test_the_event_stream_carries_progress_and_jpeg_previews(server):
    status, body = post_json(f"{server.url}/v1/videos", {"prompt": "night sea", "seconds": 1, "steps": 3, "seed": 4})
    assert status == 201
    wait_status(server, body["id"])
    status, stream = http(f"{server.url}/v1/videos/{body['id']}/events")
    assert status == 200
    from engine.serve.wire import frame_from_jpeg, jpeg_of, parse_sse
    events = list(parse_sse(stream.decode().split("\n")))
    names = [name for name, _ in events]
    assert names[0] == "queued" and names[1] == "in_progress" and names[-1] == "completed"
    assert [d["step"] for n, d in events if n == "progress"] == [1, 2, 3]
    preview = frame_from_jpeg(jpeg_of(next(d for n, d in events if n == "preview")))
    assert preview.ndim == 3 and preview.shape[2] == 3


# ---- security and refusals ----------------------------------------------------------------
@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_a_missing_or_wrong_token_gets_401_everywhere_but_health(server, token):
    for method, path in [("GET", "/v1/models"), ("GET", "/v1/engine"), ("POST", "/v1/videos"),
                         ("GET", "/v1/videos/x"), ("POST", "/v1/videos/x/cancel"), ("GET", "/nowhere")]:
        status, body = http(server.url + path, method, token=token, body=b"" if method == "POST" else None)
        assert status == 401, (path, body)
        assert body["error"]["message"].endswith(".") and "token" in body["error"]["message"]
    assert http(server.url + "/health", token=None) == (200, {"status": "ok"})


def _multipart(fields: dict, files: dict) -> tuple[bytes, str]:
    from engine.remote_engine import _multipart as encode
    return encode(fields, files)


MALFORMED = {
    "bad JSON body": (b"{not json", "application/json", 400, "not valid JSON"),
    "bad job JSON": _multipart({"job": "{oops"}, {}) + (400, "job: not valid JSON"),
    "unknown operation": (json.dumps({"operation": "explode", "prompt": "x"}).encode(), "application/json",
                          400, "unknown operation 'explode'"),
    "size out of range": (json.dumps({"prompt": "x", "size": "99999x10"}).encode(), "application/json", 400,
                          "size: expected (width, height), each more than 0 and at most"),
    "size not WxH": (json.dumps({"prompt": "x", "size": "big"}).encode(), "application/json", 400, "size:"),
    "seconds out of range": (json.dumps({"prompt": "x", "seconds": 600}).encode(), "application/json", 400,
                             "seconds: at most"),
    "seconds not a number": (json.dumps({"prompt": "x", "seconds": "long"}).encode(), "application/json", 400,
                             "seconds: expected a number"),
    "negative seconds": (json.dumps({"prompt": "x", "seconds": -1}).encode(), "application/json", 400, "seconds"),
    "missing upload": _multipart({"operation": "extend", "prompt": "x"}, {}) + (400, "needs an uploaded file"),
    "a client path": _multipart({"job": json.dumps({"kind": "restyle", "prompt": "x",
                                                    "source": {"path": "/etc/passwd"}})}, {})
    + (400, "never reads a path"),
    "unknown model": (json.dumps({"prompt": "x", "model": "sora-2"}).encode(), "application/json", 400,
                      "no model named 'sora-2'"),
    "unknown field": (json.dumps({"prompt": "x", "colour": "red"}).encode(), "application/json", 400,
                      "colour: not a field"),
    "wrong content type": (b"prompt=x", "text/plain", 415, "content type 'text/plain'"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_every_malformed_request_gets_a_4xx_json_sentence(server, case):
    body, content_type, want_status, want_text = MALFORMED[case]
    status, answer = http(f"{server.url}/v1/videos", "POST", body=body, content_type=content_type)
    assert status == want_status, answer
    message = answer["error"]["message"]
    assert want_text in message and message.endswith(".") and "Traceback" not in message


def test_unknown_jobs_unknown_routes_unfinished_content_and_oversized_uploads_are_refused(server):
    for method, path in [("GET", "/v1/videos/nope"), ("GET", "/v1/videos/nope/events"),
                         ("GET", "/v1/videos/nope/content"), ("POST", "/v1/videos/nope/cancel")]:
        status, body = http(server.url + path, method, body=b"" if method == "POST" else None)
        assert status == 404 and "no job with id 'nope'" in body["error"]["message"], (path, body)
    status, body = http(server.url + "/v2/anything")
    assert status == 404 and body["error"]["message"] == "no such endpoint: GET /v2/anything."
    status, body = http(server.url + "/v1/videos", "DELETE")
    assert status == 405 and body["error"]["message"].endswith(".")
    # A declared body over the limit is refused before it is read.
    status, body = http(f"{server.url}/v1/videos", "POST", body=b"x", content_type="multipart/form-data; boundary=b",
                        headers={"Content-Length": str(2**40)})
    assert status == 413 and "at most" in body["error"]["message"]
    status, queued = post_json(f"{server.url}/v1/videos", {"prompt": "x", "seconds": 1, "steps": 400})
    status, body = http(f"{server.url}/v1/videos/{queued['id']}/content")
    assert status == 409 and "completed" in body["error"]["message"]
    http(f"{server.url}/v1/videos/{queued['id']}/cancel", "POST", body=b"")
    assert wait_status(server, queued["id"])["status"] == "cancelled"


# ---- the remote engine: the CLI and the engine thread's interface ------------------------
def latentcut(capsys, *args) -> tuple[int, str, str]:
    from desktop.cli import main

    capsys.readouterr()
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return rc, out, err


def test_every_model_command_runs_through_engine_from_the_cli(server, capsys, tmp_path, clip, clip_b,
                                                              monkeypatch):
    still = encode_still(tmp_path / "still.png")
    monkeypatch.setenv("LATENTCUT_TOKEN", TOKEN)  # the token from the environment, the URL from --engine
    common = ["--engine", server.url, "--steps", "2", "--seed", "3", "--json"]
    runs = {
        "generate": ["generate", "a red ball moving left", "--seconds", "1", "--size", "64x32"],
        "animate": ["animate", still, "--seconds", "1", "--prompt", "zoom in"],
        "extend": ["extend", clip, "--seconds", "1", "--head"],
        "fill": ["fill", clip, clip_b, "--seconds", "1"],
        "restyle": ["restyle", clip, "--prompt", "at night", "--strength", "0.5"],
    }
    for op, args in runs.items():
        out = tmp_path / f"{op}.mp4"
        rc, stdout, err = latentcut(capsys, *args, "-o", out, *common)
        assert rc == 0, (op, err)
        result = json.loads(stdout)
        assert result["path"] == str(out) and out.is_file()
        prov = provenance_of(out)
        assert prov["op"] == op and prov["seed"] == 3 and prov["model"]["sha256"]
        assert prov["where"]["engine"] == server.url and prov["where"]["device"] == "cpu", op
    assert frames_of(tmp_path / "restyle.mp4").shape[0] == 12  # restyle keeps the clip's 12 frames
    board = tmp_path / "board.otio"
    (tmp_path / "shots.txt").write_text("1: a red ball\n1: a blue box at night\n")
    rc, _, err = latentcut(capsys, "storyboard", tmp_path / "shots.txt", "-o", board, "--engine", server.url,
                           "--steps", "2", "--size", "64x32")
    assert rc == 0, err
    from timeline.project import load_project
    clips = list(load_project(str(board)).video_tracks[0])
    assert [c.active_media_reference_key for c in clips] == ["take-1", "take-1"]


def test_a_wrong_token_or_no_engine_is_a_sentence_on_stderr(server, capsys, tmp_path):
    rc, _, err = latentcut(capsys, "generate", "x", "-o", tmp_path / "a.mp4", "--engine", server.url,
                           "--token", "wrong")
    assert rc == 1 and "refused the token" in err and "Traceback" not in err
    rc, _, err = latentcut(capsys, "generate", "x", "-o", tmp_path / "a.mp4", "--engine", "http://127.0.0.1:9")
    assert rc == 1 and "engine unreachable: http://127.0.0.1:9" in err
    assert not (tmp_path / "a.mp4").exists()


def test_four_shots_on_two_replicas_run_at_once_and_all_land(server, tmp_path):
    events, lock = [], threading.Lock()

    def record(event):
        with lock:
            events.append((event.kind, event.job_id))

    with RemoteEngine(server.url, token=TOKEN, on_event=record) as engine:
        ids = [engine.submit(GenerateJob(prompt=f"shot {i}", seconds=1, steps=6, seed=i, size=(64, 32),
                                         output=str(tmp_path))) for i in range(4)]
        finals = [engine.wait(job_id, timeout=600) for job_id in ids]
    assert [f.kind for f in finals] == ["done"] * 4
    running, most = set(), 0
    for kind, job_id in events:
        if kind == "started":
            running.add(job_id)
        elif kind in ("done", "failed", "cancelled"):
            running.discard(job_id)
        most = max(most, len(running))
    assert most == 2  # two replicas, one job each, both busy at once
    replicas = {f.result["provenance"]["where"]["replica"] for f in finals}
    assert len(replicas) == 2
    assert len({f.result["path"] for f in finals}) == 4


def test_cancel_through_the_remote_engine_stops_the_job_and_writes_nothing(server, tmp_path):
    progressed = threading.Event()

    def on_event(event):
        if event.kind == "progress" and event.step >= 1:
            progressed.set()

    with RemoteEngine(server.url, token=TOKEN, on_event=on_event) as engine:
        job_id = engine.submit(GenerateJob(prompt="long", seconds=1, steps=500, seed=1, output=str(tmp_path / "c.mp4")))
        assert progressed.wait(300)
        assert engine.cancel(job_id)
        final = engine.wait(job_id, timeout=120)
    assert final.kind == "cancelled" and engine.state(job_id) == "cancelled"
    assert not (tmp_path / "c.mp4").exists()


# ---- the app's bridge --------------------------------------------------------------------
def test_the_app_runs_every_operation_on_the_remote_engine(qtbot, server, tmp_path, clip, clip_b):
    from PySide6.QtCore import QSettings

    from desktop.app import MainWindow
    from desktop.bridge import EngineBridge
    from desktop.timeline_items import generation_status, media_path

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    bridge = EngineBridge(engine_url=server.url, token=TOKEN)
    window = MainWindow(bridge=bridge, settings=settings)
    window.actions.prompt = lambda title, text, choices: pytest.fail(f"unexpected prompt {title!r}: {text}")
    try:
        window.engine_status.refresh()  # the Jobs panel shows the server's state
        qtbot.waitUntil(lambda: "reachable" in window.jobs_panel.engine.text(), timeout=60_000)
        assert window.jobs_panel.engine.text().startswith(f"Engine: {server.url}, reachable; ")
        assert "(2 replicas); 1 node;" in window.jobs_panel.engine.text()
        # V1: still 0-120, clip 120-156, gap, clip_b 168-204, gap, clip 216-252 (24 fps timeline)
        track = window.document.video_tracks[0]
        still = encode_still(tmp_path / "still.png")
        for path, frame in ((still, 0), (clip, 120), (clip_b, 168), (clip, 216)):
            window.edits.place_media([str(path)], track, frame)
        params = dict(window.generate_panel.params(), prompt="a green box in a city, day", steps=2, seconds=0.5,
                      seed=5)
        picture, first, gap, second, gap_b, last = list(track)
        requests = [("animate", picture), ("restyle", first), ("generate", gap), ("fill", gap_b),
                    ("extend_tail", last)]
        for op, item in requests:
            assert window.generation.request(op, params, item) is not None, op

        def generated():
            return [c for t in window.document.video_tracks for c in t
                    if hasattr(c, "media_references") and "recipe" in c.media_references()]
        qtbot.waitUntil(lambda: all(generation_status(c) in ("done", "failed") for c in generated())
                        and len(generated()) == 5, timeout=600_000)
        errors = [c.metadata["latentcut"].get("error") for c in generated()]
        assert {c.media_references()["recipe"].parameters["kind"]: generation_status(c) for c in generated()} == \
            {op: "done" for op in ("generate", "extend", "restyle", "animate", "fill")}, errors
        for c in generated():
            path = media_path(c.media_reference)
            assert path.startswith(str(window.actions.media_dir())), path
            assert provenance_of(path)["where"]["engine"] == server.url
    finally:
        window.undo_stack.setClean()
        window.close()
        bridge.shutdown()


# ---- faults (last: they kill replicas) ---------------------------------------------------
def _running_pid(server, job_id, attempt: int) -> int:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        _, body = http(f"{server.url}/v1/videos/{job_id}")
        if body["status"] == "in_progress" and body["attempts"] == attempt and body["step"] >= 1:
            return body["replica"]["pid"]
        assert body["status"] not in ("completed", "failed", "cancelled"), body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never ran attempt {attempt}")


def test_a_replica_killed_mid_job_is_retried_and_makes_the_same_frames(server, tmp_path):
    spec = {"prompt": "a yellow box in a city", "seconds": 1, "steps": 150, "seed": 11, "size": "64x32"}
    files = {}
    for name, kill in (("undisturbed", False), ("killed", True)):
        _, body = post_json(f"{server.url}/v1/videos", spec)
        if kill:
            os.kill(_running_pid(server, body["id"], 1), signal.SIGKILL)
        final = wait_status(server, body["id"])
        assert final["status"] == "completed" and final["attempts"] == (2 if kill else 1), final
        files[name] = tmp_path / f"{name}.mp4"
        files[name].write_bytes(http(f"{server.url}/v1/videos/{body['id']}/content")[1])
    a, b = frames_of(files["undisturbed"]), frames_of(files["killed"])
    assert a.shape == b.shape
    # the model's frames are identical; x264 may differ by a few levels in small areas
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 0.5


def test_a_job_whose_replica_dies_twice_fails_with_a_sentence(server):
    _, body = post_json(f"{server.url}/v1/videos", {"prompt": "x", "seconds": 1, "steps": 400, "seed": 2})
    first = _running_pid(server, body["id"], 1)
    os.kill(first, signal.SIGKILL)
    second = _running_pid(server, body["id"], 2)
    assert second != first
    os.kill(second, signal.SIGKILL)
    final = wait_status(server, body["id"])
    assert final["status"] == "failed"
    assert final["error"]["message"].startswith("the replica running this job stopped 2 times")
    assert final["error"]["message"].endswith(".")
