"""Decoded latent frames blended over their block boundaries (engine/model/block_blend.py)."""
import pytest
import torch

from engine.model.block_blend import blend_blocks
from engine.model.camera import frame_offsets, roll_frames


def test_a_step_between_blocks_becomes_even_steps():
    """Two blocks of 4 flat frames, 0 then 1: the frames become 0, 0, 1/8, 3/8, 5/8, 7/8, 1, 1, a
    step of 1/4 a frame across the boundary rather than one jump of 1."""
    video = torch.cat([torch.zeros(1, 1, 4, 2, 2), torch.ones(1, 1, 4, 2, 2)], dim=2)
    out = blend_blocks(video, 4)[0, 0, :, 0, 0]
    assert torch.allclose(out, torch.tensor([0, 0, 1 / 8, 3 / 8, 5 / 8, 7 / 8, 1, 1]))


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
    video[:, :, 4:] = 1.0
    offsets = frame_offsets((1.0, 0.0), 8)  # frame 3's neighbour (frame 7) rolls back 4 px
    out = blend_blocks(video, 4, offsets)
    assert torch.allclose(out[0, 0, 3, :, :12], torch.full((4, 12), 3 / 8))
    assert torch.equal(out[0, 0, 3, :, 12:], torch.zeros(4, 4))


def test_frames_must_be_whole_blocks():
    with pytest.raises(ValueError, match="whole blocks"):
        blend_blocks(torch.zeros(1, 3, 6, 4, 4), 4)


def test_blocks_a_request_gave_neither_blend_nor_lend():
    """An extension: block 0 is the clip (given, left out of the output), blocks 1-2 are new. The
    new blocks blend only with each other; the clip's block is untouched and lends nothing, so the
    step from it stays at the seam, where seam matching takes it."""
    video = torch.cat([torch.zeros(1, 1, 4, 2, 2), torch.ones(1, 1, 4, 2, 2), 3 * torch.ones(1, 1, 4, 2, 2)], dim=2)
    out = blend_blocks(video, 4, given=torch.tensor([True, False, False]))[0, 0, :, 0, 0]
    assert torch.allclose(out, torch.tensor([0, 0, 0, 0, 1, 1, 1.25, 1.75, 2.25, 2.75, 3, 3]))
