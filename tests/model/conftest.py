"""Fixtures for the model tests: one tiny random model folder and its pipeline per session."""
from __future__ import annotations

import numpy as np
import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def tiny_folder(tmp_path_factory):
    from engine.model.tiny import make_tiny_model_folder

    return make_tiny_model_folder(tmp_path_factory.mktemp("tiny") / "tiny-model", seed=0)


@pytest.fixture(scope="session")
def pipe(tiny_folder):
    from engine.pipeline import LatentCutPipeline

    return LatentCutPipeline.from_pretrained(tiny_folder, device="cpu", threads=2)


@pytest.fixture
def clip():
    """12 frames of 64x36 video: a bright square moving right over a gradient."""
    frames = np.zeros((12, 36, 64, 3), np.uint8)
    frames[..., 2] = np.linspace(40, 200, 64, dtype=np.uint8)[None, None, :]
    for i in range(12):
        frames[i, 10:22, 4 + 4 * i:16 + 4 * i] = (230, 40, 40)
    return frames
