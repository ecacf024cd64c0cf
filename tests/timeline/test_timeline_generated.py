"""Generated clips: the recipe, takes, failure, provenance, and other apps' metadata kept."""
import opentimelineio as otio
import pytest

from timeline import CommandStack, Document, EditError
from timeline.generated import (RECIPE, AddTake, DropTake, MarkFailed, PlacePendingClip,
                                SwitchTake, make_pending_clip, take_keys)
from timeline.provenance import generated_segments, latentcut_metadata
from timeline_helpers import RT, TR, assert_roundtrip, frames, make_clip, snapshot

PARAMS = {"prompt": "a red ball moving left over a field at sunset, static camera",
          "negative_prompt": "blur", "seed": 7, "steps": 20, "guidance": 5.0, "strength": None,
          "size": (64, 36), "model": None, "seconds": 2.0}


def pending(name="shot 1", length=48):
    return make_pending_clip("generate", PARAMS, frames(length), name)


def test_pending_clip_holds_the_whole_recipe():
    clip = pending()
    refs = clip.media_references()
    assert list(refs.keys()) == [RECIPE] and clip.active_media_reference_key == RECIPE
    recipe = refs[RECIPE]
    assert isinstance(recipe, otio.schema.GeneratorReference)
    assert recipe.generator_kind == "latentcut.generate"
    assert recipe.parameters["seed"] == 7 and list(recipe.parameters["size"]) == [64, 36]
    md = clip.metadata["latentcut"]
    for key in ("generated", "op", "prompt", "negative_prompt", "seed", "steps", "guidance",
                "strength", "model", "source", "created", "engine_version", "status"):
        assert key in md
    assert md["status"] == "pending" and md["generated"] is True and md["source"] is None
    fill = make_pending_clip("fill", {"before": {"path": "/m/a.mp4", "start": 0, "stop": 24},
                                      "after": {"path": "/m/b.mp4", "start": 0, "stop": 24}},
                             frames(24))
    assert fill.metadata["latentcut"]["source"]["after"]["path"] == "/m/b.mp4"
    assert clip.duration() == frames(48)
    with pytest.raises(ValueError, match="op"):
        make_pending_clip("Generate!", PARAMS, frames(1))
    with pytest.raises(ValueError, match="duration"):
        make_pending_clip("generate", PARAMS, frames(0))
    with pytest.raises(ValueError, match="params.x"):
        make_pending_clip("generate", {"x": object()}, frames(1))


@pytest.fixture
def placed(doc):
    stack = CommandStack(doc)
    clip = pending()
    clip.metadata["resolve"] = {"flags": ["keep me"]}  # another application's metadata
    assert_roundtrip(stack, PlacePendingClip(clip, doc.video_tracks[0], frames(12)))
    return stack, clip


def test_place_overwrites_the_target_range(doc, placed):
    _, clip = placed
    track = doc.video_tracks[0]
    assert track[1] is clip and track.range_of_child(clip) == TR(RT(12, 24), RT(48, 24))
    with pytest.raises(EditError, match="not a generated clip"):
        PlacePendingClip(make_clip("plain"), track, frames(0))


def test_add_take_makes_it_active_and_done_and_undo_removes_it(doc, placed):
    stack, clip = placed
    before = snapshot(doc)
    prov = {"seed": 7, "model": {"name": "previz-v1", "sha256": "ab" * 32},
            "engine_version": "0.1.0", "created": "2026-11-24T06:00:00+00:00"}
    assert_roundtrip(stack, AddTake(clip, "/p/P_media/gen_0001.mp4", TR(RT(0, 24), RT(48, 24)), prov))
    assert take_keys(clip) == ["take-1"] and clip.active_media_reference_key == "take-1"
    md = clip.metadata["latentcut"]
    assert md["status"] == "done" and md["model"]["name"] == "previz-v1"
    assert md["engine_version"] == "0.1.0" and md["takes"]["take-1"]["seed"] == 7
    assert clip.metadata["resolve"]["flags"][0] == "keep me"
    assert clip.duration() == frames(48)
    stack.undo()
    assert snapshot(doc) == before and clip.active_media_reference_key == RECIPE


def test_takes_switch_and_drop(doc, placed):
    stack, clip = placed
    stack.push(AddTake(clip, "/m/t1.mp4", TR(RT(0, 24), RT(48, 24)), {"seed": 1}))
    stack.push(AddTake(clip, "/m/t2.mp4", TR(RT(0, 12), RT(24, 12)), {"seed": 2}))
    assert take_keys(clip) == ["take-1", "take-2"]
    assert clip.metadata["latentcut"]["seed"] == 2
    assert_roundtrip(stack, SwitchTake(clip, "take-1"))
    assert clip.media_reference.target_url == "/m/t1.mp4"
    assert clip.metadata["latentcut"]["seed"] == 1
    assert_roundtrip(stack, DropTake(clip, "take-1"))  # the active one: newest left takes over
    assert take_keys(clip) == ["take-2"] and clip.active_media_reference_key == "take-2"
    assert_roundtrip(stack, DropTake(clip, "take-2"))
    assert clip.active_media_reference_key == RECIPE
    assert clip.metadata["latentcut"]["status"] == "pending"
    stack.push(AddTake(clip, "/m/t3.mp4", TR(RT(0, 24), RT(48, 24))))
    assert take_keys(clip) == ["take-1"]  # numbering follows the takes that exist
    with pytest.raises(EditError, match="no take"):
        stack.push(SwitchTake(clip, "take-9"))
    with pytest.raises(EditError, match="no take"):
        stack.push(DropTake(clip, RECIPE))


def test_mark_failed_keeps_the_recipe_for_a_retry(doc, placed):
    stack, clip = placed
    assert_roundtrip(stack, MarkFailed(clip, "The model ran out of memory."))
    md = clip.metadata["latentcut"]
    assert md["status"] == "failed" and md["error"] == "The model ran out of memory."
    assert clip.active_media_reference_key == RECIPE
    stack.push(AddTake(clip, "/m/t1.mp4", TR(RT(0, 24), RT(48, 24))))
    assert clip.metadata["latentcut"]["status"] == "done"
    assert "error" not in clip.metadata["latentcut"]


def test_generated_segments_list_record_ranges_and_takes():
    doc = Document.new(rate=24)
    stack = CommandStack(doc)
    track = doc.video_tracks[0]
    track.append(make_clip("camera", 24))
    clip = pending(length=36)
    stack.push(PlacePendingClip(clip, track, frames(24)))
    stack.push(AddTake(clip, "/m/t1.mp4", TR(RT(0, 24), RT(36, 24)),
                       {"model": {"name": "previz-v1", "sha256": "ff"}}))
    # and one inside a nested stack on V1, starting 2 s in
    inner = otio.schema.Track()
    inner.append(otio.schema.Gap(source_range=TR(RT(0, 24), RT(12, 24))))
    inner.append(pending("nested", 24))
    nest = otio.schema.Stack(name="comp", children=[inner])
    track.append(nest)
    segs = generated_segments(doc.timeline)
    assert [(s["clip"], s["start_frame"], s["end_frame"], s["take"]) for s in segs] == [
        ("shot 1", 24, 60, "take-1"), ("nested", 72, 96, RECIPE)]
    assert segs[0]["start"] == 1.0 and segs[0]["end"] == 2.5
    assert segs[0]["path"] == "/m/t1.mp4" and segs[0]["model"]["name"] == "previz-v1"
    assert segs[0]["prompt"] == PARAMS["prompt"] and segs[1]["path"] is None


def test_latentcut_metadata_builder():
    md = latentcut_metadata("restyle", prompt="night", seed=3, model="previz-v1",
                            source={"path": "/m/a.mp4", "range": TR(RT(0, 24), RT(24, 24))},
                            engine_version="0.1.0", status="done")
    assert md["model"] == {"name": "previz-v1", "sha256": ""}
    assert md["created"].endswith("+00:00") and md["engine_version"] == "0.1.0"
    with pytest.raises(ValueError, match="status"):
        latentcut_metadata("generate", status="finished")
