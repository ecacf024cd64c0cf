"""The operation registry, the typed requests, the storyboard rule and the result-to-take step:
one home each, read by the app, the CLI and the engine."""
import dataclasses

import numpy as np
import opentimelineio as otio
import pytest

from engine.jobs import SEED_MAX, ExtendJob, FillJob, GenerateJob, MediaInput, RestyleJob
from engine.operations import ACTIONS, OPERATIONS, SELECTION_KINDS, operation_of
from engine.requests import REQUESTS, ExtendRequest, FillRequest, GenerateRequest, RestyleRequest
from engine.storyboard import shot_seed, storyboard_shots
from timeline import Document
from timeline.generated import PlacePendingClip, take_from_result
from timeline.storyboard import Shot

FRAMES = np.zeros((3, 8, 8, 3), np.uint8)


def test_every_operation_has_its_job_request_and_backend_method_name():
    from engine.pipeline import LatentCutPipeline

    for name, op in OPERATIONS.items():
        assert op.job.op == name and op.request.op == name and REQUESTS[name] is op.request
        assert callable(getattr(LatentCutPipeline, name))
        assert len(op.inputs) == len(op.edges)
        assert all(a.selections <= set(SELECTION_KINDS) for a in op.actions)
    assert list(ACTIONS) == ["generate", "fill", "extend_head", "extend_tail", "restyle", "animate"]
    assert operation_of("extend_head") is OPERATIONS["extend"] is operation_of(ExtendJob)
    with pytest.raises(ValueError, match="op: unknown operation 'sharpen'"):
        operation_of("sharpen")


def test_defaults_live_in_the_job_classes():
    assert OPERATIONS["restyle"].defaults()["strength"] == RestyleJob(prompt="x", source="a.mp4").strength == RestyleRequest(frames=FRAMES).strength
    assert OPERATIONS["generate"].defaults()["seed"] is None  # the engine draws and records one


def test_request_for_maps_job_fields_and_decoded_media():
    job = FillJob(prompt="bridge", seconds=1.5, steps=3, before=MediaInput("a.mp4"), after=MediaInput("b.mp4"))
    req = OPERATIONS["fill"].request_for(job, {"before": FRAMES, "after": FRAMES[::-1]}, 24.0, seed=9)
    assert isinstance(req, FillRequest)
    assert (req.prompt, req.seconds, req.steps, req.seed, req.rate) == ("bridge", 1.5, 3, 9, 24.0)
    assert req.after_frames[0] is not None and req.before_frames.shape == (3, 8, 8, 3)
    ext = ExtendJob(direction="head", source=MediaInput("a.mp4"))
    assert OPERATIONS["extend"].request_for(ext, {"source": FRAMES}, None, 0).direction == "head"


def test_requests_are_frozen_and_check_every_field_with_one_seed_range():
    req = GenerateRequest(prompt="x", seconds=1, size=[64, 32])
    assert req.size == (64, 32) and req.seconds == 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        req.seed = 3
    GenerateRequest(prompt="x", seconds=1, seed=SEED_MAX)
    for bad in (-1, SEED_MAX + 1, 1.5, True):
        with pytest.raises(ValueError, match="^seed:"):
            GenerateRequest(prompt="x", seconds=1, seed=bad)
        with pytest.raises(ValueError, match="^seed:"):
            GenerateJob(seed=bad)
    with pytest.raises(ValueError, match="^direction:"):
        ExtendRequest(frames=FRAMES, seconds=1, direction="middle")
    with pytest.raises(ValueError, match="^frames:"):
        ExtendRequest(frames=FRAMES.astype(np.float32), seconds=1)


def test_storyboard_shots_lie_end_to_end_with_the_seed_rule():
    shots = [Shot(1.0, "day"), Shot(0.5, "night"), Shot(2.0, "sunset")]
    board = storyboard_shots(shots, {"steps": 2, "seed": 40, "output": "media"}, 24.0)
    assert [s.job.seed for s in board] == [40, 41, 42] == [shot_seed(40, i) for i in range(3)]
    assert [s.start.value for s in board] == [0, 24, 36]
    assert [s.clip.name for s in board] == ["shot 1", "shot 2", "shot 3"]
    assert board[1].clip.media_references()["recipe"].parameters["prompt"] == "night"
    assert [s.job.seed for s in storyboard_shots(shots, {"seed": None}, 24.0)] == [None] * 3


def test_take_from_result_adds_the_whole_file_as_a_take():
    doc = Document.new(rate=24)
    clip = storyboard_shots([Shot(1.0, "day")], {}, 24.0)[0].clip
    PlacePendingClip(clip, doc.video_tracks[0], otio.opentime.RationalTime(0, 24)).do(doc)
    take_from_result(clip, {"path": "/m/t.mp4", "frames": 30, "rate": 30.0, "provenance": {"seed": 5}}).do(doc)
    ref = clip.media_reference
    assert clip.active_media_reference_key == "take-1" and ref.target_url == "/m/t.mp4"
    assert ref.available_range.duration == otio.opentime.RationalTime(30, 30)
    assert clip.metadata["latentcut"]["seed"] == 5 and clip.duration().value == 24
