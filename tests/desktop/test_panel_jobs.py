"""Jobs panel on a real engine bridge with a tiny random model."""
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from desktop.bridge import JobHandle
from desktop.panels.jobs_panel import JobsPanel, as_sentence, describe_job, format_eta
from engine.jobs import GenerateJob, ProxyJob


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from engine.model.tiny import make_tiny_model_folder

    return make_tiny_model_folder(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def bridge(qtbot, tiny_model):
    from desktop.bridge import EngineBridge

    b = EngineBridge(model=str(tiny_model), device="cpu")
    yield b
    b.shutdown()


@pytest.fixture
def panel(qtbot, bridge):
    p = JobsPanel(bridge)
    qtbot.addWidget(p)
    p.resize(360, 400)
    p.show()
    return p


def test_generation_shows_progress_preview_and_reveals_result(qtbot, panel, bridge, tmp_path):
    steps = []
    job = GenerateJob(prompt="a red ball moving left over a field at sunset", seconds=1.0, seed=3, steps=3,
                      output=str(tmp_path))
    handle = bridge.submit(job)
    handle.progress.connect(lambda step, total: steps.append((step, total)))
    job_id = handle.id
    with qtbot.waitSignal(handle.done, timeout=180000):
        card = panel.card(job_id)
        assert card is not None and card.title.text() == "Generate: a red ball moving left over a field at sunset"
        assert card.state in ("queued", "running")
        assert card.cancel_button.isVisibleTo(panel) and not card.retry_button.isVisibleTo(panel)
    assert steps and steps[-1][0] == steps[-1][1]
    card = panel.card(job_id)
    assert card.state == "done"
    assert card.bar.format() == "Done"
    assert card.preview.pixmap() is not None and not card.preview.pixmap().isNull()
    assert card.status.text().startswith("Finished in")
    assert card.reveal_button.isVisibleTo(panel) and card.reveal_button.isEnabled()
    assert not card.cancel_button.isVisibleTo(panel)
    with qtbot.waitSignal(panel.reveal_requested) as blocker:
        qtbot.mouseClick(card.reveal_button, Qt.LeftButton)
    assert Path(blocker.args[0]).is_file()
    assert panel.summary.text() == "1 done"


def test_failure_reads_as_a_sentence_and_offers_retry(qtbot, panel, bridge, tmp_path):
    missing = tmp_path / "missing.mp4"
    handle = bridge.submit(ProxyJob(source=str(missing), output=str(tmp_path / "p.mp4")))
    job_id = handle.id
    with qtbot.waitSignal(handle.failed, timeout=60000):
        pass
    card = panel.card(job_id)
    assert card.state == "failed"
    text = card.status.text()
    assert text.startswith("Failed: ") and text.endswith(".")
    assert "Traceback" not in text and "missing.mp4" in text
    assert card.retry_button.isVisibleTo(panel) and not card.reveal_button.isVisibleTo(panel)
    with qtbot.waitSignal(bridge.queued) as blocker:  # Retry runs the same spec again, as a new job
        qtbot.mouseClick(card.retry_button, Qt.LeftButton)
    again = blocker.args[0]
    assert again.job is handle.job and again.id != job_id
    with qtbot.waitSignal(again.failed, timeout=60000):
        pass
    assert panel.summary.text() == "2 failed"
    panel.clear_finished()
    assert panel.card(job_id) is None and not panel.empty.isHidden()


def test_cancel_button_cancels_the_job(qtbot, panel, bridge, tmp_path):
    # A long job (many steps) so there is time to cancel it.
    job = GenerateJob(prompt="pan right over mountains at night", seconds=1.0, seed=1, steps=400, output=str(tmp_path))
    handle = bridge.submit(job)
    with qtbot.waitSignal(handle.progress, timeout=180000):
        pass
    card = panel.card(handle.id)
    with qtbot.waitSignal(handle.cancelled, timeout=60000):
        qtbot.mouseClick(card.cancel_button, Qt.LeftButton)
    assert card.state == "cancelled"
    assert "Cancelled" in card.status.text()
    assert card.retry_button.isVisibleTo(panel)
    assert not list(tmp_path.glob("*.mp4"))  # a cancelled job writes nothing


def announce(bridge, job_id, job):
    """A handle as the bridge hands it out, for events driven by the test itself."""
    handle = JobHandle(job_id, job, bridge)
    bridge.queued.emit(handle)
    return handle


def test_progress_and_eta_from_a_jobs_handle(qtbot, panel, bridge):
    job = GenerateJob(prompt="zoom in on a yellow box in a city, day", seconds=1.0)
    handle = announce(bridge, "j-1", job)
    card = panel.card("j-1")
    assert card.status.text() == "Waiting in the queue"
    assert panel.summary.text() == "1 queued"
    handle.started.emit()
    assert card.status.text().startswith("Starting")
    handle.progress.emit(1, 10)
    assert card.status.text() == "Step 1 of 10 · estimating time left"
    handle.progress.emit(4, 10)
    assert card.bar.value() == 4 and card.bar.maximum() == 10
    assert "left" in card.status.text() and "about" in card.status.text()
    assert panel.summary.text() == "1 running"
    handle.failed.emit("Traceback (most recent call last):\n  File \"x.py\"\nRuntimeError: out of memory")
    assert card.status.text() == "Failed: Out of memory."


def test_sentences_eta_and_titles():
    assert as_sentence("ValueError: prompt: restyle needs a prompt") == "Prompt: restyle needs a prompt."
    assert as_sentence("the file is empty.") == "The file is empty."
    assert as_sentence("") == "The job failed for an unknown reason."
    assert format_eta(4.4) == "4 s"
    assert format_eta(125) == "2 min 05 s"
    assert format_eta(3 * 3600 + 60) == "3 h 01 min"
    assert describe_job(ProxyJob(source="/media/a/shot.mov")) == "Proxy: shot.mov"


def test_running_jobs_come_first_then_the_newest_finished(panel, bridge):
    k = {n: announce(bridge, f"k-{n}", ProxyJob(source=f"/media/clip{n}.mov")) for n in range(1, 5)}
    assert panel.card("k-1").preview.text() == "PROXY"  # no preview frame: the box names the kind
    k[1].started.emit()
    k[1].done.emit({"path": "/media/proxies/clip1.mp4"})
    k[2].started.emit()
    k[2].failed.emit("the file is empty")
    k[4].started.emit()
    assert panel.order() == ["k-4", "k-3", "k-2", "k-1"]
    layout = panel._list_layout
    assert [layout.itemAt(i).widget().job_id for i in range(4)] == ["k-4", "k-3", "k-2", "k-1"]
    assert panel.summary.text() == "1 running · 1 queued · 1 failed · 1 done"
    assert panel.card("k-1").reveal_button.toolTip().endswith("clip1.mp4 in the file manager")
