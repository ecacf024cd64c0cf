"""EngineBridge: submitting returns a JobHandle whose signals carry that job's events, on the UI
thread, in order; other jobs' events never reach it."""
import threading

from desktop.bridge import JobHandle
from engine.jobs import GenerateJob, MediaInput, RestyleJob


def _collect(handle):
    seen = []
    ui_thread = threading.current_thread()
    for name in ("started", "progress", "preview", "done", "failed", "cancelled", "finished"):
        getattr(handle, name).connect(lambda *args, n=name: seen.append((n, args, threading.current_thread() is ui_thread)))
    return seen


def test_generate_job_signals_arrive_in_order_on_the_ui_thread(qtbot, bridge, tmp_path):
    queued = []
    bridge.queued.connect(queued.append)
    job = GenerateJob(prompt="a red ball at sunset", seconds=0.5, rate=8, seed=1, steps=2, output=str(tmp_path))
    handle = bridge.submit(job)
    assert isinstance(handle, JobHandle) and queued == [handle]  # announced before submit returns
    assert bridge.job(handle.id) is job and bridge.handle(handle.id) is handle and handle.state == "queued"
    seen = _collect(handle)
    with qtbot.waitSignal(handle.finished, timeout=120_000) as finished:
        pass
    names = [n for n, _, _ in seen]
    assert names[0] == "started" and names[-2:] == ["done", "finished"] and "progress" in names
    assert all(on_ui for _, _, on_ui in seen) and finished.args == ["done"]
    result = next(args[0] for n, args, _ in seen if n == "done")
    assert set(result) >= {"path", "frames", "rate", "provenance"} and handle.state == "done"
    assert (tmp_path / result["path"].split("/")[-1]).exists()


def test_failed_job_reads_as_a_sentence(qtbot, bridge, tmp_path):
    job = RestyleJob(prompt="night", source=MediaInput(str(tmp_path / "missing.mp4")), seed=1, steps=1,
                     output=str(tmp_path))
    handle = bridge.submit(job)
    with qtbot.waitSignal(handle.failed, timeout=60_000) as failed:
        pass
    message = failed.args[0]
    assert "missing.mp4" in message and "Traceback" not in message and handle.state == "failed"


def test_cancel_a_queued_job_and_each_handle_hears_only_its_own(qtbot, bridge, tmp_path):
    long = GenerateJob(prompt="busy", seconds=0.5, rate=8, seed=1, steps=200, output=str(tmp_path / "a.mp4"))
    waiting = GenerateJob(prompt="never", seconds=0.5, rate=8, seed=1, steps=2, output=str(tmp_path / "b.mp4"))
    first = bridge.submit(long)
    second = bridge.submit(waiting)
    heard = {first.id: [], second.id: []}
    for handle in (first, second):
        handle.cancelled.connect(lambda h=handle: heard[h.id].append("cancelled"))
        handle.progress.connect(lambda step, total, h=handle: heard[h.id].append("progress"))
    second.cancel()
    first.cancel()
    qtbot.waitUntil(lambda: first.state == second.state == "cancelled", timeout=60_000)
    assert heard[second.id] == ["cancelled"] and heard[first.id][-1] == "cancelled"
    assert not (tmp_path / "b.mp4").exists() and not (tmp_path / "a.mp4").exists()


def test_a_listener_whose_owner_is_gone_is_not_called(qtbot, bridge, tmp_path):
    from PySide6.QtCore import QObject

    owner = QObject()
    calls = []
    handle = bridge.submit(GenerateJob(prompt="x", seconds=0.5, rate=8, seed=1, steps=2, output=str(tmp_path)))
    handle.watch(owner, done=calls.append, finished=calls.append)
    owner.deleteLater()
    qtbot.waitUntil(lambda: handle.state == "done", timeout=120_000)
    assert calls == []
