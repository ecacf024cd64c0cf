"""An extension's layers going on at their own speeds in a pan or tilt (engine/model/parallax.py)."""
import numpy as np
import torch

from engine.model.parallax import layer_speeds, mirror_revealed, parallax_frames


def _two_layers(frames: int = 12, top: float = 0.5, bottom: float = 1.0, axis: str = "y") -> torch.Tensor:
    """[1,3,T,64,96] a far layer (the top half) moving `top` px a frame and a near one (the bottom half)
    moving `bottom`, along the axis: stripes across it, as a tilt (y) or a pan (x) moves them."""
    t = torch.arange(frames, dtype=torch.float32)[:, None, None]
    ys, xs = torch.meshgrid(torch.arange(64.0), torch.arange(96.0), indexing="ij")
    place = ys if axis == "y" else xs
    far = torch.sin(2 * torch.pi * (place - top * t) / 11)
    near = torch.sin(2 * torch.pi * (place - bottom * t) / 7)
    video = torch.where(ys < 32, far, near) * 0.5
    return video[None, None].expand(1, 3, frames, 64, 96).clone()


def test_each_band_of_rows_is_measured_at_its_own_speed_against_the_drift():
    """A tilt whose near ground moves 1 px a frame (the drift) and far layer 0.5: the far rows read
    0.5 slower than the drift, the near ones as the drift; a pan likewise along x."""
    speeds = layer_speeds(_two_layers(), (0.0, 1.0), None, at_end=True)
    assert abs(speeds[12] + 0.5) <= 0.125 and abs(speeds[52]) <= 0.125
    pan = layer_speeds(_two_layers(top=1.0, bottom=2.0, axis="x"), (2.0, 0.0), None, at_end=False)
    assert abs(pan[12] + 1.0) <= 0.125 and abs(pan[52]) <= 0.125
    # nearer (lower) rows never move slower than farther ones, whatever one band reads
    assert np.all(np.diff(speeds) >= -1e-6) and np.all(np.diff(pan) >= -1e-6)


def test_a_still_camera_or_one_speed_for_every_layer_has_nothing_to_carry():
    assert layer_speeds(_two_layers(), (0.0, 0.0), None, at_end=True) is None
    assert layer_speeds(_two_layers(top=1.0), (0.0, 1.0), None, at_end=True) is None


def test_the_subject_is_left_out_of_the_measure():
    """A square moving 3 px a frame down through the far layer: left out, the far rows still read 0.5
    slower than the drift."""
    video = _two_layers()
    subject = torch.zeros(12, 64, 96, dtype=torch.bool)
    for t in range(12):
        video[..., t, 2 + 2 * t:14 + 2 * t, 40:56] = 1.0
        subject[t, 2 + 2 * t:14 + 2 * t, 40:56] = True
    speeds = layer_speeds(video, (0.0, 1.0), subject, at_end=True)
    assert abs(speeds[12] + 0.5) <= 0.125


def test_new_frames_carry_each_row_on_at_its_speed_and_spare_the_subject():
    """Drawn moving with the drift, the far rows of the fourth new frame after the seam are moved back 2 px
    (4 frames at 0.5 slower), the near rows not at all, and the subject's square stays where it is drawn."""
    video = _two_layers(frames=6, top=1.0)  # as drawn: both layers at the drift
    subject = torch.zeros(6, 64, 96, dtype=torch.bool)
    video[..., 4:8, 44:52] = 1.0
    subject[:, 4:8, 44:52] = True
    speeds = np.where(np.arange(64) < 32, -0.5, 0.0)
    out = parallax_frames(video, speeds, (0.0, 1.0), [1, 2, 3, 4, 5, 6], subject)
    expected = torch.roll(video[0, 0, 3], -2, 0)  # content moved up 2 px
    assert torch.allclose(out[0, 0, 3, 10:26, :16], expected[10:26, :16], atol=1e-4)
    assert torch.allclose(out[0, 0, 3, 40:60], video[0, 0, 3, 40:60], atol=1e-4)
    assert torch.allclose(out[0, :, :, 4:8, 44:52], video[0, :, :, 4:8, 44:52], atol=1e-4)
    before = parallax_frames(video, speeds, (0.0, 1.0), [-6, -5, -4, -3, -2, -1])  # a head: the other way
    assert torch.allclose(before[0, 0, 2, 10:26, :16], torch.roll(video[0, 0, 2], 2, 0)[10:26, :16], atol=1e-4)


def test_a_tilt_s_rows_beyond_the_seam_frame_continue_the_rows_next_to_them():
    """A tilt down (the picture moves up 1 px a frame): after the seam the bottom rows it reveals are the
    mirror of the ground above them, not the sky the wrapped camera frame drew there; before the seam the
    top rows it reveals carry the sky's row next to them on. A pan is left as drawn."""
    video = torch.zeros(1, 1, 3, 12, 4)
    video[..., :6, :] = 1.0  # sky
    video[..., 6:, :] = torch.arange(6.0)[:, None] * -0.1  # ground, darker further down
    video[..., -3:, :] = 1.0  # the wrapped camera frame's sky under the ground
    after = mirror_revealed(video, (0.0, -1.0), [1, 2, 3])
    assert torch.allclose(after[0, 0, 2, 9:, 0], video[0, 0, 2, 6:9, 0].flip(0))
    assert torch.equal(after[0, 0, 0, :11], video[0, 0, 0, :11])  # one row revealed a frame after the seam
    before = mirror_revealed(video.flip(-2), (0.0, -1.0), [-3, -2, -1])  # upside down: ground on top
    assert torch.equal(before[0, 0, 0, :3], before[0, 0, 0, 3:4].expand(3, 4))
    assert torch.equal(mirror_revealed(video, (2.0, 0.0), [1, 2, 3]), video)
