import threading

import numpy as np
import pytest
import torch

from engine.errors import Cancelled
from engine.pipeline import LatentCutPipeline
from engine.requests import (REQUESTS, AnimateRequest, Backend, ExtendRequest, FillRequest, GenerateRequest,
                             RestyleRequest, VideoResult)


def test_is_a_backend(pipe):
    assert isinstance(pipe, Backend)
    assert pipe.native_size == (64, 32) and pipe.native_rate == 8.0
    assert pipe.operations == {"generate", "animate", "extend", "fill", "restyle"}
    assert len(pipe.sha256) == 64


def check_video(result, frames, rate, size=(64, 32)):
    assert isinstance(result, VideoResult)
    assert result.frames.dtype == np.uint8
    assert result.frames.shape == (frames, size[1], size[0], 3)
    assert result.rate == rate
    assert result.metadata["frames"] == frames and result.metadata["rate"] == rate
    assert result.frames.std() > 0  # a real decode, not a flat placeholder


def test_generate(pipe):
    r = pipe.generate(GenerateRequest(prompt="a red ball moving left over a field at sunset", seconds=1.5, seed=3, rate=24))
    check_video(r, 36, 24.0)
    m = r.metadata
    assert (m["op"], m["prompt"], m["negative_prompt"], m["seed"]) == (
        "generate", "a red ball moving left over a field at sunset", "", 3)
    assert m["steps"] == pipe.config.default_steps and m["guidance"] == pipe.config.default_guidance
    assert m["model"] == {"name": "tiny-random", "sha256": pipe.sha256}
    assert "strength" in m and m["engine_version"]


def test_generate_defaults_to_the_native_rate(pipe):
    check_video(pipe.generate(GenerateRequest(prompt="night", seconds=1.0)), 8, 8.0)


def test_generate_at_another_size(pipe):
    check_video(pipe.generate(GenerateRequest(prompt="day", seconds=0.5, size=(96, 48), rate=8)), 4, 8.0, size=(96, 48))


def test_animate(pipe, clip):
    r = pipe.animate(AnimateRequest(image=clip[0], prompt="a red ball", seconds=1.0, rate=25))
    check_video(r, 25, 25.0)
    assert r.metadata["op"] == "animate"


def test_extend_tail_and_head_return_only_new_frames(pipe, clip):
    tail = pipe.extend(ExtendRequest(frames=clip, seconds=2.0, rate=24, prompt="continue"))
    check_video(tail, 48, 24.0)
    head = pipe.extend(ExtendRequest(frames=clip, seconds=0.5, direction="head", rate=24))
    check_video(head, 12, 24.0)
    assert head.metadata["direction"] == "head" and head.metadata["prompt"] == ""


def test_fill_returns_exactly_the_gap(pipe, clip):
    r = pipe.fill(FillRequest(before_frames=clip, after_frames=clip[::-1].copy(), seconds=0.7, prompt="bridge", rate=24))
    check_video(r, 17, 24.0)


def test_restyle_returns_as_many_frames_as_given(pipe, clip):
    for count, rate in ((12, 24.0), (5, 30.0), (1, 24.0), (40, 24.0)):
        frames = np.concatenate([clip] * 4)[:count]
        r = pipe.restyle(RestyleRequest(frames=frames, prompt="at night", strength=0.6, structure_weight=0.5, rate=rate))
        check_video(r, count, rate)
    assert r.metadata["strength"] == 0.6 and r.metadata["structure_weight"] == 0.5


def test_a_restyle_follows_its_input_s_edges_as_far_as_its_structure_weight(pipe, clip, monkeypatch):
    """The decoded restyle goes through restyle_edges.follow_edges, guided by its own input frames at the
    model's size and weighted by the request's structure weight; no other operation does."""
    import engine.pipeline as pipeline

    told, real = [], pipeline.follow_edges
    monkeypatch.setattr(pipeline, "follow_edges", lambda video, guide, weight: told.append((guide, weight))
                        or real(video, guide, weight))
    w, h = pipe.native_size
    frames = clip[:8]
    pipe.restyle(RestyleRequest(frames=frames, prompt="at night", strength=0.6, structure_weight=0.4,
                                rate=pipe.native_rate))
    (guide, weight), = told
    assert weight == 0.4 and guide.shape == (1, 3, 8, h, w)
    assert torch.allclose(guide, pipe._to_tensor(frames, w, h).to(guide.dtype))
    told.clear()
    pipe.generate(GenerateRequest(prompt="at night", seconds=1.0, steps=1, rate=8))
    pipe.extend(ExtendRequest(frames=frames, seconds=1.0, rate=pipe.native_rate, steps=1))
    assert not told


def test_ten_seconds_hold_together_window_by_window(pipe):
    steps = []
    r = pipe.generate(GenerateRequest(prompt="pan right over mountains", seconds=10.0, steps=1, rate=8, callback=lambda s, t, p: steps.append((s, t))))
    check_video(r, 80, 8.0)
    # 20 latent frames, windows of 2 overlapping by 1: 19 windows of one step each.
    assert steps == [(i, 19) for i in range(1, 20)]


def test_same_seed_same_frames(pipe, clip):
    a = pipe.generate(GenerateRequest(prompt="a blue box", seconds=1.0, seed=7))
    b = pipe.generate(GenerateRequest(prompt="a blue box", seconds=1.0, seed=7))
    assert np.array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, pipe.generate(GenerateRequest(prompt="a blue box", seconds=1.0, seed=8)).frames)
    assert not np.array_equal(a.frames, pipe.generate(GenerateRequest(prompt="a red ball", seconds=1.0, seed=7)).frames)
    e1 = pipe.extend(ExtendRequest(frames=clip, seconds=1.0, seed=2, rate=24))
    e2 = pipe.extend(ExtendRequest(frames=clip, seconds=1.0, seed=2, rate=24))
    assert np.array_equal(e1.frames, e2.frames)


def test_negative_prompt_and_guidance_change_the_result(pipe):
    base = pipe.generate(GenerateRequest(prompt="a red ball", seconds=1.0, seed=1))
    assert not np.array_equal(base.frames, pipe.generate(GenerateRequest(prompt="a red ball", seconds=1.0, seed=1, negative_prompt="blue")).frames)
    assert not np.array_equal(base.frames, pipe.generate(GenerateRequest(prompt="a red ball", seconds=1.0, seed=1, guidance=1.0)).frames)


def test_step_callback_reports_progress_with_previews(pipe):
    seen = []
    pipe.generate(GenerateRequest(prompt="sea", seconds=1.0, steps=4, callback=lambda s, t, p: seen.append((s, t, p))))
    assert [(s, t) for s, t, _ in seen] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    for *_, preview in seen:
        assert preview.shape == (32, 64, 3) and preview.dtype == np.uint8


def test_cancel_takes_effect_within_one_step(pipe):
    cancel = threading.Event()
    calls = []
    handle = pipe.model.denoiser.register_forward_pre_hook(lambda m, a: calls.append(1))
    try:
        def on_step(step, total, preview):
            cancel.set()
        with pytest.raises(Cancelled):
            pipe.generate(GenerateRequest(prompt="city", seconds=1.0, steps=5, callback=on_step, cancel=cancel))
        assert len(calls) == 1
        calls.clear()
        with pytest.raises(Cancelled):
            pipe.restyle(RestyleRequest(frames=np.zeros((4, 32, 64, 3), np.uint8), prompt="x", cancel=cancel))
        assert calls == []
    finally:
        handle.remove()


FRAMES = np.zeros((4, 32, 64, 3), np.uint8)
BAD = [
    ("generate", dict(prompt="x", seconds=0), "seconds"),
    ("generate", dict(prompt="x", seconds=-1), "seconds"),
    ("generate", dict(prompt="x", seconds=float("nan")), "seconds"),
    ("generate", dict(prompt="x", seconds="2"), "seconds"),
    ("generate", dict(prompt="x", seconds=0.01), "seconds"),
    ("generate", dict(prompt="x", seconds=1, size=(0, 32)), "size"),
    ("generate", dict(prompt="x", seconds=1, size="64x32"), "size"),
    ("generate", dict(prompt="x", seconds=1, steps=0), "steps"),
    ("generate", dict(prompt="x", seconds=1, guidance=-1), "guidance"),
    ("generate", dict(prompt="x", seconds=1, seed=-3), "seed"),
    ("generate", dict(prompt="x", seconds=1, rate=0), "rate"),
    ("generate", dict(prompt=None, seconds=1), "prompt"),
    ("generate", dict(prompt=3, seconds=1), "prompt"),
    ("generate", dict(prompt="x", seconds=1, negative_prompt=None), "negative_prompt"),
    ("generate", dict(prompt="x", seconds=1, callback=5), "callback"),
    ("animate", dict(image=None, prompt="x", seconds=1), "image"),
    ("animate", dict(image=FRAMES, prompt="x", seconds=1), "image"),
    ("animate", dict(image=np.zeros((0, 64, 3), np.uint8), prompt="x", seconds=1), "image"),
    ("extend", dict(frames=np.zeros((0, 32, 64, 3), np.uint8), seconds=1), "frames"),
    ("extend", dict(frames=[], seconds=1), "frames"),
    ("extend", dict(frames=FRAMES.astype(np.float32), seconds=1), "frames"),
    ("extend", dict(frames="clip.mp4", seconds=1), "frames"),
    ("extend", dict(frames=FRAMES, seconds=1, direction="middle"), "direction"),
    ("fill", dict(before_frames=FRAMES, after_frames=None, seconds=1), "after_frames"),
    ("fill", dict(before_frames=FRAMES[:, :, :, :2], after_frames=FRAMES, seconds=1), "before_frames"),
    ("restyle", dict(frames=FRAMES, prompt="x", strength=0), "strength"),
    ("restyle", dict(frames=FRAMES, prompt="x", strength=1.5), "strength"),
    ("restyle", dict(frames=FRAMES, prompt="x", structure_weight=-1), "structure_weight"),
    ("restyle", dict(frames=None, prompt="x"), "frames"),
]


@pytest.mark.parametrize("op, kwargs, name", BAD, ids=[f"{op}-{name}-{i}" for i, (op, _, name) in enumerate(BAD)])
def test_bad_inputs_name_the_argument(pipe, op, kwargs, name):
    calls = []
    handle = pipe.model.denoiser.register_forward_pre_hook(lambda m, a: calls.append(1))
    try:
        with pytest.raises(ValueError, match=rf"^{name}:"):
            getattr(pipe, op)(REQUESTS[op](**kwargs))
    finally:
        handle.remove()
    assert calls == []  # checked before any work


def test_an_operation_the_model_lacks(tmp_path):
    from engine.model.tiny import make_tiny_model_folder

    pipe = LatentCutPipeline.from_pretrained(make_tiny_model_folder(tmp_path / "m", operations=["generate"]))
    assert pipe.operations == {"generate"}
    with pytest.raises(ValueError, match="^op:.*restyle"):
        pipe.restyle(RestyleRequest(frames=FRAMES, prompt="night"))
    check_video(pipe.generate(GenerateRequest(prompt="x", seconds=1.0)), 8, 8.0)


def test_bf16_weights_run_every_operation(tiny_folder, clip):
    """The dtype CUDA uses (bf16), exercised on CPU: inputs, conditions and latents are cast right."""
    pipe = LatentCutPipeline.from_pretrained(tiny_folder, device="cpu", dtype=torch.bfloat16)
    assert pipe.model.denoiser.patch_in.weight.dtype == torch.bfloat16
    check_video(pipe.generate(GenerateRequest(prompt="a red ball", seconds=1.0, callback=lambda *a: None)), 8, 8.0)
    check_video(pipe.extend(ExtendRequest(frames=clip, seconds=1.0, rate=12)), 12, 12.0)
    check_video(pipe.restyle(RestyleRequest(frames=clip, prompt="night", rate=12)), 12, 12.0)


def test_large_footage_is_resized_to_the_generation_size(pipe):
    frames = np.random.default_rng(1).integers(0, 256, (20, 180, 320, 3), np.uint8)  # > one resize chunk
    check_video(pipe.restyle(RestyleRequest(frames=frames, prompt="day", rate=8)), 20, 8.0)
    check_video(pipe.extend(ExtendRequest(frames=frames, seconds=0.5, rate=8, size=(96, 48))), 4, 8.0, size=(96, 48))


def test_a_size_off_the_models_grid_is_rounded_with_a_warning(pipe):
    from engine.constraints import ConstraintWarning

    with pytest.warns(ConstraintWarning, match="60x30 to 64x32"):
        result = pipe.generate(GenerateRequest(prompt="a red ball", seconds=1.0, size=(60, 30), steps=1))
    assert result.frames.shape[1:3] == (32, 64)


def test_the_last_step_of_every_sampling_loop_takes_the_network_s_own_estimate(tmp_path, clip):
    """A "sample_wiener" model passes x's detail beyond its estimate at every step but the last, where
    that residue is what the steps left unresolved (grain): generate, restyle part-way, and each
    window of a long shot."""
    from engine.model.tiny import make_tiny_model_folder

    wiener = LatentCutPipeline.from_pretrained(make_tiny_model_folder(tmp_path / "m", prediction="sample_wiener"))
    den = wiener.model.denoiser
    calls, forward = [], den.forward
    den.forward = lambda *a, pass_input=True, **kw: calls.append(pass_input) or forward(*a, pass_input=pass_input, **kw)
    wiener.generate(GenerateRequest(prompt="a red ball", seconds=0.5, steps=3, rate=8))
    assert calls == [True, True, False]
    calls.clear()
    wiener.restyle(RestyleRequest(frames=clip, prompt="at night", strength=0.6, steps=5, rate=24))
    assert calls == [True, True, False]
    calls.clear()
    wiener.generate(GenerateRequest(prompt="pan right", seconds=10.0, steps=2, rate=8))
    assert calls == [True, False] * 19


def _camera_pipeline(tmp_path, drift=(0.0, 0.0), **overrides):
    """A tiny model with a camera head that asks for `drift` whatever the prompt, and a denoiser that
    draws a still scene: every latent frame the first known one, or one fixed pattern. What it
    decodes, and the frames it decodes to, are recorded."""
    import math


    from engine.model.camera import MAX_DRIFT
    from engine.model.tiny import make_tiny_model_folder

    pipe = LatentCutPipeline.from_pretrained(make_tiny_model_folder(tmp_path / "m", camera_frame=True, **overrides))
    model, c = pipe.model, pipe.config.latent_channels
    head = model.denoiser.camera
    with torch.no_grad():
        head.net[2].weight.zero_()
        head.net[2].bias.copy_(torch.tensor([MAX_DRIFT * math.atanh(d / MAX_DRIFT) for d in drift]))
    pattern = torch.randn(1, c, 1, 4, 8, generator=torch.Generator().manual_seed(3))

    def still_scene(x, cond, t, text, mask, pass_input=True, subject=None, layout=None):
        known = cond[:, c:c + 1].amax(dim=(1, 3, 4))[0].bool()  # the known mask channel, per frame
        scene = cond[:, :c, int(known.nonzero()[0])][:, :, None] if known.any() else pattern
        return (x - scene) / t.view(-1, 1, 1, 1, 1)  # the velocity whose clean estimate is the scene

    model.denoiser.forward = still_scene
    decoded, decode = [], model.decode_latents

    def recording(z):
        video = decode(z)
        decoded.append((z.clone(), video.clone()))
        return video

    model.decode_latents = recording
    return pipe, pattern, decoded


def test_a_long_shot_s_windows_join_without_a_step(tmp_path):
    """Each window of a long shot draws its own take on the scene (here: a brighter one each). Where a
    later window's new frames meet those before them, the difference fades over the new frames as an
    extension's seam does, up to the next join; a backwards window (an extension's head) fades it
    back over the frames before the join. Unjoined, each join shows the whole difference. A pan's or
    tilt's windows are left as they are."""

    from engine.pipeline import _Sequence
    from engine.train import evaluate as ev

    pipe, _, _ = _camera_pipeline(tmp_path)
    kt = pipe.config.time_compression
    joins = [(f, True) for f in (2, 4, 6)]  # latent frames: windows of 2 after the first
    video = torch.zeros(1, 3, 8 * kt, 8, 8)
    for f, _ in joins:
        video[:, :, f * kt:] += 0.4  # each later window brighter
    frames = lambda v: ((v[0].permute(1, 2, 3, 0) + 1) * 127.5).clamp(0, 255).numpy().astype(np.uint8)
    seq = _Sequence(latent_frames=8, out_frames=8 * kt)
    stepped = ev.frame_changes(frames(video))
    joined = ev.frame_changes(frames(pipe._match_window_joins(video.clone(), joins, seq)))
    assert stepped.max() > 50 and joined.max() < 0.25 * stepped.max()
    assert abs(joined.sum() - stepped.sum()) < 1  # the same way from first frame to last, in small steps
    back = pipe._match_window_joins(video.flip(2).clone(), [(8 - f, False) for f, _ in joins], seq)
    back = ev.frame_changes(frames(back))
    assert back.max() < 0.25 * stepped.max() and abs(back.sum() - stepped.sum()) < 1
    panning = _Sequence(latent_frames=8, out_frames=8 * kt, drift=(1.5, 0.0))  # not along a drift
    assert torch.equal(pipe._match_window_joins(video.clone(), joins, panning), video)


def test_window_joins_are_where_later_windows_meet_made_frames(tmp_path):
    """A long generate joins each later window to the one before; a fill's given frames are matched by
    its own seams, not as joins; an extension's head, made backwards, joins each window to the next."""

    from engine.pipeline import _window_joins

    made = torch.tensor([True] * 4 + [False] * 4)
    assert _window_joins(torch.tensor([False, False, True, True]), 2, made) == [(4, True)]
    assert _window_joins(torch.tensor([True, True]), 0, torch.zeros(8, dtype=torch.bool)) == []  # first window
    made = torch.tensor([False] * 4 + [True] * 4)
    assert _window_joins(torch.tensor([True, True, False]), 2, made) == [(4, False)]
    pipe, _, _ = _camera_pipeline(tmp_path)
    seen = []
    pipe._match_window_joins = lambda video, joins, seq: seen.append(joins) or video
    pipe.generate(GenerateRequest(prompt="a long one", seconds=3.0, steps=1, rate=pipe.native_rate))
    assert seen[0] and all(forward for _, forward in seen[0]) and seen[0] == sorted(seen[0])
    pipe.fill(FillRequest(before_frames=np.zeros((8, 32, 64, 3), np.uint8), after_frames=np.zeros((8, 32, 64, 3),
                          np.uint8), seconds=0.5, prompt="x", rate=pipe.native_rate, steps=1))
    assert seen[-1] == []


def _moved(z, video, drift, config, given=None, out_start=0):
    """What the camera frame's latents z [1,C,T,h,w] should decode to: rolled by whole cells, decoded,
    rolled by the pixels left (split_offsets), the blocks blended along the drift (but for the
    `given` ones), the frames from out_start on noise-reduced, deflickered and moved on by the
    fractions of pixels the rolls left out, as uint8 frames."""
    from engine.model.block_blend import blend_blocks
    from engine.model.camera import frame_offsets, roll_frames, split_offsets, subpixel_frames
    from engine.model.deflicker import deflicker
    from engine.model.temporal_nr import reduce_noise

    cells, rest = split_offsets(drift, z.shape[2], config.time_compression, config.space_compression)
    frames = roll_frames(video, rest, forward=True)
    frames = blend_blocks(frames, config.time_compression, frame_offsets(drift, frames.shape[2]), given)
    new = frames[:, :, out_start:]
    frames = deflicker(reduce_noise(new, frame_offsets(drift, new.shape[2], out_start)))
    frames = subpixel_frames(frames, drift, out_start)[0].permute(1, 2, 3, 0)
    return cells, ((frames.float() + 1) * 127.5).round().clamp(0, 255).numpy().astype(np.uint8)


def test_the_camera_head_s_drift_moves_a_still_scene(tmp_path):
    """With a camera head the model works in the camera's frame: the denoiser draws a still scene, the
    latents are rolled by whole cells before decoding and the frames by the pixels left, so frame f
    moves round(f * drift) pixels, window by window; the step preview shows a frame where it lands."""

    pipe, pattern, decoded = _camera_pipeline(tmp_path, drift=(1.5, 0.0))
    previews = []
    result = pipe.generate(GenerateRequest(prompt="pan left", seconds=5.0, steps=2, rate=8,  # 40 frames, 9 windows
                                           callback=lambda step, total, image: previews.append(image)))
    z, video = decoded[-1]
    cells, frames = _moved(z, video, (1.5, 0.0), pipe.config)
    for k in range(10):  # the still scene, rolled by the move's whole cells at each latent frame's middle
        assert torch.allclose(z[:, :, k], torch.roll(pattern[:, :, 0], cells[k], dims=(-2, -1)), atol=1e-5), k
    assert cells[9] == (0, 7)  # frame 38: 57 px, 7 cells of 8 px
    assert np.array_equal(result.frames, frames)
    assert np.abs(previews[-1].astype(int) - pipe.model.preview(z[0, :, 9], (64, 32)).numpy()).max() <= 1


def test_a_camera_head_s_hesitant_drift_is_a_still_shot(tmp_path):
    """A head unsure of a wording reads a fraction of a move: under MIN_DRIFT along an axis is no move
    that way (a still shot's frames exactly), and a pan keeps its drift but loses a hesitant tilt."""
    from engine.model.camera import MIN_DRIFT

    request = GenerateRequest(prompt="a still shot", seconds=2.0, steps=2, rate=8, seed=1)
    still = _camera_pipeline(tmp_path / "still")[0].generate(request).frames
    hesitant = _camera_pipeline(tmp_path / "hesitant", drift=(0.3, -0.9 * MIN_DRIFT))[0]
    assert np.array_equal(hesitant.generate(request).frames, still)
    pan = _camera_pipeline(tmp_path / "pan", drift=(1.5, 0.9 * MIN_DRIFT))[0].generate(request).frames
    pure = _camera_pipeline(tmp_path / "pure", drift=(1.5, 0.0))[0].generate(request).frames
    assert np.array_equal(pan, pure) and not np.array_equal(pan, still)


def test_extend_continues_the_camera_move_the_clip_shows(tmp_path):
    """Extend measures the drift of the clip's own end (here 2 px a frame) and continues it; the
    prompt's drift is not used. The first new frame is the clip's last one moved on by the drift
    (model/seams.py hold_still: nothing has changed since the seam yet), and the strip the pan reveals
    in each new frame is the model's."""

    pipe, _, decoded = _camera_pipeline(tmp_path, drift=(-3.0, 0.0))
    image = np.random.default_rng(0).integers(0, 256, (32, 64, 3), dtype=np.uint8)
    frames = np.stack([np.roll(image, 2 * i, axis=1) for i in range(16)])
    result = pipe.extend(ExtendRequest(frames=frames, direction="tail", prompt="pan right", seconds=1.0, steps=2,
                                       rate=8))
    z, video = decoded[-1]  # the clip's last latent frame (its last 4 frames), then 2 new ones
    cells, moved = _moved(z, video, (2.0, 0.0), pipe.config, given=torch.tensor([True, False, False]), out_start=4)
    assert z.shape[2] == 3 and cells == [(0, 1), (0, 2), (0, 3)]  # the middle frames move 4, 12 and 20 px
    for k in (1, 2):
        assert torch.allclose(z[:, :, k], torch.roll(z[:, :, 0], k, dims=-1), atol=1e-5)
    continued = np.roll(frames[-1], 2, axis=1)
    assert np.abs(result.frames[0][:, 2:].astype(int) - continued[:, 2:]).max() <= 1
    assert np.abs(moved[0][:, 2:].astype(int) - continued[:, 2:]).mean() > 5  # not what the model drew there
    assert len(result.frames) == 8
    for j, frame in enumerate(result.frames):
        assert np.array_equal(frame[:, :2 * (j + 1)], moved[j][:, :2 * (j + 1)]), j



def test_an_extension_carries_its_clip_s_layers_on_at_their_own_speeds(tmp_path, monkeypatch):
    """A pan whose far half (the top rows) moves 0.5 px a frame and near half 1: the extension's new frames
    are moved on by each row's speed against the drift (model/parallax.py), by their distance in frames
    from the seam, after a tail and before a head."""
    import engine.pipeline as pipeline_module

    pipe, _, _ = _camera_pipeline(tmp_path, drift=(-3.0, 0.0))
    calls, carry = [], pipeline_module.parallax_frames
    monkeypatch.setattr(pipeline_module, "parallax_frames",
                        lambda video, speeds, drift, distances, subject=None:
                        calls.append((speeds, drift, distances)) or carry(video, speeds, drift, distances, subject))
    def layer(period, shift):  # grey stripes and not bright: no subject keyed
        grey = 90 + 60 * np.sin(2 * np.pi * (np.arange(64) - shift) / period)
        return np.broadcast_to(grey[None, :, None], (16, 64, 3))

    frames = np.stack([np.concatenate([layer(11, i / 2), layer(7, i)]) for i in range(16)]).round().astype(np.uint8)
    for direction, distances in (("tail", list(range(1, 9))), ("head", list(range(-8, 0)))):
        pipe.extend(ExtendRequest(frames=frames, direction=direction, prompt="pan right", seconds=1.0, steps=2,
                                  rate=8))
        speeds, drift, told = calls[-1]
        assert drift == (1.0, 0.0) and told == distances
        assert speeds[4] == pytest.approx(-0.5, abs=0.2) and speeds[-4] == pytest.approx(0.0, abs=0.2)


def test_a_restyle_s_first_step_is_guided_harder(pipe, monkeypatch):
    """A restyle's first step sets its subject's colour at 1.5x the request's guidance, the rest keep
    the source's edges at 0.5x (engine/pipeline.py RESTYLE_GUIDANCE); other operations keep it even."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    steps, original = [], FlowMatchEulerDiscreteScheduler.step

    def step(self, model_output, timestep, sample, **kwargs):
        steps.append(round(float(model_output.mean()), 4))
        return original(self, model_output, timestep, sample, **kwargs)

    def guided(x, cond, t, text, mask, pass_input=True, subject=None, layout=None):
        v = torch.zeros_like(x)
        v[: x.shape[0] // 2] = 1.0  # the prompt's pass 1, the negative's 0: each step's velocity is its guidance
        return v

    monkeypatch.setattr(FlowMatchEulerDiscreteScheduler, "step", step)
    monkeypatch.setattr(pipe.model.denoiser, "forward", guided)
    frames = np.random.default_rng(0).integers(0, 256, (8, 32, 64, 3), dtype=np.uint8)
    pipe.restyle(RestyleRequest(frames=frames, prompt="at night", strength=0.7, steps=10, guidance=4.0, rate=8))
    assert steps == [6.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    steps.clear()
    pipe.generate(GenerateRequest(prompt="at night", seconds=1.0, steps=3, guidance=4.0, rate=8))
    assert steps == [4.0, 4.0, 4.0]


def test_a_restyle_starts_without_the_source_s_broad_colours(pipe, monkeypatch):
    """The start latents of a restyle lose the input's broad colours (model/restyle_look.py): a flat
    orange clip and a flat blue one start from the same latents, so the prompt alone sets the look."""
    from diffusers import FlowMatchEulerDiscreteScheduler

    starts, original = [], FlowMatchEulerDiscreteScheduler.scale_noise

    def scale_noise(self, sample, timestep, noise=None):
        starts.append(sample.clone())
        return original(self, sample, timestep, noise)

    monkeypatch.setattr(FlowMatchEulerDiscreteScheduler, "scale_noise", scale_noise)
    for colour in ((230, 120, 40), (30, 60, 200)):
        frames = np.broadcast_to(np.array(colour, np.uint8), (8, 32, 64, 3)).copy()
        pipe.restyle(RestyleRequest(frames=frames, prompt="at night", strength=0.7, steps=4, rate=8))
    flat = pipe.model.encode_frames(pipe._to_tensor(frames, *pipe.native_size))
    assert flat.abs().mean() > 0.1  # the blue clip's own latents are far from the mean picture
    assert (starts[0] - starts[1]).abs().max() < 1e-3 and starts[1].abs().max() < 1e-3


def test_restyle_keeps_the_picture_frame(tmp_path, clip):
    """Restyle's input carries its own move: nothing is rolled, whatever the prompt's drift."""

    pipe, _, decoded = _camera_pipeline(tmp_path, drift=(2.0, 0.0))
    pipe.restyle(RestyleRequest(frames=clip, prompt="pan left at night", strength=0.6, steps=2, rate=8))
    z, _ = decoded[-1]
    assert torch.allclose(z, z[:, :, :1].expand_as(z), atol=1e-5)  # the still scene, not rolled


def test_camera_frame_sampling_steadies_the_latent_frames_that_agree(tmp_path, clip):
    """Each step's clean estimate is averaged over the latent frames where they agree (model/
    temporal_nr.py steady_velocity): a scene that wobbles from frame to frame comes out steadier.
    A restyle, in its picture's own moving frame, is left as the network drew it."""

    pipe, pattern, decoded = _camera_pipeline(tmp_path)
    wobble = 0.2 * torch.randn(1, pipe.config.latent_channels, 32, 4, 8, generator=torch.Generator().manual_seed(5))

    def wobbling_scene(x, cond, t, text, mask, pass_input=True, subject=None, layout=None):
        return (x - pattern - wobble[:, :, :x.shape[2]]) / t.view(-1, 1, 1, 1, 1)

    pipe.model.denoiser.forward = wobbling_scene
    pipe.generate(GenerateRequest(prompt="a field", seconds=1.0, steps=3, rate=8))  # one window
    z, _ = decoded[-1]
    drawn = wobble[:, :, :z.shape[2]]
    assert (z - pattern).diff(dim=2).abs().mean() < 0.5 * drawn.diff(dim=2).abs().mean()
    pipe.restyle(RestyleRequest(frames=clip[:8], prompt="at night", strength=0.6, steps=3, rate=8))  # one window
    z, _ = decoded[-1]
    assert torch.allclose(z, pattern + wobble[:, :, :z.shape[2]], atol=1e-4)


def test_known_frames_sit_at_each_step_s_noise_level_and_new_ones_are_held_until_released(pipe, clip):
    """As in training, the denoiser sees a known frame as its latents noised to the step's level, with
    the same noise at every step, never its own drift there. The first new frame after them holds the
    last known one the same way until the steps fall below its release level (model/hold.py)."""

    from engine.pipeline import HOLD_RELEASE

    c = pipe.config.latent_channels
    seen, forward = [], pipe.model.denoiser.forward

    def recording(x, cond, t, *args, **kwargs):
        seen.append((x[:1].float().clone(), cond[:1].float().clone(), float(t[0])))
        return forward(x, cond, t, *args, **kwargs)

    pipe.model.denoiser.forward = recording
    pipe.extend(ExtendRequest(frames=clip, direction="tail", prompt="a square", seconds=1.0, steps=6, rate=8))
    seen = seen[:6]  # the first window's six steps
    known = seen[0][1][:, c].amax(dim=(2, 3)).flatten().bool()
    k = int(known.sum())
    assert k >= 1 and not known[k:].any()
    latents = seen[0][1][:, :c, :k]
    noise = (seen[0][0][:, :, :k] - latents)  # the first step is at t = 1: x there is the noise itself
    assert seen[0][2] == 1.0
    tol = 0.02  # the model's bf16 input
    for x, _, t in seen:
        assert torch.allclose(x[:, :, :k], (1 - t) * latents + t * (noise + latents), atol=tol), t
    held = [(x[:, :, k], t) for x, _, t in seen if t > HOLD_RELEASE[0]]
    assert len(held) >= 2
    for x, t in held:
        assert torch.allclose(x, (1 - t) * latents[:, :, -1] + t * seen[0][0][:, :, k], atol=tol), t
    x, t = [(x[:, :, k], t) for x, _, t in seen if t < HOLD_RELEASE[0]][-1]
    assert not torch.allclose(x, (1 - t) * latents[:, :, -1] + t * seen[0][0][:, :, k], atol=tol)


def _subject_pipeline(tmp_path, keyword: str, **overrides):
    """A camera pipeline (drift 1.5 px a frame) whose subject head asks 4 px a frame whatever the
    prompt; returns it and the list each denoiser call's `keyword` argument is recorded in."""
    import math


    from engine.model.subject import MAX_SUBJECT_SPEED

    pipe, _, _ = _camera_pipeline(tmp_path, drift=(1.5, 0.0), camera_zoom=True, subject_motion=True, **overrides)
    den = pipe.model.denoiser
    with torch.no_grad():
        den.subject.net[2].weight.zero_()
        den.subject.net[2].bias.fill_(MAX_SUBJECT_SPEED * math.atanh(4.0 / MAX_SUBJECT_SPEED))
    told, forward = [], den.forward

    def recording(*args, **kwargs):
        told.append(kwargs.get(keyword))
        return forward(*args, **kwargs)

    den.forward = recording
    return pipe, told


def test_the_denoiser_is_told_the_prompt_s_subject_speed_in_the_camera_frame(tmp_path):
    """With subject_motion the subject head's speed, less the camera's drift, goes to the
    conditional pass and none (NaN) to the unconditional one; a restyle, whose structure map carries
    the subject's path, tells none."""
    import math

    pipe, told = _subject_pipeline(tmp_path, "subject")
    pipe.generate(GenerateRequest(prompt="a ball moving right", seconds=1.0, steps=2, rate=8))
    assert len(told) == 2
    for speeds in told:
        assert speeds[0].item() == pytest.approx(2.5, abs=1e-4) and math.isnan(speeds[1].item())
    told.clear()
    pipe.restyle(RestyleRequest(frames=np.zeros((8, 32, 64, 3), np.uint8), prompt="at night", strength=0.6, rate=8))
    assert told and all(speeds is None for speeds in told)


def test_a_generate_tells_the_denoiser_where_its_subject_goes(tmp_path):
    """With subject_layout a generate that names a subject tells its windows the box placed from its
    seed, moving the head's speed less the drift, and the unconditional pass none; a long shot's later
    windows are told where the path goes on; a prompt with no subject and an extension tell none."""

    pipe, told = _subject_pipeline(tmp_path, "layout", subject_layout=True)

    def generate(prompt, seed=0, seconds=1.0):
        told.clear()
        pipe.generate(GenerateRequest(prompt=prompt, seconds=seconds, steps=2, rate=8, seed=seed))
        return list(told)

    layouts = generate("a red ball moving right")
    assert len(layouts) == 2 and all(torch.equal(lay, layouts[0]) for lay in layouts)
    cover, none = layouts[0][0], layouts[0][1]
    assert cover.shape == (2, 4, 8) and cover.any() and not none.any()
    # its centre moves 2.5 px a frame in the camera frame: 10 px a latent frame of 4
    cols = torch.arange(8) * 8 + 4.0
    centre = [float((cover[k].sum(0) * cols).sum() / cover[k].sum()) for k in range(2)]
    assert centre[1] - centre[0] == pytest.approx(10.0, abs=2.5)
    assert torch.equal(generate("a red ball moving right")[0], layouts[0])  # one seed, one place
    assert not torch.equal(generate("a red ball moving right", seed=5)[0], layouts[0])
    assert all(lay is None for lay in generate("over the sea at night"))
    long = generate("a green cube moving left", seconds=3.0)
    windows = len(long) // 2
    assert windows > 1 and all(lay is not None for lay in long)
    # the second window is told the same boxes where it overlaps the first, and the path going on after
    second, first_boxes = long[2][0], list(long[0][0])
    assert any(torch.equal(second[0], box) for box in first_boxes)
    assert not any(torch.equal(second[-1], box) for box in first_boxes)
    # placed over the first window, not the whole shot: the moving box stays whole in the frame
    first = long[0][0]
    assert first.shape == cover.shape and float(first[0].sum()) == pytest.approx(float(first[-1].sum()), rel=1e-3)
    told.clear()
    pipe.extend(ExtendRequest(frames=np.zeros((8, 32, 64, 3), np.uint8), prompt="a red ball moving right",
                              seconds=1.0, rate=8, steps=2))
    assert told and all(lay is None for lay in told)


def test_an_animate_is_told_where_its_still_s_subject_goes(tmp_path):
    """With subject_layout an animate tells its denoiser the box where the still shows its subject, moving
    on at the head's speed in the camera frame (2.5 px a frame: 10 px a latent frame of 4); a still with
    no subject, or a prompt with none, tells none."""
    pipe, told = _subject_pipeline(tmp_path, "layout", subject_layout=True)

    def animate(image, prompt="a red box moving right"):
        told.clear()
        pipe.animate(AnimateRequest(image=image, prompt=prompt, seconds=1.0, steps=2, rate=8))
        return list(told)

    still = _square_clip(1, 20, 0.0)[0]  # the box's centre at x 23.5
    layouts = animate(still)
    assert layouts and all(lay is not None for lay in layouts)
    centres = _centres(layouts[0][0])
    assert centres[0] == pytest.approx(23.5 + 2.5 * 1.5, abs=2.5)  # its first latent frame's four frames
    assert centres[1] - centres[0] == pytest.approx(10.0, abs=2.5)
    assert all(lay is None for lay in animate(np.full((32, 64, 3), 90, np.uint8)))
    scattered = np.full((32, 64, 3), 90, np.uint8)
    scattered[2:6, 2:6] = scattered[26:30, 56:60] = (220, 30, 30)  # the key's pixels in two far corners
    assert all(lay is None for lay in animate(scattered))
    assert all(lay is None for lay in animate(still, prompt="over the sea at night"))


def test_a_white_subject_is_drawn_white_in_the_box_it_was_told(tmp_path, monkeypatch):
    """A generate or animate whose prompt asks for a white subject takes the tint off the subject in
    the box the denoiser was told (model/subject_tint.py), each frame's box in the picture: on screen
    it moves the head's 2.5 px a frame plus the camera's 1.5; a restyle, where its input shows its
    subject. A subject of a colour is left as drawn."""
    import engine.pipeline as pipeline

    pipe, _ = _subject_pipeline(tmp_path, "layout", subject_layout=True)
    calls, real = [], pipeline.untint_subject
    monkeypatch.setattr(pipeline, "untint_subject", lambda video, boxes: calls.append(boxes) or real(video, boxes))
    pipe.generate(GenerateRequest(prompt="a white ball moving right", seconds=1.0, steps=2, rate=8))
    (boxes,) = calls
    assert boxes.shape == (8, 3)
    steps = np.diff(boxes[:, 0])  # the camera's whole-pixel offsets alternate 2 and 1 px; a round trip aside
    assert np.mean(steps[steps > 0]) == pytest.approx(4.0, abs=0.5)
    calls.clear()
    pipe.generate(GenerateRequest(prompt="a red ball moving right", seconds=1.0, steps=2, rate=8))
    assert not calls
    white = _square_clip(1, 20, 0.0)[0]
    white[16:24, 20:28] = 240
    pipe.animate(AnimateRequest(image=white, prompt="a white box moving right", seconds=1.0, steps=2, rate=8))
    (boxes,) = calls
    assert len(boxes) == 7  # all but the still itself; frame 1 the head's 2.5 px on, and the camera's 2 (1.5, whole)
    assert boxes[0, 0] == pytest.approx(23.5 + 2.5 + 2, abs=0.6) and boxes[0, 1] == pytest.approx(19.5, abs=0.5)
    calls.clear()  # a restyle to a white subject: where its input shows the subject
    clip = _square_clip(8, 20, 2.0)
    pipe.restyle(RestyleRequest(frames=clip, prompt="a white box moving right at night", strength=0.6, rate=8))
    (boxes,) = calls
    assert boxes[:, 0] == pytest.approx(23.5 + 2.0 * np.arange(8), abs=0.5)
    calls.clear()
    pipe.restyle(RestyleRequest(frames=clip, prompt="a green box moving right at night", strength=0.6, rate=8))
    assert not calls


def test_a_long_shot_s_subject_is_slowed_to_cross_the_frame_once(tmp_path):
    """Along a still camera the head's 4 px a frame would carry a 3 s shot's subject out of the 64 px frame
    in its first second: it is slowed so that its path spans LAYOUT_X over the whole shot, the denoiser is
    told the slowed speed, and the box stays whole in the frame in every window. A 1 s shot keeps 4 px."""
    from engine.model.subject import LAYOUT_X

    pipe, speeds = _subject_pipeline(tmp_path, "subject", subject_layout=True)
    pipe.model.denoiser.camera = pipe.model.denoiser.zoom = None  # a still camera
    layouts, forward = [], pipe.model.denoiser.forward

    def recording(*args, **kwargs):
        layouts.append(kwargs.get("layout"))
        return forward(*args, **kwargs)

    pipe.model.denoiser.forward = recording
    pipe.generate(GenerateRequest(prompt="a green cube moving right", seconds=1.0, steps=2, rate=8))
    assert speeds[0][0].item() == pytest.approx(4.0, abs=1e-4)
    speeds.clear(), layouts.clear()
    frames = len(pipe.generate(GenerateRequest(prompt="a green cube moving right", seconds=3.0, steps=2,
                                               rate=pipe.native_rate)).frames)
    slowed = (LAYOUT_X[1] - LAYOUT_X[0]) * 64 / (frames - 1)
    assert all(told[0].item() == pytest.approx(slowed, abs=1e-3) for told in speeds)
    boxes = [lay[0] for lay in layouts[::2]]  # each window's conditional pass
    assert len(boxes) > 1
    whole = float(boxes[0][0].sum())
    assert all(float(frame.sum()) == pytest.approx(whole, rel=1e-3) for box in boxes for frame in box)
    assert _centres(boxes[-1])[-1] - _centres(boxes[0])[0] == pytest.approx(slowed * (frames - 4), abs=3.0)


def _square_clip(frames: int, x0: float, speed: float) -> np.ndarray:
    """A red 8 px square moving `speed` px a frame from x0 over a still grey texture, [T,32,64,3]."""
    ground = np.random.default_rng(0).integers(60, 150, (32, 64, 1)).repeat(3, axis=2).astype(np.uint8)
    clip = np.repeat(ground[None], frames, axis=0)
    for t in range(frames):
        x = int(round(x0 + speed * t))
        clip[t, 16:24, x:x + 8] = (220, 30, 30)
    return clip


def _centres(layout) -> list[float]:
    """Each latent frame's box centre along x, px (8 px cells)."""

    cols = torch.arange(layout.shape[-1]) * 8 + 4.0
    return [float((frame.sum(0) * cols).sum() / frame.sum()) for frame in layout]


def test_an_extension_or_fill_is_told_where_its_clip_leaves_the_subject(tmp_path):
    """An extension of a clip keyed with a subject tells the denoiser the subject's box on at the clip's
    own speed: on to the right after a tail, back to the left before a head; a fill tells the path from
    where the clip before leaves it to where the clip after takes it up."""
    pipe, told = _subject_pipeline(tmp_path, "layout", subject_layout=True)
    pipe.model.denoiser.camera = None  # a still camera: the layout is the picture's own
    prompt = "a red box moving right"

    def layout(request):
        told.clear()
        getattr(pipe, request.op)(request)
        assert told and all(lay is not None and lay[1:].abs().sum() == 0 for lay in told)
        return told[0][0]

    # the context is the clip's last (or first) latent frame of 4, its box centred at 35 (27) px
    clip = _square_clip(8, 20, 2.0)
    tail = _centres(layout(ExtendRequest(frames=clip, prompt=prompt, seconds=1.0, rate=8, steps=2)))
    assert tail == pytest.approx([35.0, 43.0], abs=1.0)  # on from where the clip leaves it, 2 px a frame
    head = _centres(layout(ExtendRequest(frames=clip, prompt=prompt, seconds=1.0, rate=8, steps=2,
                                         direction="head")))
    assert head == pytest.approx([19.0, 27.0], abs=1.0)
    before, after = _square_clip(8, 4, 1.0), _square_clip(8, 40, 1.0)  # leaves it at 13.5, takes it up at 45.5
    fill = _centres(layout(FillRequest(before_frames=before, after_frames=after, prompt=prompt, seconds=1.0,
                                       rate=8, steps=2)))
    assert fill[0] == pytest.approx(13.5, abs=1.0) and 14.5 < fill[1] < 45.5  # on its way across the gap
    told.clear()
    pipe.extend(ExtendRequest(frames=clip, prompt="over a field at night", seconds=1.0, rate=8, steps=2))
    assert told and all(lay is None for lay in told)  # no subject asked for


def test_an_extension_inside_a_zoom_in_carries_its_subject_on_at_the_clip_s_pace_on_screen(tmp_path, monkeypatch):
    """A clip that zooms in (0.03 a frame) with its box moving 2 px a frame on screen: the tail's new frames
    are pushed on in by the digital zoom, so the box is drawn where the zoom brings it on at 2 px a frame on
    screen. Continued at its pace in the drawn picture (where the given frames' framing stretches its path),
    it ran ahead."""
    import math

    pipe, told = _subject_pipeline(tmp_path, "layout", subject_layout=True)
    monkeypatch.setattr(pipe, "_given_zoom", lambda frames, drift: 0.03)
    told.clear()
    pipe.extend(ExtendRequest(frames=_square_clip(8, 20, 2.0), prompt="a red box moving right", seconds=1.0,
                              rate=8, steps=2))
    drawn = _centres(told[-1][0])  # the last window: the new latent frames, in the drawn picture
    screen = [24.0 + 2.0 * t for t in range(8, 16)]  # the box's centre on screen, going on
    at = [32.0 + (x - 32.0) / math.exp(0.03 * (f + 1)) for f, x in enumerate(screen)]  # in the picture
    assert drawn == pytest.approx([sum(at[:4]) / 4, sum(at[4:]) / 4], abs=1.0)


def test_an_extension_carries_its_clip_s_subject_inside_its_blocks_and_a_fill_does_not(tmp_path, monkeypatch):
    """block_blend.move_within_blocks runs on a generate, and on an extension whose clip shows a
    subject; not on one whose prompt asks for none, nor on a fill."""
    import engine.pipeline as pipeline

    pipe, _ = _subject_pipeline(tmp_path, "layout", subject_layout=True)
    pipe.model.denoiser.camera = None
    ran, real = [], pipeline.move_within_blocks
    monkeypatch.setattr(pipeline, "move_within_blocks", lambda *a, **k: ran.append(True) or real(*a, **k))

    def carried(request) -> bool:
        ran.clear()
        getattr(pipe, request.op)(request)
        return bool(ran)

    clip, prompt = _square_clip(8, 20, 2.0), "a red box moving right"
    assert carried(GenerateRequest(prompt=prompt, seconds=1.0, rate=8, steps=2))
    assert carried(ExtendRequest(frames=clip, prompt=prompt, seconds=1.0, rate=8, steps=2))
    assert not carried(ExtendRequest(frames=clip, prompt="over a field at night", seconds=1.0, rate=8, steps=2))
    assert not carried(FillRequest(before_frames=clip, after_frames=clip, prompt=prompt, seconds=1.0, rate=8,
                                   steps=2))


def test_an_extension_or_fill_shows_its_clips_own_subject_carried_on(tmp_path, monkeypatch):
    """An extension whose clip shows a subject ends with that subject, cut from the clip's frame next to
    the seam, carried over its new frames (model/subject_carry.py), each at its distance from the seam; a
    fill with both sides' subjects; not one whose prompt asks for no subject."""
    import engine.pipeline as pipeline

    pipe, _ = _subject_pipeline(tmp_path, "layout", subject_layout=True)
    pipe.model.denoiser.camera = None
    calls, real = [], pipeline.carry_subject
    monkeypatch.setattr(pipeline, "carry_subject", lambda video, pixels, sprite, distances, ground:
                        calls.append((sprite, distances, ground)) or real(video, pixels, sprite, distances, ground))

    def carried(request):
        calls.clear()
        getattr(pipe, request.op)(request)
        return calls

    clip, prompt = _square_clip(8, 20, 2.0), "a red box moving right"
    (sprites, distances, ground), = carried(ExtendRequest(frames=clip, prompt=prompt, seconds=1.0, rate=8, steps=2))
    (sprite,), (distances,) = sprites, distances
    assert distances == list(range(1, 9)) and sprite.kind == "saturated"
    plate, held = ground  # a still shot: the drawn subject's pixels are filled from the clip's clean plate
    assert plate.shape == (1, 3, 32, 64) and held.shape == (1, 1, 32, 64)
    assert sprite.centre == pytest.approx((37.5, 19.5), abs=0.5) and sprite.step == pytest.approx((2.0, 0.0), abs=0.1)
    ((sprite,), (distances,), _), = carried(ExtendRequest(frames=clip, prompt=prompt, seconds=1.0, rate=8, steps=2,
                                                          direction="head"))
    assert distances == list(range(-8, 0)) and sprite.centre == pytest.approx((23.5, 19.5), abs=0.5)
    assert not carried(ExtendRequest(frames=clip, prompt="over a field at night", seconds=1.0, rate=8, steps=2))
    ((before, after), distances, _), = carried(FillRequest(before_frames=clip, after_frames=clip, prompt=prompt,
                                                             seconds=1.0, rate=8, steps=2))
    n = len(distances[0])
    assert distances == [list(range(1, n + 1)), list(range(-n, 0))]
    assert before.centre == pytest.approx((37.5, 19.5), abs=0.5) and after.centre == pytest.approx((23.5, 19.5), abs=0.5)


def test_a_subject_that_walks_out_of_the_picture_stays_out(tmp_path):
    """A box 4 px a frame leaves the clip at x 48 and walks out at the right edge in the new frames: the
    layout follows it to the edge and then shows nothing. In the still camera's frame (the drift measured
    (0, 0)) its box wrapped round and came back in at the left edge."""

    pipe, told = _subject_pipeline(tmp_path, "layout", subject_layout=True)
    told.clear()
    pipe.extend(ExtendRequest(frames=_square_clip(8, 20, 4.0), prompt="a red box moving right", seconds=2.0, rate=8,
                              steps=2))
    layouts = torch.cat([lay[:1, 1:] for lay in told if lay is not None], dim=1)[0]  # each window's new frame
    assert layouts[0].sum() > 0.5 and layouts[-1].sum() == 0
    assert layouts[..., :2].sum() == 0  # never at the left edge


def test_a_seam_s_difference_moves_on_with_the_clips_subject(tmp_path, monkeypatch):
    """The seam matching, and an extension's hold after it, are told the clip's subject's step on screen
    away from each seam (2 px a frame to the right after a tail, to the left before a head, each side of
    a fill) and where the subject is at the seam; with no subject asked for, nothing moves but the camera."""
    import engine.pipeline as pipeline_module

    pipe, _ = _subject_pipeline(tmp_path, "layout", subject_layout=True)
    pipe.model.denoiser.camera = None
    seen, held, match, hold = [], [], pipeline_module.match_seams, pipeline_module.hold_still
    monkeypatch.setattr(pipeline_module, "match_seams",  # the clip's seams (window joins pass no `moving`)
                        lambda *a, moving=None, **k: match(*a, **k) if moving is None else
                        seen.append(moving) or match(*a, moving=moving, **k))
    monkeypatch.setattr(pipeline_module, "hold_still", lambda *a, **k: held.append(k["moving"]) or hold(*a, **k))
    prompt, clip = "a red box moving right", _square_clip(8, 20, 2.0)
    pipe.extend(ExtendRequest(frames=clip, prompt=prompt, seconds=1.0, rate=8, steps=2))
    assert held[-1][0][1] == seen[-1][0][1] and torch.all(held[-1][0][0] <= seen[-1][0][0])
    (mask, step), after = seen[-1]
    assert step == pytest.approx((0.0, 2.0), abs=0.1) and after is None
    assert mask[0, 0, 20, 37] > 0.9 and mask[0, 0, 4, 4] == 0  # on the box one step on, not the ground
    pipe.extend(ExtendRequest(frames=clip, prompt=prompt, seconds=1.0, rate=8, steps=2, direction="head"))
    before, (_, step) = seen[-1]
    assert before is None and step == pytest.approx((0.0, -2.0), abs=0.1)
    pipe.fill(FillRequest(before_frames=_square_clip(8, 4, 1.0), after_frames=_square_clip(8, 40, 1.0),
                          prompt=prompt, seconds=1.0, rate=8, steps=2))
    steps = [side[1] for side in seen[-1]]
    assert steps == [pytest.approx((0.0, 1.0), abs=0.1), pytest.approx((0.0, -1.0), abs=0.1)]
    assert held[-1] == (None, None)  # a fill's hold cross-fades both sides' pictures, its subject's too
    pipe.extend(ExtendRequest(frames=clip, prompt="over a field at night", seconds=1.0, rate=8, steps=2))
    assert seen[-1] == (None, None)



def test_an_extension_s_hold_is_told_only_the_keyed_subject_its_layout_covers(tmp_path):
    """The key also takes in light patches of the ground: the subject left out of an extension's hold is
    cut to the latent cells the told layout covers at the seam (and one round them), moved out of the
    camera frame by that frame's offset, so no patch of unheld ground stands elsewhere."""
    from engine.pipeline import _Sequence

    pipe, _, _ = _camera_pipeline(tmp_path)
    ks = pipe.config.space_compression
    layout = torch.zeros(1, 4, 32 // ks, 64 // ks)
    layout[:, 1, 16 // ks, 8 // ks] = 1.0  # the seam frame's latent (frames 4-7): the cell at row 16, column 8
    seq = _Sequence(latent_frames=4, out_start=8, out_frames=8, layout=layout, drift=(1.0, 0.0))
    mask = torch.zeros(1, 1, 32, 64)
    mask[..., 16:20, 25:29] = 1.0  # the subject, beside the cell where the picture shows it (7 px on at frame 7)
    mask[..., 2:6, 50:60] = 1.0  # a light patch of ground, over a cell away
    (cut, step), after = pipe._told_subject(((mask, (0.0, 2.0)), None), seq)
    assert step == (0.0, 2.0) and after is None
    assert torch.equal(cut[..., 16:20, 25:29], mask[..., 16:20, 25:29]) and cut[..., 2:6, 50:60].sum() == 0
    assert pipe._told_subject(((mask, (0.0, 2.0)), None), _Sequence(latent_frames=4)) == (None, None)


def test_a_long_shot_s_subject_is_not_held_to_its_known_place():
    """In a window after the first (frames 0-1 known), the cells near the subject's box, where it
    is in a new frame or was in a known one, are never held (release 1); the known frames stay held
    (0) and the cells away from the box keep their frame's release."""

    from engine.model.hold import free_subject, held_frames

    have = torch.tensor([True, True, False, False, False])
    _, release = held_frames(torch.zeros(1, 4, 5, 8, 16), have, (0.5, 0.15))
    layout = torch.zeros(1, 5, 8, 16)
    layout[0, 0:2, 3:5, 2:4] = 1.0   # the box where the known frames left it
    layout[0, 2:, 3:5, 10:12] = 1.0  # and where the new ones take it
    out = free_subject(release, layout, have)[0, 0]
    assert out.shape == (5, 8, 16)
    assert torch.equal(out[:2], torch.zeros(2, 8, 16))
    assert torch.equal(out[2:, 4, 3], torch.ones(3)) and torch.equal(out[2:, 4, 11], torch.ones(3))
    assert torch.allclose(out[2:, 0, 7], release[0, 0, 2:, 0, 0])  # above both places, beyond reach


def test_an_extension_steadies_its_ground_hard_away_from_the_subject(tmp_path, monkeypatch):
    """An extension's or fill's sampler steadies the ground hard (temporal_nr.ground_cells): away from
    the subject's told layout, everywhere when no subject is asked for; a generate, and an extension
    that asks for a subject its clip does not show (so where it goes is unknown), steady as before."""
    import engine.pipeline as pipeline_module

    pipe, told = _subject_pipeline(tmp_path, "layout", subject_layout=True)
    grounds, steady = [], pipeline_module.steady_velocity

    def recording(x, v, sigma, ground=None):
        grounds.append(ground)
        return steady(x, v, sigma, ground)

    monkeypatch.setattr(pipeline_module, "steady_velocity", recording)

    def ground_of(request):
        grounds.clear()
        told.clear()
        getattr(pipe, request.op)(request)
        assert grounds
        return grounds[0], told[0]

    clip = _square_clip(8, 20, 2.0)
    ground, layout = ground_of(ExtendRequest(frames=clip, prompt="a red box moving right", seconds=1.0, rate=8,
                                             steps=2))
    near = layout[0] > 0
    assert ground is not None and not ground[near].any() and ground.any()
    fill = FillRequest(before_frames=_square_clip(8, 4, 1.0), after_frames=_square_clip(8, 40, 1.0),
                       prompt="a red box moving right", seconds=1.0, rate=8, steps=2)
    assert ground_of(fill)[0] is not None
    ground, _ = ground_of(ExtendRequest(frames=clip, prompt="over a field at night", seconds=1.0, rate=8, steps=2))
    assert ground is not None and ground.all()
    empty = np.zeros_like(clip)
    assert ground_of(ExtendRequest(frames=empty, prompt="a red box moving right", seconds=1.0, rate=8,
                                   steps=2))[0] is None
    assert ground_of(GenerateRequest(prompt="a red box moving right", seconds=1.0, rate=8, steps=2))[0] is None


@pytest.mark.parametrize("native", [True, False])
def test_the_denoiser_s_products_run_in_bf16_only_where_the_cpu_computes_it(pipe, monkeypatch, native):
    import engine.device

    monkeypatch.setattr(engine.device, "cpu_has_bf16", lambda: native)
    seen = set()
    hook = pipe.model.denoiser.blocks[0].mlp[0].register_forward_hook(lambda m, i, out: seen.add(out.dtype))
    try:
        pipe.generate(GenerateRequest(prompt="a red ball", seconds=0.5, steps=2))
    finally:
        hook.remove()
    assert seen == {torch.bfloat16 if native else torch.float32}
    assert next(pipe.model.denoiser.parameters()).dtype == torch.float32  # the weights stay as loaded


def test_a_clip_s_clean_plate_is_pulled_only_from_a_still_shot_with_a_subject(pipe):
    from engine.train.world import Scene, render

    def shot(camera="static", color="red", motion="right"):
        scene = Scene(time_of_day="day", setting="city", camera=camera, color=color,
                      shape=None if color is None else "box", motion=motion, layout_seed=5, subject_x=0.3,
                      subject_y=0.6, subject_size=0.2, subject_travel=0.4)
        return render(scene, 64, 32, 16)

    def plate(frames, drift=(0.0, 0.0)):
        return pipe._clean_plate(pipe._to_native(frames, pipe.native_rate), True, *pipe.native_size, drift)

    pulled = plate(shot())
    assert pulled is not None and bool(pulled[1].any()) and float(pulled[2].max()) > 0.5  # where the subject left
    assert plate(shot(color=None, motion=None)) is None  # no subject
    assert plate(shot(camera="pan left"), drift=(1.0, 0.0)) is None
    assert plate(shot()[:2]) is None  # too few frames


def test_a_fill_s_clean_plate_is_the_clip_before_s_where_it_holds_else_the_clip_after_s():
    from engine.pipeline import LatentCutPipeline, _Sequence

    before, after = torch.zeros(1, 3, 4, 6), torch.ones(1, 3, 4, 6)
    held_before, held_after = torch.zeros(1, 1, 4, 6, dtype=torch.bool), torch.zeros(1, 1, 4, 6, dtype=torch.bool)
    held_before[..., :3] = True
    held_after[..., 2:5] = True
    seq = _Sequence(latent_frames=1, plates=((before, held_before, None), (after, held_after, None)))
    plate, held = LatentCutPipeline._plate(seq)
    assert plate[0, 0, 0].tolist() == [0, 0, 0, 1, 1, 1] and held[0, 0, 0].tolist() == [True] * 5 + [False]
    assert LatentCutPipeline._plate(_Sequence(latent_frames=1)) is None
    plate, held = LatentCutPipeline._plate(_Sequence(latent_frames=1, plates=(None, (after, held_after, None))))
    assert plate is after and held is held_after


def test_a_told_box_wraps_round_the_picture_only_along_the_camera_s_drift():
    """A tilt's camera frame wraps round up and down, not across: a subject that walks out at the left
    edge stays out, and is not told at the right edge."""
    from engine.pipeline import LatentCutPipeline, _Sequence

    path = np.array([[10.0 - 8 * f, 20.0, 4.0] for f in range(4)])
    seq = _Sequence(latent_frames=1, out_frames=4, drift=(0.0, -5.0), path=path)
    boxes = LatentCutPipeline._told_boxes(seq, 4, 32, 64)
    assert boxes[:, 0].tolist() == [10.0, 2.0, -6.0, -14.0]  # out of the picture, where the untint skips it
    assert boxes[:, 1].tolist() == [20.0, 15.0, 10.0, 5.0]
    seq.drift = (0.0, -8.0)
    assert LatentCutPipeline._told_boxes(seq, 4, 32, 64)[3, 1] == 28.0  # (20 - 24) mod 32
