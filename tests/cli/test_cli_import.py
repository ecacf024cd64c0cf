"""`latentcut add` on real files: picture with sound becomes linked V1 and A1 clips (and the
render keeps the sound), a still lasts 5 s unless --still-seconds says otherwise, and a file
LatentCut generated comes back as a generated clip with its recipe."""
from fractions import Fraction

import numpy as np
import pytest

from media_fixtures import encode


def load(path):
    from timeline.project import load_project
    return load_project(path)


@pytest.fixture
def project(cli, tmp_path):
    path = tmp_path / "film.otio"
    assert cli("new", path, "--rate", "24", "--size", "64x36").rc == 0
    return path


def test_video_with_sound_becomes_linked_picture_and_sound_and_renders_with_it(cli, tmp_path, project):
    from engine.media.probe import probe
    from engine.media.reader import read_audio
    from timeline.links import partners

    film = encode(tmp_path / "a.mp4", 24, Fraction(24), audio=True)
    res = cli("add", project, film)
    assert res.rc == 0, res.err
    assert "V1 and A1" in res.out
    doc = load(project)
    (video,), (audio,) = doc.track_named("V1").find_clips(), doc.track_named("A1").find_clips()
    assert partners(doc, video) == [audio]
    assert video.duration() == audio.duration() and doc.range_of(audio) == doc.range_of(video)
    out = tmp_path / "film.mp4"
    assert cli("render", project, out).rc == 0
    assert probe(out).audio is not None
    sound = read_audio(out)
    assert float(np.sqrt(np.mean(sound ** 2))) > 0.1  # the 0.4-amplitude tone, not silence


def test_a_still_lasts_five_seconds_unless_told_otherwise(cli, tmp_path, project, still):
    assert cli("add", project, still).rc == 0
    assert cli("add", project, still, "--still-seconds", "2", "--track", "V2").rc == 0
    doc = load(project)
    assert doc.track_named("V1").duration().to_seconds() == pytest.approx(5.0)
    assert doc.track_named("V2").duration().to_seconds() == pytest.approx(2.0)
    res = cli("add", project, still, "--still-seconds", "0")
    assert res.rc == 2 and "--still-seconds" in res.err


def test_a_generated_file_keeps_its_marking_and_recipe(cli, tmp_path, project):
    from engine.jobs import GenerateJob
    from engine.media.probe import probe
    from engine.results import build_provenance, write_result

    job = GenerateJob(prompt="a red ball, day", seed=7, steps=3, output=str(tmp_path / "shot.mp4"))
    frames = np.full((12, 36, 64, 3), 90, np.uint8)
    provenance = build_provenance(job, {}, frames, 24.0, "previz-v1", "ab" * 32, "0.1.0")
    shot = write_result(frames, 24.0, provenance, tmp_path / "shot.mp4")["path"]
    res = cli("add", project, shot)
    assert res.rc == 0 and "AI-generated" in res.out
    (clip,) = load(project).track_named("V1").find_clips()
    md = clip.metadata["latentcut"]
    assert md["generated"] and md["status"] == "done" and md["seed"] == 7 and md["prompt"] == "a red ball, day"
    assert clip.active_media_reference_key == "take-1"
    recipe = clip.media_references()["recipe"]
    assert recipe.generator_kind == "latentcut.generate" and recipe.parameters["prompt"] == "a red ball, day"
    out = tmp_path / "cut.mp4"
    assert cli("render", project, out).rc == 0
    assert "no AI" not in probe(out).metadata.get("comment", "")
    assert '"seed": 7' in probe(out).metadata["latentcut"]
    edl = tmp_path / "cut.edl"
    assert cli("export", project, edl).rc == 0
    assert "AI-GENERATED" in edl.read_text()
