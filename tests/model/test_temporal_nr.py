"""Temporal noise reduction of new frames (engine/model/temporal_nr.py)."""
import torch

from engine.model.camera import frame_offsets
from engine.model.temporal_nr import ground_cells, reduce_noise, steady_velocity


def _noisy(picture, frames, amplitude, seed=0):
    g = torch.Generator().manual_seed(seed)
    return picture[:, :, None].repeat(1, 1, frames, 1, 1) + amplitude * torch.randn(
        (1, 3, frames, *picture.shape[-2:]), generator=g)


def test_boiling_of_a_still_shot_is_averaged_away():
    picture = torch.linspace(-0.6, 0.6, 16 * 24).reshape(1, 1, 16, 24).expand(1, 3, 16, 24)
    video = _noisy(picture, 12, 3 / 127.5)  # 3 levels of boiling
    out = reduce_noise(video)
    before = (video.diff(dim=2)).abs().mean()
    assert (out.diff(dim=2)).abs().mean() < 0.5 * before
    assert (out - picture[:, :, None]).abs().mean() < 0.6 * (video - picture[:, :, None]).abs().mean()


def test_a_moving_subject_keeps_its_edges():
    frames = torch.full((1, 3, 8, 16, 32), -0.5)
    for f in range(8):
        frames[:, 0, f, 4:12, 2 + 3 * f:10 + 3 * f] = 0.9  # a red square 3 px a frame to the right
    out = reduce_noise(frames)
    assert (out - frames).abs().max() < 0.02  # every difference is motion: nothing is averaged


def test_neighbours_are_aligned_along_the_drift_and_the_wrapped_strip_takes_no_part():
    picture = torch.rand((1, 3, 16, 40), generator=torch.Generator().manual_seed(2)) * 2 - 1
    offsets = frame_offsets((2.0, 0.0), 6)
    panned = torch.stack([torch.roll(picture, offsets[f], (-2, -1)) for f in range(6)], dim=2)
    noisy = panned + 3 / 127.5 * torch.randn(panned.shape, generator=torch.Generator().manual_seed(3))
    out = reduce_noise(noisy, offsets)
    inside = (slice(None), slice(None), slice(None), slice(None), slice(12, 28))
    assert (out - panned)[inside].abs().mean() < 0.6 * (noisy - panned)[inside].abs().mean()
    # Without the drift the pan's content would differ everywhere and nothing would be averaged.
    assert torch.allclose(reduce_noise(panned, offsets)[inside], panned[inside], atol=1e-3)


def test_the_sampler_s_velocity_keeps_an_agreeing_scene_and_a_moving_subject():
    """steady_velocity averages the clean estimate x - sigma v over latent frames that agree: a still
    scene's velocity is unchanged, a wobble in it is damped, a subject far from its background kept."""
    g = torch.Generator().manual_seed(4)
    scene = torch.randn(1, 4, 1, 6, 16, generator=g).expand(1, 4, 6, 6, 16).clone()
    x = scene + 0.7 * torch.randn(scene.shape, generator=g)
    assert torch.allclose(steady_velocity(x, (x - scene) / 0.7, 0.7), (x - scene) / 0.7, atol=1e-5)
    wobbly = scene + 0.2 * torch.randn(scene.shape, generator=g)
    for f in range(6):
        wobbly[:, :, f, 2:4, 2 * f:2 * f + 2] += 4.0  # a subject its width a frame to the right
    steadied = x - 0.7 * steady_velocity(x, (x - wobbly) / 0.7, 0.7)
    background = torch.ones(6, 16, dtype=torch.bool)
    background[2:4] = False
    assert (steadied - scene)[..., background].abs().mean() < 0.6 * (wobbly - scene)[..., background].abs().mean()
    for f in range(6):
        assert (steadied - wobbly)[:, :, f, 2:4, 2 * f:2 * f + 2].abs().max() < 0.05


def test_an_extension_s_ground_is_steadied_hard_and_its_subject_kept():
    """Given the ground (an extension's or fill's), steady_velocity damps a wobble of the ground
    that the plain steadying leaves (it counts differences of a latent unit as motion), and keeps
    the cells near the subject's layout as the plain one does."""
    g = torch.Generator().manual_seed(5)
    scene = torch.randn(1, 4, 1, 6, 16, generator=g).expand(1, 4, 6, 6, 16).clone()
    x = scene + 0.7 * torch.randn(scene.shape, generator=g)
    wobbly = scene + 1.5 * torch.randn(scene.shape, generator=g)  # boiling of a latent unit and more
    cover = torch.zeros(6, 6, 16)
    for f in range(6):
        wobbly[:, :, f, 2:4, 2 * f:2 * f + 2] += 8.0  # a subject its width a frame to the right
        cover[f, 2:4, 2 * f:2 * f + 2] = 1.0
    ground = ground_cells(cover, (6, 6, 16))
    assert not ground[0, 1:5, 0:3].any() and ground[0, 0, 5] and not ground[5, 3, 11]
    assert ground_cells(None, (6, 6, 16)).all()
    plain = x - 0.7 * steady_velocity(x, (x - wobbly) / 0.7, 0.7)
    hard = x - 0.7 * steady_velocity(x, (x - wobbly) / 0.7, 0.7, ground)
    err = lambda est: (est - scene).abs()[0].mean(dim=0)  # noqa: E731
    assert err(hard)[ground].mean() < 0.6 * err(plain)[ground].mean()
    for f in range(6):
        assert (hard - wobbly)[:, :, f, 2:4, 2 * f:2 * f + 2].abs().max() < 0.05
