"""Every family, loaded from a saved tiny random pipeline, runs every operation it supports for 2 steps."""
import re

import numpy as np
import pytest

from engine.constraints import ConstraintWarning
from engine.requests import AnimateRequest, ExtendRequest, FillRequest, GenerateRequest, RestyleRequest

EXPECTED_OPS = {
    "wan-t2v": {"generate", "restyle"},
    "wan-ti2v": {"generate", "animate", "extend", "restyle"},
    "wan-i2v": {"animate", "extend", "fill"},
    "wan-vace": {"generate", "animate", "extend", "fill", "restyle"},
    "ltx": {"generate", "animate", "extend", "fill", "restyle"},
    "cogvideox-t2v": {"generate", "restyle"},
    "cogvideox-i2v": {"animate", "extend"},
    "unet3d": {"generate", "restyle"},
}
FAMILY = {"wan": "Wan", "ltx": "LTX-Video", "cogvideox": "CogVideoX", "unet3d": "UNet3D text-to-video"}
W, H = 64, 32
SECONDS = 0.5


@pytest.fixture(scope="session")
def backend(model_folder, tmp_path_factory):
    """backend(kind) -> a DiffusersBackend over that tiny folder, loaded once per session."""
    from engine.backends.diffusers_backend import load_diffusers_backend

    loaded = {}

    def get(kind):
        if kind not in loaded:
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("LATENTCUT_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
                loaded[kind] = load_diffusers_backend(model_folder(kind), "cpu")
        return loaded[kind]

    return get


def source_frames(count=7):
    """A small moving gradient, uint8 [T,H,W,3]."""
    t, y, x = np.meshgrid(np.arange(count), np.arange(H), np.arange(W), indexing="ij")
    return np.stack([(x * 4 + t * 9) % 256, (y * 8) % 256, (t * 30) % 256], -1).astype(np.uint8)


def run(b, op, callback=None, **kw):
    src = source_frames()
    common = dict(steps=2, seed=3, callback=callback, **kw)
    if op == "generate":
        return b.generate(GenerateRequest(prompt="a red ball over a field", seconds=SECONDS, size=(W, H), **common))
    if op == "animate":
        return b.animate(AnimateRequest(image=src[0], prompt="a red ball", seconds=SECONDS, **common))
    if op == "extend":
        return b.extend(ExtendRequest(frames=src, seconds=SECONDS, prompt="more", **common))
    if op == "fill":
        return b.fill(FillRequest(before_frames=src, after_frames=src[::-1], seconds=SECONDS, **common))
    return b.restyle(RestyleRequest(frames=src, prompt="at night", strength=0.5, **common))


@pytest.mark.parametrize("kind", sorted(EXPECTED_OPS))
def test_family_is_recognised_with_its_operations(backend, kind):
    b = backend(kind)
    assert b.operations == frozenset(EXPECTED_OPS[kind])
    row = b.describe()
    assert row["family"] == FAMILY[kind.split("-")[0]]
    assert row["operations"] == sorted(EXPECTED_OPS[kind])


@pytest.mark.parametrize("kind, op", [(k, op) for k, ops in sorted(EXPECTED_OPS.items()) for op in sorted(ops)])
def test_operation_runs_two_steps(backend, kind, op):
    b = backend(kind)
    seen = []
    result = run(b, op, callback=lambda step, total, preview: seen.append((step, total, preview)))
    frames = result.frames
    assert frames.dtype == np.uint8 and frames.shape[1:] == (H, W, 3)
    rule = b.family.constraints()
    wanted = round(SECONDS * b.native_rate)
    if op == "restyle":
        assert len(frames) == 7  # as many frames as given
    elif op in ("generate", "animate"):
        assert len(frames) == rule.fit_frames(wanted)[0]
    else:  # new frames only: the requested count, moved at most half a step by the k*n+1 rule
        assert abs(len(frames) - wanted) <= rule.frame_step // 2
    assert result.rate == b.native_rate
    # progress: one call per denoising step, previews from the latents as small RGB images
    assert [s for s, _t, _p in seen][-1] == seen[-1][1] and seen[0][0] == 1
    for _step, _total, preview in seen:
        assert preview.dtype == np.uint8 and preview.ndim == 3 and preview.shape[2] == 3
    meta = result.metadata
    assert meta["op"] == op and meta["seed"] == 3 and meta["steps"] == 2
    assert meta["model"]["name"] == b.name and re.fullmatch(r"[0-9a-f]{64}", meta["model"]["sha256"])
    assert meta["model"]["family"] == b.family.name
    assert meta["frames"] == len(frames) and meta["size"] == [W, H]
    assert meta["memory"]["dtype"] == "fp32"


def test_same_seed_same_frames_other_seed_other_frames(backend):
    b = backend("wan-t2v")
    a = b.generate(GenerateRequest(prompt="a box", seconds=SECONDS, size=(W, H), steps=2, seed=11)).frames
    again = b.generate(GenerateRequest(prompt="a box", seconds=SECONDS, size=(W, H), steps=2, seed=11)).frames
    other = b.generate(GenerateRequest(prompt="a box", seconds=SECONDS, size=(W, H), steps=2, seed=12)).frames
    assert np.array_equal(a, again)
    assert not np.array_equal(a, other)


def test_size_and_frames_are_rounded_with_a_warning(backend):
    b = backend("wan-t2v")
    with pytest.warns(ConstraintWarning) as caught:
        result = b.generate(GenerateRequest(prompt="a box", seconds=0.5, size=(40, 30), steps=2))
    messages = [str(w.message) for w in caught]
    assert any("divisible by 16" in m and "40x30" in m for m in messages)
    assert any("4n+1" in m and "8 to 9" in m for m in messages)
    assert result.frames.shape[1:3] == (30, 40)  # scaled back to the size asked for
    assert any("scaled" in n for n in result.metadata["adjusted"])


def test_rate_conforms_the_output(backend):
    b = backend("ltx")  # 24 fps native
    result = b.generate(GenerateRequest(prompt="a box", seconds=SECONDS, size=(W, H), steps=2, rate=12))
    assert result.rate == 12 and len(result.frames) == round(13 * 12 / 24)


def test_hash_is_cached_and_stable(backend, model_folder):
    from engine.backends.diffusers_backend import folder_sha256, weight_files
    from engine.backends.families import read_index

    b = backend("unet3d")
    folder = model_folder("unet3d")
    assert b.sha256 == folder_sha256(folder.resolve(), weight_files(folder.resolve(), read_index(folder)))


def test_load_backend_dispatches_model_index_folders(model_folder, tmp_path, monkeypatch):
    from engine.backends import load_backend
    from engine.backends.diffusers_backend import DiffusersBackend

    monkeypatch.setenv("LATENTCUT_CONFIG_DIR", str(tmp_path))
    b = load_backend(model_folder("cogvideox-t2v"), device="cpu")
    assert isinstance(b, DiffusersBackend) and b.family.name == "CogVideoX"


def test_restyle_keeps_frames_one_for_one_at_the_source_rate(backend):
    b = backend("unet3d")  # 8 fps native
    result = b.restyle(RestyleRequest(frames=source_frames(5), prompt="night", strength=0.5, steps=2, rate=24))
    assert len(result.frames) == 5 and result.rate == 24
