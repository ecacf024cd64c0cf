"""Zooms as a digital zoom of a still scene (engine/model/zoom.py), read from the prompt by a head."""
import math

import numpy as np
import pytest
import torch

from engine.model.zoom import MAX_ZOOM_RATE, MAX_ZOOM_SCALE, MIN_ZOOM_RATE, zoom_frames, zoom_scales
from engine.requests import AnimateRequest, GenerateRequest
from engine.train import evaluate as ev
from engine.train.world import EVAL_SEED_START, Scene, render, sample_scene


def test_scales_start_or_end_on_the_whole_picture():
    rate = math.log(1.45) / 23  # the world's zoom over a 2 s clip at 12 fps
    zoom_in = zoom_scales(rate, 24)
    assert zoom_in[0] == 1.0 and math.isclose(zoom_in[-1], 1.45, rel_tol=1e-6)
    assert zoom_scales(-rate, 24) == zoom_in[::-1]  # a zoom out ends on the whole picture
    assert zoom_scales(MIN_ZOOM_RATE / 2, 24) == [1.0] * 24
    assert math.isclose(max(zoom_scales(rate, 240)), MAX_ZOOM_SCALE)  # a long shot's zoom is slowed


def test_a_frame_is_scaled_about_its_centre():
    video = torch.full((1, 3, 2, 40, 80), -1.0)
    video[:, :, :, 15:25, 30:50] = 1.0  # a 20x10 box in the middle
    out = zoom_frames(video, math.log(1.5))  # frame 1 at 1.5x
    assert torch.equal(out[:, :, 0], video[:, :, 0])
    bright = out[0, 0, 1] > 0
    cols, rows = bright.any(0).nonzero().flatten(), bright.any(1).nonzero().flatten()
    assert abs(int(cols[-1] - cols[0] + 1) - 30) <= 1 and abs(int(rows[-1] - rows[0] + 1) - 15) <= 1  # 1.5x
    assert (int(cols[0]) + int(cols[-1])) / 2 == pytest.approx(39.5, abs=0.5)


@pytest.mark.parametrize("move", ["zoom in", "zoom out"])
def test_a_digitally_zoomed_still_reads_as_the_zoom(move):
    scene = Scene(**{**sample_scene(EVAL_SEED_START + 7).to_dict(), "camera": "static"})
    still = render(scene, 256, 144, 24)
    x = torch.from_numpy(still).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    rate = math.log(1.45) / 23 * (1 if move == "zoom in" else -1)
    frames = ((zoom_frames(x, rate)[0].permute(1, 2, 3, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    assert ev.classify_camera(still) == "static" and ev.classify_camera(frames) == move


def _zoom_pipeline(tmp_path, rate):
    from test_pipeline import _camera_pipeline

    pipe, _, _ = _camera_pipeline(tmp_path, camera_zoom=True)
    _ask_for(pipe, rate)
    return pipe


def _ask_for(pipe, rate):
    """The zoom head asks for `rate` whatever the prompt."""
    with torch.no_grad():
        head = pipe.model.denoiser.zoom
        head.net[2].weight.zero_()
        head.net[2].bias.fill_(MAX_ZOOM_RATE * math.atanh(rate / MAX_ZOOM_RATE))


def test_generate_zooms_the_shot_the_head_asks_for(tmp_path):
    """The same shot without the zoom, then with it: each frame is the first's frame scaled by
    zoom_scales, the first at 1, the last 1.57x."""
    pipe = _zoom_pipeline(tmp_path, 0.0)
    request = GenerateRequest(prompt="zoom in", seconds=2.0, steps=2, rate=8, seed=1)
    plain = pipe.generate(request).frames
    _ask_for(pipe, 0.03)
    zoomed = pipe.generate(request).frames
    x = torch.from_numpy(plain).permute(3, 0, 1, 2)[None].float()
    expected = zoom_frames(x, 0.03)[0].permute(1, 2, 3, 0).numpy()
    assert np.abs(zoomed.astype(float) - expected).mean() < 1.0
    assert np.array_equal(zoomed[0], plain[0]) and np.abs(zoomed[-1].astype(int) - plain[-1]).mean() > 10
    assert zoom_scales(0.03, len(plain))[-1] == pytest.approx(math.exp(0.03 * 15))


def test_an_animated_still_does_not_zoom_out_of_itself(tmp_path):
    still = np.random.default_rng(0).integers(0, 256, (32, 64, 3), dtype=np.uint8)
    frames = _zoom_pipeline(tmp_path, -0.03).animate(AnimateRequest(image=still, prompt="zoom out", seconds=2.0,
                                                                    steps=2, rate=8)).frames
    assert np.abs(frames[0].astype(int) - still.astype(int)).max() <= 1  # the shot starts on the still


def test_a_zoom_head_needs_the_camera_frame():
    from engine.model.config import ModelConfig

    with pytest.raises(ValueError, match="camera_zoom"):
        ModelConfig(camera_zoom=True).validate()
