"""How a previz model's heads read camera moves worded as no training caption words them.

The camera head (a drift) and the zoom head (a zoom rate) turn a prompt into the move the
pipeline makes; the denoiser draws the still scene. So a wording the heads misread is a clip with
the wrong move, whatever the denoiser draws. This reads the heads alone, in seconds, on camera
wordings of its own (none is a training phrase, tests/train/test_captions.py), each put in four
prompts: with no subject, a still one, one moving the camera's way, and one moving against it.
Each reading is printed as a share against its peer: the same prompts with the fixed wording
(captions.prompt's move words). The free-phrasing evaluation's own wordings (eval_prompts.py)
are read too.

A reading is the move the pipeline makes, read as the pipeline reads the heads: a zoom where it
zooms (model/zoom.py MIN_ZOOM_RATE), else still where it asks for no drift (camera.asked_drift),
else the drift's larger axis and its sign.

    python benchmarks/camera_wording.py [--model runs/previz/best]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.train import eval_prompts  # noqa: E402

WORDINGS = {
    "static": ["the camera is locked", "camera on sticks", "a locked shot", "the frame is static",
               "the camera doesn't move at all", "motionless camera", "held frame", "the camera keeps its framing"],
    "pan left": ["camera slews left", "slow leftward pan", "the camera scans to the left", "we pan left",
                 "camera swishes left", "the camera follows to the left", "leftward camera move",
                 "pan across to the left"],
    "pan right": ["camera slews right", "slow rightward pan", "the camera scans to the right", "we pan right",
                  "camera swishes right", "the camera follows to the right", "rightward camera move",
                  "pan across to the right"],
    "tilt up": ["camera lifts its gaze", "the camera pivots up", "upward tilt", "the camera glances up",
                "we tilt up", "camera aims upward", "tilt toward the heavens", "camera raises up"],
    "tilt down": ["camera lowers its gaze", "the camera pivots down", "downward tilt", "the camera glances down",
                  "we tilt down", "camera aims downward", "tilt toward the earth", "camera dips down"],
    "zoom in": ["the camera dollies forward", "crash zoom in", "we push in", "the lens zooms in",
                "push in slowly", "magnify the view", "the camera closes the distance", "a slow dolly forward"],
    "zoom out": ["the camera dollies backward", "crash zoom out", "we pull out", "the lens zooms out",
                 "pull back to a wide shot", "the camera backs up", "a slow dolly backward", "widen the view"],
}
FIXED = {"static": "static camera", "pan left": "pan left", "pan right": "pan right", "tilt up": "tilt up",
         "tilt down": "tilt down", "zoom in": "zoom in", "zoom out": "zoom out"}
# The subject's move in each context: none, still, the camera's own way, against it.
SUBJECTS = [None, "standing still", "with", "against"]
SCENES = ["over the sea at dusk", "in a city at night", "over a field by day", "in the mountains at noon"]
WITH = {"pan left": "left", "pan right": "right"}


def prompts(camera: str, wording: str) -> list[str]:
    """The wording in four prompts: one without a subject, one per subject move."""
    out = []
    for subject, scene in zip(SUBJECTS, SCENES):
        if subject is None:
            out.append(f"{scene}, {wording}")
            continue
        if subject in ("with", "against"):
            way = WITH.get(camera, "left")
            way = way if subject == "with" else {"left": "right", "right": "left"}[way]
            subject = f"moving {way}"
        out.append(f"a red ball {subject} {scene}, {wording}")
    return out


def reading(pipe, text: str) -> str:
    """The move the pipeline makes for the prompt, from its own readings of the heads."""
    states, mask = pipe.text_encoder.encode([text])
    rate = pipe._camera_zoom(states, mask)
    if rate:
        return "zoom in" if rate > 0 else "zoom out"
    dx, dy = pipe._camera_drift(None, states, mask)
    if (dx, dy) == (0.0, 0.0):
        return "static"
    # The drift is the picture's: a pan left carries it right.
    if abs(dx) >= abs(dy):
        return "pan left" if dx > 0 else "pan right"
    return "tilt up" if dy > 0 else "tilt down"


def share(pipe, table: dict[str, list[str]], misses: list) -> float:
    hits = []
    for camera, wordings in table.items():
        for wording in wordings:
            for text in prompts(camera, wording):
                got = reading(pipe, text)
                hits.append(got == camera)
                if got != camera:
                    misses.append(f"{text!r}: {got}, not {camera}")
    return sum(hits) / len(hits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="a model folder (default: the shipped one)")
    args = parser.parse_args()
    from engine.backends.embedded import embedded_model_dir
    from engine.pipeline import LatentCutPipeline

    pipe = LatentCutPipeline.from_pretrained(args.model or embedded_model_dir(), device="cpu", threads=2)
    if pipe.model.denoiser.camera is None or pipe.model.denoiser.zoom is None:
        sys.exit(f"{args.model or embedded_model_dir()}: the model has no camera or zoom head")
    with torch.no_grad():
        fixed_misses, own_misses, free_misses = [], [], []
        fixed = share(pipe, {camera: [w] for camera, w in FIXED.items()}, fixed_misses)
        own = share(pipe, WORDINGS, own_misses)
        free = share(pipe, eval_prompts.CAMERA, free_misses)
    for miss in own_misses + free_misses:
        print("miss", miss)
    print(f"fixed wording {fixed:.3f}")
    print(f"held-out camera wordings {own:.3f} = {own / fixed:.3f}x the fixed wording "
          f"({len(own_misses)} of {4 * sum(map(len, WORDINGS.values()))} misread)")
    print(f"free-phrasing evaluation's camera wordings {free:.3f} = {free / fixed:.3f}x the fixed wording")


if __name__ == "__main__":
    main()
