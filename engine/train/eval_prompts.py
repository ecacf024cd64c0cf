"""Held-out prompts in free phrasing: the way users write, in wordings that no training template
produces (sentence shapes, synonyms and shot words of their own). Scored on held-out world seeds,
these measure whether the model follows meaning rather than memorised templates.
"""
from __future__ import annotations

from engine.train.world import Scene

TIME = {"day": ["in broad daylight", "on a sunny afternoon", "daylight"],
        "sunset": ["as the sun goes down", "in the evening", "dusk light"],
        "night": ["late at night", "in the dark of night", "nighttime"]}
SETTING = {"mountains": ["with peaks in the background", "in mountain country", "alpine ridges"],
           "sea": ["along the coast", "with open water behind", "seascape"],
           "city": ["between tall buildings", "downtown", "urban skyline"],
           "field": ["across open grassland", "in the countryside", "grassy plain"]}
CAMERA = {"static": ["the camera does not move", "camera static", "tripod shot"],
          "pan left": ["the camera pans across to the left", "slow pan to the left", "camera swings left"],
          "pan right": ["the camera pans across to the right", "slow pan to the right", "camera swings right"],
          "tilt up": ["the camera tilts up slowly", "slow tilt upward", "camera tips up"],
          "tilt down": ["the camera tilts down slowly", "slow tilt downward", "camera tips down"],
          "zoom in": ["slow zoom in", "the camera moves closer", "zooming closer"],
          "zoom out": ["slow zoom out", "the camera draws back", "zooming away"]}
MOTION = {"left": ["rolls toward the left", "drifts to the left side", "travels leftward"],
          "right": ["rolls toward the right", "drifts to the right side", "travels rightward"],
          "still": ["does not move", "sits motionless", "stays put"]}
SHAPE = {"ball": ["round ball", "ball", "sphere"], "box": ["square box", "box", "cube"]}


def free_prompt(scene: Scene, i: int) -> str:
    """Wording number i (any int) for the scene; every attribute is named."""
    k = i % 3
    time, setting, camera = TIME[scene.time_of_day][k], SETTING[scene.setting][k], CAMERA[scene.camera][k]
    if not scene.has_subject:
        return f"wide shot {setting} {time}; {camera}"
    subject = f"{scene.color} {SHAPE[scene.shape][k]}"
    motion = MOTION[scene.motion][k]
    if k == 0:
        return f"wide shot {setting} {time}: a {subject} {motion}, {camera}"
    if k == 1:
        return f"{camera}. {time.capitalize()}, a {subject} {motion} {setting}"
    return f"{setting}, {time}, {camera}, one {subject} that {motion}"
