"""The model commands on a tiny random diffusers model (Wan text-to-video): the same CLI, another
backend; an operation the model lacks is refused before any work."""
import importlib.util
import json
from pathlib import Path

import pytest

BACKEND_TESTS = Path(__file__).resolve().parents[1] / "backends"


@pytest.fixture(scope="module")
def wan_t2v(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("latentcut_tiny_pipelines", BACKEND_TESTS / "tiny_pipelines.py")
    tiny = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tiny)
    return tiny.build_wan(tmp_path_factory.mktemp("wan-t2v"), "t2v")


def test_generate_with_a_diffusers_model_folder(cli, tmp_path, wan_t2v):
    out = tmp_path / "wan.mp4"
    res = cli("generate", "a red ball", "-o", out, "--model", wan_t2v, "--steps", "2", "--seed", "3",
              "--seconds", "0.5", "--size", "64x32", "--rate", "8", "--json")
    assert res.rc == 0, res.err
    result = res.json()
    info = cli("probe", out).json()
    assert info["video"]["frame_count"] == result["frames"] > 0
    assert (info["video"]["width"], info["video"]["height"]) == (result["width"], result["height"])
    prov = info["metadata"]["latentcut"]  # probe shows the tag as an object
    assert prov["op"] == "generate" and prov["seed"] == 3 and len(prov["model"]["sha256"]) == 64
    assert "AI-generated" in info["metadata"]["comment"]


def test_an_operation_the_model_lacks_is_refused_naming_both(cli, tmp_path, wan_t2v, clip, clip_b):
    res = cli("fill", clip, clip_b, "-o", tmp_path / "o.mp4", "--model", wan_t2v, "--steps", "2")
    assert res.rc == 1
    assert "fill" in res.err and wan_t2v.name in res.err
    assert "generate 1/" not in res.err and "fill 1/" not in res.err  # no step ran
    assert not (tmp_path / "o.mp4").exists()


def test_models_describes_the_diffusers_folder(cli, wan_t2v):
    res = cli("models", wan_t2v, "--json")
    assert res.rc == 0, res.err
    (row,) = res.json()
    assert row["family"] == "Wan" and "generate" in row["operations"] and "fill" not in row["operations"]
