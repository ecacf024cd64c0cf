"""`latentcut storyboard` (one generated clip per shot of a text file, saved as a project) and
`latentcut demo`, the headless demo made with it."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from desktop.cli_credentials import signing_from_args
from desktop.cli_errors import Failure, UsageError
from desktop.cli_jobs import run_jobs
from desktop.cli_models import checked, common_fields
from desktop.cli_project import check_new_file, check_video_output, load_document
from engine.jobs import RenderJob

DEMO_SHOTS = """\
# The headless demo's storyboard, in the `SECONDS: prompt` format.
2: a red ball moving right over a field, day, static camera
2: pan left over mountains at sunset
2: zoom in on a yellow box in a city at night
"""


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
        check_video_output(args.render)
        check_new_file(args.render, args.force)
    common = common_fields(args, output=str(board.with_name(board.stem + "_media")))
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
    report = export_timeline(load_document(str(board)), out / "board.edl")
    held = "".join(f"\n      - {item}" for item in report.dropped)
    print(f"\nThe demo is in {out.resolve()}:\n"
          f"  board.mp4    the rendered animatic (AI-generated, labelled in its metadata)\n"
          f"  board.otio   the project: open it with `latentcut {board}`\n"
          f"  board.edl    the cut for another editor; an EDL cannot hold:{held or ' (nothing lost)'}\n"
          f"  shots.txt    the storyboard it was made from")
    return 1 if failed else 0
