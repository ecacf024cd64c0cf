"""A restyle's frames follow its input's edges and keep their own colours."""
import numpy as np
import torch

from engine.model.restyle_edges import follow_edges
from engine.train import evaluate as ev


def _frames(video: torch.Tensor) -> np.ndarray:
    return ((video[0].permute(1, 2, 3, 0) + 1) * 127.5).round().clamp(0, 255).byte().numpy()


def _scene():
    """The input: a light square on a grey ground, 4 frames of 72x128. The restyle: the same square in a
    night's blue, blurred, moved 2 px, with the faint outline of a double of it 12 px to its left."""
    t, h, w = 4, 72, 128
    guide = torch.full((1, 3, t, h, w), -0.2)
    guide[..., 24:48, 50:74] = 0.8
    out = torch.full((1, 3, t, h, w), -0.8)
    out[:, 2] = -0.5
    out[..., 26:50, 52:76] = torch.tensor([0.1, 0.2, 0.6]).view(1, 3, 1, 1, 1)
    out[..., 26:50, 40:43] += 0.25  # the double's outline
    blurred = torch.nn.functional.avg_pool3d(out, (1, 5, 5), stride=1, padding=(0, 2, 2), count_include_pad=False)
    return guide, blurred


def test_the_restyle_takes_the_input_s_edges_and_keeps_its_colours():
    guide, out = _scene()
    kept = follow_edges(out, guide)
    before = ev.edge_correlation(_frames(guide), _frames(out))
    after = ev.edge_correlation(_frames(guide), _frames(kept))
    assert after > before + 0.15 and after > 0.75
    # the new look stays: the ground's and the square's colours, each within a few levels
    for y, x in ((10, 10), (36, 62)):
        assert torch.allclose(kept[0, :, 0, y, x], out[0, :, 0, y, x], atol=0.05)
    # the double's outline, which the input does not show, is softened
    ground = kept[0, :, 0, 40, 30]
    assert (out[0, :, 0, 40, 41] - ground).abs().max() > 0.1
    assert (kept[0, :, 0, 40, 41] - ground).abs().max() < 0.8 * (out[0, :, 0, 40, 41] - ground).abs().max()


def test_the_weight_is_the_share_of_the_filtered_frames():
    guide, out = _scene()
    full = follow_edges(out, guide, 1.0)
    assert torch.equal(follow_edges(out, guide, 0.0), out)
    assert torch.allclose(follow_edges(out, guide, 0.5), (out + full) / 2, atol=1e-6)
    assert torch.equal(follow_edges(out, guide, 3.0), full)  # a structure weight over 1 keeps it all


def test_dtype_and_shape_kept():
    guide, out = _scene()
    kept = follow_edges(out.to(torch.bfloat16), guide)
    assert kept.dtype == torch.bfloat16 and kept.shape == out.shape
    assert kept.float().abs().max() <= 1.0 + 1e-6
