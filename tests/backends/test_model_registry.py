"""describe() rows for `latentcut models`, the remembered list, and folders found in $LATENTCUT_MODELS."""
import json
import shutil
from pathlib import Path

import pytest

from engine.backends import model_folders, registry


def test_describe_each_kind(model_folder):
    row = registry.describe(model_folder("cogvideox-i2v"))
    assert row["family"] == "CogVideoX" and row["pipeline"] == "CogVideoXImageToVideoPipeline"
    assert row["operations"] == ["animate", "extend"] and row["error"] is None
    assert registry.describe(model_folder("ltx"))["operations"] == ["animate", "extend", "fill", "generate", "restyle"]


def test_describe_reports_broken_models_without_raising(model_folder, tmp_path):
    folder = Path(shutil.copytree(model_folder("unet3d"), tmp_path / "half"))
    (folder / "unet" / "diffusion_pytorch_model.safetensors").unlink()
    row = registry.describe(folder)
    assert row["operations"] == [] and "no weights in unet/" in row["error"]
    (tmp_path / "sd").mkdir()
    (tmp_path / "sd" / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    assert "does not support" in registry.describe(tmp_path / "sd")["error"]


def test_describe_latentcut_model_folder(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"_class_name": "LatentCutLDM"}))
    row = registry.describe(tmp_path)
    assert row["family"] == "LatentCut" and "model.safetensors is missing" in row["error"]
    (tmp_path / "model.safetensors").write_bytes(b"")
    assert registry.describe(tmp_path)["operations"] == ["animate", "extend", "fill", "generate", "restyle"]


def test_describe_refuses_a_plain_folder(tmp_path):
    with pytest.raises(ValueError, match="is not a model folder"):
        registry.describe(tmp_path)


def test_loading_remembers_the_folder(model_folder, private_config):
    from engine.backends.diffusers_backend import load_diffusers_backend

    folder = model_folder("unet3d").resolve()
    assert folder not in registry.known_model_folders()
    load_diffusers_backend(folder, "cpu")
    assert model_folders.remembered() == [folder]
    assert folder in registry.known_model_folders()
    saved = json.loads((private_config / "models.json").read_text())
    assert saved == {"models": [str(folder)]}
    assert model_folders.forget(folder) and model_folders.remembered() == []


def test_models_env_dirs_are_scanned(model_folder, tmp_path, monkeypatch):
    root = tmp_path / "models"
    shutil.copytree(model_folder("wan-i2v"), root / "wan-i2v")
    (root / "not-a-model").mkdir(parents=True)
    monkeypatch.setenv("LATENTCUT_MODELS", str(root))
    found = registry.known_model_folders()
    assert (root / "wan-i2v").resolve() in found
    assert (root / "not-a-model").resolve() not in found


def test_unreadable_remembered_list_is_ignored_with_a_warning(private_config):
    private_config.mkdir(parents=True)
    (private_config / "models.json").write_text("{broken")
    with pytest.warns(UserWarning, match="unreadable list of models"):
        assert model_folders.remembered() == []
