"""An extension's subject carried on as the clip shows it (engine/model/subject_carry.py)."""
import numpy as np
import torch

from engine.model.subject_carry import carry_subject, cut_subject
from engine.model.subject_key import subject_mask

H, W = 72, 128


def _ball(x: float, y: float, radius: float, rgb=(240, 240, 240), shade: float = 0.6) -> tuple:
    """uint8 [H,W,3] of a dark ground with a ball whose lower right side darkens to `shade` of its colour
    (below the white key's value there), and its cover [H,W]."""
    ys, xs = np.mgrid[0:H, 0:W] + 0.5
    r = np.hypot(xs - x, ys - y) / radius
    cover = np.clip((1 - r) * radius + 0.5, 0, 1)
    light = 1 - (1 - shade) * np.clip(((xs - x) + (ys - y)) / (1.4 * radius), 0, 1)
    ground = np.full((H, W, 3), 25.0)
    ball = np.asarray(rgb, np.float64) * light[..., None]
    return (ground * (1 - cover[..., None]) + ball * cover[..., None]).round().astype(np.uint8), cover


def _clip(frames: int, x0: float, speed: float, radius: float = 9.0, grow: float = 0.0, **kw) -> np.ndarray:
    return np.stack([_ball(x0 + speed * t, 36, radius + grow * t, **kw)[0] for t in range(frames)])


def _tensor(frames: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(frames).permute(3, 0, 1, 2)[None].float() / 127.5 - 1


def _uint8(video: torch.Tensor) -> np.ndarray:
    return ((video[0].permute(1, 2, 3, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def _boiling(frames: int, x0: float, speed: float, offset: float) -> np.ndarray:
    """New frames as the denoiser drew them: the ball `offset` px to the right of its path, a little
    bigger, its face noise, and a ring beyond it."""
    rng = np.random.default_rng(0)
    out = []
    for t in range(frames):
        x = x0 + speed * t + offset
        frame, cover = _ball(x, 36, 10.5)
        noise = rng.integers(-60, 60, (H, W, 1))
        frame = np.clip(frame + (noise * (cover[..., None] > 0.9)), 0, 255).astype(np.uint8)
        ys, xs = np.mgrid[0:H, 0:W] + 0.5
        ring = np.abs(np.hypot(xs - x, ys - 36) - 13) < 0.8
        frame[ring] = 120
        out.append(frame)
    return np.stack(out)


def test_the_cut_takes_the_subject_s_shaded_side_and_none_of_the_ground():
    clip = _clip(12, 30, 2.0)
    sprite = cut_subject(clip, at_end=True)
    truth = _ball(30 + 2.0 * 11, 36, 9.0)[1]
    cover = sprite.rgba[3].numpy()
    key = subject_mask(clip[-1:])[0][0]
    shaded = (truth > 0.99) & ~key
    assert shaded.sum() > 20  # the key alone falls short of the ball's dark side
    assert cover[shaded].min() > 0.99
    grown = torch.nn.functional.max_pool2d(torch.from_numpy(truth)[None, None].float(), 5, 1, 2)[0, 0].numpy()
    assert cover[grown == 0].max() == 0  # nothing 2 px past the ball
    assert np.allclose(sprite.step, (2.0, 0.0), atol=0.05)
    assert abs(sprite.growth) < 0.05 and sprite.kind == "white"
    head = cut_subject(clip, at_end=False)
    assert np.hypot(head.centre[0] - 30.0, head.centre[1] - 36.0) < 3  # the key's, off to its lit side


def test_a_tinted_mark_reaching_in_from_the_subject_s_edge_is_cut_with_it():
    """The model's own drawn ball has tinted marks that neither the key nor the pixels of its kind take;
    one that reaches in from the edge is cut with the ball (a ball or a box is convex), not left open to
    show the ground through the carried ball."""
    clip = _clip(12, 30, 2.0)
    clip[-1, 34:39, 44:53] = (150, 120, 200)  # a violet streak from the ball's left edge (x 43) inwards
    cover = cut_subject(clip, True).rgba[3]
    assert cover[34:39, 44:53].min() == 1


def test_the_new_frames_show_the_clip_s_subject_on_its_path_and_not_their_own():
    """After a tail the clip's ball goes on 2 px a frame; the drawn ball's noisy face and its ring,
    1.5 px ahead of the path, are gone; before a head it comes from behind."""
    clip = _clip(12, 30, 2.0)
    new = _boiling(8, 30 + 2.0 * 12, 2.0, offset=1.5)
    out = _uint8(carry_subject(_tensor(new), new, [cut_subject(clip, True)], [list(range(1, 9))]))
    truth = _clip(20, 30, 2.0)[12:]
    inner = np.stack([_ball(30 + 2.0 * (12 + t), 36, 9.0)[1] for t in range(8)]) > 0.99
    assert np.abs(out.astype(int) - truth)[inner].max() <= 6  # the clip's smooth ball
    assert np.abs(new.astype(int) - truth)[inner].max() > 40
    def changes(frames):
        return np.abs(np.diff(frames.astype(int), axis=0)).mean((1, 2, 3))

    assert changes(out).max() < 1.1 * changes(truth).max() < changes(new).min()  # as the clip moves, no boil
    ring = (np.abs(out[..., 0].astype(int) - 120) < 3) & ~inner
    assert ring.sum() < 0.05 * (np.abs(new[..., 0].astype(int) - 120) < 3).sum()
    before = _boiling(8, 30 - 2.0 * 8, 2.0, offset=-1.5)
    out = _uint8(carry_subject(_tensor(before), before, [cut_subject(clip, False)], [list(range(-8, 0))]))
    truth = np.stack([_ball(30 + 2.0 * (t - 8), 36, 9.0)[0] for t in range(8)])
    inner = np.stack([_ball(30 + 2.0 * (t - 8), 36, 9.0)[1] for t in range(8)]) > 0.99
    assert np.abs(out.astype(int) - truth)[inner].max() <= 6


def test_lights_near_the_drawn_subject_are_ground_and_stay():
    """White windows 4 px apart from the drawn ball (within its reach, not touching it) are kept as drawn."""
    clip = _clip(12, 30, 2.0)
    new = _boiling(4, 54, 2.0, offset=1.0)
    windows = np.zeros((H, W), bool)
    windows[20:52:4, 80:84] = True  # 4 px past the last drawn ball's ring (radius 13 round x 61)
    new[:, windows] = 235
    out = _uint8(carry_subject(_tensor(new), new, [cut_subject(clip, True)], [[1, 2, 3, 4]]))
    assert (out[:, windows] >= 230).all()


def test_a_still_shot_s_drawn_subject_is_filled_from_its_clean_plate():
    """Where the drawn ball shows beside the carried one, a still shot's clean plate stands for the ground
    where it holds; elsewhere the ground round the hole does."""
    clip = _clip(12, 30, 2.0)
    new = _boiling(4, 54, 2.0, offset=4.0)
    plate = torch.full((1, 3, H, W), 35 / 127.5 - 1)  # the ground's scene, a little lighter to tell it by
    held = torch.zeros(1, 1, H, W, dtype=torch.bool)
    held[..., :36, :] = True  # the plate holds over the upper half
    out = _uint8(carry_subject(_tensor(new), new, [cut_subject(clip, True)], [[1, 2, 3, 4]], (plate, held)))
    drawn = np.stack([_ball(54 + 2.0 * t + 4.0, 36, 10.5)[1] for t in range(4)]) > 0.5
    carried = np.stack([_ball(54 + 2.0 * t, 36, 11.0)[1] for t in range(4)]) > 0  # with its soft rim
    beside = drawn & ~carried
    upper = beside.copy()
    upper[:, 36:] = False
    # the plate's level but where the carried ball's soft rim reaches; none of the drawn one
    assert upper.sum() > 20 and (out[upper] == 35).mean() > 0.9 and out[upper].max() < 100
    lower = beside & ~upper
    assert out[lower].max() < 60 and (out[lower] == 35).mean() < 0.1  # the dark ground round it


def test_a_still_shot_s_ground_beside_the_carried_subject_is_its_clean_plate():
    """A grey smear the key does not take for the subject, 8 px behind the drawn ball, is the plate's ground
    where the new frames show the plate's scene; one beyond the subject's reach stays, and new frames of
    another look (their ground far from the plate's) are not stamped with the plate."""
    clip = _clip(12, 30, 2.0)
    new = _boiling(4, 54, 2.0, offset=0.0)
    smear, far = np.zeros((H, W), bool), np.zeros((H, W), bool)
    smear[30:42, 36:39] = True  # within 15 px (twice its half side, and one) of every carried ball
    far[30:42, 2:5] = True
    new[:, smear | far] = 90
    held = torch.ones(1, 1, H, W, dtype=torch.bool)
    sprite = [cut_subject(clip, True)]
    plate = torch.full((1, 3, H, W), 25 / 127.5 - 1)  # the dark ground
    out = _uint8(carry_subject(_tensor(new), new, sprite, [[1, 2, 3, 4]], (plate, held)))
    assert (np.abs(out[:, smear].astype(int) - 25) <= 1).all() and (out[:, far] == 90).all()
    lit = new.copy()
    ground = lit.sum(-1) == 75
    lit[ground] = 60  # a new look: the ground lit
    out = _uint8(carry_subject(_tensor(lit), lit, sprite, [[1, 2, 3, 4]], (plate, held)))
    assert (np.abs(out[:, smear].astype(int) - 25) > 20).all()  # its own ground, or the smear, not the plate's


def test_a_subject_that_grows_through_a_zoom_grows_on():
    clip = _clip(12, 40, 1.0, radius=8.0, grow=0.25)
    sprite = cut_subject(clip, True)
    assert sprite.growth > 0.15  # the half side of a square of the keyed area grows with the ball
    new = _boiling(8, 52, 1.0, offset=0.0)
    out = carry_subject(_tensor(new), new, [sprite], [list(range(1, 9))])
    shown = [subject_mask(f[None])[0].sum() for f in _uint8(out)]
    first = subject_mask(clip[-1:])[0].sum()
    grown = ((sprite.half + 8 * sprite.growth) / sprite.half) ** 2  # 8 frames on
    assert shown[0] > first and abs(shown[-1] / first - grown) < 0.1 * grown


def test_across_a_fill_s_gap_the_two_sides_subjects_cross_fade_along_the_path_between_them():
    """The ball leaves the clip before at x 52 going 2 px a frame and the clip after takes it up at x 80:
    over 7 frames between, its place goes from the one path to the other, each whole at its own seam."""
    before, after = _clip(12, 30, 2.0), _clip(12, 80, 2.0)
    new = _boiling(7, 54, 2.0, offset=0.0)
    leaving, taking = cut_subject(before, True), cut_subject(after, False)
    out = _uint8(carry_subject(_tensor(new), new, [leaving, taking], [list(range(1, 8)), list(range(-7, 0))]))
    xs = [subject_mask(f[None])[0][0].nonzero()[1].mean() for f in out]  # keyed centres, as the sprites'
    on_before = [leaving.centre[0] + 2.0 * (j + 1) for j in range(7)]
    on_after = [taking.centre[0] - 2.0 * (7 - j) for j in range(7)]
    expected = [(1 - (j + 1) / 8) * a + (j + 1) / 8 * b for j, (a, b) in enumerate(zip(on_before, on_after))]
    assert np.allclose(xs, expected, atol=0.75)


def test_a_subject_of_another_colour_is_left_as_drawn():
    """The clip's ball is white; new frames that draw a red one were asked for a change."""
    clip = _clip(12, 30, 2.0)
    red = np.stack([_ball(56 + 2.0 * t, 36, 9.0, rgb=(230, 30, 30))[0] for t in range(4)])
    video = _tensor(red)
    assert torch.equal(carry_subject(video, red, [cut_subject(clip, True)], [[1, 2, 3, 4]]), video)
    green = _clip(12, 30, 2.0, rgb=(30, 220, 30))
    assert torch.equal(carry_subject(video, red, [cut_subject(green, True)], [[1, 2, 3, 4]]), video)


def test_a_clip_without_a_subject_next_to_its_seam_has_none_to_carry():
    ground = np.full((12, H, W, 3), 25, np.uint8)
    assert cut_subject(ground, True) is None
    clip = _clip(12, 30, 2.0)
    clip[-1] = 25  # gone at the seam
    assert cut_subject(clip, True) is None and cut_subject(clip, False) is not None
