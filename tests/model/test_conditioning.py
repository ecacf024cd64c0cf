"""Extend, fill, animate and restyle really feed their conditions to the denoiser: the model input
carries the known-frame latents at the right latent positions, with the mask, and the structure."""
import numpy as np
import pytest
import torch

from engine.model.conditioning import build_condition, known_mask
from engine.pipeline import LatentCutPipeline
from engine.requests import AnimateRequest, ExtendRequest, FillRequest, GenerateRequest, RestyleRequest

C = 4  # tiny model latent channels


@pytest.fixture(scope="module")
def wide(tmp_path_factory):
    """A tiny model whose window holds 4 latent frames (16 frames at 8 fps) and that takes 2 latent
    frames of context, so every case below fits one window."""
    from engine.model.tiny import make_tiny_model_folder

    folder = make_tiny_model_folder(tmp_path_factory.mktemp("wide") / "m", seed=1, frames=16,
                                    overlap_latent_frames=2)
    return LatentCutPipeline.from_pretrained(folder, device="cpu")


@pytest.fixture
def native_clip():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (12, 32, 64, 3), dtype=np.uint8)


def record_inputs(pipe):
    calls = []
    handle = pipe.model.denoiser.register_forward_pre_hook(
        lambda module, args: calls.append([a.clone() for a in args]))
    return calls, handle


def encode(pipe, frames):
    x = torch.from_numpy(frames).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    with torch.inference_mode():
        return pipe.model.encode_frames(x)


def check_known(cond, positions, expected):
    """cond [B,C+1+S,T,h,w]; expected: {latent position: [C,h,w] latents}."""
    t = cond.shape[2]
    for p in range(t):
        if p in positions:
            assert torch.allclose(cond[:, :C, p], expected[p].expand_as(cond[:, :C, p]), atol=1e-5), p
            assert torch.all(cond[:, C, p] == 1), p
        else:
            assert torch.all(cond[:, :C, p] == 0), p
            assert torch.all(cond[:, C, p] == 0), p
    assert torch.all(cond[:, C + 1:] == 0)  # no structure outside restyle


def test_build_condition_layout():
    z = torch.randn(2, C, 5, 4, 8)
    mask = known_mask(5, [0, 4], batch=2)
    s = torch.randn(2, 4, 5, 4, 8)
    cond = build_condition(z.shape, z, mask, s, structure_weight=0.5)
    assert cond.shape == (2, C + 1 + 4, 5, 4, 8)
    assert torch.equal(cond[:, :C, 0], z[:, :, 0]) and torch.equal(cond[:, :C, 4], z[:, :, 4])
    assert torch.all(cond[:, :C, 1:4] == 0)
    assert cond[:, C, :, 0, 0].tolist() == [[1, 0, 0, 0, 1]] * 2
    assert torch.allclose(cond[:, C + 1:], s * 0.5)
    empty = build_condition(z.shape)
    assert torch.all(empty == 0)
    with pytest.raises(ValueError, match="mask"):
        build_condition(z.shape, z)
    with pytest.raises(ValueError, match="outside"):
        known_mask(5, [5])


def test_extend_tail_feeds_the_last_frames_first(wide, native_clip):
    calls, handle = record_inputs(wide)
    try:
        wide.extend(ExtendRequest(frames=native_clip, seconds=1.0, direction="tail", rate=8.0, prompt="go on"))
    finally:
        handle.remove()
    expected = encode(wide, native_clip[-8:])  # 2 latent frames of context = the last 8 frames
    assert len(calls) == wide.config.default_steps
    for x, cond, *_ in calls:
        assert cond.shape[2] == 4  # 2 known + 2 new latent frames
        check_known(cond, {0, 1}, {0: expected[0, :, 0], 1: expected[0, :, 1]})


def test_extend_head_feeds_the_first_frames_last(wide, native_clip):
    calls, handle = record_inputs(wide)
    try:
        wide.extend(ExtendRequest(frames=native_clip, seconds=1.0, direction="head", rate=8.0))
    finally:
        handle.remove()
    expected = encode(wide, native_clip[:8])
    for x, cond, *_ in calls:
        check_known(cond, {2, 3}, {2: expected[0, :, 0], 3: expected[0, :, 1]})


def test_fill_feeds_both_ends(tmp_path, native_clip):
    from engine.model.tiny import make_tiny_model_folder

    pipe = LatentCutPipeline.from_pretrained(
        make_tiny_model_folder(tmp_path / "m", frames=16, overlap_latent_frames=1), device="cpu")
    after = native_clip[::-1].copy()
    calls, handle = record_inputs(pipe)
    try:
        pipe.fill(FillRequest(before_frames=native_clip, after_frames=after, seconds=1.0, rate=8.0, prompt="bridge"))
    finally:
        handle.remove()
    before_z, after_z = encode(pipe, native_clip[-4:]), encode(pipe, after[:4])
    assert len(calls) == pipe.config.default_steps
    for x, cond, *_ in calls:
        assert cond.shape[2] == 4 and cond.shape[0] == 2  # batched CFG: prompt and negative prompt
        check_known(cond, {0, 3}, {0: before_z[0, :, 0], 3: after_z[0, :, 0]})


def test_animate_feeds_the_still_at_frame_zero(wide, native_clip):
    calls, handle = record_inputs(wide)
    try:
        wide.animate(AnimateRequest(image=native_clip[5], prompt="a red ball", seconds=2.0, rate=8.0))
    finally:
        handle.remove()
    still = encode(wide, np.repeat(native_clip[5:6], 4, axis=0))
    for x, cond, *_ in calls:
        assert cond.shape[2] == 4
        check_known(cond, {0}, {0: still[0, :, 0]})


def test_generate_has_no_known_frames(wide):
    calls, handle = record_inputs(wide)
    try:
        wide.generate(GenerateRequest(prompt="a red ball", seconds=1.0, rate=8.0))
    finally:
        handle.remove()
    for x, cond, *_ in calls:
        assert torch.all(cond == 0)


def test_restyle_feeds_the_structure_scaled_by_its_weight(wide, native_clip):
    frames = native_clip[:8]
    x = torch.from_numpy(frames).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    expected = wide.model.structure(x)
    for weight in (1.0, 0.25):
        calls, handle = record_inputs(wide)
        try:
            wide.restyle(RestyleRequest(frames=frames, prompt="at night", strength=1.0, structure_weight=weight, rate=8.0))
        finally:
            handle.remove()
        assert len(calls) == wide.config.default_steps
        for _, cond, *_ in calls:
            assert torch.allclose(cond[:, C + 1:], (expected * weight).expand_as(cond[:, C + 1:]), atol=1e-5)
            assert torch.all(cond[:, :C + 1] == 0)


def test_restyle_strength_starts_part_way(wide, native_clip):
    calls, handle = record_inputs(wide)
    try:
        wide.restyle(RestyleRequest(frames=native_clip[:8], prompt="at night", strength=0.34, steps=6, rate=8.0))
    finally:
        handle.remove()
    assert len(calls) == 2  # round(6 * 0.34)
    assert float(calls[0][2][0]) < 0.5  # it starts from the input's latents at a low noise level


def test_later_windows_are_conditioned_on_the_overlap(pipe):
    calls, handle = record_inputs(pipe)
    try:
        pipe.generate(GenerateRequest(prompt="a red ball", seconds=3.0, rate=8.0, steps=2))  # 6 latent frames, windows of 2, overlap 1
    finally:
        handle.remove()
    masks = [cond[0, C, :, 0, 0].tolist() for _, cond, *_ in calls]
    assert masks[:2] == [[0, 0], [0, 0]]
    assert masks[2:] == [[1, 0]] * (len(masks) - 2) and len(masks) == 2 * 5
    for _, cond, *_ in calls[2:]:
        assert cond[:, :C, 0].abs().sum() > 0


def test_an_animated_shot_starts_on_the_still_itself(wide, native_clip):
    """The first frame is the still, not the autoencoder's copy of it (which a tiny model blurs)."""
    still = native_clip[5]
    frames = wide.animate(AnimateRequest(image=still, prompt="a red ball", seconds=2.0, rate=8.0)).frames
    assert np.abs(frames[0].astype(int) - still.astype(int)).max() <= 1
    assert np.abs(frames[-1].astype(int) - still.astype(int)).mean() > 10  # then the model's frames take over
