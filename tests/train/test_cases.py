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
