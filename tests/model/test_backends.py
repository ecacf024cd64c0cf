import gc
import json
import subprocess
import sys
import weakref

import pytest
import torch

import engine.backends.embedded as embedded
from engine.backends import load_backend
from engine.device import default_dtype, pick_device, set_threads
from engine.hashing import sha256_file
from engine.pipeline import LatentCutPipeline


def test_load_backend_dispatches_a_latentcut_folder(tiny_folder):
    backend = load_backend(tiny_folder, device="cpu")
    assert isinstance(backend, LatentCutPipeline) and backend.name == "tiny-random"


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_leaves_the_collector_as_it_was_and_frees_the_garbage_it_made(tiny_folder, monkeypatch, enabled):
    """The collector is paused while a backend loads; the garbage the load left in reference
    cycles (an import's frames hold their callers' locals) is freed, not frozen."""
    import engine.backends as backends

    class Node:
        pass

    left = []
    real = backends._load

    def load_leaving_a_cycle(*args):
        assert not gc.isenabled()
        node = Node()
        node.me = node
        left.append(weakref.ref(node))
        return real(*args)

    monkeypatch.setattr(backends, "_load", load_leaving_a_cycle)
    (gc.enable if enabled else gc.disable)()
    try:
        assert isinstance(load_backend(tiny_folder, device="cpu"), LatentCutPipeline)
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert left[0]() is None


def test_load_backend_dispatches_a_diffusers_folder(tmp_path, monkeypatch):
    import engine.backends.diffusers_backend as diffusers_backend

    seen = []
    monkeypatch.setattr(diffusers_backend, "load_diffusers_backend", lambda path, device: seen.append((path, device)))
    (tmp_path / "model_index.json").write_text("{}")
    load_backend(tmp_path, device="cpu")
    assert seen == [(tmp_path, "cpu")]


def test_load_backend_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_backend(tmp_path / "nowhere")
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(ValueError, match="file.bin"):
        load_backend(tmp_path / "file.bin")
    with pytest.raises(ValueError, match="neither config.json nor model_index.json"):
        load_backend(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel"}))
    with pytest.raises(ValueError, match="UNet2DModel"):
        load_backend(tmp_path)


def test_missing_embedded_model_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(embedded, "EMBEDDED_MODEL_DIR", tmp_path / "previz-v1")
    with pytest.raises(FileNotFoundError, match="previz-v1.*engine.train"):
        load_backend(None)


def test_embedded_model_path_is_in_resources():
    assert embedded.EMBEDDED_MODEL_DIR.parts[-3:] == ("resources", "models", "previz-v1")


def test_torch_free_imports():
    code = "import sys, engine.backends, engine.requests, engine.hashing, engine.version; " \
           "print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_device_choice():
    assert pick_device("cpu") == torch.device("cpu")
    assert default_dtype(torch.device("cpu")) == torch.float32
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert pick_device(None).type == "cuda"
    else:
        assert pick_device(None).type in ("cpu", "mps")
        with pytest.raises(ValueError, match="device"):
            pick_device("cuda")
    with pytest.raises(ValueError, match="device"):
        pick_device("tpu-please")


def test_thread_setting():
    before = torch.get_num_threads()
    try:
        set_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="threads"):
        set_threads(0)


def test_sha256_cache_follows_the_file(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"one")
    first = sha256_file(path)
    path.write_bytes(b"two!")
    assert sha256_file(path) != first
    with pytest.raises(FileNotFoundError, match="w2.bin"):
        sha256_file(tmp_path / "w2.bin")
