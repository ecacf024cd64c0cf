"""The engine thread on a tiny random model: events, every operation, cancel, failures,
determinism, priorities, model reuse and shutdown."""
import json
import threading
import weakref

import numpy as np
import pytest

from engine.engine_thread import Engine, EngineEvent
from engine.jobs import AnimateJob, ExtendJob, FillJob, GenerateJob, MediaInput, RestyleJob
from engine.media.probe import probe
from engine.media.reader import FrameReader


class Recorder:
    """Collects events from the worker threads."""

    def __init__(self):
        self.events: list[EngineEvent] = []
        self.lock = threading.Lock()

    def __call__(self, event: EngineEvent):
        with self.lock:
            self.events.append(event)

    def kinds(self, job_id):
        with self.lock:
            return [e.kind for e in self.events if e.job_id == job_id]


@pytest.fixture
def engine(tiny_model):
    rec = Recorder()
    eng = Engine(on_event=rec, model=tiny_model, device="cpu", threads=2)
    eng.recorder = rec
    yield eng
    eng.shutdown()


def read_all(path):
    with FrameReader(path) as r:
        return np.stack(list(r.iter_frames()))


def run(engine, job, timeout=120):
    job_id = engine.submit(job)
    final = engine.wait(job_id, timeout)
    assert final is not None, "job did not finish"
    return job_id, final


def test_generate_events_come_in_order_and_the_file_says_it_is_generated(engine, tmp_path):
    job_id, final = run(engine, GenerateJob(prompt="a red ball moving left over a field at sunset", seconds=1,
                                            seed=3, steps=2, output=str(tmp_path)))
    assert final.kind == "done", final.message
    kinds = engine.recorder.kinds(job_id)
    assert kinds[:2] == ["queued", "started"]
    assert kinds[-1] == "done"
    steps = [e.step for e in engine.recorder.events if e.job_id == job_id and e.kind == "progress"]
    assert steps and steps == sorted(steps)
    assert set(kinds[2:-1]) <= {"progress", "preview"}

    result = final.result
    assert set(result) >= {"path", "frames", "rate", "width", "height", "provenance"}
    assert result["path"].startswith(str(tmp_path))
    info = probe(result["path"])
    assert info.video.frame_count == result["frames"] == 8
    assert (info.video.width, info.video.height) == (result["width"], result["height"]) == (64, 32)
    assert info.video.rate == pytest.approx(result["rate"])
    assert "AI-generated" in info.metadata["comment"]
    prov = json.loads(info.metadata["latentcut"])
    assert prov["generated"] is True and prov["op"] == "generate"
    assert prov["prompt"] == "a red ball moving left over a field at sunset"
    assert prov["seed"] == 3 and prov["steps"] == 2
    assert prov["model"]["name"] and len(prov["model"]["sha256"]) == 64
    assert prov["engine_version"] and prov["created"]
    # The result adds what the signed manifest turned out to be; the rest is the tag's.
    credentials = result["provenance"].pop("credentials")
    assert credentials["state"] == "untrusted" and credentials["manifest"].startswith("urn:c2pa:")
    assert prov == result["provenance"]


def test_every_model_operation_runs(engine, tmp_path, clip, clip_b):
    common = dict(seed=1, steps=2, output=str(tmp_path / "media"))
    jobs = {
        "animate": AnimateJob(prompt="zoom in on a box", image=MediaInput(str(clip), 5), seconds=1, **common),
        "extend_tail": ExtendJob(source=MediaInput(str(clip)), seconds=1, **common),
        "extend_head": ExtendJob(source=MediaInput(str(clip), 2, 10), direction="head", seconds=0.5, **common),
        "fill": FillJob(before=MediaInput(str(clip)), after=MediaInput(str(clip_b)), seconds=1, prompt="pan",
                        **common),
        "restyle": RestyleJob(source=MediaInput(str(clip), 0, 10), prompt="at night", strength=0.5, **common),
    }
    for name, job in jobs.items():
        job_id, final = run(engine, job)
        assert final.kind == "done", f"{name}: {final.message}"
        info = probe(final.result["path"])
        assert info.video.frame_count == final.result["frames"]
        prov = json.loads(info.metadata["latentcut"])
        assert prov["op"] == job.op
        assert prov["source"] == [i.__dict__ for i in job.inputs()]
        # extend and fill follow the source's rate (8 fps), so seconds * 8 new frames
        expected = {"extend_tail": 8, "extend_head": 4, "fill": 8, "restyle": 10}.get(name)
        if expected is not None:
            assert final.result["frames"] == expected, name
            assert final.result["rate"] == pytest.approx(8.0)
    names = sorted(p.name for p in (tmp_path / "media").iterdir())
    assert len(names) == len(jobs) and not any(n.startswith(".") for n in names)


def test_cancel_during_a_job_stops_within_one_step_and_leaves_no_output_file(engine, tmp_path):
    out = tmp_path / "cancelled.mp4"
    cancelled_at = []

    def on_event(event):
        engine.recorder(event)
        if event.kind == "progress" and event.step == 2 and not cancelled_at:
            cancelled_at.append(event.step)
            engine.cancel(event.job_id)  # from the worker, between two steps

    engine._on_event = on_event
    job_id = engine.submit(GenerateJob(prompt="a long job", seconds=1, seed=1, steps=500, output=str(out)))
    final = engine.wait(job_id, 60)
    assert final.kind == "cancelled"
    steps = [e.step for e in engine.recorder.events if e.job_id == job_id and e.kind == "progress"]
    assert cancelled_at == [2] and max(steps) <= 3
    assert engine.state(job_id) == "cancelled"
    assert list(tmp_path.iterdir()) == []
    assert not engine.cancel(job_id)  # already over


def test_cancel_of_a_queued_job_is_immediate_and_it_never_starts(engine, tmp_path):
    blocker = engine.submit(GenerateJob(prompt="busy", seconds=1, seed=1, steps=200, output=str(tmp_path / "a.mp4")))
    queued = engine.submit(GenerateJob(prompt="never", seconds=1, seed=1, output=str(tmp_path / "b.mp4")))
    assert engine.cancel(queued)
    assert engine.wait(queued, 5).kind == "cancelled"
    engine.cancel(blocker)
    engine.wait(blocker, 60)
    assert engine.recorder.kinds(queued) == ["queued", "cancelled"]
    assert not (tmp_path / "b.mp4").exists()


def test_a_failing_job_is_reported_and_the_next_job_still_runs(engine, tmp_path):
    missing = tmp_path / "nope.mp4"
    bad_id, bad = run(engine, ExtendJob(source=MediaInput(str(missing)), seconds=1, output=str(tmp_path)))
    assert bad.kind == "failed"
    assert str(missing) in bad.message
    assert "Traceback" not in bad.message and "\n" not in bad.message and bad.message.endswith(".")
    not_media = tmp_path / "notes.mp4"
    not_media.write_text("this is not a video")
    _, bad2 = run(engine, RestyleJob(source=str(not_media), prompt="x", output=str(tmp_path)))
    assert bad2.kind == "failed" and str(not_media) in bad2.message
    _, good = run(engine, GenerateJob(prompt="after the failure", seconds=1, seed=2, steps=1,
                                      output=str(tmp_path / "ok.mp4")))
    assert good.kind == "done"
    assert (tmp_path / "ok.mp4").is_file()


def test_a_frame_range_outside_the_source_fails_naming_it(engine, clip, tmp_path):
    _, final = run(engine, RestyleJob(source=MediaInput(str(clip), 4, 99), prompt="x", output=str(tmp_path)))
    assert final.kind == "failed"
    assert "frames 4-99" in final.message and str(clip) in final.message
    assert "source:" not in final.message  # the file is named, not the job's field


def test_missing_model_folder_fails_naming_it(engine, tmp_path):
    gone = tmp_path / "no-such-model"
    _, final = run(engine, GenerateJob(prompt="x", model=str(gone), output=str(tmp_path)))
    assert final.kind == "failed"
    assert "no-such-model" in final.message


def test_same_seed_and_inputs_give_identical_frames(engine, tmp_path, clip):
    paths = []
    for n in range(2):
        _, final = run(engine, ExtendJob(source=str(clip), prompt="pan left over mountains", seconds=1, seed=11,
                                         steps=2, output=str(tmp_path / f"run{n}.mp4")))
        assert final.kind == "done"
        paths.append(final.result["path"])
    a, b = read_all(paths[0]), read_all(paths[1])
    assert a.shape == b.shape
    # The model's frames are bit-identical; multi-threaded x264 may round a rare block differently.
    diff = np.abs(a.astype(int) - b)
    assert diff.mean() < 0.5 and np.mean(diff > 0) < 0.05
    _, other = run(engine, ExtendJob(source=str(clip), prompt="pan left over mountains", seconds=1, seed=12,
                                     steps=2, output=str(tmp_path / "other.mp4")))
    assert np.abs(a.astype(int) - read_all(other.result["path"])).mean() > 2


def test_higher_priority_runs_first(engine, tmp_path):
    blocker = engine.submit(GenerateJob(prompt="busy", seconds=1, seed=1, steps=40, output=str(tmp_path)))
    low = engine.submit(GenerateJob(prompt="low", seconds=1, seed=1, steps=1, output=str(tmp_path)), priority=0)
    high = engine.submit(GenerateJob(prompt="high", seconds=1, seed=1, steps=1, output=str(tmp_path)), priority=5)
    for job_id in (blocker, low, high):
        assert engine.wait(job_id, 120).kind == "done"
    started = [e.job_id for e in engine.recorder.events if e.kind == "started"]
    assert started.index(high) < started.index(low)


def test_the_model_is_loaded_once_and_swapped_when_a_job_names_another(engine, tmp_path, tiny_model,
                                                                    tmp_path_factory):
    from engine.model.tiny import make_tiny_model_folder

    _, a = run(engine, GenerateJob(prompt="x", seconds=1, seed=1, steps=1, output=str(tmp_path)))
    backend = engine.loaded_backend
    _, b = run(engine, GenerateJob(prompt="y", seconds=1, seed=1, steps=1, output=str(tmp_path)))
    assert engine.loaded_backend is backend
    other = make_tiny_model_folder(tmp_path_factory.mktemp("other-model"), seed=5)
    _, c = run(engine, GenerateJob(prompt="y", seconds=1, seed=1, steps=1, model=str(other), output=str(tmp_path)))
    assert c.kind == "done"
    assert engine.loaded_backend is not backend
    assert c.result["provenance"]["model"]["sha256"] != a.result["provenance"]["model"]["sha256"]


def test_shutdown_frees_a_model_that_only_a_collection_can_free(tiny_model, tmp_path, monkeypatch):
    """Loading froze the model out of the collector's scans; one held in a reference cycle is
    still freed when the engine lets it go."""
    import engine.backends as backends

    real = backends.load_backend

    def load_in_a_cycle(*args, **kwargs):
        backend = real(*args, **kwargs)
        backend.itself = backend
        return backend

    monkeypatch.setattr(backends, "load_backend", load_in_a_cycle)
    eng = Engine(model=tiny_model)
    job_id = eng.submit(GenerateJob(prompt="x", seconds=1, seed=1, steps=1, output=str(tmp_path)))
    assert eng.wait(job_id, 120).kind == "done"
    held = weakref.ref(eng.loaded_backend)
    eng.shutdown()
    assert held() is None


def test_a_broken_listener_does_not_stop_the_worker(tiny_model, tmp_path):
    calls = []

    def listener(event):
        calls.append(event.kind)
        raise RuntimeError("listener bug")

    with Engine(on_event=listener, model=tiny_model) as eng:
        job_id = eng.submit(GenerateJob(prompt="x", seconds=1, seed=1, steps=1, output=str(tmp_path / "a.mp4")))
        assert eng.wait(job_id, 120).kind == "done"
    assert calls[0] == "queued" and calls[-1] == "done"


def test_shutdown_cancels_running_and_queued_jobs_and_joins_the_threads(tiny_model, tmp_path):
    rec = Recorder()
    started = threading.Event()
    eng = Engine(on_event=lambda e: (rec(e), e.kind == "progress" and started.set()), model=tiny_model)
    running = eng.submit(GenerateJob(prompt="long", seconds=1, seed=1, steps=500, output=str(tmp_path / "a.mp4")))
    waiting = eng.submit(GenerateJob(prompt="next", seconds=1, seed=1, output=str(tmp_path / "b.mp4")))
    assert started.wait(60)
    eng.shutdown(timeout=60)
    assert not eng.threads_alive
    assert rec.kinds(running)[-1] == "cancelled"
    assert rec.kinds(waiting) == ["queued", "cancelled"]
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError):
        eng.submit(GenerateJob(prompt="late"))


def test_a_repeated_job_into_a_folder_gets_a_new_file_name(engine, tmp_path):
    job = GenerateJob(prompt="A red ball, day!", seconds=1, seed=4, steps=1, output=str(tmp_path))
    paths = [run(engine, job)[1].result["path"] for _ in range(2)]
    assert [p.rsplit("/", 1)[1] for p in paths] == ["generate_a_red_ball_day_s4.mp4", "generate_a_red_ball_day_s4_2.mp4"]
    assert all(probe(p).video.frame_count == 8 for p in paths)


def test_a_job_without_a_seed_gets_one_and_records_it(engine, tmp_path):
    _, final = run(engine, GenerateJob(prompt="x", seconds=1, steps=1, output=str(tmp_path)))
    seed = final.result["provenance"]["seed"]
    assert isinstance(seed, int) and str(seed) in final.result["path"]


def test_failure_sentences_are_one_line_and_keep_argument_names():
    from engine.engine_thread import failure_sentence
    from engine.errors import MissingMedia
    from timeline.errors import ProjectError

    assert failure_sentence(ValueError("size: must be a multiple of 16\n  more detail")) == \
        "size: must be a multiple of 16."
    assert failure_sentence(FileNotFoundError(2, "No such file", "/x/y.mp4")) == "/x/y.mp4: file not found."
    assert failure_sentence(MissingMedia("/x/a.mp4", "no such file")) == "/x/a.mp4: missing file: no such file."
    assert failure_sentence(ProjectError("/p.otio", "not OTIO")) == "/p.otio: not OTIO."
    assert failure_sentence(RuntimeError("CUDA out of memory")) == "RuntimeError: CUDA out of memory."
    assert failure_sentence(KeyError()) == "unexpected KeyError."
