"""The pixel metrics read the world's own renderings correctly (they are then trusted on the model)."""
import numpy as np
import pytest

from engine.train import evaluate as ev
from engine.train.world import CAMERAS, COLORS, MOTIONS, TIMES_OF_DAY, Scene, render


def _scene(**kw):
    base = dict(time_of_day="day", setting="city", camera="static", color="red", shape="box", motion="still",
                layout_seed=11, subject_x=0.5, subject_y=0.7, subject_size=0.1, subject_travel=0.4)
    base.update(kw)
    if base["motion"] == "right":
        base["subject_x"] = 0.25
    if base["motion"] == "left":
        base["subject_x"] = 0.75
    return Scene(**base)


@pytest.mark.parametrize("camera", CAMERAS)
def test_camera_move_is_read_from_the_background(camera):
    setting = {"static": "city", "pan left": "mountains", "pan right": "sea", "tilt up": "field",
               "tilt down": "city", "zoom in": "mountains", "zoom out": "field"}[camera]
    clip = render(_scene(camera=camera, setting=setting, motion="left"))
    assert ev.classify_camera(clip) == camera


def test_a_white_subject_still_on_screen_does_not_hold_a_pan_still():
    """A night pan's white ball that stands still on screen: its blocks are left out, as a saturated
    subject's are; counted, they held the pan's reading under its threshold."""
    clip = render(_scene(camera="pan left", setting="mountains", color="white", shape="ball", motion="still",
                         time_of_day="night", subject_size=0.3))
    assert ev.classify_camera(clip) == "pan left"


@pytest.mark.parametrize("time_of_day", TIMES_OF_DAY)
def test_time_of_day_is_read_from_the_sky(time_of_day):
    for setting in ("mountains", "sea", "city", "field"):
        clip = render(_scene(time_of_day=time_of_day, setting=setting), 128, 72, 2)
        assert ev.classify_time_of_day(clip) == time_of_day


def test_subject_colour_and_path_are_read_at_every_time_of_day():
    for i, color in enumerate(COLORS):
        for time_of_day in TIMES_OF_DAY:
            motion = MOTIONS[i % 3]
            clip = render(_scene(color=color, time_of_day=time_of_day, motion=motion, shape="ball" if i % 2 else "box",
                                 setting=("sea", "field", "mountains")[i % 3]), 128, 72, 8)
            assert ev.classify_color(clip) == color, (color, time_of_day)
            assert ev.classify_motion(clip) == motion, (color, time_of_day, motion)


def test_no_subject_reads_as_none():
    clip = render(_scene(color=None, shape=None, motion=None), 128, 72, 4)
    assert ev.classify_color(clip) is None and ev.classify_motion(clip) is None


def test_seams_flicker_and_edges():
    clip = render(_scene(camera="pan left", setting="mountains", motion="right"))
    other = render(_scene(time_of_day="night", setting="sea", layout_seed=99))
    assert ev.seam_ratio(clip[:12], clip[12:]) < 1.5
    assert ev.seam_ratio(clip[:12], other[12:]) > 3.0
    assert ev.flicker(clip) < 1.0
    # a cut moved two frames on passes seam_ratio but not the region around the seam
    late_cut = np.concatenate([clip[12:14], other[14:]])
    assert ev.seam_ratio(clip[:12], late_cut) < 1.5 and ev.seam_region_ratio(clip[:12], late_cut, 3, "after") > 3.0
    assert ev.seam_region_ratio(clip[:12], clip[12:], 3, "after") < 1.5
    # and one moved back into made frames before a clip
    early_cut = np.concatenate([other[:10], clip[10:12]])
    assert ev.seam_region_ratio(early_cut, clip[12:], 3, "before") > 3.0
    pumping = clip.astype(np.int16)
    pumping[::2] += 40
    assert ev.flicker(np.clip(pumping, 0, 255).astype(np.uint8)) > 10.0
    assert ev.edge_correlation(clip, clip) == pytest.approx(1.0)
    assert ev.edge_correlation(clip, other) < 0.3


def _uneven(clip: np.ndarray, first: int) -> np.ndarray:
    """Every other frame from `first` on 6 levels brighter: frames that step unevenly."""
    bumped = clip.astype(np.int16)
    bumped[first::2] += 6
    return np.clip(bumped, 0, 255).astype(np.uint8)


def test_the_region_around_a_seam_counts_the_made_frames_not_the_clip_s_own():
    clip = render(_scene(camera="tilt down", motion="right"), 128, 72, 24)
    # a given clip's own uneven steps are not the made frames' doing (each seam's own step is plain)
    assert ev.seam_region_ratio(_uneven(clip, 0)[:12], clip[12:], 6, "after") < 1.5
    assert ev.seam_region_ratio(clip[:12], _uneven(clip, 13)[12:], 6, "before") < 1.5
    # made frames that step so count, on either side
    assert ev.seam_region_ratio(clip[:12], _uneven(clip, 13)[12:], 6, "after") > 1.5
    assert ev.seam_region_ratio(_uneven(clip, 0)[:12], clip[12:], 6, "before") > 1.5
    with pytest.raises(ValueError, match="made"):
        ev.seam_region_ratio(clip[:12], clip[12:], 6, "tail")


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="frames"):
        ev.classify_clip(np.zeros((4, 8, 3), np.uint8))
    with pytest.raises(ValueError, match="b: shape"):
        ev.edge_correlation(np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 9, 3), np.uint8))


def test_a_subject_moves_on_across_a_seam_or_stops_dead_at_it():
    clip = render(_scene(camera="pan left", setting="mountains", motion="right"), 128, 72, 24)
    assert ev.subject_continues(clip[:12], clip[12:], 8)
    frozen = np.repeat(clip[11:12], 12, axis=0)  # the extension holds the clip's last frame
    assert ev.subject_continues(clip[:12], frozen, 8) is False
    back = clip[12:][::-1].copy()  # the subject turns back at the seam
    assert ev.subject_continues(clip[:12], back, 8) is False
    empty = render(_scene(color=None, shape=None, motion=None), 128, 72, 24)
    assert ev.subject_continues(empty[:12], empty[12:], 8) is None
    assert ev.subject_continues(clip[:12], empty[12:], 8) is False  # the subject lost at the seam
