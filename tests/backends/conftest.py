"""Tiny random diffusers model folders (built once per session) and a private remembered-models list."""
import pytest
import torch

from tiny_pipelines import BUILDERS

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    """Loading a model remembers its folder; keep that list out of the user's home."""
    monkeypatch.setenv("LATENTCUT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("LATENTCUT_MODELS", raising=False)
    return tmp_path / "config"


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory):
    """model_folder(kind) -> a saved tiny pipeline folder of that kind (see tiny_pipelines.BUILDERS)."""
    made = {}

    def get(kind: str):
        if kind not in made:
            made[kind] = BUILDERS[kind](tmp_path_factory.mktemp(kind))
        return made[kind]

    return get
