"""Training cases put the known latents, mask and structure where the pipeline puts them."""
import numpy as np
import pytest
import torch

from engine.train.cases import CASES, make_batch
from engine.train.data import LatentPool

C, T, H, W, S = 4, 6, 2, 4, 4


@pytest.fixture
def pool():
    g = torch.Generator().manual_seed(0)
    n = 4
    return LatentPool(latents=torch.randn(n, C, T, H, W, generator=g), still=torch.randn(n, C, 1, H, W, generator=g),
                      structure=torch.randn(n, S, T, H, W, generator=g),
                      captions=[[f"clip {i}", f"clip {i} again"] for i in range(n)], scenes=[{}] * n)


def _batch(pool, case, overlap=2, dropout=0.0):
    return make_batch(pool, np.random.default_rng(3), 6, overlap, {case: 1.0}, caption_dropout=dropout)


def _known(b):
    return b.cond[:, :C], b.cond[:, C, :, 0, 0], b.cond[:, C + 1:]


@pytest.mark.parametrize("case,frames", [("generate", []), ("extend_tail", [0, 1]), ("extend_head", [4, 5]),
                                         ("fill", [0, 1, 4, 5]), ("animate", [0]), ("restyle", [])])
def test_known_frames_and_mask(pool, case, frames):
    b = _batch(pool, case)
    known, mask, structure = _known(b)
    expected = torch.zeros(T)
    expected[frames] = 1
    assert torch.equal(mask, expected.expand(6, T))
    assert torch.equal(b.loss_mask, 1 - expected.expand(6, T))
    for row in range(6):
        for f in range(T):
            if f not in frames:
                assert not known[row, :, f].any()
            elif case == "animate":
                i = next(i for i in range(4) if torch.equal(pool.latents[i], b.x0[row]))
                assert torch.equal(known[row, :, f], pool.still[i, :, 0])
            else:
                assert torch.equal(known[row, :, f], b.x0[row, :, f])
    assert structure.any() == (case == "restyle")


def test_restyle_takes_the_partner_structure(pool):
    b = _batch(pool, "restyle")
    for row in range(6):
        i = next(i for i in range(4) if torch.equal(pool.latents[i], b.x0[row]))
        assert torch.equal(b.cond[row, C + 1:], pool.structure[i ^ 1])


def test_caption_dropout_and_captions(pool):
    assert set(_batch(pool, "generate", dropout=1.0).captions) == {""}
    b = _batch(pool, "generate")
    for row, text in enumerate(b.captions):
        i = next(i for i in range(4) if torch.equal(pool.latents[i], b.x0[row]))
        assert text in pool.captions[i]


def test_bad_mix_is_refused(pool):
    with pytest.raises(ValueError, match="mix"):
        make_batch(pool, np.random.default_rng(0), 2, 2, {"dance": 1.0})
    assert set(CASES) == {"generate", "extend_tail", "extend_head", "fill", "animate", "restyle"}


def test_subject_weights_cover_the_subject_where_it_is_in_each_latent_frame():
    """The loss weight is raised on the cells the subject covers, frame by frame as it moves (a
    scene without a subject keeps weight 1), and each batch row carries its clip's map."""
    from engine.train.data import subject_weights
    from engine.train.world import Scene, render, sample_scene

    with_subject = sample_scene(5, subject_probability=1.0)
    with_subject = Scene(**{**with_subject.to_dict(), "motion": "right", "camera": "static", "subject_x": 0.2,
                                         "color": "red"})
    without = sample_scene(6, subject_probability=0.0)
    t, h, w = 6, 36, 64
    pool = LatentPool(latents=torch.zeros(2, 4, t, h, w), still=torch.zeros(2, 4, 1, h, w),
                      structure=torch.zeros(2, 4, t, h, w), captions=[["a"], ["b"]],
                      scenes=[with_subject.to_dict(), without.to_dict()])
    weights = subject_weights(pool, 4, 4, boost=8.0)
    assert weights.shape == (2, t, h, w) and torch.all(weights[1] == 1)
    frames = render(with_subject, 256, 144, 24)
    for k in range(t):
        boosted = weights[0, k] > 1
        # The subject's saturated pixels in this latent frame's middle frame lie in boosted cells.
        rgb = frames[4 * k + 2].astype(np.float32)
        saturated = (rgb.max(-1) - rgb.min(-1)) > 120
        cells = torch.from_numpy(saturated.reshape(h, 4, w, 4).any(axis=(1, 3)))
        assert cells.any() and bool(boosted[cells].all()), k
        assert boosted.float().mean() < 0.1  # the subject, not the frame
    cols = [int(torch.nonzero(weights[0, k].amax(0) > 1).float().mean()) for k in range(t)]
    assert cols == sorted(cols) and cols[-1] > cols[0] + 5  # it follows the subject to the right
    b = make_batch(pool, np.random.default_rng(0), 8, 2, {"generate": 1.0}, caption_dropout=0.0, weights=weights)
    assert set(b.captions) == {"a", "b"}
    for row, caption in enumerate(b.captions):
        assert torch.equal(b.weight[row], weights["ab".index(caption)])


def test_the_pool_is_trained_in_each_clip_s_camera_frame():
    """camera_drifts measures each restyle pair's drift along its scene's camera move (one drift for
    both, so a partner's structure stays aligned); in_camera_frame rolls latents, structure and cell
    weights back by it, leaving the still scene the sampler asks the denoiser for."""
    from engine.model.camera import frame_offsets, roll_frames
    from engine.train.data import camera_drifts, in_camera_frame

    g = torch.Generator().manual_seed(0)
    t, h, w = 6, 8, 16
    scenes = [{"camera": "pan left"}] * 2 + [{"camera": "tilt down"}] * 2 + [{"camera": "zoom in"}] * 2
    drifts_made = [(2.0, 0.0), (2.0, 0.0), (0.0, -1.0), (0.0, -1.0), (0.0, 0.0), (0.0, 0.0)]
    field = torch.nn.functional.avg_pool2d(torch.randn(6, 4, h, w, generator=g), 3, 1, 1)
    still = field[:, :, None].expand(-1, -1, t, -1, -1)
    moving = torch.cat([roll_frames(still[i:i + 1], frame_offsets(d, t), forward=True)
                        for i, d in enumerate(drifts_made)])
    pool = LatentPool(latents=moving, still=moving[:, :, :1], structure=moving.clone(),
                      captions=[[str(i)] for i in range(6)], scenes=scenes)
    drifts = camera_drifts(pool)
    assert drifts[:4].tolist() == [[2.0, 0.0], [2.0, 0.0], [0.0, -1.0], [0.0, -1.0]]
    assert drifts[4:].abs().sum() == 0  # a zoom is not a drift
    weights = torch.zeros(6, t, h, w)
    weights[:, :, 2, 3] = 1.0
    framed, framed_weights = in_camera_frame(pool, drifts, weights)
    for i in range(4):
        assert torch.allclose(framed.latents[i], still[i]) and torch.allclose(framed.structure[i], still[i])
    assert torch.equal(framed.latents[4:], moving[4:])
    assert framed_weights[0, 1, 2, 1] == 1.0 and framed_weights[0, 1, 2, 3] == 0.0  # rolled back two cells
    assert torch.equal(pool.latents, moving)  # the pool given is left as it was
