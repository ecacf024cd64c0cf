"""The generation flow beyond the happy path: cancel/failure and retry, regenerate, takes, fill,
animate a still, and requests that cannot be served."""
import numpy as np
import opentimelineio as otio
import pytest
from PySide6.QtCore import QPointF

from desktop.timeline_items import generation_status, media_path
from engine.media.reader import FrameReader

TIMEOUT = 180_000


@pytest.fixture
def cut(window, media):
    """red 0-12, a 12-frame gap, blue 24-36 on V1; tiny model settings in the Generate panel."""
    window.edits.place_media(media[:1], window.document.video_tracks[0], 0)
    window.edits.place_media(media[1:], window.document.video_tracks[0], 24)
    window.generate_panel.set_params({"prompt": "a green box in a city, day", "steps": 2, "seconds": 0.5})
    return window


def v1(window):
    return list(window.document.video_tracks[0])


def wait_status(qtbot, clip, status):
    ends = {status, "done", "failed"}
    qtbot.waitUntil(lambda: generation_status(clip) in ends, timeout=TIMEOUT)
    assert generation_status(clip) == status, clip.metadata["latentcut"].get("error")


def frames_of(clip):
    reader = FrameReader(media_path(clip.media_reference))
    try:
        return np.stack([reader.read(i) for i in range(reader.frame_count)])
    finally:
        reader.close()


def test_cancel_marks_failed_and_retry_from_the_jobs_panel_fills_it(qtbot, cut):
    params = dict(cut.generate_panel.params(), steps=400)
    handle = cut.generation.request("generate", params, v1(cut)[1])
    clip = v1(cut)[1]
    handle.cancel()
    wait_status(qtbot, clip, "failed")
    assert clip.metadata["latentcut"]["error"] == "cancelled"
    assert "recipe" in clip.media_references() and clip.active_media_reference_key == "recipe"
    assert "failed" in cut.canvas.tooltip_at(QPointF(cut.canvas.x_of(14), cut.canvas.row_top(0) + 20)).lower()
    cut.jobs_panel.card(handle.id).retry_button.click()
    qtbot.waitUntil(lambda: clip.active_media_reference_key == "take-1", timeout=TIMEOUT)
    assert generation_status(clip) == "done"


def test_regenerate_same_seed_gives_the_same_frames_and_a_new_take(qtbot, cut):
    cut.generation.request("generate", cut.generate_panel.params(), v1(cut)[1])
    clip = v1(cut)[1]
    wait_status(qtbot, clip, "done")
    first = frames_of(clip)
    menu = cut.canvas.context_menu_for(QPointF(cut.canvas.x_of(14), cut.canvas.row_top(0) + 20))
    next(a for a in menu.actions() if a.objectName() == "ctx_regenerate_same").trigger()
    qtbot.waitUntil(lambda: clip.active_media_reference_key == "take-2", timeout=TIMEOUT)
    assert np.array_equal(frames_of(clip), first)
    assert cut.canvas.look(clip).takes == 2
    cut.inspector.regenerate_requested.emit(clip, False)   # "new seed" from the Inspector
    qtbot.waitUntil(lambda: clip.active_media_reference_key == "take-3", timeout=TIMEOUT)
    takes = clip.metadata["latentcut"]["takes"]
    assert takes["take-3"]["seed"] != takes["take-1"]["seed"]


def test_takes_menu_switches_and_deletes(qtbot, cut):
    cut.generation.request("generate", cut.generate_panel.params(), v1(cut)[1])
    clip = v1(cut)[1]
    wait_status(qtbot, clip, "done")
    cut.generation.retry(clip, same_seed=False)
    qtbot.waitUntil(lambda: clip.active_media_reference_key == "take-2", timeout=TIMEOUT)
    menu = cut.canvas.context_menu_for(QPointF(cut.canvas.x_of(14), cut.canvas.row_top(0) + 20))
    takes = next(a.menu() for a in menu.actions() if a.menu() is not None)
    by_name = {a.objectName(): a for a in takes.actions()}
    by_name["ctx_switch_take_take-1"].trigger()
    assert clip.active_media_reference_key == "take-1"
    by_name["ctx_drop_take_take-2"].trigger()
    assert "take-2" not in clip.media_references()
    cut.undo_stack.undo()
    assert "take-2" in clip.media_references()


def test_fill_uses_both_neighbours(qtbot, cut):
    gap = v1(cut)[1]
    cut.edits.set_selection([gap])
    assert cut.generation.selection_kind()[0] == "gap"
    cut.generate("fill")
    clip = v1(cut)[1]
    params = clip.media_references()["recipe"].parameters
    assert params["kind"] == "fill"
    assert params["before"]["path"].endswith("red.mp4") and params["after"]["path"].endswith("blue.mp4")
    wait_status(qtbot, clip, "done")
    assert cut.canvas.index.layout_of(cut.document.video_tracks[0]).range_of(clip) == (12, 24)


def test_animate_a_still(qtbot, window, tmp_path):
    import av

    still = tmp_path / "still.png"
    image = np.zeros((36, 64, 3), np.uint8)
    image[10:20, 20:40] = (240, 200, 30)
    with av.open(str(still), "w", format="image2") as container:
        stream = container.add_stream("png")
        stream.width, stream.height, stream.pix_fmt = 64, 36, "rgb24"
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    window.edits.place_media([str(still)], window.document.video_tracks[0], 0)
    placed = v1(window)[0]
    assert placed.duration().to_seconds() == pytest.approx(5.0)
    window.edits.set_selection([placed])
    assert window.generation.selection_kind()[0] == "still"
    window.generate_panel.set_params({"prompt": "zoom in", "steps": 2})
    window.generate("animate")
    animated = window.document.video_tracks[1][0]
    assert animated.media_references()["recipe"].parameters["kind"] == "animate"
    wait_status(qtbot, animated, "done")


def test_requests_that_cannot_be_served_say_why_and_change_nothing(cut):
    messages = []
    cut.generation.message.connect(messages.append)
    before = otio.adapters.write_to_string(cut.document.timeline)
    red = v1(cut)[0]
    assert cut.generation.request("extend_head", cut.generate_panel.params(), red) is None
    assert "No room before" in messages[-1]
    assert cut.generation.request("restyle", dict(cut.generate_panel.params(), prompt=""), red) is None
    assert "prompt" in messages[-1]
    job, _ = cut.generation.build("restyle", dict(cut.generate_panel.params(), prompt="a field at night",
                                                  structure_weight=0.25), red)
    assert job.structure_weight == 0.25  # the panel's Structure reaches the restyle
    assert cut.generation.request("fill", cut.generate_panel.params(), red) is None
    assert "gap" in messages[-1]
    assert otio.adapters.write_to_string(cut.document.timeline) == before and cut.undo_stack.count() == 2


def test_an_animatic_with_a_locked_seed_gets_the_clis_seeds(qtbot, window):
    """Shot i gets seed + i, as `latentcut storyboard --seed` gives it (engine.storyboard)."""
    from timeline.storyboard import Shot

    panel = window.generate_panel
    panel.set_params({"seed": 40, "steps": 1})
    panel.seed_lock.setChecked(True)
    window.build_animatic([Shot(0.25, "a red ball"), Shot(0.25, "a blue box"), Shot(0.25, "night")])
    track = next(t for t in window.document.video_tracks if t.name == "Storyboard")
    seeds = [clip.media_references()["recipe"].parameters["seed"] for clip in track]
    assert seeds == [40, 41, 42]
    for clip in track:
        wait_status(qtbot, clip, "done")
    assert [clip.metadata["latentcut"]["seed"] for clip in track] == [40, 41, 42]
