"""Checks made before a model loads: lengths and sizes have upper bounds, a size is rounded to
the model's grid (with a warning) and one far from the model's native size is named, prompt
words the embedded model does not know are named, as is a prompt that names no scene, and a
storyboard line asking for an enormous shot is refused with its line number."""
import pytest

from engine.jobs import GenerateJob
from engine.preflight import check_job

FAST = ["--steps", "2", "--seed", "5"]


@pytest.mark.parametrize("args, word", [
    (["--seconds", "1e9"], "--seconds"),
    (["--steps", "100000"], "--steps"),
    (["--size", "100000x100"], "--size"),
    (["--rate", "100000"], "--rate"),
    (["--guidance", "-3"], "--guidance"),
])
def test_every_length_has_an_upper_bound_checked_before_any_work(cli, tmp_path, args, word):
    res = cli("generate", "a red ball", "-o", tmp_path / "x.mp4", *args)
    assert res.rc == 2 and word in res.err and "started" not in res.err


def test_the_embedded_model_rounds_sizes_names_far_ones_and_unknown_words():
    job, notes = check_job(GenerateJob(prompt="a purple dragon over the sea", size=(1920, 1080)))
    assert job.size == (1920, 1088) and job.steps is not None
    assert "1920x1080 to 1920x1088" in notes[0]
    assert "256x144" in notes[1] and "texture" in notes[1]
    assert "'purple'" in notes[2] and "'dragon'" in notes[2] and "'sea'" not in notes[2]
    job, notes = check_job(GenerateJob(prompt="a red ball moving left over a field at sunset, static camera",
                                       size=(256, 144)))
    assert notes == []
    # a move put together from the captions' parts is known, word by word
    assert check_job(GenerateJob(prompt="a red ball over a field at sunset, the view veers skyward",
                                 size=(256, 144)))[1] == []


def test_a_prompt_that_names_no_scene_is_warned_about():
    """Every previz caption names its setting; a look alone ("at night") came out at sunset."""
    for prompt in ("at night", "after dark", "pan left"):
        (note,) = check_job(GenerateJob(prompt=prompt, size=(256, 144)))[1]
        assert "name the scene" in note and "'a field at night'" in note
    for prompt in ("a field at night", "a red cube at night", "by the shore after dark", ""):
        assert check_job(GenerateJob(prompt=prompt, size=(256, 144)))[1] == []


def test_the_command_line_warns_before_loading_and_makes_the_rounded_size(cli, tmp_path, tiny_model):
    from engine.media.probe import probe

    out = tmp_path / "x.mp4"
    res = cli("generate", "a purple ball", "-o", out, "--size", "70x30", "--model", tiny_model, *FAST)
    assert res.rc == 0, res.err
    warned = res.err.index("rounded from 70x30 to 64x32")
    assert warned < res.err.index("started") and res.err.index("'purple'") < res.err.index("started")
    assert (probe(out).video.width, probe(out).video.height) == (64, 32)


def test_a_storyboard_line_asking_for_an_enormous_shot_is_refused_with_its_line(cli, tmp_path, tiny_model):
    shots = tmp_path / "shots.txt"
    shots.write_text("1: a red ball\n100000: a red ball\n")
    res = cli("storyboard", shots, "-o", tmp_path / "board.otio", "--model", tiny_model)
    assert res.rc == 1 and "line 2" in res.err and "600" in res.err and "started" not in res.err
    assert not (tmp_path / "board.otio").exists()
