"""`latentcut`: the command line. With no arguments (or a .otio file) it opens the app.

Exit codes: 0 done, 1 the command failed (missing or unreadable file, model error...),
2 the command line itself is wrong, 130 cancelled with Ctrl-C. Expected errors print one
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
import sys
import threading
import time
import warnings
from pathlib import Path

from desktop.cli_credentials import add_signing_options, add_verify_command, credentials_summary, signing_from_args
from engine.errors import LatentCutError
from engine.jobs import (DEFAULT_STRENGTH, SEED_MAX, AnimateJob, ExtendJob, FillJob, GenerateJob, Job, MediaInput,
                         ModelJob, RenderJob, RestyleJob)
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
    """Ctrl-C cancelled a job (exit 130)."""


# ---- argument types ---------------------------------------------------------------------
def size_arg(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) <= 0 or int(m.group(2)) <= 0:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: expected WIDTHxHEIGHT such as 256x144")
    return int(m.group(1)), int(m.group(2))


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
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
    p.add_argument("file")
    p.set_defaults(func=cmd_probe)

    add_verify_command(sub)

    p = sub.add_parser("export", help="export a project to .otio .otioz .otiod .edl .xml .fcpxml .xges or .mlt")
    p.add_argument("project", help="a project, or any timeline OTIO reads (.edl .xml .fcpxml ...)")
    p.add_argument("out", help="the output file; its extension picks the format")
    p.add_argument("--rate", type=float, help="frame rate to read an EDL at, when it does not say")
    p.add_argument("--json", action="store_true", help="print the path, format and what was dropped as JSON")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("render", help="render a project to one video file")
    p.add_argument("project")
    p.add_argument("out", help="the video file (.mp4 .mov .mkv .webm)")
    p.add_argument("--range", type=range_arg, metavar="START-END", help="timeline seconds or MM:SS, e.g. 2-5.5")
    p.add_argument("--size", type=size_arg, metavar="WxH", help="output size (default: the project's)")
    p.add_argument("--rate", type=positive_float, help="output frame rate (default: the project's)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_signing_options(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("new", help="create an empty project (one V1 and one A1 track)")
    p.add_argument("project")
    p.add_argument("--rate", type=positive_float, default=24.0)
    p.add_argument("--size", type=size_arg, default=(1920, 1080), metavar="WxH")
    p.add_argument("--force", action="store_true", help="replace an existing project file")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("add", help="append media files as clips to a track of a project")
    p.add_argument("project")
    p.add_argument("media", nargs="+")
    p.add_argument("--track", help="track name (default V1 for video, A1 for audio-only files); "
                                   "created if missing")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("generate", help="generate a shot from a prompt")
    p.add_argument("prompt")
    _model_options(p, prompt=False)
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("animate", help="turn a still image into a shot")
    p.add_argument("image", help="an image, or a video with --frame")
    p.add_argument("--frame", type=int, default=0, metavar="N", help="which frame of a video to animate (default 0)")
    _model_options(p)
    p.set_defaults(func=cmd_animate)

    p = sub.add_parser("extend", help="continue a clip (after its end, or before its start with --head)")
    p.add_argument("input")
    p.add_argument("--head", action="store_true", help="make frames that lead into the clip's first frame")
    p.add_argument("--frames", type=frames_arg, metavar="START-END",
                   help="use only these frames of the input (END excluded), e.g. 0-48")
    _model_options(p)
    p.set_defaults(func=cmd_extend)

    p = sub.add_parser("fill", help="bridge the gap between the end of clip A and the start of clip B")
    p.add_argument("a")
    p.add_argument("b")
    _model_options(p)
    p.set_defaults(func=cmd_fill)

    p = sub.add_parser("restyle", help="keep a clip's layout and motion, change its look")
    p.add_argument("input")
    p.add_argument("--frames", type=frames_arg, metavar="START-END",
                   help="restyle only these frames of the input (END excluded), e.g. 0-48")
    _model_options(p, prompt_required=True, seconds=False)
    p.add_argument("--strength", type=strength_arg, default=DEFAULT_STRENGTH,
                   help=f"0..1: how far the look may move from the input (default {DEFAULT_STRENGTH:g})")
    p.set_defaults(func=cmd_restyle)

    p = sub.add_parser("storyboard", help="generate one clip per shot of a SECONDS: prompt file into a project")
    p.add_argument("shots", help="text file, one shot per line: `SECONDS: prompt` or `prompt`")
    p.add_argument("-o", "--output", required=True, metavar="BOARD.otio")
    p.add_argument("--render", metavar="BOARD.mp4", help="also render the animatic to this file")
    p.add_argument("--force", action="store_true", help="replace an existing BOARD.otio")
    _model_options(p, prompt=False, output=False, seconds=False)
    p.set_defaults(func=cmd_storyboard)

    p = sub.add_parser("models", help="list model folders and the operations each can do")
    p.add_argument("dirs", nargs="*", metavar="DIR")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("demo", help="the headless demo: a short storyboard made and rendered with the "
                                    "embedded model")
    p.add_argument("--out", default="latentcut-demo", metavar="DIR", help="folder for the demo (default ./latentcut-demo)")
    p.add_argument("--steps", type=positive_int)
    p.add_argument("--device", choices=("cpu", "cuda", "mps"))
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
    if prompt:
        p.add_argument("--prompt", required=prompt_required, default="")
    p.add_argument("--negative-prompt", default="", help="what the result should not look like")
    if seconds:
        p.add_argument("--seconds", type=positive_float, default=2.0, help="length of the new footage (default 2)")
    p.add_argument("--seed", type=seed_arg, help="same seed, inputs and device give the same frames (default: random)")
    p.add_argument("--steps", type=positive_int, help="denoising steps (default: the model's)")
    p.add_argument("--guidance", type=float, help="classifier-free guidance scale (default: the model's)")
    p.add_argument("--size", type=size_arg, metavar="WxH", help="frame size (default: the model's native size)")
    p.add_argument("--rate", type=positive_float, help="frame rate of the output")
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
    return _guard(lambda: args.func(args), args.command)


def _guard(fn, command: str) -> int:
    """Runs a command; expected errors become one line on stderr and an exit code."""
    try:
        return int(fn() or 0)
    except Interrupted as exc:
        _err(command, str(exc))
        return 130
    except KeyboardInterrupt:
        _err(command, "interrupted")
        return 130
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

    info = json.loads(probe(args.file).to_json())
    info["credentials"] = credentials_summary(args.file)
    print(json.dumps(info, indent=2))
    return 0


def cmd_export(args) -> int:
    from timeline.interchange import export_timeline

    suffix = Path(args.out).suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise UsageError(f"{args.out}: cannot tell the format from '{suffix or 'no extension'}'; "
                         f"use one of {' '.join(EXPORT_SUFFIXES)}")
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
    if not Path(args.project).is_file():
        raise Failure(f"{args.project}: project not found")
    _check_video_output(args.out)
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

    from engine.media.probe import probe
    from timeline.edits import AddTrack, Append
    from timeline.project import load_project, save_project

    doc = load_project(args.project)
    # Check every file first, so a bad one leaves the project as it was.
    plan = []
    for media in args.media:
        info = probe(media)
        if info.video is not None:
            kind, rate, frames = otio.schema.TrackKind.Video, info.video.rate, info.video.frame_count
        else:
            kind, rate = otio.schema.TrackKind.Audio, doc.rate
            frames = round(info.duration * rate)
        if frames <= 0:
            raise Failure(f"{media}: has no frames to add")
        name = args.track or ("V1" if kind == otio.schema.TrackKind.Video else "A1")
        track = _find_track(doc, name)
        if track is not None and track.kind != kind:
            raise Failure(f"--track: {name} is a {track.kind.lower()} track, but {media} is "
                          f"{'video' if kind == otio.schema.TrackKind.Video else 'audio only'}")
        plan.append((media, kind, rate, frames, name))
    for media, kind, rate, frames, name in plan:
        track = _find_track(doc, name)
        if track is None:
            add = AddTrack(kind=kind, name=name)
            add.do(doc)
            track = add.track
        # media time: the whole file, at the file's own rate
        available = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                            otio.opentime.RationalTime(frames, rate))
        clip = otio.schema.Clip(name=Path(media).name,
                                media_reference=otio.schema.ExternalReference(
                                    target_url=str(Path(media).resolve()), available_range=available),
                                source_range=available)
        Append(track, clip).do(doc)
        print(f"added {Path(media).name} to {name} ({frames / rate:.2f} s)")
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


# ---- model commands ---------------------------------------------------------------------
def _common(args, **extra) -> dict:
    if args.model is not None and not args.engine and not Path(args.model).is_dir():
        raise Failure(f"--model: {args.model} is not a model folder (it does not exist)")
    fields = dict(negative_prompt=args.negative_prompt, seed=args.seed, steps=args.steps, guidance=args.guidance,
                  size=args.size, rate=args.rate, model=args.model, device=args.device)
    if getattr(args, "output", None) is not None and "output" not in extra:
        _check_video_output(args.output)
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


def _run_model(args, job: ModelJob) -> int:
    result = run_jobs([job], label=job.op, threads=args.threads, signing=signing_from_args(args),
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
    board_shots = storyboard_shots(shots, common, rate)
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
    print(f"\nThe demo is in {out.resolve()}:\n"
          f"  board.mp4    the rendered animatic (AI-generated, labelled in its metadata)\n"
          f"  board.otio   the project: open it with `latentcut {board}`\n"
          f"  board.edl    the cut for another editor ({len(report.dropped)} things the EDL cannot hold)\n"
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
        return 0
    if not rows:
        print("no model folders known; name one (latentcut models DIR) or list folders in $LATENTCUT_MODELS")
    for row in rows:
        kind = f"{row['family']} ({row['pipeline']})" if row.get("family") else "unknown kind"
        print(f"{row['name']}  {kind}\n    {row['path']}")
        if row.get("error"):
            print(f"    cannot run: {row['error']}")
        else:
            print(f"    can: {', '.join(row['operations'])}")
    return 0


# ---- running jobs through the engine ----------------------------------------------------
def run_jobs(jobs: list[Job], label: str, threads: int | None = None, keep_going: bool = False,
             signing=None, engine: str | None = None, token: str | None = None) -> list:
    """Runs jobs on the local engine thread (or the remote engine at URL `engine`) with a progress
    bar on stderr; returns each job's result dict (or, with keep_going, the failure message).
    Ctrl-C cancels the running job and raises Interrupted; a failure raises Failure unless
    keep_going. `signing` (SigningSettings) says who signs what the jobs write here (default: the
    environment's signer, else the local one); a remote engine signs its results with its own."""
    from engine.remote_engine import open_engine

    bar = ProgressBar(label, len(jobs))
    engine = open_engine(on_event=bar.on_event, threads=threads, signing=signing, url=engine, token=token)
    try:
        ids = [engine.submit(job) for job in jobs]
        finals = []
        for n, job_id in enumerate(ids):
            final = _wait(engine, job_id)
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
        engine.shutdown()


def _wait(engine, job_id: str):
    """Waits for the job; Ctrl-C cancels it and waits for the engine to clean up."""
    try:
        while True:
            final = engine.wait(job_id, timeout=0.2)
            if final is not None:
                return final
    except KeyboardInterrupt:
        engine.cancel(job_id)
        print(file=sys.stderr)
        final = engine.wait(job_id)
        if final is not None and final.kind == "done":
            raise Interrupted(f"interrupted after {final.result['path']} was written") from None
        raise Interrupted("cancelled; no partial file was left") from None


class ProgressBar:
    """A one-line bar on a terminal; on a pipe, a line per quarter so logs stay short."""

    width = 30

    def __init__(self, label: str, count: int, stream=None):
        self.label = label
        self.count = count
        self.job_index = -1  # jobs run one after another, so the n-th start is the n-th job
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_quarter = -1
        self._started = time.monotonic()
        self._drawn = False
        self._lock = threading.Lock()

    def on_event(self, event) -> None:
        with self._lock:
            if event.kind == "started":
                self.job_index += 1
                self._started = time.monotonic()
                self._last_quarter = -1
                self._line(f"{self._prefix()} started")
            elif event.kind == "progress" and event.total:
                self._progress(event.step, event.total)

    def _prefix(self) -> str:
        return f"{self.label} {self.job_index + 1}/{self.count}" if self.count > 1 else self.label

    def _progress(self, step: int, total: int) -> None:
        frac = min(1.0, step / total)
        if self.tty:
            filled = int(frac * self.width)
            elapsed = time.monotonic() - self._started
            eta = f" ETA {elapsed / step * (total - step):.0f}s" if 0 < step < total else "    "
            self.stream.write(f"\r{self._prefix()} [{'#' * filled}{'.' * (self.width - filled)}] "
                              f"{step}/{total}{eta}   ")
            self.stream.flush()
            self._drawn = True
        elif int(frac * 4) > self._last_quarter:
            self._last_quarter = int(frac * 4)
            self._line(f"{self._prefix()} {step}/{total}")

    def _line(self, text: str) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self._drawn = False
        if not self.tty:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False
