"""The subject's layout: a box's cover of latent cells, and where a generate places it."""
import numpy as np
import pytest

from engine.model.subject import LAYOUT_SIZE, LAYOUT_X, LAYOUT_Y, layout_map, place_subject


def test_a_still_box_covers_the_cells_under_it_by_their_share():
    """A box 16 px wide at x 32-48, y 12-28 over 8 px cells: whole cells across, half cells at its
    top and bottom rows; its cover adds up to its area in cells."""
    frames = 8
    still = np.full(frames, 40.0), np.full(frames, 20.0), np.full(frames, 8.0)
    cover = layout_map(*still, time_compression=4, space_compression=8, height=32, width=64)
    assert cover.shape == (2, 4, 8) and cover.dtype == np.float32
    expected = np.zeros((4, 8), np.float32)
    expected[1:4, 4:6] = [[0.5], [1.0], [0.5]]
    assert np.allclose(cover[0], expected) and np.allclose(cover[1], expected)
    assert cover.sum() == pytest.approx(2 * 16 * 16 / 64)


def test_a_moving_box_is_averaged_over_each_latent_frame_s_frames():
    """A box moving 2 px a frame: each latent frame shows it where its 4 frames had it, and its cover
    moves 8 px (one cell) from one latent frame to the next."""
    t = np.arange(8.0)
    cover = layout_map(8.0 + 2 * t, np.full(8, 16.0), np.full(8, 4.0), 4, 8, 32, 64)
    centre = [(cover[k].sum(0) * (np.arange(8) + 0.5) * 8).sum() / cover[k].sum() for k in range(2)]
    assert centre[0] == pytest.approx(8.0 + 2 * 1.5) and centre[1] - centre[0] == pytest.approx(8.0)
    assert cover[0].max() < 1.0  # a moving box's cells are covered only part of the time
    with pytest.raises(ValueError, match="multiple of 4"):
        layout_map(np.zeros(6), np.zeros(6), np.ones(6), 4, 8, 32, 64)


def test_only_what_the_picture_shows_of_the_box_is_drawn_and_the_camera_frame_wraps_round():
    """A 16 px box at x 60 in a 64 px picture shows its left 12 px, in the last two cell columns' share; past
    the edge it is gone, not back in at the other side. In the camera frame of a picture moved 8 px on
    (offset dx 8) a box at camera x 70 is the picture's 78: gone; at camera x 52 it shows 12 px there.
    A box the picture shows across the camera frame's edge wraps round: camera x -2 with offset dx 4 is
    picture x 2, whose 10 px show in the camera frame's last column and its first."""
    one = lambda x, offsets=None: layout_map(np.full(4, x), np.full(4, 16.0), np.full(4, 8.0), 4, 8, 32, 64,
                                              offsets)[0, 2]
    assert np.allclose(one(60.0), [0, 0, 0, 0, 0, 0, 0.5, 1.0])
    assert one(80.0).sum() == 0 and one(70.0).sum() == pytest.approx(0.25)
    moved = np.tile([0.0, 8.0], (4, 1))
    assert one(70.0, moved).sum() == 0
    assert np.allclose(one(52.0, moved), [0, 0, 0, 0, 0, 0.5, 1.0, 0])
    wrapped = one(-2.0, np.tile([0.0, 4.0], (4, 1)))
    assert np.allclose(wrapped, [0.75, 0, 0, 0, 0, 0, 0, 0.5])


@pytest.mark.parametrize("screen,frame", [(4.0, 4.0), (-4.0, -4.0), (0.0, 0.0), (4.0, 1.5), (0.0, -2.5)])
def test_a_placed_subject_crosses_the_screen_where_the_world_s_do(screen, frame):
    """Placed from the seed, the subject's path across the screen stays within the world's band, at
    the world's heights and sizes; in the camera frame it moves the frame speed. One seed, one place."""
    width, height, frames = 256, 144, 24
    starts = set()
    for seed in range(40):
        cx, cy, size = place_subject(screen, frame, frames, width, height, np.random.default_rng(seed))
        path = cx[0] + screen * np.arange(frames)
        assert LAYOUT_X[0] * width - 1e-6 <= path.min() and path.max() <= LAYOUT_X[1] * width + 1e-6
        assert np.allclose(np.diff(cx), frame)
        assert LAYOUT_Y[0] * height <= cy[0] <= LAYOUT_Y[1] * height and np.all(cy == cy[0])
        assert LAYOUT_SIZE[0] * height <= size[0] <= LAYOUT_SIZE[1] * height
        starts.add(round(float(cx[0])))
    assert len(starts) > 10  # placed anywhere along the band, not always in one spot
    again = place_subject(screen, frame, frames, width, height, np.random.default_rng(7))
    assert all(np.array_equal(a, b) for a, b in zip(again, place_subject(screen, frame, frames, width, height,
                                                                          np.random.default_rng(7))))


def test_the_subject_words_are_the_captions_shape_words():
    """The pipeline may not import the training tables (tests/test_layering.py), so model/subject.py
    keeps its own list of the words that name a subject: the captions' and the world's, no more."""
    from engine.model.subject import SUBJECT_WORDS, names_subject
    from engine.train import captions, world

    assert SUBJECT_WORDS == {*world.SHAPES, *(w for words in captions.SHAPE_WORDS.values() for w in words)}
    assert names_subject("A red Ball, moving left") and names_subject("one blue cube that stays put")
    assert not names_subject("wide shot over the sea at night, boxing day") and not names_subject("")


def test_the_layout_band_is_where_the_world_puts_its_subjects():
    """LAYOUT_X, LAYOUT_Y and LAYOUT_SIZE copy engine/train/world.sample_scene's ranges (the model may
    not import the training world): every world subject's path, height and size lies inside them,
    and the band's edges are reached."""
    from engine.train.world import sample_scene, subject_track

    lows, highs = [], []
    for seed in range(400):
        scene = sample_scene(seed, subject_probability=1.0)
        cx, cy, size = subject_track(scene, 24, 1.0, 1.0)
        lows.append(cx.min())
        highs.append(cx.max())
        assert LAYOUT_Y[0] <= scene.subject_y <= LAYOUT_Y[1]
        assert LAYOUT_SIZE[0] <= scene.subject_size <= LAYOUT_SIZE[1]
    assert LAYOUT_X[0] - 1e-6 <= min(lows) < LAYOUT_X[0] + 0.02
    assert LAYOUT_X[1] - 0.02 < max(highs) <= LAYOUT_X[1] + 1e-6
