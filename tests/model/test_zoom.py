"""Zooms as a digital zoom of a still scene (engine/model/zoom.py), read from the prompt by a head."""
import math

import numpy as np
import pytest
import torch

from engine.model.zoom import (MAX_ZOOM_RATE, MAX_ZOOM_SCALE, MIN_ZOOM_RATE, continue_zoom, measure_zoom, scale_frames,
                               zoom_frames, zoom_scales)
from engine.requests import AnimateRequest, GenerateRequest
from engine.train import evaluate as ev
from engine.train.world import EVAL_SEED_START, Scene, render, sample_scene


def test_scales_start_or_end_on_the_whole_picture():
    rate = math.log(1.45) / 23  # the world's zoom over a 2 s clip at 12 fps
    zoom_in = zoom_scales(rate, 24)
    assert zoom_in[0] == 1.0 and math.isclose(zoom_in[-1], 1.45, rel_tol=1e-6)
    assert zoom_scales(-rate, 24) == zoom_in[::-1]  # a zoom out ends on the whole picture
    assert zoom_scales(0.0, 24) == [1.0] * 24
    assert math.isclose(max(zoom_scales(rate, 240)), MAX_ZOOM_SCALE)  # a long shot's zoom is slowed


def test_a_frame_is_scaled_about_its_centre():
    video = torch.full((1, 3, 2, 40, 80), -1.0)
    video[:, :, :, 15:25, 30:50] = 1.0  # a 20x10 box in the middle
    out = zoom_frames(video, math.log(1.5))  # frame 1 at 1.5x
    assert torch.equal(out[:, :, 0], video[:, :, 0])
    bright = out[0, 0, 1] > 0
    cols, rows = bright.any(0).nonzero().flatten(), bright.any(1).nonzero().flatten()
    assert abs(int(cols[-1] - cols[0] + 1) - 30) <= 1 and abs(int(rows[-1] - rows[0] + 1) - 15) <= 1  # 1.5x
    assert (int(cols[0]) + int(cols[-1])) / 2 == pytest.approx(39.5, abs=0.5)


@pytest.mark.parametrize("move", ["zoom in", "zoom out"])
def test_a_digitally_zoomed_still_reads_as_the_zoom(move):
    scene = Scene(**{**sample_scene(EVAL_SEED_START + 7).to_dict(), "camera": "static"})
    still = render(scene, 256, 144, 24)
    x = torch.from_numpy(still).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    rate = math.log(1.45) / 23 * (1 if move == "zoom in" else -1)
    frames = ((zoom_frames(x, rate)[0].permute(1, 2, 3, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    assert ev.classify_camera(still) == "static" and ev.classify_camera(frames) == move


@pytest.fixture
def pushes(monkeypatch):
    """(rate, lead) of each digital zoom the pipeline makes."""
    import engine.pipeline

    made = []
    monkeypatch.setattr(engine.pipeline, "zoom_frames",
                        lambda video, rate, lead=0: (made.append((rate, lead)), zoom_frames(video, rate, lead))[1])
    return made


def _zoom_pipeline(tmp_path, rate):
    from test_pipeline import _camera_pipeline

    pipe, _, _ = _camera_pipeline(tmp_path, camera_zoom=True)
    _ask_for(pipe, rate)
    return pipe


def _ask_for(pipe, rate):
    """The zoom head asks for `rate` whatever the prompt."""
    with torch.no_grad():
        head = pipe.model.denoiser.zoom
        head.net[2].weight.zero_()
        head.net[2].bias.fill_(MAX_ZOOM_RATE * math.atanh(rate / MAX_ZOOM_RATE))


def test_generate_zooms_the_shot_the_head_asks_for(tmp_path):
    """The same shot without the zoom, then with it: each frame is the first's frame scaled by
    zoom_scales, the first at 1, the last 1.57x."""
    pipe = _zoom_pipeline(tmp_path, 0.0)
    request = GenerateRequest(prompt="zoom in", seconds=2.0, steps=2, rate=8, seed=1)
    plain = pipe.generate(request).frames
    _ask_for(pipe, 0.03)
    zoomed = pipe.generate(request).frames
    x = torch.from_numpy(plain).permute(3, 0, 1, 2)[None].float()
    expected = zoom_frames(x, 0.03)[0].permute(1, 2, 3, 0).numpy()
    assert np.abs(zoomed.astype(float) - expected).mean() < 1.0
    assert np.array_equal(zoomed[0], plain[0]) and np.abs(zoomed[-1].astype(int) - plain[-1]).mean() > 10
    assert zoom_scales(0.03, len(plain))[-1] == pytest.approx(math.exp(0.03 * 15))
    _ask_for(pipe, MIN_ZOOM_RATE / 2)  # a head's hesitation is a still shot
    assert np.array_equal(pipe.generate(request).frames, plain)


def test_an_animated_still_zooms_out_from_the_still(tmp_path, pushes):
    """A zoom out starts on the still inside the widest frame: the first frame is the still shrunk into
    it and pushed back in (on a world still at 256x144 that loses 35-41 dB), and the shot widens."""
    pipe = _zoom_pipeline(tmp_path, -0.03)
    w, h = pipe.native_size
    still = render(sample_scene(EVAL_SEED_START + 7), w, h, 1)[0]
    frames = pipe.animate(AnimateRequest(image=still, prompt="zoom out", seconds=2.0, steps=2, rate=8)).frames
    widest = zoom_scales(-0.03, len(frames))[0]  # the first frame's scale within the last
    x = torch.from_numpy(still).permute(2, 0, 1)[None, :, None].float() / 127.5 - 1
    resampled = scale_frames(scale_frames(x, [1 / widest]), [widest])[0, :, 0].permute(1, 2, 0)
    assert np.abs(frames[0] - ((resampled + 1) * 127.5).numpy()).max() <= 1.5
    assert len(pushes) == 1 and pushes[0][0] == pytest.approx(-0.03) and pushes[0][1] == 0


def test_a_zoom_head_needs_the_camera_frame():
    from engine.model.config import ModelConfig

    with pytest.raises(ValueError, match="camera_zoom"):
        ModelConfig(camera_zoom=True).validate()


def _world(camera, frames=24, seed=7):
    scene = Scene(**{**sample_scene(EVAL_SEED_START + seed).to_dict(), "camera": camera})
    return torch.from_numpy(render(scene, 256, 144, frames)).permute(3, 0, 1, 2).float() / 127.5 - 1


def test_world_clips_zooms_are_measured_from_their_ends():
    """The last 8 frames of world clips, as an extension sees them: 4 held-out scenes, each as a zoom in,
    a zoom out and a still shot. The world's zoom (about 0.016 a frame, faster on its nearest layer)
    is read in all, scene 2's day city among them: its rows of windows, a few pixels apart, read still
    both ways before measure_zoom low-passed the frames."""
    read = []
    for seed in range(4):
        for camera in ("zoom in", "zoom out", "static"):
            rate = measure_zoom(_world(camera, seed=seed)[:, -8:].mean(dim=0, keepdim=True))
            if camera == "static":
                assert rate == 0.0, seed
            else:
                read.append(0.008 <= abs(rate) <= 0.03 and (rate > 0) == (camera == "zoom in"))
    assert all(read), read


def test_an_extension_continues_the_zoom_from_the_frame_at_its_seam():
    """Where the new frames lie inside the seam frame the given frames are brought to its framing (each
    >= 1) and the push goes on one frame after it; the other way they are shrunk into the widest new
    frame, the seam frame one push step inside it."""
    rate = 0.02
    scales, push, lead = continue_zoom(rate, 8, 24, tail=True)  # after a zoom in
    assert push == rate and lead == 1 and scales[-1] == 1.0
    assert scales[0] == pytest.approx(math.exp(7 * rate))
    assert zoom_scales(push, 24, lead)[0] == pytest.approx(math.exp(rate))  # one frame on from the seam
    scales, push, lead = continue_zoom(-rate, 8, 24, tail=True)  # after a zoom out: wider and wider
    assert push == -rate and lead == 0 and all(a < b < 1 for a, b in zip(scales, scales[1:]))
    nearest = zoom_scales(push, 24, lead)[0]  # the first new frame, within the widest
    assert scales[-1] * math.exp(rate) == pytest.approx(1 / nearest)  # one step wider than the seam frame
    assert continue_zoom(rate, 8, 24, tail=False)[0] == continue_zoom(-rate, 8, 24, tail=True)[0][::-1]
    assert continue_zoom(0.0, 8, 24, tail=True) == ([1.0] * 8, 0.0, 0)


@pytest.mark.parametrize("direction", ["tail", "head"])
@pytest.mark.parametrize("rate", [0.03, 0.0])
def test_extend_pushes_its_new_frames_at_the_clip_s_zoom(tmp_path, pushes, direction, rate):
    """The extension of a zoom in (a digitally zoomed world still, 0.03 a frame) is pushed at the rate
    measured from the clip, not the prompt's: after the clip from one frame past the seam frame, before
    it from the widest new frame. A still clip is not pushed."""
    from engine.requests import ExtendRequest

    pipe = _zoom_pipeline(tmp_path, -0.04)
    w, h = pipe.native_size
    still = Scene(**{**sample_scene(EVAL_SEED_START + 7).to_dict(), "camera": "static"})
    x = torch.from_numpy(render(still, w, h, 16)).permute(3, 0, 1, 2)[None].float() / 127.5 - 1
    clip = ((zoom_frames(x, rate)[0].permute(1, 2, 3, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()
    new = pipe.extend(ExtendRequest(frames=clip, direction=direction, prompt="zoom out", seconds=2.0, steps=2,
                                    rate=pipe.native_rate)).frames
    assert len(new) == 16 and len(pushes) == 1
    if rate:
        assert pushes[0][0] == pytest.approx(rate, abs=0.004) and pushes[0][1] == (1 if direction == "tail" else 0)
    else:
        assert pushes[0][0] == 0.0


def test_a_still_subject_keeps_its_place_on_screen_through_a_zoom(tmp_path):
    """The digital zoom scales the drawn picture about its centre; the subject's box is drawn where the
    zoom brings it back to its place on screen (the world's subject holds its place through a zoom),
    so an off-centre box drifts towards the centre of the drawn frame, and without a zoom it stays."""
    from test_pipeline import _camera_pipeline

    pipe, _, _ = _camera_pipeline(tmp_path, camera_zoom=True, subject_motion=True, subject_layout=True)
    den = pipe.model.denoiser
    with torch.no_grad():
        den.subject.net[2].weight.zero_()
        den.subject.net[2].bias.zero_()  # a still subject
    told, forward = [], den.forward
    den.forward = lambda *a, **k: told.append(k.get("layout")) or forward(*a, **k)

    def centres(rate):
        _ask_for(pipe, rate)
        told.clear()
        out = pipe.generate(GenerateRequest(prompt="a red ball standing still", seconds=2.0, steps=2, rate=8, seed=2))
        cover = told[0][0]  # the conditional pass's layout, [t,h,w]
        cols = torch.arange(cover.shape[2]) * pipe.config.space_compression + pipe.config.space_compression / 2
        return np.array([float((c.sum(0) * cols).sum() / c.sum()) for c in cover]), len(out.frames)

    width, kt = pipe.native_size[0], pipe.config.time_compression
    still, frames = centres(0.0)
    assert np.ptp(still) < 0.5 and abs(still[0] - width / 2) > 8  # off centre, where the zoom shows it
    drawn, _ = centres(0.03)
    native = round(frames * pipe.native_rate / 8)
    scales = np.asarray(zoom_scales(0.03, native) + [zoom_scales(0.03, native)[-1]] * kt * len(drawn))
    per_latent = scales[:kt * len(drawn)].reshape(len(drawn), kt).mean(1)
    assert abs(drawn[-1] - width / 2) < abs(drawn[0] - width / 2) - 2  # drawn ever nearer the centre
    on_screen = width / 2 + (drawn - width / 2) * per_latent
    assert np.abs(on_screen - still[0]).max() < 1.0


def test_a_subject_walking_in_at_a_still_shots_edge_is_no_zoom():
    """A held-out still shot whose white ball comes in at the left edge: over its first 8 frames (a head
    extension's context) a zoom out stilled the ball's blocks alone, and the shot read -0.05, so the new
    frames zoomed. With the keyed subject's blocks left out it reads still; zoomed, the same shot reads
    its zoom."""
    from engine.model.subject_key import subject_mask

    fields = dict(time_of_day="sunset", setting="field", color="white", shape="ball", motion="right",
                  layout_seed=518653398, subject_x=0.178, subject_y=0.64, subject_size=0.111, subject_travel=0.324)
    for camera, read in (("static", lambda rate: rate == 0.0), ("zoom in", lambda rate: 0.008 <= rate <= 0.03)):
        frames = render(Scene(camera=camera, **fields), 256, 144, 24)[:8]
        luma = torch.from_numpy(frames).permute(3, 0, 1, 2).float().div(127.5).sub(1).mean(dim=0, keepdim=True)
        mask, kind = subject_mask(frames)
        assert kind == "white"
        if camera == "static":
            assert measure_zoom(luma) <= -0.04  # the misreading
        assert read(measure_zoom(luma, torch.from_numpy(mask.any(0)))), camera
