"""EngineBridge: engine events become Qt signals delivered on the UI thread, in order."""
import threading

from engine.jobs import GenerateJob, MediaInput, RestyleJob


def _collect(bridge):
    seen = []
    ui_thread = threading.current_thread()
    for name in ("queued", "started", "progress", "preview", "done", "failed", "cancelled"):
        getattr(bridge, name).connect(lambda *args, n=name: seen.append((n, args, threading.current_thread() is ui_thread)))
    return seen


def test_generate_job_signals_arrive_in_order_on_the_ui_thread(qtbot, bridge, tmp_path):
    seen = _collect(bridge)
    job = GenerateJob(prompt="a red ball at sunset", seconds=0.5, rate=8, seed=1, steps=2, output=str(tmp_path))
    with qtbot.waitSignal(bridge.done, timeout=120_000) as done:
        job_id = bridge.submit(job)
    assert bridge.job(job_id) is job
    names = [n for n, args, _ in seen if args[0] == job_id]
    assert names[0] == "queued" and names[1] == "started" and names[-1] == "done"
    assert "progress" in names
    assert all(on_ui for _, _, on_ui in seen)
    result = done.args[1]
    assert done.args[0] == job_id and set(result) >= {"path", "frames", "rate", "provenance"}
    assert (tmp_path / result["path"].split("/")[-1]).exists()


def test_failed_job_reads_as_a_sentence(qtbot, bridge, tmp_path):
    job = RestyleJob(prompt="night", source=MediaInput(str(tmp_path / "missing.mp4")), seed=1, steps=1,
                     output=str(tmp_path))
    with qtbot.waitSignal(bridge.failed, timeout=60_000) as failed:
        bridge.submit(job)
    message = failed.args[1]
    assert "missing.mp4" in message and "Traceback" not in message


def test_cancel_a_queued_job(qtbot, bridge, tmp_path):
    long = GenerateJob(prompt="busy", seconds=0.5, rate=8, seed=1, steps=200, output=str(tmp_path / "a.mp4"))
    waiting = GenerateJob(prompt="never", seconds=0.5, rate=8, seed=1, steps=2, output=str(tmp_path / "b.mp4"))
    cancelled = []
    bridge.cancelled.connect(cancelled.append)
    first = bridge.submit(long)
    second = bridge.submit(waiting)
    bridge.cancel(second)
    bridge.cancel(first)
    qtbot.waitUntil(lambda: len(cancelled) == 2, timeout=60_000)
    assert set(cancelled) == {first, second}
    assert not (tmp_path / "b.mp4").exists() and not (tmp_path / "a.mp4").exists()
