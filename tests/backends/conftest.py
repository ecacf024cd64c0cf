"""Tiny random diffusers model folders (built once per session) and a private remembered-models list."""
import pytest
import torch

from tiny_pipelines import BUILDERS

torch.set_num_threads(2)


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory):
    """model_folder(kind) -> a saved tiny pipeline folder of that kind (see tiny_pipelines.BUILDERS)."""
    made = {}

    def get(kind: str):
        if kind not in made:
            made[kind] = BUILDERS[kind](tmp_path_factory.mktemp(kind))
        return made[kind]

    return get
