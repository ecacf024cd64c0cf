"""Cancel within a step, clear errors before any work, and folders that are not (whole) models."""
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from engine.backends.diffusers_backend import load_diffusers_backend
from engine.errors import Cancelled, LatentCutError
from engine.requests import ExtendRequest, FillRequest, GenerateRequest, RestyleRequest


@pytest.fixture(scope="module")
def wan(model_folder, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LATENTCUT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
        return load_diffusers_backend(model_folder("wan-t2v"), "cpu")


def copy_model(model_folder, kind, dest: Path) -> Path:
    return Path(shutil.copytree(model_folder(kind), dest / kind))


def test_cancel_during_a_step_stops_at_the_next_step(wan):
    cancel = threading.Event()
    steps = []

    def callback(step, total, preview):
        steps.append(step)
        cancel.set()  # the user presses Cancel while step 1 is shown

    with pytest.raises(Cancelled):
        wan.generate(GenerateRequest(prompt="a box", seconds=0.5, size=(32, 32), steps=4, callback=callback, cancel=cancel))
    assert steps == [1]


def test_cancel_before_start_does_no_work(wan):
    cancel = threading.Event()
    cancel.set()
    steps = []
    with pytest.raises(Cancelled):
        wan.restyle(RestyleRequest(frames=np.zeros((5, 32, 32, 3), np.uint8), prompt="night", steps=2, cancel=cancel, callback=lambda *a: steps.append(a)))
    assert steps == []


def test_a_cancelled_backend_still_works_afterwards(wan):
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        wan.generate(GenerateRequest(prompt="a box", seconds=0.5, size=(32, 32), steps=2, cancel=cancel))
    assert len(wan.generate(GenerateRequest(prompt="a box", seconds=0.5, size=(32, 32), steps=2)).frames) == 9


def test_operation_the_model_cannot_do_names_model_and_operation(wan):
    called = []
    with pytest.raises(ValueError, match=rf"{wan.name} \(Wan, WanPipeline\) cannot fill; it can generate, restyle"):
        wan.fill(FillRequest(before_frames=np.zeros((3, 32, 32, 3), np.uint8), after_frames=np.zeros((3, 32, 32, 3), np.uint8), seconds=1.0, callback=lambda *a: called.append(a)))
    assert called == []


@pytest.mark.parametrize("call, match", [
    (lambda b: b.generate(GenerateRequest(prompt="x", seconds=0)), "seconds"),
    (lambda b: b.generate(GenerateRequest(prompt="x", seconds=1, steps=0)), "steps"),
    (lambda b: b.generate(GenerateRequest(prompt="x", seconds=1, guidance=-1)), "guidance"),
    (lambda b: b.generate(GenerateRequest(prompt="x", seconds=1, size=(0, 32))), "size"),
    (lambda b: b.generate(GenerateRequest(prompt=None, seconds=1)), "prompt"),
    (lambda b: b.generate(GenerateRequest(prompt="x", seconds=1, seed=-2)), "seed"),
    (lambda b: b.restyle(RestyleRequest(frames=np.zeros((3, 8, 8, 3), np.float32), prompt="x")), "frames: expected uint8"),
    (lambda b: b.restyle(RestyleRequest(frames=np.zeros((3, 8, 8, 3), np.uint8), prompt="x", strength=1.5)), "strength"),
])
def test_bad_arguments_name_the_argument(wan, call, match):
    with pytest.raises(ValueError, match=match):
        call(wan)


def test_bad_direction_is_refused(model_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTCUT_CONFIG_DIR", str(tmp_path))
    b = load_diffusers_backend(model_folder("cogvideox-i2v"), "cpu")
    with pytest.raises(ValueError, match="direction"):
        b.extend(ExtendRequest(frames=np.zeros((3, 32, 32, 3), np.uint8), seconds=1.0, direction="sideways"))


def test_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"not a diffusers model folder \(no model_index.json\)"):
        load_diffusers_backend(tmp_path, "cpu")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_diffusers_backend(tmp_path / "missing", "cpu")


def test_unsupported_family(tmp_path):
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(ValueError, match="StableDiffusionPipeline, which LatentCut does not support"):
        load_diffusers_backend(tmp_path, "cpu")


def test_broken_model_index(tmp_path):
    (tmp_path / "model_index.json").write_text("{not json")
    with pytest.raises(ValueError, match="model_index.json is not valid JSON"):
        load_diffusers_backend(tmp_path, "cpu")


def test_missing_weights(model_folder, tmp_path):
    folder = copy_model(model_folder, "ltx", tmp_path)
    (folder / "transformer" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(LatentCutError, match=r"incomplete: no weights in transformer/"):
        load_diffusers_backend(folder, "cpu")


def test_missing_component_folder(model_folder, tmp_path):
    folder = copy_model(model_folder, "ltx", tmp_path)
    shutil.rmtree(folder / "vae")
    with pytest.raises(LatentCutError, match=r"the vae/ folder is missing"):
        load_diffusers_backend(folder, "cpu")


def test_half_downloaded_weights(model_folder, tmp_path):
    folder = copy_model(model_folder, "unet3d", tmp_path)
    weights = folder / "unet" / "diffusion_pytorch_model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(LatentCutError, match=r"truncated .* the download did not finish"):
        load_diffusers_backend(folder, "cpu")


def test_unfinished_download_marker(model_folder, tmp_path):
    folder = copy_model(model_folder, "unet3d", tmp_path)
    (folder / "vae" / "diffusion_pytorch_model.safetensors.incomplete").write_bytes(b"\0" * 10)
    with pytest.raises(LatentCutError, match="half-downloaded"):
        load_diffusers_backend(folder, "cpu")


def test_missing_shard(model_folder, tmp_path):
    folder = copy_model(model_folder, "unet3d", tmp_path)
    index = {"metadata": {}, "weight_map": {"a": "text-00001-of-00002.safetensors",
                                            "b": "text-00002-of-00002.safetensors"}}
    te = folder / "text_encoder"
    for f in te.glob("*.safetensors"):
        f.rename(te / "text-00001-of-00002.safetensors")
    (te / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(LatentCutError, match=r"text_encoder/text-00002-of-00002.safetensors is missing \(1 of 2"):
        load_diffusers_backend(folder, "cpu")


def test_pickle_only_weights_are_refused(model_folder, tmp_path):
    folder = copy_model(model_folder, "unet3d", tmp_path)
    vae = folder / "vae"
    for f in vae.glob("*.safetensors"):
        f.unlink()
    (vae / "diffusion_pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(LatentCutError, match="pickle checkpoint; LatentCut loads only safetensors"):
        load_diffusers_backend(folder, "cpu")


def test_listing_models_does_not_import_torch(model_folder):
    folder = model_folder("wan-vace")
    code = ("import sys, json; from engine.backends.registry import describe; "
            f"row = describe({str(folder)!r}); "
            "print(json.dumps([row['family'], row['operations'], 'torch' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    family, ops, torch_loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert family == "Wan" and ops == ["animate", "extend", "fill", "generate", "restyle"]
    assert torch_loaded is False
