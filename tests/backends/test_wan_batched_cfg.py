"""Our Wan text-to-video path: one batched transformer call per step, the same frames as stock diffusers."""
import numpy as np
import pytest

from engine.backends.diffusers_backend import load_diffusers_backend
from engine.requests import GenerateRequest


@pytest.fixture(scope="module")
def pair(model_folder, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LATENTCUT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
        folder = model_folder("wan-t2v")
        return load_diffusers_backend(folder, "cpu"), load_diffusers_backend(folder, "cpu", fast=False)


def count_calls(backend):
    calls = []
    backend.family.pipe.transformer.register_forward_hook(lambda m, args, kwargs_out: calls.append(1))
    return calls


@pytest.mark.parametrize("guidance", [5.0, 1.0])
def test_batched_cfg_matches_stock_pipeline(pair, guidance):
    fast, stock = pair
    kw = dict(size=(64, 32), steps=3, seed=4, guidance=guidance, negative_prompt="blurry")
    a = fast.generate(GenerateRequest(prompt="a red ball", seconds=0.5, **kw)).frames
    b = stock.generate(GenerateRequest(prompt="a red ball", seconds=0.5, **kw)).frames
    assert a.shape == b.shape == (9, 32, 64, 3)
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1  # float summation order only


def test_one_transformer_call_per_step(model_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTCUT_CONFIG_DIR", str(tmp_path))
    folder = model_folder("wan-t2v")
    fast, stock = load_diffusers_backend(folder, "cpu"), load_diffusers_backend(folder, "cpu", fast=False)
    fast_calls, stock_calls = count_calls(fast), count_calls(stock)
    fast.generate(GenerateRequest(prompt="a box", seconds=0.5, size=(32, 32), steps=3, guidance=5.0))
    stock.generate(GenerateRequest(prompt="a box", seconds=0.5, size=(32, 32), steps=3, guidance=5.0))
    assert len(fast_calls) == 3 and len(stock_calls) == 6
