"""The autoencoder's ceiling measured as the pipeline encodes a given clip: in the camera frame."""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from einops import rearrange

from engine.model.camera import measure_drift
from engine.train.ceiling import psnr, reconstruct
from engine.train.data import to_tensor
from engine.train.world import EVAL_SEED_START, render, sample_scene


class IdentityCode:
    """An autoencoder that keeps every frame exactly (4 frames a latent frame, 1 px a cell) and
    records what it was asked to encode."""

    def __init__(self, camera_frame: bool = True):
        self.config = SimpleNamespace(camera_frame=camera_frame, camera_zoom=True, time_compression=4,
                                      space_compression=1)
        self.encoded = None

    def encode_frames(self, x):
        self.encoded = x.clone()
        return rearrange(x, "b c (n k) h w -> b (c k) n h w", k=4)

    def decode_latents(self, z):
        return rearrange(z, "b (c k) n h w -> b c (n k) h w", k=4)


def world_clip(camera: str) -> torch.Tensor:
    scene = dataclasses.replace(sample_scene(EVAL_SEED_START), camera=camera, setting="field", time_of_day="day")
    return to_tensor(render(scene, 256, 144, 24))[None]


def luma(x: torch.Tensor) -> torch.Tensor:
    return x[0].mean(dim=0, keepdim=True)


def as_uint8(x: torch.Tensor) -> np.ndarray:
    return ((x[0].permute(1, 2, 3, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


@pytest.mark.parametrize("camera", ["pan left", "tilt down"])
def test_a_pan_is_encoded_in_the_camera_frame_and_gets_its_move_back(camera):
    model, x = IdentityCode(), world_clip(camera)
    assert measure_drift(luma(x)) != (0.0, 0.0)
    out = reconstruct(model, x, camera_frame=True)
    assert measure_drift(luma(model.encoded)) == (0.0, 0.0)  # the code is given the scene still
    assert measure_drift(luma(out)) == measure_drift(luma(x))  # and the move is put back
    assert psnr(as_uint8(out), as_uint8(x)) > 30  # only the block blend and the subpixel shift differ


@pytest.mark.parametrize("camera", ["zoom in", "zoom out"])
def test_a_zoom_is_encoded_at_its_tightest_framing_and_gets_its_move_back(camera):
    model, x = IdentityCode(), world_clip(camera)
    out = reconstruct(model, x, camera_frame=True)
    tightest = -1 if camera == "zoom in" else 0
    assert psnr(as_uint8(model.encoded)[tightest], as_uint8(x)[tightest]) > 45  # as it was
    widest = 0 if camera == "zoom in" else -1  # scaled up to the tightest framing
    assert psnr(as_uint8(model.encoded)[widest], as_uint8(x)[widest]) < 25
    middle = np.s_[:, 36:108, 64:192]  # the frames' middles survive the two resamplings
    assert psnr(as_uint8(out)[middle], as_uint8(x)[middle]) > 30


def test_a_still_clip_and_a_model_without_the_camera_frame_are_encoded_as_they_are():
    x = world_clip("pan right")
    model = IdentityCode(camera_frame=False)
    assert torch.equal(reconstruct(model, x, camera_frame=True), x)
    assert torch.equal(model.encoded, x)
    still = world_clip("static")
    model = IdentityCode()
    out = reconstruct(model, still, camera_frame=True)
    assert torch.equal(model.encoded, still)
    assert psnr(as_uint8(out), as_uint8(still)) > 30  # blocks blended as the pipeline blends them
