"""The procedural world: deterministic renders, valid parameters, restyle pairs, palette."""
import dataclasses

import numpy as np
import pytest

from engine.model.subject_key import SUBJECT_MIN_SATURATION, SUBJECT_MIN_VALUE
from engine.train import evaluate as ev
from engine.train.data import check_training_seed
from engine.train.world import (BACKGROUND_MAX_SATURATION, CAMERAS, COLORS, EVAL_SEED_START, MOTIONS, SETTINGS,
                                TIMES_OF_DAY, Scene, render, restyle_pair, restyled, sample_scene)


def test_same_seed_same_scene_and_frames():
    a, b = sample_scene(42), sample_scene(42)
    assert a == b
    fa, fb = render(a, 64, 36, 6), render(b, 64, 36, 6)
    assert fa.dtype == np.uint8 and fa.shape == (6, 36, 64, 3)
    assert np.array_equal(fa, fb)


def test_different_seeds_give_different_clips():
    clips = [render(sample_scene(s), 64, 36, 4) for s in range(4)]
    assert all(not np.array_equal(clips[0], c) for c in clips[1:])


def test_sampled_scenes_cover_the_vocabulary():
    scenes = [sample_scene(s) for s in range(400)]
    assert {s.time_of_day for s in scenes} == set(TIMES_OF_DAY)
    assert {s.setting for s in scenes} == set(SETTINGS)
    assert {s.camera for s in scenes} == set(CAMERAS)
    assert {s.color for s in scenes} == set(COLORS) | {None}
    assert {s.motion for s in scenes} == set(MOTIONS) | {None}


def test_bad_parameters_name_the_argument():
    with pytest.raises(ValueError, match="time_of_day"):
        Scene("dusk", "sea", "static", None, None, None, 1)
    with pytest.raises(ValueError, match="camera"):
        Scene("day", "sea", "dolly", None, None, None, 1)
    with pytest.raises(ValueError, match="shape"):
        Scene("day", "sea", "static", "red", "cone", "left", 1)
    with pytest.raises(ValueError, match="width"):
        render(sample_scene(1), width=0)
    with pytest.raises(ValueError, match="seed"):
        sample_scene(-1)


def test_held_out_seeds_are_refused_for_training():
    assert check_training_seed(EVAL_SEED_START - 1) == EVAL_SEED_START - 1
    with pytest.raises(ValueError, match="held out"):
        check_training_seed(EVAL_SEED_START)


def test_restyle_pair_shares_geometry_and_motion():
    scene = sample_scene(5, subject_probability=1.0)
    for seed in range(4):
        other, a, b = restyle_pair(scene, seed, 128, 72, 8)
        assert (other.time_of_day, other.color) != (scene.time_of_day, scene.color)
        same = {f.name for f in dataclasses.fields(Scene)} - {"time_of_day", "color"}
        assert all(getattr(other, n) == getattr(scene, n) for n in same)
        assert ev.edge_correlation(a, b) > 0.4
    unrelated = render(sample_scene(6), 128, 72, 8)
    assert ev.edge_correlation(render(scene, 128, 72, 8), unrelated) < 0.3
    assert restyled(scene, 3) == restyled(scene, 3)


def test_background_stays_desaturated_so_the_subject_stands_out():
    for seed in range(6):
        scene = dataclasses.replace(sample_scene(seed), color=None, shape=None, motion=None)
        _, s, v = ev.hsv(render(scene, 96, 54, 3))
        assert s[v > 0.3].max() <= BACKGROUND_MAX_SATURATION + 0.02  # uint8 rounding


@pytest.mark.parametrize("time_of_day", TIMES_OF_DAY)
def test_subject_is_saturated_and_visible_at_every_time_of_day(time_of_day):
    for color in ("red", "green", "blue", "yellow"):
        scene = Scene(time_of_day, "city", "static", color, "ball", "still", 9, subject_x=0.5, subject_y=0.7)
        _, s, v = ev.hsv(render(scene, 128, 72, 2))
        subject = (s > SUBJECT_MIN_SATURATION) & (v > SUBJECT_MIN_VALUE)
        assert subject[0].mean() > 0.01
