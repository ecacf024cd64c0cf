"""Captions for world scenes: templates with paraphrases and varied word order.

A caption is made from a Scene (never parsed back): `caption(scene, rng)` draws one paraphrase,
`prompt(scene)` is the one fixed wording used for evaluation prompts.
"""
from __future__ import annotations

import numpy as np

from engine.train.world import Scene

TIME_PHRASES = {
    "day": ["during the day", "in daylight", "by day", "at midday", "in the daytime", "on a clear day", "at noon",
            "under a clear sky", "in the morning", "in bright sunshine"],
    "sunset": ["at sunset", "at dusk", "during sunset", "under a sunset sky", "in the glow of evening", "at twilight",
               "at golden hour", "at sundown", "under an orange sky",
               "as the day winds down", "with the sun low"],
    "night": ["at night", "by night", "in the night", "under a night sky", "after dark", "at midnight",
              "in darkness", "under the stars", "on a dark night"],
}
TIME_WORDS = {"day": ["day", "daytime", "daylight", "noon", "morning", "sunny"],
              "sunset": ["sunset", "dusk", "evening", "twilight", "sundown", "golden hour"],
              "night": ["night", "nighttime", "midnight", "dark", "night-time"]}
# Shot words people put in front of a prompt; they say nothing the world draws.
SHOT_WORDS = ["wide shot,", "establishing shot:", "long shot,", "previz:", "medium shot,", "cinematic shot of",
              "storyboard:", "4k footage,"]

SETTING_PHRASES = {
    "mountains": ["over mountains", "in the mountains", "over the mountains", "above a mountain range",
                  "among the peaks", "in the hills", "over rocky summits",
                  "up in the mountains", "high up in the hills"],
    "sea": ["over the sea", "by the sea", "on the sea", "over the ocean", "at the seaside", "over the water",
            "by the shore", "over the waves", "down by the sea",
            "down on the beach"],
    "city": ["in a city", "in the city", "over a city", "among city buildings", "over the rooftops",
             "among skyscrapers", "in town"],
    "field": ["over a field", "in a field", "across a field", "on a meadow", "over farmland", "over a pasture",
              "on the plains"],
}
SETTING_WORDS = {
    "mountains": ["mountains", "mountain range", "peaks", "hills"],
    "sea": ["sea", "ocean", "waves", "shore"],
    "city": ["city", "cityscape", "skyscrapers", "town"],
    "field": ["field", "meadow", "farmland", "pasture"],
}

# Camera as a clause ("static camera") and as a leading verb ("pan right over ...").
CAMERA_CLAUSES = {
    "static": ["static camera", "locked-off camera", "fixed camera", "static shot", "camera static",
               "camera holds still", "no camera movement", "the camera stays fixed", "locked camera",
               "the camera is still", "the camera never moves", "steady camera", "no camera motion",
               "the camera holds its position", "still camera", "unmoving camera", "the shot holds steady",
               "camera locked down", "stationary camera", "fixed shot", "the view holds", "the camera rests"],
    "pan left": ["pan left", "camera pans left", "panning left", "the camera pans to the left",
                 "the camera sweeps left", "panning shot to the left", "camera turns left",
                 "camera rotates left", "the camera swivels to the left", "panning to the left",
                 "the camera turns to the left", "camera looks left", "the view moves left", "camera travels left",
                 "tracking left", "trucking left", "the camera glides left", "whip pan left", "camera heads left",
                 "the view slides left"],
    "pan right": ["pan right", "camera pans right", "panning right", "the camera pans to the right",
                  "the camera sweeps right", "panning shot to the right", "camera turns right",
                  "camera rotates right", "the camera swivels to the right", "panning to the right",
                  "the camera turns to the right", "camera looks right", "the view moves right",
                  "camera travels right", "tracking right", "trucking right", "the camera glides right",
                  "whip pan right", "camera heads right", "the view slides right"],
    "tilt up": ["tilt up", "camera tilts up", "tilting up", "the camera tilts upward", "camera looks up",
                "the camera pitches up", "the camera tilts toward the sky", "camera angles up",
                "the camera looks upward", "camera pans up", "the camera points up", "the view rises",
                "camera raises its view", "the camera looks skyward", "tilting upwards", "craning up"],
    "tilt down": ["tilt down", "camera tilts down", "tilting down", "the camera tilts downward", "camera looks down",
                  "the camera pitches down", "the camera tilts toward the ground", "camera angles down",
                  "the camera looks downward", "camera pans down", "the camera points down", "the view drops",
                  "camera lowers its view", "the camera looks at the ground", "tilting downwards", "craning down"],
    "zoom in": ["zoom in", "camera zooms in", "zooming in", "slow push in", "slow zoom, in", "dolly in",
                "camera pushes in", "zoom into the scene", "the camera pushes in closer", "closing in",
                "the camera creeps forward", "the view tightens", "punching in", "the camera moves in",
                "the camera goes in tight", "camera approaches", "the camera nears the scene", "tightening in",
                "zoom in slowly", "push-in", "the frame tightens", "camera comes in"],
    "zoom out": ["zoom out", "camera zooms out", "zooming out", "slow pull out", "slow zoom, out", "dolly out",
                 "camera pulls back", "zoom out wide", "the camera pulls away", "pulling back", "the camera backs away",
                 "the view widens", "the camera retreats", "the camera moves out",
                 "camera goes wide", "the camera recedes", "widening out", "the camera withdraws", "camera backs off",
                 "zoom out slowly", "pull-out", "the frame widens"],
}
CAMERA_VERBS = {
    "static": ["static shot of", "locked-off shot of", "still frame of"],
    "pan left": ["pan left", "pan left across", "panning left over"],
    "pan right": ["pan right", "pan right across", "panning right over"],
    "tilt up": ["tilt up", "tilt up over", "tilting up over"],
    "tilt down": ["tilt down", "tilt down over", "tilting down over"],
    "zoom in": ["zoom in", "zoom in on", "push in on"],
    "zoom out": ["zoom out", "zoom out from", "pull out from"],
}

# Moves put together from parts: who moves, a plain verb of motion, and where to. The same verbs
# move the camera and the subject, so a head learns a move from its direction word and whose it is,
# not from the verb: "camera swings left" (a verb no template had) read as a still camera.
CAMERA_NOUNS = ["camera", "the camera", "the view", "the shot"]
VERBS = [("moves", "moving"), ("goes", "going"), ("turns", "turning"), ("slides", "sliding"),
         ("glides", "gliding"), ("shifts", "shifting"), ("heads", "heading"), ("veers", "veering"),
         ("swerves", "swerving"), ("wheels", "wheeling"), ("sweeps", "sweeping"), ("floats", "floating"),
         ("eases", "easing"), ("creeps", "creeping"), ("edges", "edging"), ("inches", "inching"),
         ("cruises", "cruising"), ("whips", "whipping"), ("sails", "sailing"), ("wanders", "wandering"),
         ("coasts", "coasting"), ("darts", "darting"), ("skims", "skimming"), ("hurries", "hurrying")]
DIRECTIONS = {"pan left": ["left", "to the left", "leftward", "leftwards", "toward the left", "off to the left"],
              "pan right": ["right", "to the right", "rightward", "rightwards", "toward the right",
                            "off to the right"],
              "tilt up": ["up", "upward", "upwards", "toward the sky", "skyward", "higher"],
              "tilt down": ["down", "downward", "downwards", "toward the ground", "groundward", "lower"],
              "zoom in": ["in", "inward", "forward", "in close", "nearer", "in tight"],
              "zoom out": ["out", "outward", "backward", "back", "out wide", "further out"]}
# What holds still, put together the same way for the camera and the subject: "the camera stays
# fixed", "a red ball stays fixed".
HOLDS = ["stays still", "holds still", "is not moving", "keeps still", "never moves", "rests", "is at rest",
         "stays fixed", "holds its place", "stays where it is", "remains still", "is holding still"]
# The share of moves so put together; of a still camera's captions, the share that leave it unsaid
# (a shot that names no move holds still, as an editor expects).
COMPOSED = 0.35
UNSAID_STILL = 0.2
# A still shot's captions (a still camera, a still subject or none) that name its look alone: "at night".
# A restyle's prompt often names only the look; told a bare "at night" the model trained on whole-scene
# captions drew a sunset. Only still shots, so that what goes unsaid is what a head reads as none.
LOOK_ONLY = 0.5

SHAPE_WORDS = {"ball": ["ball", "ball", "sphere"], "box": ["box", "box", "cube"]}
MOTION_PHRASES = {
    "left": ["moving left", "going left", "heading left", "moving to the left", "travelling left", "moves leftward",
             "slides to the left", "crossing to the left", "goes left", "passing from right to left",
             "gliding left", "sliding left", "moving leftwards", "making its way left", "flying left"],
    "right": ["moving right", "going right", "heading right", "moving to the right", "travelling right",
              "moves rightward", "slides to the right", "crossing to the right", "goes right",
              "passing from left to right", "gliding right", "sliding right", "moving rightwards",
              "making its way right", "flying right"],
    "still": ["standing still", "staying still", "sitting still", "at rest, still", "still", "not moving",
              "holding still", "stationary", "staying in place", "resting in place", "keeping still",
              "unmoving", "standing in place", "remaining still", "staying where it is", "at rest"],
}


def _pick(rng: np.random.Generator, options: list[str]) -> str:
    return options[int(rng.integers(0, len(options)))]


def _composed(rng, direction: str) -> str:
    """A verb of motion and a direction: "glides to the left", or "gliding to the left"."""
    return f"{_pick(rng, VERBS)[int(rng.integers(0, 2))]} {direction}"


def _subject(scene: Scene, rng) -> str:
    noun = f"a {scene.color} {_pick(rng, SHAPE_WORDS[scene.shape])}"
    if scene.motion == "still" and rng.random() < 0.3:
        return f"a still {scene.color} {_pick(rng, SHAPE_WORDS[scene.shape])}"
    if rng.random() < COMPOSED:
        if scene.motion == "still":
            return f"{noun} {_pick(rng, HOLDS)}"
        return f"{noun} {_composed(rng, _pick(rng, DIRECTIONS['pan ' + scene.motion]))}"
    return f"{noun} {_pick(rng, MOTION_PHRASES[scene.motion])}"


def _camera_clause(scene: Scene, rng) -> str:
    if rng.random() < COMPOSED:
        if scene.camera == "static":
            return f"{_pick(rng, CAMERA_NOUNS)} {_pick(rng, HOLDS)}"
        return f"{_pick(rng, CAMERA_NOUNS)} {_composed(rng, _pick(rng, DIRECTIONS[scene.camera]))}"
    return _pick(rng, CAMERA_CLAUSES[scene.camera])


def caption(scene: Scene, rng: np.random.Generator) -> str:
    """One random paraphrase of the scene; every attribute of the scene is named, but for a still
    camera now and then (UNSAID_STILL), and all but the look of a still shot (LOOK_ONLY)."""
    text = _look_only(scene, rng) if _still_shot(scene) and rng.random() < LOOK_ONLY else _caption(scene, rng)
    return f"{_pick(rng, SHOT_WORDS)} {text}" if rng.random() < 0.2 else text


def _still_shot(scene: Scene) -> bool:
    return scene.camera == "static" and scene.motion in (None, "still")


def _look_only(scene: Scene, rng) -> str:
    """The scene's time of day alone: "at night", "nighttime"."""
    return _pick(rng, TIME_PHRASES[scene.time_of_day] + TIME_WORDS[scene.time_of_day])


def _unsaid_still(scene: Scene, rng) -> str:
    """A still camera's scene with the camera left out."""
    time_p, setting_p = _pick(rng, TIME_PHRASES[scene.time_of_day]), _pick(rng, SETTING_PHRASES[scene.setting])
    if scene.has_subject:
        return f"{_subject(scene, rng)} {setting_p} {time_p}"
    return f"{_pick(rng, SETTING_WORDS[scene.setting])} {time_p}"


def _caption(scene: Scene, rng: np.random.Generator) -> str:
    time_p = _pick(rng, TIME_PHRASES[scene.time_of_day])
    time_w = _pick(rng, TIME_WORDS[scene.time_of_day])
    setting_p = _pick(rng, SETTING_PHRASES[scene.setting])
    setting_w = _pick(rng, SETTING_WORDS[scene.setting])
    if scene.camera == "static" and rng.random() < UNSAID_STILL:
        return _unsaid_still(scene, rng)
    cam_c = _camera_clause(scene, rng)
    cam_v = _pick(rng, CAMERA_VERBS[scene.camera])
    style = int(rng.integers(0, 5))
    if scene.has_subject:
        subj = _subject(scene, rng)
        if style == 0:
            return f"{subj} {setting_p} {time_p}, {cam_c}"
        if style == 1:
            return f"{cam_v} {subj} {setting_p}, {time_w}"
        if style == 2:
            return f"{time_w}, {setting_w}: {subj}, {cam_c}"
        if style == 3:
            return f"{cam_c}, {subj} {setting_p} {time_p}"
        clauses = [subj, f"{setting_w}", time_w, cam_c]
        rng.shuffle(clauses)
        return ", ".join(clauses)
    if style in (0, 1):
        return f"{cam_v} {setting_p.split(' ', 1)[1] if style else setting_w} {time_p}"
    if style == 2:
        return f"{setting_w} {time_p}, {cam_c}"
    if style == 3:
        return f"{time_w}, {setting_w}, {cam_c}"
    clauses = [f"empty {setting_w}", time_w, cam_c]
    rng.shuffle(clauses)
    return ", ".join(clauses)


def prompt(scene: Scene) -> str:
    """The fixed evaluation wording, as in the design's example prompts."""
    cam = "static camera" if scene.camera == "static" else scene.camera
    time = {"day": "during the day", "sunset": "at sunset", "night": "at night"}[scene.time_of_day]
    setting = {"mountains": "over mountains", "sea": "over the sea", "city": "in a city", "field": "over a field"}[scene.setting]
    if scene.has_subject:
        motion = "standing still" if scene.motion == "still" else f"moving {scene.motion}"
        return f"a {scene.color} {scene.shape} {motion} {setting} {time}, {cam}"
    return f"{cam} {setting} {time}"
