"""A white subject drawn tinted is drawn white (engine/model/subject_tint.py)."""
import numpy as np
import torch

from engine.model.subject_key import hsv, subject_mask
from engine.model.subject_tint import asks_white, untint_subject

SKY, GROUND = (180, 210, 235), (80, 120, 80)


def _frames(ball_rgb, frames=3, centre=(32.0, 24.0), radius=8):
    """[T,48,64,3] pale sky over green ground, a ball across the horizon moving 2 px a frame."""
    clip = np.zeros((frames, 48, 64, 3), np.uint8)
    clip[:, :24], clip[:, 24:] = SKY, GROUND
    ys, xs = np.mgrid[0:48, 0:64]
    balls = []
    for t in range(frames):
        ball = (xs - centre[0] - 2 * t) ** 2 + (ys - centre[1]) ** 2 <= radius ** 2
        clip[t][ball] = ball_rgb
        balls.append(ball)
    boxes = np.array([[centre[0] + 2 * t, centre[1], radius + 1.0] for t in range(frames)])
    return clip, np.stack(balls), boxes


def _video(clip):
    return torch.from_numpy(clip).permute(3, 0, 1, 2)[None].float() / 127.5 - 1


def _pixels(video):
    return ((video[0].permute(1, 2, 3, 0) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def test_a_prompt_asks_for_a_white_subject_by_naming_one_and_white_alone():
    assert asks_white("a white ball moving right") and asks_white("one white cube that travels leftward")
    assert not asks_white("a red ball moving right") and not asks_white("a white sky at dawn")
    assert not asks_white("a white ball beside a red box") and not asks_white("")


def test_a_tinted_white_ball_is_drawn_white_and_its_ground_is_left_as_drawn():
    """A pale yellow ball across a pale sky and green ground: the key finds no subject in it; after,
    the key reads a white one on the ball's pixels, and the sky and ground keep their colours."""
    clip, balls, boxes = _frames((228, 232, 170))
    assert subject_mask(clip)[1] == "none"
    out = _pixels(untint_subject(_video(clip), boxes))
    mask, kind = subject_mask(out)
    assert kind == "white"
    assert mask[balls].mean() > 0.9 and not mask[~balls].any()
    _, s, v = hsv(out[balls])
    assert s.max() < 0.05 and v.min() > 0.85  # the drawn brightness is kept
    rim = torch.nn.functional.max_pool2d(torch.from_numpy(balls).float()[:, None], 3, 1, 1)[:, 0].bool().numpy()
    assert np.abs(out[~rim].astype(int) - clip[~rim]).max() <= 1


def test_a_subject_of_its_own_colour_or_one_outside_the_picture_is_left_as_drawn():
    clip, _, boxes = _frames((220, 30, 30))
    assert np.array_equal(_pixels(untint_subject(_video(clip), boxes)), clip)
    clip, _, _ = _frames((228, 232, 170))
    outside = np.array([[200.0, 24.0, 9.0]] * 3)
    assert np.array_equal(_pixels(untint_subject(_video(clip), outside)), clip)


def test_a_box_that_shows_only_pale_ground_is_left_as_drawn():
    """Told where no subject was drawn, over pale sand as bright and grey as a tinted white ball: no white
    square is stamped there."""
    clip = np.zeros((2, 48, 64, 3), np.uint8)
    clip[:] = (184, 173, 140)
    clip[:, 30:, :] = (170, 160, 128)  # a second band of sand in the ring
    boxes = np.array([[32.0, 28.0, 8.0]] * 2)
    assert np.array_equal(_pixels(untint_subject(_video(clip), boxes)), clip)
