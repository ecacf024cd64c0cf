"""A restyle's start latents lose the source's broad colours and keep its edges."""
import torch

from engine.model.restyle_look import without_look


def test_broad_colour_goes_and_edges_stay():
    torch.manual_seed(0)
    b, c, t, h, w = 1, 4, 3, 36, 64
    broad = torch.randn(1, c, t, 1, 1) * 2.0 + torch.linspace(-1, 1, h).view(1, 1, 1, h, 1)  # tint + gradient
    edges = torch.zeros(1, 1, 1, h, w)
    edges[..., :, 30:34] = 1.0  # a thin bright post
    z = broad.expand(b, c, t, h, w) + edges
    out = without_look(z)
    # The tint and the gradient are gone: what is left has a tiny mean in every frame and channel
    # (away from the post, which the blur spreads a little).
    away = out[..., :, :20]
    assert away.abs().mean() < 0.08 * broad.abs().mean()
    # The post is still there at nearly full height above its surroundings.
    step = out[..., 18, 31] - out[..., 18, 20]
    assert torch.all(step > 0.8)


def test_dtype_and_shape_kept():
    z = torch.randn(2, 12, 6, 36, 64, dtype=torch.bfloat16)
    out = without_look(z)
    assert out.dtype == torch.bfloat16 and out.shape == z.shape
