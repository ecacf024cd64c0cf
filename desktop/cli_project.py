"""The media and project commands: probe, export, render, new and add. None of them imports
torch (render runs on the engine's media worker)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from desktop.cli_credentials import credentials_summary, signing_from_args
from desktop.cli_errors import PROG, Failure, UsageError
from desktop.cli_jobs import report, run_jobs
from engine.jobs import RenderJob

EXPORT_SUFFIXES = (".otio", ".otioz", ".otiod", ".edl", ".xml", ".fcpxml", ".xges", ".mlt")


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
    from engine.credentials.recheck import current_record
    from timeline.interchange import export_timeline

    suffix = Path(args.out).suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise UsageError(f"{args.out}: cannot tell the format from '{suffix or 'no extension'}'; "
                         f"use one of {' '.join(EXPORT_SUFFIXES)}")
    check_new_file(args.out, args.force)
    report = export_timeline(load_document(args.project, args.rate), args.out, credentials=current_record)
    if args.json:
        print(json.dumps({"path": str(report.path), "format": report.format, "dropped": list(report.dropped),
                          "credentials": list(report.credentials)}, indent=2))
        return 0
    print(f"wrote {report.path} ({report.format})")
    for item in report.dropped:
        print(f"dropped: {item}")
    for item in report.credentials:
        print(f"credentials: {item}")
    return 0


def cmd_render(args) -> int:
    if not Path(args.project).exists():
        raise Failure(f"{args.project}: project not found")
    check_video_output(args.out)
    check_new_file(args.out, args.force)
    job = RenderJob(output=args.out, project=args.project, range=args.range, size=args.size, rate=args.rate)
    result = run_jobs([job], label="render", signing=signing_from_args(args))[0]
    report(result, args.json, f"rendered {result['path']} ({result['frames']} frames, "
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
            track = find_track(doc, name)
            if track is not None and track.kind != kind:
                raise Failure(f"--track: {name} is a {track.kind.lower()} track, but {media} is "
                                 f"{'video' if made.video is not None else 'audio only'}")
            pairs.append((name, kind, clip))
        plan.append((media, made, pairs))
    for media, made, pairs in plan:
        placed = []
        for name, kind, clip in pairs:
            track = find_track(doc, name)
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


def find_track(doc, name: str):
    try:
        return doc.track_named(name)
    except KeyError:
        return None


def load_document(path: str, rate: float | None = None):
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


def check_video_output(out: str) -> None:
    if Path(out).suffix.lower() not in (".mp4", ".mov", ".mkv", ".webm"):
        raise UsageError(f"{out}: the output must be a .mp4, .mov, .mkv or .webm file")


def check_new_file(out: str, force: bool) -> None:
    """Every command that writes a file refuses to replace one unless given --force."""
    if Path(out).exists() and not force:
        raise Failure(f"{out}: already exists (use --force to replace it)")
