"""New frames held at the known ones next to them until their release level (engine/model/hold.py)."""
import torch

from engine.model.hold import held_frames


def test_anchors_hold_the_nearest_known_frame_and_blend_between_two():
    z = torch.arange(6, dtype=torch.float32).reshape(1, 1, 6, 1, 1).expand(1, 2, 6, 3, 4).clone()
    have = torch.tensor([True, False, False, False, True, False])
    anchor, release = held_frames(z, have, (0.5, 0.2))
    assert torch.allclose(anchor[0, 0, :, 0, 0], torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 4.0]))  # 0..4 blended
    assert torch.allclose(release.flatten(), torch.tensor([0.0, 0.5, 0.7, 0.5, 0.0, 0.5]))


def test_nothing_known_holds_nothing_and_release_stops_at_one():
    z = torch.randn(1, 2, 8, 2, 2)
    anchor, release = held_frames(z, torch.zeros(8, dtype=torch.bool), (0.5, 0.2))
    assert torch.equal(release.flatten(), torch.ones(8))
    _, release = held_frames(z, torch.tensor([True] + [False] * 7), (0.5, 0.2))
    assert torch.allclose(release.flatten()[1:], torch.tensor([0.5, 0.7, 0.9, 1.0, 1.0, 1.0, 1.0]))
