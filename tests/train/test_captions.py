"""Captions come from the scene: every attribute is named (but a still shot's, now and then, all but its look), in
varied wording and order."""
import numpy as np

from engine.train.captions import (CAMERA_CLAUSES, CAMERA_NOUNS, CAMERA_VERBS, DIRECTIONS, HOLDS,
                                   MOTION_PHRASES, SETTING_PHRASES, SETTING_WORDS, SHAPE_WORDS, SHOT_WORDS,
                                   TIME_PHRASES, TIME_WORDS, VERBS, caption, prompt)
from engine.train.world import Scene, sample_scene


def _names(text: str, options) -> bool:
    return any(o.split(",")[0] in text for o in options)


def test_captions_match_scene_parameters():
    rng = np.random.default_rng(0)
    for seed in range(300):
        scene = sample_scene(seed)
        text = caption(scene, rng)
        assert _names(text, TIME_PHRASES[scene.time_of_day] + TIME_WORDS[scene.time_of_day]), text
        if _look_only(text):
            continue
        setting_words = SETTING_WORDS[scene.setting] + [p.split(" ", 1)[1] for p in SETTING_PHRASES[scene.setting]]
        assert _names(text, setting_words), text
        if scene.camera != "static":
            assert _names(text, CAMERA_CLAUSES[scene.camera] + CAMERA_VERBS[scene.camera]) or \
                _composed(text, CAMERA_NOUNS, DIRECTIONS[scene.camera]), text
        if scene.has_subject:
            assert f" {scene.color} " in f" {text} ", text
            assert _names(text, SHAPE_WORDS[scene.shape]), text
            if scene.motion == "still":
                assert _names(text, MOTION_PHRASES["still"] + HOLDS), text
            else:
                assert _names(text, MOTION_PHRASES[scene.motion]) or \
                    _composed(text, [SHAPE_WORDS[scene.shape][2], scene.shape], DIRECTIONS[f"pan {scene.motion}"]), text
        else:
            assert not any(f" {c} " in f" {text} " for c in ("red", "green", "blue", "yellow", "white")), text


def _look_only(text: str) -> bool:
    """Whether text (less a shot word) is a time of day alone."""
    looks = {t for table in (TIME_PHRASES, TIME_WORDS) for options in table.values() for t in options}
    return text in looks or any(text == f"{w} {t}" for w in SHOT_WORDS for t in looks)


def test_a_still_shot_s_look_is_sometimes_said_alone_and_a_moving_one_s_never():
    """A restyle's prompt often names only the look ("at night"): still shots' captions teach it, and
    no shot whose camera or subject moves goes without its move."""
    rng = np.random.default_rng(4)
    alone = {True: [], False: []}
    for seed in range(800):
        scene = sample_scene(seed)
        still = scene.camera == "static" and scene.motion in (None, "still")
        alone[still].append(_look_only(caption(scene, rng)))
    assert 0.35 < np.mean(alone[True]) < 0.65 and not any(alone[False])


def _composed(text: str, nouns, directions) -> bool:
    """Whether text has a move put together from parts: a noun, a verb of motion and a direction."""
    return any(f"{n} {v} {d}" in text for n in nouns for forms in VERBS for v in forms for d in directions)


def test_a_still_camera_is_sometimes_left_unsaid_and_every_move_is_named():
    """A caption that names no camera move belongs to a still shot; every move is said."""
    rng = np.random.default_rng(2)
    moves = [w for table in (CAMERA_CLAUSES, CAMERA_VERBS) for options in table.values() for w in options]
    unsaid = {camera: 0 for camera in CAMERA_CLAUSES}
    for seed in range(600):
        scene = sample_scene(seed)
        text = caption(scene, rng)
        said = _names(text, moves) or _composed(text, CAMERA_NOUNS, [d for ds in DIRECTIONS.values() for d in ds]) \
            or any(f"{n} {h}" in text for n in CAMERA_NOUNS for h in HOLDS)
        unsaid[scene.camera] += not said
    assert unsaid["static"] > 10
    assert not any(unsaid[camera] for camera in unsaid if camera != "static"), unsaid


def test_composed_moves_vary_the_verb_and_the_direction():
    scene = Scene("day", "sea", "tilt up", "blue", "box", "right", 3)
    rng = np.random.default_rng(3)
    texts = [caption(scene, rng) for _ in range(400)]
    camera = {(v, d) for t in texts for forms in VERBS for v in forms for d in DIRECTIONS["tilt up"]
              if any(f"{n} {v} {d}," in f"{t}," for n in CAMERA_NOUNS)}
    subject = {(v, d) for t in texts for forms in VERBS for v in forms for d in DIRECTIONS["pan right"]
               if any(f"{n} {v} {d} " in f"{t} " for n in ("box", "cube"))}
    assert len({v for v, _ in camera}) > 10 and len({d for _, d in camera}) == len(DIRECTIONS["tilt up"])
    assert len({v for v, _ in subject}) > 10


def test_wording_and_word_order_vary():
    scene = Scene("sunset", "field", "static", "red", "ball", "left", 3)
    rng = np.random.default_rng(1)
    texts = {caption(scene, rng) for _ in range(200)}
    assert len(texts) > 50
    sunset_words = ("sunset", "dusk", "evening", "twilight", "golden hour", "sundown", "orange sky", "winds down",
                    "sun low")
    first = {min(("red", t.index("red")), ("sunset-ish", min(t.find(w) for w in sunset_words if t.find(w) >= 0)),
                 key=lambda p: p[1])[0]
             for t in texts}
    assert first == {"red", "sunset-ish"}  # the colour comes first in some captions, the time in others


def test_evaluation_prompt_has_the_design_wording():
    scene = Scene("sunset", "field", "static", "red", "ball", "left", 3)
    assert prompt(scene) == "a red ball moving left over a field at sunset, static camera"
    assert prompt(Scene("night", "mountains", "pan right", None, None, None, 3)) == \
        "pan right over mountains at night"


def test_no_training_phrase_holds_a_held_out_wording():
    """The free-phrasing evaluation (eval_prompts.py) measures wordings training never shows: none of
    its phrases of three words or more is part of a training phrase."""
    from engine.train import captions, eval_prompts

    training = [p for table in (TIME_PHRASES, SETTING_PHRASES, CAMERA_CLAUSES, CAMERA_VERBS, MOTION_PHRASES)
                for options in table.values() for p in options] + captions.SHOT_WORDS
    training += [f"{n} {v} {d}" for n in CAMERA_NOUNS + ["ball", "box"] for forms in VERBS for v in forms
                 for ds in DIRECTIONS.values() for d in ds]
    training += [f"{n} {h}" for n in CAMERA_NOUNS + ["ball", "box"] for h in HOLDS]
    held_out = [p for table in (eval_prompts.TIME, eval_prompts.SETTING, eval_prompts.CAMERA, eval_prompts.MOTION)
                for options in table.values() for p in options if len(p.split()) >= 3]
    assert held_out
    assert not [(h, t) for h in held_out for t in training if h in t]


def test_camera_wordings_stay_held_out():
    """The free-phrasing evaluation's own camera words ("camera swings left", "camera tips up", "the
    camera draws back", "tripod shot") are never training
    words, so widening the training's camera wordings cannot teach the evaluation's own."""
    import re

    from engine.train import eval_prompts

    training = {w for table in (CAMERA_CLAUSES, CAMERA_VERBS, DIRECTIONS) for options in table.values()
                for p in options for w in re.findall(r"[a-z]+", p)}
    training |= {w for p in CAMERA_NOUNS + HOLDS + [v for forms in VERBS for v in forms] for w in p.split()}
    held_out = {"swings", "tips", "draws", "tripod"}
    assert held_out <= {w for options in eval_prompts.CAMERA.values() for p in options for w in p.split()}
    assert not held_out & training


def test_the_camera_wording_benchmark_s_wordings_are_held_out():
    """benchmarks/camera_wording.py reads the heads on camera wordings of its own: none is part of a
    training phrase, put together from parts or not."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "camera_wording.py"
    spec = importlib.util.spec_from_file_location("camera_wording", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    training = [p for table in (CAMERA_CLAUSES, CAMERA_VERBS) for options in table.values() for p in options]
    training += [f"{n} {v} {d}" for n in CAMERA_NOUNS for forms in VERBS for v in forms
                 for ds in DIRECTIONS.values() for d in ds]
    training += [f"{n} {h}" for n in CAMERA_NOUNS for h in HOLDS]
    wordings = [w for options in bench.WORDINGS.values() for w in options]
    assert len(wordings) == 56
    assert not [(w, t) for w in wordings for t in training if w in t]
