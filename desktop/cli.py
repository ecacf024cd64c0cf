"""`latentcut`: the command line. With no arguments (or a .otio file) it opens the app.

Exit codes: 0 done, 1 the command failed (missing or unreadable file, model error...),
2 the command line itself is wrong, 130 cancelled with Ctrl-C, 143 cancelled by SIGTERM. Expected errors print one
line on stderr, never a traceback (set LATENTCUT_DEBUG=1 to see the engine's tracebacks).

The media and project commands (probe, export, render, new, add) never import torch; the
model commands import it through the engine's model worker.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import sys
import threading
import warnings
from pathlib import Path

from desktop.cli_credentials import add_signing_options, add_verify_command, credentials_summary, signing_from_args
from desktop.cli_progress import ProgressBar, steps_per_window
from engine.errors import LatentCutError
from engine.jobs import (DEFAULT_STRENGTH, MAX_RATE, MAX_SECONDS, MAX_SIDE, SEED_MAX, AnimateJob, ExtendJob, FillJob,
                         GenerateJob, Job, MediaInput, ModelJob, RenderJob, RestyleJob)
from timeline.errors import ProjectError

from desktop.cli_serve import add_serve_parser

PROG = "latentcut"
EXPORT_SUFFIXES = (".otio", ".otioz", ".otiod", ".edl", ".xml", ".fcpxml", ".xges", ".mlt")
DEMO_SHOTS = """\
# The headless demo's storyboard, in the `SECONDS: prompt` format.
2: a red ball moving right over a field, day, static camera
2: pan left over mountains at sunset
2: zoom in on a yellow box in a city at night
"""


class UsageError(ValueError):
    """The command line is wrong (exit 2)."""


class Failure(LatentCutError):
    """The command could not be carried out (exit 1)."""


class Interrupted(Exception):
    """Ctrl-C (exit 130) or SIGTERM (exit 143) cancelled a job."""

    def __init__(self, message: str, code: int = 130):
        super().__init__(message)
        self.code = code


class Terminated(KeyboardInterrupt):
    """SIGTERM, as job controllers send it: handled like Ctrl-C, but exits 143."""


def _install_signal_handlers() -> None:
    """Ctrl-C and SIGTERM cancel cleanly however the process was started: a shell starts a
    background job with SIGINT ignored, and Python then keeps ignoring it."""
    def terminate(signum, frame):
        raise Terminated()

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, terminate)


# ---- argument types ---------------------------------------------------------------------
MAX_STEPS = 1000  # the pipelines' own bound on denoising steps
MAX_GUIDANCE = 100.0


def size_arg(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) <= 0 or int(m.group(2)) <= 0:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: expected WIDTHxHEIGHT such as 256x144")
    if max(int(m.group(1)), int(m.group(2))) > MAX_SIDE:
        raise argparse.ArgumentTypeError(f"{text} is too large: each side is at most {MAX_SIDE}")
    return int(m.group(1)), int(m.group(2))


def at_most(kind, limit, unit: str = ""):
    """An argument type: ``kind`` parsed, then refused above ``limit`` (checked before any work)."""
    def parse(text: str):
        value = kind(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"must be at most {limit:g}{unit}, got {text}")
        return value
    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None


def guidance_arg(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= MAX_GUIDANCE:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_GUIDANCE:g}, got {text}")
    return value


def positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def seed_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be in 0..{SEED_MAX}, got {text}")
    return value


def strength_arg(text: str) -> float:
    value = positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def seconds_of(text: str) -> float:
    """Seconds from `12.5`, `MM:SS(.s)` or `HH:MM:SS(.s)`."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(re.fullmatch(r"\d+(\.\d*)?", p) for p in parts):
        raise argparse.ArgumentTypeError(f"invalid time {text!r}: use seconds (12.5), MM:SS or HH:MM:SS")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def range_arg(text: str) -> tuple[float, float]:
    if text.count("-") != 1:
        raise argparse.ArgumentTypeError(f"invalid range {text!r}: expected START-END, e.g. 2-5.5 or 0:10-0:20")
    start, end = (seconds_of(p) for p in text.split("-"))
    if end <= start:
        raise argparse.ArgumentTypeError(f"invalid range {text!r}: END must come after START")
    return start, end


def frames_arg(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if not m or int(m.group(2)) <= int(m.group(1)):
        raise argparse.ArgumentTypeError(f"invalid frames {text!r}: expected START-END frame numbers, END > START")
    return int(m.group(1)), int(m.group(2))


# ---- the parser -------------------------------------------------------------------------
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
    _model_options(p, prompt=False)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("animate", help="turn a still image into a shot")
    p.add_argument("image", help="an image, or a video with --frame")
    p.add_argument("--frame", type=int, default=0, metavar="N", help="which frame of a video to animate (default 0)")
    _model_options(p)
    p.set_defaults(func=cmd_animate)

    p = sub.add_parser("extend", help="continue a clip (after its end, or before its start with --head)")
    p.add_argument("input", help="the clip to continue")
    p.add_argument("--head", action="store_true", help="make frames that lead into the clip's first frame")
    p.add_argument("--frames", type=frames_arg, metavar="START-END",
                   help="use only these frames of the input (END excluded), e.g. 0-48")
    _model_options(p)
    p.set_defaults(func=cmd_extend)

    p = sub.add_parser("fill", help="bridge the gap between the end of clip A and the start of clip B")
    p.add_argument("a", help="the clip before the gap (its last frames lead in)")
    p.add_argument("b", help="the clip after the gap (its first frames lead out)")
    _model_options(p)
    p.set_defaults(func=cmd_fill)

    p = sub.add_parser("restyle", help="keep a clip's layout and motion, change its look")
    p.add_argument("input", help="the clip to restyle")
    p.add_argument("--frames", type=frames_arg, metavar="START-END",
                   help="restyle only these frames of the input (END excluded), e.g. 0-48")
    _model_options(p, prompt_required=True, seconds=False)
    p.add_argument("--strength", type=strength_arg, default=DEFAULT_STRENGTH,
                   help=f"0..1: how far the look may move from the input (default {DEFAULT_STRENGTH:g})")
    p.set_defaults(func=cmd_restyle)

    p = sub.add_parser("storyboard", help="generate one clip per shot of a SECONDS: prompt file into a project")
    p.add_argument("shots", help="text file, one shot per line: `SECONDS: prompt` or `prompt`")
    p.add_argument("-o", "--output", required=True, metavar="BOARD.otio",
                   help="the project to write; the shots go in BOARD_media/ beside it")
    p.add_argument("--render", metavar="BOARD.mp4", help="also render the animatic to this file")
    p.add_argument("--force", action="store_true", help="replace an existing BOARD.otio (and BOARD.mp4)")
    _model_options(p, prompt=False, output=False, seconds=False)
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
    _engine_options(p)
    p.set_defaults(func=cmd_demo)

    add_serve_parser(sub, positive_int)
    return parser


def _model_options(p: argparse.ArgumentParser, prompt: bool = True, prompt_required: bool = False,
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
    _engine_options(p)


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", metavar="URL", default=os.environ.get("LATENTCUT_ENGINE"),
                   help="run on a `latentcut serve` engine at URL (default $LATENTCUT_ENGINE; none: this computer)")
    p.add_argument("--token", default=os.environ.get("LATENTCUT_TOKEN"),
                   help="the engine's bearer token (default $LATENTCUT_TOKEN)")


# ---- entry point ------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get("LATENTCUT_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)
    else:  # a warning (e.g. a size rounded to fit a model) reads as one line, not a source listing
        warnings.showwarning = _show_warning
    if not argv:
        return _guard(lambda: open_app(None), "app")
    if len(argv) == 1 and Path(argv[0]).suffix.lower() in EXPORT_SUFFIXES and not argv[0].startswith("-"):
        return _guard(lambda: open_app(argv[0]), "app")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on bad usage, 0 for --help/--version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return 2
    if threading.current_thread() is threading.main_thread():
        _install_signal_handlers()
    return _guard(lambda: args.func(args), args.command)


def _guard(fn, command: str) -> int:
    """Runs a command; expected errors become one line on stderr and an exit code."""
    try:
        return int(fn() or 0)
    except Interrupted as exc:
        _err(command, str(exc))
        return exc.code
    except KeyboardInterrupt as exc:
        _err(command, "terminated" if isinstance(exc, Terminated) else "interrupted")
        return 143 if isinstance(exc, Terminated) else 130
    except UsageError as exc:
        _err(command, str(exc))
        return 2
    except (LatentCutError, ProjectError, ValueError, OSError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        if isinstance(exc, FileNotFoundError) and exc.filename:
            message = f"{exc.filename}: file not found"
        _err(command, str(message))
        return 1


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _err(command: str, message: str) -> None:
    print(f"{PROG} {command}: error: {message}", file=sys.stderr)


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("latentcut")
    except Exception:  # not installed as a distribution (running from a checkout)
        return "dev"


# ---- the app ----------------------------------------------------------------------------
def open_app(project: str | None) -> int:
    if project is not None and not Path(project).exists():
        raise Failure(f"{project}: project not found")
    if sys.platform.startswith("linux") and not any(
            os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        raise Failure("no display found (DISPLAY and WAYLAND_DISPLAY are not set), so the app cannot open; "
                      "run `latentcut demo` for the headless demo, or `latentcut --help` for the commands")
    try:
        import PySide6  # noqa: F401  (checked first so the message names what is missing)
    except ImportError:
        raise Failure("the app needs PySide6, which is not installed (pip install pyside6-essentials); "
                      "the command-line tools work without it, see `latentcut --help`") from None
    try:
        from desktop.app import run_app
    except ModuleNotFoundError as exc:
        if exc.name != "desktop.app":
            raise
        raise Failure("the desktop app is not part of this installation; "
                      "see `latentcut --help` for the command-line tools") from None
    return run_app(project)


# ---- media and project commands (no torch) ---------------------------------------------
def cmd_probe(args) -> int:
    from engine.media.probe import probe
    from timeline.provenance import APP_KEY

    facts = probe(args.file).to_dict()
    tag = facts["metadata"].get(APP_KEY)
    try:  # the tag holds JSON text (a take's provenance, a render's segments): show the object
        facts["metadata"][APP_KEY] = json.loads(tag) if tag else tag
    except ValueError:
        pass  # not ours after all: shown as the text it is
    facts["credentials"] = credentials_summary(args.file)
    print(json.dumps(facts, indent=2))
    return 0


def cmd_export(args) -> int:
    from timeline.interchange import export_timeline

    suffix = Path(args.out).suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise UsageError(f"{args.out}: cannot tell the format from '{suffix or 'no extension'}'; "
                         f"use one of {' '.join(EXPORT_SUFFIXES)}")
    _check_new_file(args.out, args.force)
    report = export_timeline(_load_document(args.project, args.rate), args.out)
    if args.json:
        print(json.dumps({"path": str(report.path), "format": report.format, "dropped": list(report.dropped)},
                         indent=2))
        return 0
    print(f"wrote {report.path} ({report.format})")
    for item in report.dropped:
        print(f"dropped: {item}")
    return 0


def cmd_render(args) -> int:
    if not Path(args.project).exists():
        raise Failure(f"{args.project}: project not found")
    _check_video_output(args.out)
    _check_new_file(args.out, args.force)
    job = RenderJob(output=args.out, project=args.project, range=args.range, size=args.size, rate=args.rate)
    result = run_jobs([job], label="render", signing=signing_from_args(args))[0]
    _report(result, args.json, f"rendered {result['path']} ({result['frames']} frames, "
                               f"{result['width']}x{result['height']} at {result['rate']:g} fps)")
    return 0


def cmd_new(args) -> int:
    from timeline import Document
    from timeline.project import save_project

    path = Path(args.project)
    if path.suffix.lower() != ".otio":
        raise UsageError(f"{args.project}: a project file ends in .otio")
    if path.exists() and not args.force:
        raise Failure(f"{args.project}: already exists (use --force to replace it)")
    width, height = args.size
    doc = Document.new(rate=args.rate, width=width, height=height, name=path.stem)
    save_project(doc, path)
    print(f"created {path} ({width}x{height} at {args.rate:g} fps)")
    return 0


def cmd_add(args) -> int:
    import opentimelineio as otio

    from engine.credentials.settings import configured_trust_anchors
    from engine.media.importing import clips_for_file
    from timeline.edits import AddTrack
    from timeline.links import PlaceLinked
    from timeline.project import load_project, save_project

    doc = load_project(args.project)
    # Check every file first, so a bad one leaves the project as it was.
    plan = []
    for media in args.media:
        made = clips_for_file(media, doc.rate, args.still_seconds, trust_anchors=configured_trust_anchors())
        pairs = []
        for clip, kind in ((made.video, otio.schema.TrackKind.Video), (made.audio, otio.schema.TrackKind.Audio)):
            if clip is None:
                continue
            # --track names where the picture goes (or the sound of an audio-only file)
            main = clip is (made.video or made.audio)
            name = args.track if args.track and main else ("V1" if kind == otio.schema.TrackKind.Video else "A1")
            track = _find_track(doc, name)
            if track is not None and track.kind != kind:
                raise Failure(f"--track: {name} is a {track.kind.lower()} track, but {media} is "
                                 f"{'video' if made.video is not None else 'audio only'}")
            pairs.append((name, kind, clip))
        plan.append((media, made, pairs))
    for media, made, pairs in plan:
        placed = []
        for name, kind, clip in pairs:
            track = _find_track(doc, name)
            if track is None:
                add = AddTrack(kind=kind, name=name)
                add.do(doc)
                track = add.track
            placed.append((track, clip))
        # linked halves start together, after whatever is on either track
        at = max(doc.track_end(track) for track, _ in placed)
        PlaceLinked(placed, at).do(doc)
        where = " and ".join(track.name for track, _ in placed)
        marks = " (AI-generated, with its recipe)" if made.generated else ""
        if made.credentials.state != "none":
            marks += f"; Content Credentials: {made.credentials.label}"
        print(f"added {Path(media).name} to {where} ({made.duration.to_seconds():.2f} s){marks}")
    save_project(doc, args.project)
    return 0


def _find_track(doc, name: str):
    try:
        return doc.track_named(name)
    except KeyError:
        return None


def _load_document(path: str, rate: float | None = None):
    """A project, or a timeline in any format OTIO reads (an EDL at ``rate`` when given);
    whatever the reader had to assume is printed as a warning."""
    from timeline import Document
    from timeline.project import load_project

    if Path(path).suffix.lower() == ".otio":
        return load_project(path)
    from timeline.interchange import import_timeline

    notes: list[str] = []
    doc = Document(import_timeline(path, rate=rate, notes=notes))
    for note in notes:
        print(f"{PROG}: warning: {note}", file=sys.stderr)
    return doc


def _check_video_output(out: str) -> None:
    if Path(out).suffix.lower() not in (".mp4", ".mov", ".mkv", ".webm"):
        raise UsageError(f"{out}: the output must be a .mp4, .mov, .mkv or .webm file")


def _check_new_file(out: str, force: bool) -> None:
    """Every command that writes a file refuses to replace one unless given --force."""
    if Path(out).exists() and not force:
        raise Failure(f"{out}: already exists (use --force to replace it)")


# ---- model commands ---------------------------------------------------------------------
def _common(args, **extra) -> dict:
    if args.model is not None and not args.engine and not Path(args.model).is_dir():
        raise Failure(f"--model: {args.model} is not a model folder (it does not exist)")
    fields = dict(negative_prompt=args.negative_prompt, seed=args.seed, steps=args.steps, guidance=args.guidance,
                  size=args.size, rate=args.rate, model=args.model, device=args.device)
    if getattr(args, "output", None) is not None and "output" not in extra:
        _check_video_output(args.output)
        _check_new_file(args.output, args.force)
        fields["output"] = args.output
    if hasattr(args, "seconds"):
        fields["seconds"] = args.seconds
    fields.update(extra)
    return fields


def _input(path: str, frames: tuple[int, int] | None = None, frame: int | None = None) -> MediaInput:
    if not Path(path).is_file():
        raise Failure(f"{path}: file not found")
    if frame is not None:
        if frame < 0:
            raise UsageError(f"--frame: must be 0 or more, got {frame}")
        return MediaInput(path, frame, frame + 1)
    return MediaInput(path, *frames) if frames else MediaInput(path)


def cmd_generate(args) -> int:
    return _run_model(args, GenerateJob(prompt=args.prompt, **_common(args)))


def cmd_animate(args) -> int:
    return _run_model(args, AnimateJob(prompt=args.prompt, image=_input(args.image, frame=args.frame),
                                       **_common(args)))


def cmd_extend(args) -> int:
    return _run_model(args, ExtendJob(prompt=args.prompt, source=_input(args.input, args.frames),
                                      direction="head" if args.head else "tail", **_common(args)))


def cmd_fill(args) -> int:
    return _run_model(args, FillJob(prompt=args.prompt, before=_input(args.a), after=_input(args.b),
                                    **_common(args)))


def cmd_restyle(args) -> int:
    return _run_model(args, RestyleJob(prompt=args.prompt, source=_input(args.input, args.frames),
                                       strength=args.strength, **_common(args)))


def checked(job: ModelJob, what: str = "") -> ModelJob:
    """The job after the checks made before any model loads; their warnings go to stderr."""
    from engine.preflight import check_job

    job, notes = check_job(job, what)
    for note in notes:
        print(f"{PROG}: warning: {note}", file=sys.stderr)
    return job


def _run_model(args, job: ModelJob) -> int:
    result = run_jobs([checked(job)], label=job.op, threads=args.threads, signing=signing_from_args(args),
                      engine=args.engine, token=args.token)[0]
    prov = result["provenance"]
    _report(result, args.json, f"wrote {result['path']} ({result['frames']} frames, {result['width']}x"
                               f"{result['height']} at {result['rate']:g} fps, seed {prov['seed']}, "
                               f"model {prov['model']['name']})")
    return 0


def _report(result: dict, as_json: bool, line: str) -> None:
    if as_json:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
    else:
        print(line)


# ---- storyboard and demo ----------------------------------------------------------------
def cmd_storyboard(args) -> int:
    from timeline.storyboard import parse_storyboard

    try:
        text = Path(args.shots).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Failure(f"{args.shots}: file not found") from None
    except UnicodeDecodeError:
        raise Failure(f"{args.shots}: not a text file") from None
    try:
        shots = parse_storyboard(text)
    except ValueError as exc:
        raise Failure(f"{args.shots}: {exc}") from None
    if not shots:
        raise Failure(f"{args.shots}: has no shots")
    board = Path(args.output)
    if board.suffix.lower() != ".otio":
        raise UsageError(f"{args.output}: the storyboard project must be a .otio file")
    if board.exists() and not args.force:
        raise Failure(f"{args.output}: already exists (use --force to replace it)")
    if args.render:
        _check_video_output(args.render)
        _check_new_file(args.render, args.force)
    common = _common(args, output=str(board.with_name(board.stem + "_media")))
    failed = build_storyboard(shots, board, common, threads=args.threads, render=args.render, json_out=args.json,
                              signing=signing_from_args(args), engine=args.engine, token=args.token)
    if failed:
        raise Failure(f"{failed} of {len(shots)} shots failed; their recipes stay in {board} to retry in the app")
    return 0


def build_storyboard(shots, board: Path, common: dict, threads: int | None = None, render: str | None = None,
                     json_out: bool = False, signing=None, engine: str | None = None,
                     token: str | None = None) -> int:
    """Generates every shot, then saves a project with one generated clip per shot (recipe +
    take-1; a failed shot keeps its recipe marked failed). Returns the number that failed."""
    from engine.storyboard import storyboard_shots
    from timeline import Document
    from timeline.generated import MarkFailed, PlacePendingClip, take_from_result
    from timeline.project import save_project

    rate = common.get("rate") or 24.0
    board_shots = storyboard_shots(shots, common, rate, check=checked)
    finals = run_jobs([s.job for s in board_shots], label="storyboard", threads=threads, keep_going=True,
                      signing=signing, engine=engine, token=token)

    done = [f for f in finals if isinstance(f, dict)]
    width, height = (done[0]["width"], done[0]["height"]) if done else (common.get("size") or (1920, 1080))
    doc = Document.new(rate=rate, width=width, height=height, name=board.stem)
    track = doc.video_tracks[0]
    failed = 0
    for i, (shot, final) in enumerate(zip(board_shots, finals), start=1):
        PlacePendingClip(shot.clip, track, shot.start).do(doc)
        if isinstance(final, dict):
            take_from_result(shot.clip, final).do(doc)
        else:
            failed += 1
            MarkFailed(shot.clip, final).do(doc)
            print(f"shot {i} failed: {final}", file=sys.stderr)
    save_project(doc, board)
    summary = sys.stderr if json_out else sys.stdout  # with --json, stdout is only the JSON
    print(f"wrote {board} ({len(shots)} shots, media in {board.with_name(board.stem + '_media')})", file=summary)
    rendered = None
    if render:
        rendered = run_jobs([RenderJob(output=render, project=str(board))], label="render", signing=signing)[0]
        print(f"rendered {rendered['path']} ({rendered['frames'] / rendered['rate']:.1f} s)", file=summary)
    if json_out:
        print(json.dumps({"project": str(board), "shots": finals, "render": rendered}, indent=2, sort_keys=True,
                         default=str))
    return failed


DEMO_FILES = ("shots.txt", "board.otio", "board.mp4", "board.edl", ".board.otio.autosave")


def replace_demo(out: Path) -> bool:
    """Remove what an earlier demo wrote in ``out`` (its files and media folder, nothing
    else), so a new run does not pile up takes. True when there was one."""
    import shutil

    found = [out / name for name in DEMO_FILES if (out / name).is_file()]
    media = out / "board_media"
    had_media = media.is_dir()
    for path in found:
        path.unlink()
    if had_media:
        shutil.rmtree(media)
    return bool(found) or had_media


def cmd_demo(args) -> int:
    from engine.backends.embedded import embedded_model_dir
    from timeline.interchange import export_timeline
    from timeline.storyboard import parse_storyboard

    if args.model is not None:
        model = Path(args.model)
        if not args.engine and not model.is_dir():
            raise Failure(f"--model: {model} is not a model folder (it does not exist)")
    elif args.engine:
        model = None  # the engine's default model
    else:
        try:
            model = embedded_model_dir()
        except FileNotFoundError as exc:
            raise Failure(f"the demo cannot run: {exc}") from None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if replace_demo(out):
        print(f"latentcut demo: replacing the last demo in {out}", file=sys.stderr)
    (out / "shots.txt").write_text(DEMO_SHOTS, encoding="utf-8")
    board = out / "board.otio"
    common = dict(seed=1, steps=args.steps, guidance=None, negative_prompt="", size=None, rate=24.0,
                  model=None if model is None else str(model), device=args.device, output=str(out / "board_media"))
    where = f"on {args.engine}" if args.engine else "(a few seconds each on a CPU)"
    print(f"latentcut demo: generating {len(parse_storyboard(DEMO_SHOTS))} shots with "
          f"{Path(model).name if model else 'the engine default model'} {where}...", file=sys.stderr)
    failed = build_storyboard(parse_storyboard(DEMO_SHOTS), board, common, render=str(out / "board.mp4"),
                              engine=args.engine, token=args.token)
    report = export_timeline(_load_document(str(board)), out / "board.edl")
    held = "".join(f"\n      - {item}" for item in report.dropped)
    print(f"\nThe demo is in {out.resolve()}:\n"
          f"  board.mp4    the rendered animatic (AI-generated, labelled in its metadata)\n"
          f"  board.otio   the project: open it with `latentcut {board}`\n"
          f"  board.edl    the cut for another editor; an EDL cannot hold:{held or ' (nothing lost)'}\n"
          f"  shots.txt    the storyboard it was made from")
    return 1 if failed else 0


# ---- models -----------------------------------------------------------------------------
def cmd_models(args) -> int:
    from engine.backends.registry import describe, known_model_folders

    folders = [Path(d) for d in args.dirs] if args.dirs else known_model_folders()
    rows = []
    for folder in folders:
        if not folder.is_dir():
            raise Failure(f"{folder}: not a folder")
        rows.append(describe(folder))
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 1 if any(row.get("error") for row in rows) else 0
    if not rows:
        print("no model folders known; name one (latentcut models DIR) or list folders in $LATENTCUT_MODELS")
    for row in rows:
        kind = f"{row['family']} ({row['pipeline']})" if row.get("family") else "unknown kind"
        print(f"{row['name']}  {kind}\n    {row['path']}")
        if row.get("error"):
            print(f"    cannot run: {row['error']}")
        else:
            print(f"    can: {', '.join(row['operations'])}")
    return 1 if any(row.get("error") for row in rows) else 0


# ---- running jobs through the engine ----------------------------------------------------
def run_jobs(jobs: list[Job], label: str, threads: int | None = None, keep_going: bool = False,
             signing=None, engine: str | None = None, token: str | None = None) -> list:
    """Runs jobs on the local engine thread (or the remote engine at URL `engine`) with a progress
    bar on stderr; returns each job's result dict (or, with keep_going, the failure message).
    Ctrl-C cancels the running job and raises Interrupted; a failure raises Failure unless
    keep_going. `signing` (SigningSettings) says who signs what the jobs write here (default: the
    environment's signer, else the local one); a remote engine signs its results with its own."""
    from engine.remote_engine import open_engine

    bar = ProgressBar(label, len(jobs), [steps_per_window(job) for job in jobs])
    engine = open_engine(on_event=bar.on_event, threads=threads, signing=signing, url=engine, token=token)
    wait_for_workers = True
    try:
        ids = [engine.submit(job) for job in jobs]
        finals = []
        for n, job_id in enumerate(ids):
            try:
                final = _wait(engine, job_id, bar)
            except Interrupted:
                wait_for_workers = bar.working
                raise
            if final.kind == "cancelled":
                raise Interrupted(f"cancelled; no file was written for {jobs[n].describe()}")
            if final.kind == "failed":
                if not keep_going:
                    raise Failure(final.message)
                finals.append(final.message)
            else:
                finals.append(final.result)
        return finals
    finally:
        bar.close()
        # A job cancelled while its model was still loading writes nothing; the load cannot be
        # interrupted, so the process does not wait for it (the worker threads are daemons).
        engine.shutdown(timeout=None if wait_for_workers else 0.1)


def _wait(engine, job_id: str, bar: ProgressBar):
    """Waits for the job; Ctrl-C cancels it and, once it has begun making frames (a render
    writes as it goes), waits for the engine to clean up its partial file."""
    try:
        while True:
            final = engine.wait(job_id, timeout=0.2)
            if final is not None:
                return final
    except KeyboardInterrupt as exc:
        code = 143 if isinstance(exc, Terminated) else 130
        engine.cancel(job_id)
        print(file=sys.stderr)
        if not bar.working:
            raise Interrupted("cancelled before any frame was made; nothing was written", code) from None
        final = engine.wait(job_id)
        if final is not None and final.kind == "done":
            raise Interrupted(f"interrupted after {final.result['path']} was written", code) from None
        raise Interrupted("cancelled; no partial file was left", code) from None
