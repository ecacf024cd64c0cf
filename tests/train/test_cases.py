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


def test_a_share_of_restyle_cases_starts_from_the_partner_less_its_look(pool):
    """As the pipeline's restyle starts (model/restyle_look.py): the partner's latents less their
    broad colours; other cases, and every case at restyle_start 0, carry no start."""
    from engine.model.restyle_look import without_look

    mix = {"restyle": 1.0, "generate": 1.0}
    b = make_batch(pool, np.random.default_rng(3), 64, 2, mix, restyle_start=0.5)
    restyle = torch.tensor([c == "restyle" for c in b.cases])
    assert 0 < int(b.from_source.sum()) < int(restyle.sum())
    assert not bool((b.from_source & ~restyle).any())
    for row in torch.nonzero(b.from_source).flatten():
        i = next(i for i in range(4) if torch.equal(pool.latents[i], b.x0[row]))
        assert torch.allclose(b.source[row], without_look(pool.latents[i ^ 1][None])[0])
    assert not b.source[~b.from_source].any()
    plain = make_batch(pool, np.random.default_rng(3), 64, 2, mix)
    assert plain.source is None and plain.from_source is None


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



def test_the_pool_is_encoded_in_each_clip_s_camera_frame(tmp_path):
    """build_pool measures each restyle pair's drift along its scene's camera move (one drift for
    both, so a partner's structure stays aligned), encodes the clips rolled back by it, as the
    sampler sees them, and keeps the drifts (the camera head's targets) through save and load."""
    from engine.model.camera import frame_offsets, roll_frames
    from engine.model.tiny import make_tiny_model, tiny_config
    from engine.train.data import build_pool, to_tensor
    from engine.train.world import Scene, sample_scene

    model = make_tiny_model(tiny_config(camera_frame=True))
    rng = np.random.default_rng(0)
    base = sample_scene(7).to_dict()
    moves = {"pan left": (2.0, 0.0), "tilt down": (0.0, -1.0), "zoom in": (0.0, 0.0)}
    clips, scenes, stills = [], [], []
    for camera, drift in moves.items():
        for _ in range(2):
            image = rng.integers(0, 256, (32, 64, 3)).astype(np.uint8)
            still = np.repeat(image[None], 8, axis=0)
            moving = roll_frames(torch.from_numpy(still).permute(3, 0, 1, 2)[None], frame_offsets(drift, 8), True)
            clips.append(moving[0].permute(1, 2, 3, 0).numpy())
            stills.append(still)
            scenes.append(Scene(**{**base, "camera": camera}).to_dict())
    pool = build_pool(model, np.stack(clips), scenes, seed=0, device=torch.device("cpu"), log=None)
    assert pool.drifts.tolist() == [[2.0, 0.0]] * 2 + [[0.0, -1.0]] * 2 + [[0.0, 0.0]] * 2
    with torch.no_grad():
        for i in range(4):  # pans and tilts encode as the still scene; the zoom as given
            assert torch.allclose(pool.latents[i], model.encode_frames(to_tensor(stills[i])[None])[0], atol=1e-5)
        assert torch.allclose(pool.latents[4], model.encode_frames(to_tensor(clips[4])[None])[0], atol=1e-5)
    pool.save(tmp_path / "pool.safetensors")
    assert torch.equal(LatentPool.load(tmp_path / "pool.safetensors").drifts, pool.drifts)


def test_the_camera_head_learns_each_camera_move_s_mean_drift():
    from engine.train.data import camera_targets

    moves = ["pan left", "pan left", "tilt down", "static", "pan left"]
    pool = LatentPool(latents=torch.zeros(5, 1, 1, 1, 1), still=torch.zeros(5, 1, 1, 1, 1),
                      structure=torch.zeros(5, 1, 1, 1, 1), captions=[[m] for m in moves],
                      scenes=[{"camera": m} for m in moves],
                      drifts=torch.tensor([[2.0, 0.0], [4.0, 0.0], [0.0, -1.0], [0.0, 0.0], [0.0, 0.0]]))
    assert camera_targets(pool).tolist() == [[2.0, 0.0], [2.0, 0.0], [0.0, -1.0], [0.0, 0.0], [2.0, 0.0]]


def test_the_zoom_head_learns_the_world_s_zoom_rate():
    import math

    from engine.train.data import zoom_targets
    from engine.train.world import ZOOM_FACTOR

    moves = ["zoom in", "pan left", "zoom out", "static"]
    pool = LatentPool(latents=torch.zeros(4, 1, 1, 1, 1), still=torch.zeros(4, 1, 1, 1, 1),
                      structure=torch.zeros(4, 1, 1, 1, 1), captions=[[m] for m in moves],
                      scenes=[{"camera": m} for m in moves], drifts=torch.zeros(4, 2))
    rate = math.log(ZOOM_FACTOR) / 23  # over the 24 frames of a clip, it scales by the world's factor
    assert torch.allclose(zoom_targets(pool, 24), torch.tensor([[rate], [0.0], [-rate], [0.0]]))


def test_the_subject_speed_is_its_travel_per_frame_less_the_camera_s_drift():
    """The denoiser is told each clip's own subject speed in the camera frame it draws in; the head
    learns each direction's mean speed on screen, 0 without a subject."""
    from engine.train.data import subject_speeds, subject_targets
    from engine.train.world import Scene, sample_scene

    base = {**sample_scene(3, subject_probability=1.0).to_dict(), "camera": "static", "subject_x": 0.5}
    rows = [("right", 0.35), ("right", 0.42), ("left", 0.28), ("still", 0.4), (None, 0.4)]
    scenes = [Scene(**{**base, "motion": m, "subject_travel": travel,
                       **({} if m else {"color": None, "shape": None})}).to_dict() for m, travel in rows]
    pool = LatentPool(latents=torch.zeros(5, 1, 1, 1, 1), still=torch.zeros(5, 1, 1, 1, 1),
                      structure=torch.zeros(5, 1, 1, 1, 1), captions=[["x"]] * 5, scenes=scenes,
                      drifts=torch.tensor([[2.0, 0.0], [0.0, 0.0], [-1.0, 0.5], [0.0, 0.0], [1.0, 0.0]]))
    on_screen = torch.tensor([0.35, 0.42, -0.28, 0.0, 0.0]) * 256 / 23
    assert torch.allclose(subject_speeds(pool, 24, 256, 144), on_screen - pool.drifts[:, 0], atol=1e-4)
    mean_right = float(on_screen[:2].mean())
    assert torch.allclose(subject_targets(pool, 24, 256, 144),
                          torch.tensor([[mean_right], [mean_right], [float(on_screen[2])], [0.0], [0.0]]), atol=1e-4)


def test_a_captioned_generate_case_is_told_its_clip_s_subject_layout():
    """subject_layouts gives each clip its box's cover in the camera frame (zeros without a subject);
    make_batch tells it to captioned generate cases at layout_rate, and to no other case unless
    layout_cases names it."""
    from engine.model.subject import layout_map
    from engine.train.data import subject_layouts
    from engine.train.world import Scene, sample_scene, subject_track

    scene = Scene(**{**sample_scene(5, subject_probability=1.0).to_dict(), "motion": "left", "camera": "pan right"})
    t, h, w = 6, 36, 64
    pool = LatentPool(latents=torch.zeros(2, 4, t, h, w), still=torch.zeros(2, 4, 1, h, w),
                      structure=torch.zeros(2, 4, t, h, w), captions=[["a"], ["b"]],
                      scenes=[scene.to_dict(), sample_scene(6, subject_probability=0.0).to_dict()],
                      drifts=torch.tensor([[-2.0, 0.0], [-2.0, 0.0]]))
    layouts = subject_layouts(pool, 4, 4)
    cx, cy, size = subject_track(scene, 24, 256, 144)
    rolled = layout_map(cx + 2.0 * np.arange(24), cy, size, 4, 4, 144, 256)  # rolled back by the drift
    assert torch.allclose(layouts[0], torch.from_numpy(rolled)) and not layouts[1].any()
    told = make_batch(pool, np.random.default_rng(0), 8, 2, {"generate": 1.0}, caption_dropout=0.0,
                      layouts=layouts, layout_rate=1.0)
    for row, caption in enumerate(told.captions):
        assert torch.equal(told.layout[row], layouts["ab".index(caption)])
    for mix, rate, dropout in (({"generate": 1.0}, 0.0, 0.0), ({"generate": 1.0}, 1.0, 1.0),
                               ({"extend_tail": 1.0, "fill": 1.0, "animate": 1.0, "restyle": 1.0}, 1.0, 0.0)):
        none = make_batch(pool, np.random.default_rng(0), 8, 2, mix, caption_dropout=dropout, layouts=layouts,
                          layout_rate=rate)
        assert none.layout.shape == (8, t, h, w) and not none.layout.any()
    assert make_batch(pool, np.random.default_rng(0), 8, 2, {"generate": 1.0}).layout is None
    conditioned = {"extend_tail": 1.0, "extend_head": 1.0, "fill": 1.0}
    told = make_batch(pool, np.random.default_rng(0), 8, 2, conditioned, caption_dropout=0.0, layouts=layouts,
                      layout_rate=1.0, layout_cases=tuple(conditioned))
    for row, caption in enumerate(told.captions):
        assert torch.equal(told.layout[row], layouts["ab".index(caption)])
