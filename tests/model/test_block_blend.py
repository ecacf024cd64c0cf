"""Decoded latent frames blended over their block boundaries (engine/model/block_blend.py)."""
import pytest
import torch

from engine.model.block_blend import blend_blocks, move_within_blocks
from engine.model.camera import frame_offsets, roll_frames


STEP = 0.04  # a step between blocks as the denoiser's latents leave one: 5 levels of 255


def test_a_step_between_blocks_becomes_even_steps():
    """Two blocks of 4 flat frames, 0 then a step: the frames become 0, 0, 1/8, 3/8, 5/8, 7/8, 1, 1
    of it, a step of 1/4 a frame across the boundary rather than one jump."""
    video = torch.cat([torch.zeros(1, 1, 4, 2, 2), STEP * torch.ones(1, 1, 4, 2, 2)], dim=2)
    out = blend_blocks(video, 4)[0, 0, :, 0, 0]
    assert torch.allclose(out, STEP * torch.tensor([0, 0, 1 / 8, 3 / 8, 5 / 8, 7 / 8, 1, 1]))


def test_a_moving_subject_leaves_little_ghost(monkeypatch):
    """A bright square moving 2 px a frame over a dark ground: a frame and its neighbour block's
    differ by far more than a step where the square is, so there they take little of each other
    (only near its corners, where the 5x5 mean of the difference is lower): a fraction of the
    ghost that blending everywhere draws, 3/8 of a square 8 px away."""
    import engine.model.block_blend as block_blend

    video = torch.full((1, 3, 8, 16, 32), -0.6)
    for f in range(8):
        video[:, :, f, 4:12, 2 * f:2 * f + 6] = 1.0
    ghost = float((blend_blocks(video, 4) - video).abs().mean())
    monkeypatch.setattr(block_blend, "AGREE", (10.0, 20.0))
    everywhere = float((blend_blocks(video, 4) - video).abs().mean())
    assert ghost < 0.25 * everywhere, (ghost, everywhere)


def test_a_drifting_still_scene_is_unchanged_but_for_nothing():
    """A still scene rolled along a drift (a pan): the neighbours align exactly, so blending changes
    no pixel, the strip each roll wraps included (it keeps the frame's own pixels)."""
    scene = torch.rand(1, 3, 1, 16, 24, generator=torch.Generator().manual_seed(0)).expand(1, 3, 12, 16, 24)
    offsets = frame_offsets((2.0, -1.0), 12)
    video = roll_frames(scene.contiguous(), offsets, forward=True)
    assert torch.equal(blend_blocks(video, 4, offsets), video)


def test_the_wrapped_strip_keeps_the_frame_s_own_pixels():
    """Blocks that differ: away from the edge a frame takes its tent share of the aligned
    neighbour; in the columns the alignment roll brought across the edge, none."""
    video = torch.zeros(1, 1, 8, 4, 16)
    video[:, :, 4:] = STEP
    offsets = frame_offsets((1.0, 0.0), 8)  # frame 3's neighbour (frame 7) rolls back 4 px
    out = blend_blocks(video, 4, offsets)
    assert torch.allclose(out[0, 0, 3, :, :12], torch.full((4, 12), 3 / 8 * STEP))
    assert torch.equal(out[0, 0, 3, :, 12:], torch.zeros(4, 4))


def test_frames_must_be_whole_blocks():
    with pytest.raises(ValueError, match="whole blocks"):
        blend_blocks(torch.zeros(1, 3, 6, 4, 4), 4)


def test_blocks_a_request_gave_neither_blend_nor_lend():
    """An extension: block 0 is the clip (given, left out of the output), blocks 1-2 are new. The
    new blocks blend only with each other; the clip's block is untouched and lends nothing, so the
    step from it stays at the seam, where seam matching takes it."""
    video = STEP * torch.cat([torch.zeros(1, 1, 4, 2, 2), torch.ones(1, 1, 4, 2, 2), 2 * torch.ones(1, 1, 4, 2, 2)],
                             dim=2)
    out = blend_blocks(video, 4, given=torch.tensor([True, False, False]))[0, 0, :, 0, 0]
    assert torch.allclose(out, STEP * torch.tensor([0, 0, 0, 0, 1, 1, 1.125, 1.375, 1.625, 1.875, 2, 2]))


def _stepping_square(blocks: int, travel: int, ground: torch.Tensor | None = None, within: int = 0) -> torch.Tensor:
    """A bright square standing still through each block of 4 frames (or moving `within` px a frame inside
    it) and jumping the rest of `travel` px a block from one block to the next, as the decoder draws a
    moving subject, over a dark (or the given) ground."""
    video = torch.full((1, 3, 4 * blocks, 24, 64), -0.6) if ground is None else ground.clone()
    for f in range(4 * blocks):
        x = 8 + travel * (f // 4) + within * (f % 4 - 1)
        video[:, :, f, 8:16, x:x + 8] = 1.0
    return video


def _centre_x(frame: torch.Tensor) -> float:
    """x of the bright square's centroid in frame [C,H,W]."""
    bright = (frame.mean(0) > 0.5).float()
    return float((bright.sum(0) * torch.arange(frame.shape[-1])).sum() / bright.sum())


def test_a_subject_stepping_once_a_block_travels_every_frame():
    """A square jumping 8 px a block (2 px a frame) stands still for 4 frames in the decoded frames;
    carried within its blocks it moves about 2 px every frame, and the biggest change between frames
    falls to about a quarter of the jump's."""
    video = _stepping_square(4, 8)
    out = move_within_blocks(video, 4)
    centres = [_centre_x(out[0, :, f]) for f in range(16)]
    steps = torch.tensor(centres).diff()
    # the first block's first frames and the last block's last ones have no neighbour on that side
    assert torch.allclose(steps[2:-2], torch.full_like(steps[2:-2], 2.0), atol=0.6), centres
    change = lambda v: (v[:, :, 1:] - v[:, :, :-1]).abs().mean((0, 1, 3, 4))
    assert float(change(out)[2:-2].max()) < 0.5 * float(change(video).max())


def test_a_subject_moving_part_of_the_way_inside_its_blocks_is_carried_only_the_rest():
    """A square moving 1 px a frame inside each block and 12 px from one block's middle to the next
    (3 px a frame on average), as an extension's subject can: carried only the rest of the way, it
    moves about 3 px every frame, where carrying it all 12 px took it 4 px a frame inside its blocks
    and none across them."""
    out = move_within_blocks(_stepping_square(4, 12, within=1), 4)
    steps = torch.tensor([_centre_x(out[0, :, f]) for f in range(16)]).diff()
    assert torch.allclose(steps[2:-2], torch.full_like(steps[2:-2], 3.0), atol=0.6), steps


def test_nothing_moving_changes_nothing():
    """A still textured scene whose blocks differ only by a redrawn texture's few levels: no pixel
    moves."""
    g = torch.Generator().manual_seed(1)
    scene = torch.rand(1, 3, 1, 24, 64, generator=g) * 0.5
    video = scene.expand(1, 3, 12, 24, 64) + 0.03 * torch.rand(1, 3, 12, 24, 64, generator=g)
    assert torch.equal(move_within_blocks(video, 4), video)


def test_the_travel_is_measured_against_the_drift():
    """Over a textured ground panned 1 px a frame, a square that moves 3 px a frame on screen, stepping
    once a block: aligned along the drift, only the square differs between blocks, and it is carried
    the 2 px a frame it moves over the ground; with the ground's own 1 px, 3 px every frame."""
    g = torch.Generator().manual_seed(2)
    ground = (torch.rand(1, 3, 1, 24, 96, generator=g) * 0.4 - 0.6).expand(1, 3, 16, 24, 96).contiguous()
    offsets = frame_offsets((1.0, 0.0), 16)
    video = roll_frames(ground, offsets, forward=True)
    for f in range(16):
        x = 8 + 12 * (f // 4) + offsets[f][1] - offsets[4 * (f // 4)][1]  # the square rides the block's roll
        video[:, :, f, 8:16, x:x + 8] = 1.0
    out = move_within_blocks(video, 4, offsets)
    centres = torch.tensor([_centre_x(out[0, :, f]) for f in range(16)])
    assert torch.allclose(centres.diff()[2:-2], torch.full((11,), 3.0), atol=0.7), centres
