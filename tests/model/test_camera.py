import torch

from engine.model.camera import (MAX_DRIFT, CameraHead, frame_offsets, measure_drift, roll_frames, split_offsets,
                                 subpixel_frames)


def _drifting(drift, frames=6, channels=4, h=12, w=20, seed=0):
    """Latent frames [C,T,H,W] of one smooth random field carried whole cells per frame by drift."""
    gen = torch.Generator().manual_seed(seed)
    field = torch.nn.functional.avg_pool2d(torch.randn(1, channels, h, w, generator=gen), 3, 1, 1,
                                           count_include_pad=False)[0]
    still = field[:, None].expand(-1, frames, -1, -1)
    return roll_frames(still[None], frame_offsets(drift, frames), forward=True)[0]


def test_frame_offsets_round_the_drift_so_far():
    assert frame_offsets((1.5, -0.25), 5) == [(0, 0), (0, 2), (-1, 3), (-1, 5), (-1, 6)]
    # Halves away from zero, the same way for both directions.
    assert frame_offsets((-0.5, 0.5), 4) == [(0, 0), (1, -1), (1, -1), (2, -2)]


def test_rolling_into_the_camera_frame_and_back_is_exact():
    z = torch.randn(2, 3, 4, 5, 7)
    offsets = frame_offsets((2.25, -1.0), 4)
    still = roll_frames(z, offsets, forward=False)
    assert torch.equal(roll_frames(still, offsets, forward=True), z)
    # A permutation of each frame's cells: the noise it carries keeps its values.
    assert torch.equal(still.flatten(3).sort(dim=-1).values, z.flatten(3).sort(dim=-1).values)
    assert torch.equal(still[:, :, 0], z[:, :, 0])  # the first frame is where the camera starts


def test_forward_carries_content_right_and_down():
    z = torch.zeros(1, 1, 2, 4, 6)
    z[..., 1, 1] = 1.0
    moved = roll_frames(z, [(0, 0), (1, 2)], forward=True)
    assert moved[0, 0, 1, 2, 3] == 1.0 and moved[0, 0, 0, 1, 1] == 1.0


def test_measure_drift_finds_a_pan_and_a_tilt():
    assert measure_drift(_drifting((2.0, 0.0))) == (2.0, 0.0)
    assert measure_drift(_drifting((0.0, -1.25))) == (0.0, -1.25)
    # Two frames one cell apart: every drift from 0.5 to 1.25 rounds to that cell; their mean carries
    # on one cell a frame.
    drift = measure_drift(_drifting((-1.0, 0.0), frames=2))
    assert drift == (-0.875, 0.0)
    assert frame_offsets(drift, 4) == [(0, 0), (0, -1), (0, -2), (0, -3)]
    # Kept to a direction it cannot have, it finds nothing that stills the frames.
    assert measure_drift(_drifting((2.0, 0.0)), axis="x", sign=-1) == (0.0, 0.0)


def test_measure_drift_is_zero_for_still_frames_a_flat_clip_and_one_frame():
    assert measure_drift(_drifting((0.0, 0.0))) == (0.0, 0.0)
    assert measure_drift(torch.ones(4, 5, 6, 8)) == (0.0, 0.0)
    assert measure_drift(_drifting((2.0, 0.0), frames=1)) == (0.0, 0.0)
    # Frames that change but not by any drift (fresh noise each frame) are not a camera move.
    assert measure_drift(torch.randn(4, 6, 12, 20, generator=torch.Generator().manual_seed(1))) == (0.0, 0.0)


def test_camera_head_starts_still_stays_in_range_and_reads_the_words_it_weighs():
    torch.manual_seed(0)
    head = CameraHead(text_dim=8)
    text, mask = torch.randn(3, 5, 8), torch.ones(3, 5, dtype=torch.bool)
    assert torch.equal(head(text, mask), torch.zeros(3, 2))
    torch.nn.init.normal_(head.net[2].weight, std=100.0)
    drift = head(text, mask)
    assert drift.abs().max() <= MAX_DRIFT and drift.abs().max() > 1.0
    # Masked-out words do not count, and a prompt with none left still gives a finite drift.
    changed = text.clone()
    changed[:, 3:] += 5.0
    mask[:, 3:] = False
    assert torch.allclose(head(changed, mask), head(text, mask))
    assert torch.isfinite(head(text, torch.zeros_like(mask))).all()


def test_split_offsets_make_the_same_move_in_cells_and_the_pixels_left():
    cells, rest = split_offsets((1.5, -0.75), latent_frames=4, time_compression=4, space_compression=8)
    pixels = frame_offsets((1.5, -0.75), 16)
    assert len(cells) == 4 and len(rest) == 16
    for f, (dy, dx) in enumerate(pixels):
        assert (cells[f // 4][0] * 8 + rest[f][0], cells[f // 4][1] * 8 + rest[f][1]) == (dy, dx)
    # The cells follow the move (frame 14: 21 px, 3 cells) and leave each frame a few pixels.
    assert cells[3] == (-1, 3) and max(abs(v) for r in rest for v in r) <= 4 + 2


def test_measure_drift_follows_the_scene_not_a_bright_subject_crossing_it():
    """A bright box moving left 3 px a frame over a textured scene panning right 2 px a frame: the
    camera's drift is the scene's."""
    scene = _drifting((2.0, 0.0), frames=8, channels=1, h=36, w=64) * 0.3
    for k in range(8):
        x = 40 - 3 * k
        scene[:, k, 10:22, x:x + 10] = 1.0
    assert measure_drift(scene) == (2.0, 0.0)


def test_a_slow_drift_glides_between_whole_pixels():
    """A still picture (a horizontal ramp, one level a pixel) moved by a drift of 0.25 px a frame:
    whole pixels step once in 6 frames (offsets 0, 0, 1, 1, 1, 1), the fractions left make each
    frame 0.25 px on from the last (the ramp's mean inside 0.25 lower each frame)."""
    ramp = torch.arange(16.0).expand(1, 1, 6, 8, 16).clone()
    offsets = frame_offsets((0.25, 0.0), 6)
    whole = roll_frames(ramp, offsets, forward=True)
    glide = subpixel_frames(whole, (0.25, 0.0))
    inside = slice(4, 12)  # away from the wrapped and held edges
    steps = whole[..., inside].mean((0, 1, 3, 4)).diff()
    assert torch.allclose(steps, torch.tensor([0.0, -1.0, 0.0, 0.0, 0.0]))
    assert torch.allclose(glide[..., inside].mean((0, 1, 3, 4)).diff(), torch.full((5,), -0.25))
    assert torch.equal(subpixel_frames(whole, (1.0, -2.0)), whole)  # whole drifts leave nothing over
