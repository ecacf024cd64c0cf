"""Brightness pumping taken out of new frames (engine/model/deflicker.py)."""
import numpy as np
import torch

import engine.pipeline as pipeline_module
from engine.model.deflicker import deflicker
from engine.requests import GenerateRequest, RestyleRequest
from engine.train import evaluate as ev


def _clip(means):
    """[1,3,T,4,6] frames: a fixed picture plus each frame's brightness offset."""
    picture = torch.linspace(-0.5, 0.5, 3 * 4 * 6).reshape(1, 3, 1, 4, 6)
    return picture + torch.tensor(means, dtype=torch.float32)[None, None, :, None, None]


def test_a_fade_stays_exactly_and_pumping_goes():
    t = torch.arange(24.0)
    fade = _clip((t / 24 - 0.5).tolist())
    assert torch.allclose(deflicker(fade), fade, atol=1e-6)  # a steady change of light, ends included
    pumped = _clip((t / 24 - 0.5 + 0.08 * torch.tensor([1.0, -1.0, 0.5, -0.5] * 6)).tolist())
    out = deflicker(pumped)
    assert (out - fade)[:, :, 3:-3].abs().max() < 0.01 < (pumped - fade)[:, :, 3:-3].abs().max()


def test_only_brightness_moves():
    rng = np.random.default_rng(0)
    video = torch.from_numpy(rng.uniform(-0.8, 0.8, (1, 3, 12, 8, 8))).float()
    out = deflicker(video)
    shift = out - video
    # One offset per frame, the same in every channel and pixel: the picture and its colours stay.
    assert torch.allclose(shift, shift[:, :1, :, :1, :1].expand_as(shift), atol=1e-6)
    assert torch.equal(deflicker(video[:, :, :2]), video[:, :, :2])  # too short to tell pumping from change


def test_generated_frames_are_deflickered_and_a_restyle_keeps_its_input_s_light(pipe, monkeypatch):
    request = GenerateRequest(prompt="a red ball", seconds=2.0, rate=8.0, seed=3)
    smooth = pipe.generate(request).frames
    calls = []
    monkeypatch.setattr(pipeline_module, "deflicker", lambda v: calls.append(v) or v)
    raw = pipe.generate(request).frames
    assert len(calls) == 1 and ev.flicker(smooth) < 0.5 * ev.flicker(raw)
    pipe.restyle(RestyleRequest(frames=raw, rate=8.0, prompt="at night"))
    assert len(calls) == 1
