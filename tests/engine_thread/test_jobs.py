"""Job specs: JSON round trip for every kind, and bad specs rejected with the field named."""
import json

import pytest

from engine.jobs import (AnimateJob, ExtendJob, FillJob, GenerateJob, Job, MediaInput, ProxyJob, RenderJob,
                         RestyleJob, ThumbnailJob, job_from_dict, job_from_json)

EVERY_KIND = [
    GenerateJob(prompt="a red ball moving left over a field at sunset", seconds=1.5, size=(64, 32), rate=8,
                seed=7, steps=3, guidance=2.5, model="/models/x", device="cpu", output="out/"),
    AnimateJob(prompt="zoom in", image=MediaInput("still.png"), output="a.mp4"),
    ExtendJob(source=MediaInput("clip.mp4", 4, 12), direction="head", seconds=1, output="media"),
    FillJob(before="a.mp4", after=MediaInput("b.mp4", 0, 6), prompt="pan right", output="media"),
    RestyleJob(source="clip.mp4", prompt="night", strength=0.4, structure_weight=0.5, output="r.mov"),
    RenderJob(output="cut.mp4", project="cut.otio", range=(1.0, 2.5), size=(320, 180), rate=25),
    RenderJob(output="cut.mp4", timeline_json='{"OTIO_SCHEMA": "Timeline.1"}', base_dir="/p"),
    ProxyJob(source="clip.mp4", output="clip.proxy.mp4", height=135),
    ThumbnailJob(source="clip.mp4", count=4, height=48),
]


@pytest.mark.parametrize("job", EVERY_KIND, ids=lambda j: j.kind)
def test_every_job_kind_round_trips_through_json(job):
    text = job.to_json()
    assert json.loads(text)["kind"] == job.kind
    again = job_from_json(text)
    assert type(again) is type(job)
    assert again == job
    assert Job.from_json(text) == job
    assert type(job).from_json(text) == job


def test_inputs_are_listed_for_the_model_jobs():
    fill = EVERY_KIND[3]
    assert [i.path for i in fill.inputs()] == ["a.mp4", "b.mp4"]
    assert GenerateJob(prompt="x").inputs() == []
    assert EVERY_KIND[2].inputs()[0] == MediaInput("clip.mp4", 4, 12)


def test_output_names_a_file_or_a_folder():
    assert GenerateJob(output="shot.mp4").output_is_file
    assert GenerateJob(output="shot.MOV").output_is_file
    assert not GenerateJob(output="project_media").output_is_file


@pytest.mark.parametrize("make, field", [
    (lambda: GenerateJob(seconds=0), "seconds"),
    (lambda: GenerateJob(seconds=-1), "seconds"),
    (lambda: GenerateJob(size=(64, 0)), "size"),
    (lambda: GenerateJob(steps=0), "steps"),
    (lambda: GenerateJob(rate=0), "rate"),
    (lambda: ExtendJob(source="a.mp4", direction="middle"), "direction"),
    (lambda: ExtendJob(), "source"),
    (lambda: FillJob(before="a.mp4"), "after"),
    (lambda: RestyleJob(source="a.mp4", prompt="x", strength=1.5), "strength"),
    (lambda: RestyleJob(source="a.mp4"), "prompt"),
    (lambda: MediaInput("a.mp4", 5, 5), "stop"),
    (lambda: MediaInput("a.mp4", -1), "start"),
    (lambda: RenderJob(output="x.mp4"), "project"),
    (lambda: RenderJob(output="x.mp4", project="p.otio", range=(3, 2)), "range"),
    (lambda: RenderJob(project="p.otio"), "output"),
    (lambda: ProxyJob(), "source"),
    (lambda: ThumbnailJob(source="a.mp4", count=0), "count"),
])
def test_bad_specs_name_the_field(make, field):
    with pytest.raises(ValueError, match=field):
        make()


def test_unknown_kind_or_field_is_rejected():
    with pytest.raises(ValueError, match="kind"):
        job_from_dict({"kind": "teleport"})
    with pytest.raises(ValueError, match="kind"):
        job_from_dict({"prompt": "x"})
    with pytest.raises(ValueError, match="colour"):
        job_from_dict({"kind": "generate", "colour": "red"})
    with pytest.raises(ValueError, match="kind"):
        GenerateJob.from_json(ProxyJob(source="a.mp4").to_json())
