"""Media jobs on the engine's media worker: proxy, thumbnails and render, beside model jobs."""
import threading

import opentimelineio as otio
import pytest

from engine.engine_thread import Engine
from engine.jobs import GenerateJob, ProxyJob, RenderJob, ThumbnailJob
from engine.media.probe import probe


@pytest.fixture
def engine(tiny_model):
    events = []
    lock = threading.Lock()

    def record(event):
        with lock:
            events.append(event)

    eng = Engine(on_event=record, model=tiny_model)
    eng.events = events
    yield eng
    eng.shutdown()


def one_clip_timeline(clip, rate=8, frames=12):
    tl = otio.schema.Timeline(name="cut", global_start_time=otio.opentime.RationalTime(0, rate))
    tl.metadata["latentcut"] = {"rate": float(rate), "width": 64, "height": 32}
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    available = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate))
    track.append(otio.schema.Clip(name="clip", media_reference=otio.schema.ExternalReference(
        target_url=str(clip), available_range=available), source_range=available))
    tl.tracks.append(track)
    return tl


def test_proxy_job_writes_a_small_copy(engine, clip, tmp_path):
    out = tmp_path / "proxy.mp4"
    job_id = engine.submit(ProxyJob(source=str(clip), output=str(out), height=16))
    final = engine.wait(job_id, 60)
    assert final.kind == "done", final.message
    assert final.result["path"] == str(out)
    info = probe(out)
    assert info.video.height == 16 and info.video.frame_count == 12
    assert any(e.kind == "progress" and e.job_id == job_id for e in engine.events)


def test_proxy_job_without_output_uses_a_cache_folder_next_to_the_source(engine, clip):
    final = engine.wait(engine.submit(ProxyJob(source=str(clip), height=16)), 60)
    assert final.kind == "done", final.message
    assert probe(final.result["path"]).video.height == 16


def test_thumbnail_job_returns_images(engine, clip):
    final = engine.wait(engine.submit(ThumbnailJob(source=str(clip), count=3, height=16)), 60)
    assert final.kind == "done", final.message
    images = final.result["images"]
    assert len(images) == 3 and all(img.shape == (16, 32, 3) for img in images)


def test_render_job_from_unsaved_timeline_json(engine, clip, tmp_path):
    out = tmp_path / "cut.mp4"
    job = RenderJob(output=str(out), timeline_json=otio.adapters.write_to_string(one_clip_timeline(clip)),
                    range=(0.5, 1.0))
    final = engine.wait(engine.submit(job), 60)
    assert final.kind == "done", final.message
    assert final.result["frames"] == 4 and probe(out).video.frame_count == 4


def test_a_media_job_runs_while_a_model_job_is_busy(engine, clip, tmp_path):
    model_started = threading.Event()
    engine._on_event = lambda e: (engine.events.append(e), e.kind == "progress" and model_started.set())
    busy = engine.submit(GenerateJob(prompt="busy", seconds=1, seed=1, steps=300, output=str(tmp_path / "g.mp4")))
    assert model_started.wait(60)
    proxy = engine.submit(ProxyJob(source=str(clip), output=str(tmp_path / "p.mp4"), height=16))
    assert engine.wait(proxy, 60).kind == "done"
    assert engine.state(busy) == "running"
    engine.cancel(busy)
    assert engine.wait(busy, 60).kind == "cancelled"
    assert not (tmp_path / "g.mp4").exists()


def test_bad_media_jobs_fail_naming_the_file(engine, tmp_path):
    gone = tmp_path / "gone.mp4"
    final = engine.wait(engine.submit(ProxyJob(source=str(gone))), 60)
    assert final.kind == "failed" and "gone.mp4" in final.message
    final = engine.wait(engine.submit(RenderJob(output=str(tmp_path / "x.mp4"), project=str(tmp_path / "no.otio"))), 60)
    assert final.kind == "failed" and "no.otio" in final.message
    assert not (tmp_path / "x.mp4").exists()


def test_only_the_latest_finished_jobs_are_remembered(engine, clip, monkeypatch):
    import engine.engine_thread as et

    monkeypatch.setattr(et, "KEEP_FINISHED", 2)
    ids = [engine.submit(ThumbnailJob(source=str(clip), height=8)) for _ in range(4)]
    for job_id in ids[-2:]:
        assert engine.wait(job_id, 60).kind == "done"
    for job_id in ids[:2]:
        with pytest.raises(KeyError):
            engine.state(job_id)
    assert [engine.state(j) for j in ids[-2:]] == ["done", "done"]
