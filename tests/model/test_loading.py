import hashlib
import json
import os
import shutil

import pytest
import torch

from engine.hashing import sha256_file
from engine.model.loading import load_model, save_model, weights_sha256
from engine.model.tiny import make_tiny_model, tiny_config


def test_save_load_round_trip(tmp_path):
    model = make_tiny_model(seed=3)
    save_model(tmp_path / "m", model)
    loaded = load_model(tmp_path / "m")
    assert loaded.config == model.config
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert sorted(os.listdir(tmp_path / "m")) == ["config.json", "model.safetensors"]


def test_half_weights_load_back_as_float32(tmp_path):
    model = make_tiny_model(seed=3)
    save_model(tmp_path / "m", model, half=True)
    loaded = load_model(tmp_path / "m")
    w = dict(loaded.named_parameters())["denoiser.patch_in.weight"]
    assert w.dtype == torch.float32
    ref = dict(model.named_parameters())["denoiser.patch_in.weight"]
    assert torch.allclose(w, ref, atol=1e-2) and not torch.equal(w, ref)


def test_sha256_is_the_weights_digest_and_follows_changes(tmp_path):
    save_model(tmp_path / "m", make_tiny_model(seed=1))
    weights = tmp_path / "m" / "model.safetensors"
    first = weights_sha256(tmp_path / "m")
    assert first == hashlib.sha256(weights.read_bytes()).hexdigest()
    save_model(tmp_path / "m", make_tiny_model(seed=2))
    second = weights_sha256(tmp_path / "m")
    assert second != first
    assert second == hashlib.sha256(weights.read_bytes()).hexdigest() == sha256_file(weights)


def test_missing_folder_config_and_weights(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_model(tmp_path / "empty")
    tiny_config().save(tmp_path / "empty" / "config.json")
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        load_model(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        weights_sha256(tmp_path / "empty")


def test_bad_config_and_corrupt_weights(tmp_path):
    folder = save_model(tmp_path / "m", make_tiny_model())
    (folder / "model.safetensors").write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(ValueError, match="model.safetensors"):
        load_model(folder)
    data = json.loads((folder / "config.json").read_text())
    data["dit_depth"] = -1
    (folder / "config.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="dit_depth"):
        load_model(folder)


def test_weights_that_do_not_match_the_config(tmp_path):
    folder = save_model(tmp_path / "m", make_tiny_model())
    other = save_model(tmp_path / "o", make_tiny_model(tiny_config(dit_dim=48)))
    shutil.copy2(other / "model.safetensors", folder / "model.safetensors")
    with pytest.raises(ValueError, match="shape"):
        load_model(folder)
    other = save_model(tmp_path / "p", make_tiny_model(tiny_config(dit_depth=3)))
    shutil.copy2(other / "model.safetensors", folder / "model.safetensors")
    with pytest.raises(ValueError, match="unexpected"):
        load_model(folder)


def test_weights_are_not_pickles(tmp_path):
    folder = save_model(tmp_path / "m", make_tiny_model())
    header_len = int.from_bytes((folder / "model.safetensors").read_bytes()[:8], "little")
    header = json.loads((folder / "model.safetensors").read_bytes()[8:8 + header_len])
    assert "denoiser.patch_in.weight" in header
