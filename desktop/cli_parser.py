"""The `latentcut` command line's parser: every command, its arguments and their help, and the
function that carries it out."""
from __future__ import annotations

import argparse
import os

from desktop.cli_args import (MAX_STEPS, at_most, frames_arg, guidance_arg, positive_float, positive_int, range_arg,
                              seed_arg, size_arg, strength_arg, structure_weight_arg)
from desktop.cli_credentials import add_signing_options, add_verify_command
from desktop.cli_errors import PROG
from desktop.cli_models import (cmd_animate, cmd_extend, cmd_fill, cmd_generate, cmd_models, cmd_restyle)
from desktop.cli_project import cmd_add, cmd_export, cmd_new, cmd_probe, cmd_render
from desktop.cli_serve import add_serve_parser
from desktop.cli_storyboard import cmd_demo, cmd_storyboard
from engine.jobs import DEFAULT_STRENGTH, DEFAULT_STRUCTURE_WEIGHT, MAX_RATE, MAX_SECONDS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="LatentCut: a non-linear editor for generative video. Run with no arguments to open "
                    "the app, or with PROJECT.otio (or any .otioz .otiod .edl .xml) to open it in the app.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("probe", help="print a media file's streams, rate, size and metadata as JSON")
    p.add_argument("file", help="a video, audio or image file")
    p.add_argument("--json", action="store_true", help="print JSON (the default; accepted for scripts)")
    p.set_defaults(func=cmd_probe)

    add_verify_command(sub)

    p = sub.add_parser("export", help="export a project to .otio .otioz .otiod .edl .xml .fcpxml .xges or .mlt")
    p.add_argument("project", help="a project, or any timeline OTIO reads (.edl .xml .fcpxml ...)")
    p.add_argument("out", help="the output file; its extension picks the format")
    p.add_argument("--rate", type=float, help="frame rate to read an EDL at, when it does not say")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("--json", action="store_true", help="print the path, format and what was dropped as JSON")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("render", help="render a project to one video file")
    p.add_argument("project", help="the project (.otio), or a cut in any format export writes and OTIO reads "
                                   "(.otioz .otiod .edl .xml .fcpxml .xges)")
    p.add_argument("out", help="the video file (.mp4 .mov .mkv .webm)")
    p.add_argument("--range", type=range_arg, metavar="START-END", help="timeline seconds or MM:SS, e.g. 2-5.5")
    p.add_argument("--size", type=size_arg, metavar="WxH", help="output size (default: the project's)")
    p.add_argument("--rate", type=at_most(positive_float, MAX_RATE), help="output frame rate (default: the project's)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_signing_options(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("new", help="create an empty project (one V1 and one A1 track)")
    p.add_argument("project", help="the project file to create (NAME.otio; media go in NAME_media/)")
    p.add_argument("--rate", type=at_most(positive_float, MAX_RATE), default=24.0,
                   help="timeline frame rate (default 24)")
    p.add_argument("--size", type=size_arg, default=(1920, 1080), metavar="WxH",
                   help="frame size of the cut (default 1920x1080)")
    p.add_argument("--force", action="store_true", help="replace an existing project file")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("add", help="append media files as clips to a track of a project")
    p.add_argument("project", help="the project (.otio) to add to; saved in place")
    p.add_argument("media", nargs="+", help="video, audio or image files, added in this order")
    p.add_argument("--track", help="track name for the picture (default V1), or for the sound of an audio-only "
                                   "file (default A1); created if missing. The sound of a video goes on A1, "
                                   "linked to its picture")
    p.add_argument("--still-seconds", type=at_most(positive_float, MAX_SECONDS, " s"), default=5.0, metavar="S",
                   help="how long a still image lasts on the timeline (default 5)")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("generate", help="generate a shot from a prompt")
    p.add_argument("prompt", help="what the shot shows, e.g. \"a red ball moving left over a field at sunset\"")
    model_options(p, prompt=False)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("animate", help="turn a still image into a shot")
    p.add_argument("image", help="an image, or a video with --frame")
    p.add_argument("--frame", type=int, default=0, metavar="N", help="which frame of a video to animate (default 0)")
    model_options(p)
    p.set_defaults(func=cmd_animate)

    p = sub.add_parser("extend", help="continue a clip (after its end, or before its start with --head)")
    p.add_argument("input", help="the clip to continue")
    p.add_argument("--head", action="store_true", help="make frames that lead into the clip's first frame")
    p.add_argument("--frames", type=frames_arg, metavar="START-END",
                   help="use only these frames of the input (END excluded), e.g. 0-48")
    model_options(p)
    p.set_defaults(func=cmd_extend)

    p = sub.add_parser("fill", help="bridge the gap between the end of clip A and the start of clip B")
    p.add_argument("a", help="the clip before the gap (its last frames lead in)")
    p.add_argument("b", help="the clip after the gap (its first frames lead out)")
    model_options(p)
    p.set_defaults(func=cmd_fill)

    p = sub.add_parser("restyle", help="keep a clip's layout and motion, change its look")
    p.add_argument("input", help="the clip to restyle")
    p.add_argument("--frames", type=frames_arg, metavar="START-END",
                   help="restyle only these frames of the input (END excluded), e.g. 0-48")
    model_options(p, prompt_required=True, seconds=False)
    p.add_argument("--strength", type=strength_arg, default=DEFAULT_STRENGTH,
                   help=f"0..1: how far the look may move from the input (default {DEFAULT_STRENGTH:g})")
    p.add_argument("--structure-weight", type=structure_weight_arg, default=DEFAULT_STRUCTURE_WEIGHT,
                   help="how closely the input's layout and edges are kept: 0 lets the model redraw them, "
                        f"1 keeps its edges (default {DEFAULT_STRUCTURE_WEIGHT:g})")
    p.set_defaults(func=cmd_restyle)

    p = sub.add_parser("storyboard", help="generate one clip per shot of a SECONDS: prompt file into a project")
    p.add_argument("shots", help="text file, one shot per line: `SECONDS: prompt` or `prompt`")
    p.add_argument("-o", "--output", required=True, metavar="BOARD.otio",
                   help="the project to write; the shots go in BOARD_media/ beside it")
    p.add_argument("--render", metavar="BOARD.mp4", help="also render the animatic to this file")
    p.add_argument("--force", action="store_true", help="replace an existing BOARD.otio (and BOARD.mp4)")
    model_options(p, prompt=False, output=False, seconds=False)
    p.set_defaults(func=cmd_storyboard)

    p = sub.add_parser("models", help="list model folders and the operations each can do")
    p.add_argument("dirs", nargs="*", metavar="DIR",
                   help="model folders (default: the embedded model and the folders in $LATENTCUT_MODELS)")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("demo", help="the headless demo: a short storyboard made and rendered with the "
                                    "embedded model")
    p.add_argument("--out", default="latentcut-demo", metavar="DIR", help="folder for the demo (default ./latentcut-demo)")
    p.add_argument("--steps", type=at_most(positive_int, MAX_STEPS), help="denoising steps (default: the model's)")
    p.add_argument("--device", choices=("cpu", "cuda", "mps"), help="default: CUDA, then MPS, then CPU")
    p.add_argument("--model", metavar="DIR", help="use this model folder instead of the embedded model")
    engine_options(p)
    p.set_defaults(func=cmd_demo)

    add_serve_parser(sub, positive_int)
    return parser


def model_options(p: argparse.ArgumentParser, prompt: bool = True, prompt_required: bool = False,
                   output: bool = True, seconds: bool = True) -> None:
    if output:
        p.add_argument("-o", "--output", required=True, metavar="OUT.mp4",
                       help="the video file to write (.mp4 .mov .mkv .webm)")
        p.add_argument("--force", action="store_true", help="replace OUT.mp4 if it exists")
    if prompt:
        p.add_argument("--prompt", required=prompt_required, default="",
                       help="what the new footage shows" + ("" if prompt_required else " (optional)"))
    p.add_argument("--negative-prompt", default="", help="what the result should not look like")
    if seconds:
        p.add_argument("--seconds", type=at_most(positive_float, MAX_SECONDS, " s"), default=2.0,
                       help=f"length of the new footage (default 2, at most {MAX_SECONDS:g})")
    p.add_argument("--seed", type=seed_arg, help="same seed, inputs and device give the same frames (default: random)")
    p.add_argument("--steps", type=at_most(positive_int, MAX_STEPS),
                   help=f"denoising steps (default: the model's, at most {MAX_STEPS})")
    p.add_argument("--guidance", type=guidance_arg, help="classifier-free guidance scale (default: the model's)")
    p.add_argument("--size", type=size_arg, metavar="WxH", help="frame size (default: the model's native size)")
    p.add_argument("--rate", type=at_most(positive_float, MAX_RATE), help="frame rate of the output")
    p.add_argument("--model", metavar="DIR", help="a local model folder (default: the embedded model)")
    p.add_argument("--device", choices=("cpu", "cuda", "mps"), help="default: CUDA, then MPS, then CPU")
    p.add_argument("--threads", type=positive_int, help="CPU threads for the model")
    p.add_argument("--json", action="store_true", help="print the result's metadata as JSON")
    add_signing_options(p)
    engine_options(p)


def engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", metavar="URL", default=os.environ.get("LATENTCUT_ENGINE"),
                   help="run on a `latentcut serve` engine at URL (default $LATENTCUT_ENGINE; none: this computer)")
    p.add_argument("--token", default=os.environ.get("LATENTCUT_TOKEN"),
                   help="the engine's bearer token (default $LATENTCUT_TOKEN)")


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("latentcut")
    except Exception:  # not installed as a distribution (running from a checkout)
        return "dev"
