"""The shipped previz-v1 model (slow: CI runs these): it loads offline, makes a clip through the
CLI, and passes a small attribute check. The thresholds are what the shipped CPU-trained weights
really achieve (see resources/models/previz-v1/MODEL_CARD.md), not the 90% aim."""
import json

import numpy as np
import pytest
from safetensors import safe_open

from engine.backends.embedded import EMBEDDED_MODEL_DIR
from engine.train import evaluate as ev
from engine.train.captions import prompt
from engine.train.world import EVAL_SEED_START, TIMES_OF_DAY, sample_scene
from engine.requests import GenerateRequest

pytestmark = pytest.mark.slow

# The shipped weights get all 6 right (measured); 12 held-out prompts give 1.00, 0.67 phrased freely (MODEL_CARD.md).
MIN_SKY_ACCURACY = 2 / 3
# previz-v13 moved the subject as asked in 8 of 12 held-out prompts (0.67; MODEL_CARD.md).
MIN_PATH_ACCURACY = 1 / 2


@pytest.fixture(scope="module")
def pipe():
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from engine.backends import load_backend

    return load_backend(None, device="cpu")


def test_shipped_folder_is_complete_and_small():
    files = {p.name: p.stat().st_size for p in EMBEDDED_MODEL_DIR.iterdir()}
    assert {"config.json", "model.safetensors", "MODEL_CARD.md"} <= set(files)
    assert sum(files.values()) <= 60 * 2**20
    config = json.loads((EMBEDDED_MODEL_DIR / "config.json").read_text())
    assert config["_class_name"] == "LatentCutLDM" and config["name"] == "previz-v1"
    assert (config["width"], config["height"], config["frames"], config["fps"]) == (256, 144, 24, 12.0)
    with safe_open(str(EMBEDDED_MODEL_DIR / "model.safetensors"), "pt") as f:
        assert {str(f.get_tensor(k).dtype) for k in f.keys()} == {"torch.float16"}
    card = (EMBEDDED_MODEL_DIR / "MODEL_CARD.md").read_text().lower()
    for needed in ("procedural", "steps", "device", "wall time", "limitations", "previsualization", "evaluation"):
        assert needed in card


def test_shipped_model_loads_offline_as_the_default(pipe):
    assert pipe.name == "previz-v1" and pipe.native_size == (256, 144) and pipe.native_rate == 12.0
    assert set(pipe.operations) == {"generate", "animate", "extend", "fill", "restyle"}


def test_sky_colour_follows_the_time_of_day(pipe):
    hits = []
    for i, time_of_day in enumerate(TIMES_OF_DAY * 2):
        scene = next(s for s in (sample_scene(EVAL_SEED_START + 2000 + i * 50 + k) for k in range(50))
                     if s.time_of_day == time_of_day)
        clip = pipe.generate(GenerateRequest(prompt=prompt(scene), seconds=2.0, seed=i)).frames
        assert clip.shape == (24, 144, 256, 3)
        hits.append(ev.classify_time_of_day(clip) == time_of_day)
    assert np.mean(hits) >= MIN_SKY_ACCURACY, hits


def test_pans_and_tilts_follow_the_prompt_and_extend_continues_them(pipe):
    """The camera head's drift (MODEL_CARD.md: 0.83 of fixed wordings, every pan and tilt among them)
    on held-out prompts, and extend carrying on the move a rendered clip shows."""
    from engine.requests import ExtendRequest
    from engine.train.world import Scene, render

    base = sample_scene(EVAL_SEED_START + 3, subject_probability=1.0).to_dict()
    for i, camera in enumerate(("pan left", "pan right", "tilt up", "tilt down")):
        scene = Scene(**{**base, "camera": camera})
        clip = pipe.generate(GenerateRequest(prompt=prompt(scene), seconds=2.0, seed=i)).frames
        assert ev.classify_camera(clip) == camera, camera
    scene = Scene(**{**base, "camera": "pan right"})
    new = pipe.extend(ExtendRequest(frames=render(scene, 256, 144, 24), seconds=2.0, direction="tail",
                                    prompt=prompt(scene), seed=0, rate=12.0)).frames
    assert ev.classify_camera(new) == "pan right"


def test_cli_generate_with_the_shipped_model(tmp_path):
    from desktop.cli import main
    from engine.media.probe import probe

    out = tmp_path / "shot.mp4"
    assert main(["generate", "zoom in on a yellow box in a city, day", "-o", str(out), "--seed", "3",
                 "--device", "cpu", "--threads", "2"]) == 0
    info = probe(out)
    assert (info.video.width, info.video.height) == (256, 144)
    assert info.video.frame_count == round(2.0 * info.video.rate) and info.video.rate >= 12
    provenance = json.loads(info.metadata["latentcut"])
    assert provenance["model"]["name"] == "previz-v1" and provenance["op"] == "generate"


def test_the_step_preview_has_the_result_colours(pipe):
    """The Jobs panel's step preview is a blurry version of the result: at the last step its mean
    colour is within 20 levels of the decoded frame's on held-out prompts (previz-v1's preview,
    refitted on 24 of its own samples: 1, 2 and 4 levels; for the previous weights 17, 3 and 17;
    fitted on encoded world clips it was 48, 7 and 65)."""
    offs = []
    for i in range(3):
        scene = sample_scene(EVAL_SEED_START + 3000 + i)
        previews = []
        out = pipe.generate(GenerateRequest(prompt=prompt(scene), seconds=2.0, seed=i,
                                            callback=lambda s, t, p: previews.append(p)))
        result = out.frames[out.frames.shape[0] // 2].reshape(-1, 3).mean(0)
        offs.append(float(np.abs(previews[-1].reshape(-1, 3).mean(0) - result).max()))
    assert max(offs) <= 20, offs


def test_subject_colour_follows_the_prompt(pipe):
    """Each subject colour on a held-out scene (MODEL_CARD.md: 1.00 of 12 fixed wordings)."""
    from engine.train.world import COLORS

    hits = []
    for i, color in enumerate(COLORS):
        scene = next(s for s in (sample_scene(EVAL_SEED_START + 4000 + i * 50 + k, subject_probability=1.0)
                                 for k in range(50)) if s.color == color)
        clip = pipe.generate(GenerateRequest(prompt=prompt(scene), seconds=2.0, seed=i)).frames
        hits.append(ev.classify_color(clip) == color)
    assert np.mean(hits) >= 0.8, hits


def test_zooms_follow_the_prompt_and_a_still_shot_stays_still(pipe):
    from engine.train.world import Scene

    base = sample_scene(EVAL_SEED_START + 5, subject_probability=1.0).to_dict()
    for i, camera in enumerate(("zoom in", "zoom out", "static")):
        scene = Scene(**{**base, "camera": camera, "motion": "still"})
        clip = pipe.generate(GenerateRequest(prompt=prompt(scene), seconds=2.0, seed=i)).frames
        assert ev.classify_camera(clip) == camera, camera


def test_extend_continues_a_zoom_both_ways(pipe):
    """A rendered zoom extended after its end and before its start, each the way that sees inside the
    clip's frame and the way that sees outside it (model/zoom.py)."""
    from engine.requests import ExtendRequest
    from engine.train.world import Scene, render

    base = sample_scene(EVAL_SEED_START + 5, subject_probability=1.0).to_dict()
    for i, camera in enumerate(("zoom in", "zoom out")):
        scene = Scene(**{**base, "camera": camera})
        clip = render(scene, 256, 144, 24)
        for direction in ("tail", "head"):
            new = pipe.extend(ExtendRequest(frames=clip, seconds=2.0, direction=direction, prompt=prompt(scene),
                                            seed=i, rate=12.0)).frames
            assert ev.classify_camera(new) == camera, (camera, direction)


def test_an_animated_still_zooms_either_way_from_the_still(pipe):
    from engine.requests import AnimateRequest
    from engine.train.ceiling import psnr
    from engine.train.world import Scene, render

    base = sample_scene(EVAL_SEED_START + 5, subject_probability=1.0).to_dict()
    for i, camera in enumerate(("zoom in", "zoom out")):
        scene = Scene(**{**base, "camera": camera, "motion": "still"})
        still = render(scene, 256, 144, 1)[0]
        clip = pipe.animate(AnimateRequest(image=still, prompt=prompt(scene), seconds=2.0, seed=i)).frames
        assert psnr(clip[0], still) >= 30 and ev.classify_camera(clip) == camera, camera


def test_extend_and_fill_meet_the_clip_and_frames_do_not_flicker(pipe):
    """Seams no bigger than 1.5 frame-to-frame changes (MODEL_CARD.md: every extend seam, two
    fills of three), and brightness as steady as the world's footage (deflicker)."""
    from engine.requests import ExtendRequest, FillRequest
    from engine.train.world import render

    scene = sample_scene(EVAL_SEED_START + 6, subject_probability=1.0)
    clip = render(scene, 256, 144, 48)
    new = pipe.extend(ExtendRequest(frames=clip[:24], seconds=2.0, direction="tail", prompt=prompt(scene), seed=0,
                                    rate=12.0)).frames
    assert ev.seam_ratio(clip[:24], new) <= 1.5
    assert ev.flicker(new) <= 2 * max(ev.flicker(clip[:24]), 0.03)
    filled = pipe.fill(FillRequest(before_frames=clip[:18], after_frames=clip[-18:], seconds=1.0,
                                   prompt=prompt(scene), seed=0, rate=12.0)).frames
    assert ev.seam_ratio(clip[:18], filled) <= 1.5 and ev.seam_ratio(filled, clip[-18:]) <= 1.5


def test_the_subject_moves_the_way_the_prompt_says(pipe):
    """Two held-out scenes each of a subject moving left, moving right and standing still
    (MODEL_CARD.md: subject path, with the subject condition)."""
    hits = []
    for motion in ("left", "right", "still"):
        scenes = [s for s in (sample_scene(EVAL_SEED_START + 5000 + k, subject_probability=1.0) for k in range(60))
                  if s.motion == motion][:2]
        for i, scene in enumerate(scenes):
            clip = pipe.generate(GenerateRequest(prompt=prompt(scene), seconds=2.0, seed=i)).frames
            hits.append(ev.classify_motion(clip) == motion)
    assert np.mean(hits) >= MIN_PATH_ACCURACY, hits


def test_the_autoencoder_carries_every_attribute_in_the_camera_frame():
    """The ceiling as the pipeline encodes and decodes a given clip (MODEL_CARD.md: over 24 held-out
    clips 1.00 on every attribute but camera, 0.96; subject 25.9 dB, 24.4 dB over these 8); as
    they are, pans and zooms inside 4 frames blur."""
    from engine.model.loading import load_model
    from engine.train.ceiling import autoencoder_ceiling

    ceiling = autoencoder_ceiling(load_model(EMBEDDED_MODEL_DIR), 8, camera_frame=True)
    assert min(ceiling[k] for k in ("time_of_day", "camera", "color", "motion")) == 1.0, ceiling
    assert ceiling["subject_psnr"] >= 24.0, ceiling
