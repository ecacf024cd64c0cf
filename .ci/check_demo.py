"""Open what the headless demo wrote, as a user would: the render plays (probe), the project
loads with every media file present, the EDL reads back. Exit 1 naming what does not open."""
import sys
from pathlib import Path


def check(folder: Path) -> list[str]:
    from engine.media.probe import probe
    from timeline.interchange import import_timeline
    from timeline.project import load_project

    problems = []
    render = probe(folder / "board.mp4")
    if render.video is None or render.video.frame_count < 1 or "AI-generated" not in render.metadata.get("comment", ""):
        problems.append(f"{folder}/board.mp4: not a labelled render")
    doc = load_project(folder / "board.otio")
    for clip in doc.timeline.find_clips():
        url = getattr(clip.media_reference, "target_url", None)
        if not url or not Path(url).is_file():
            problems.append(f"{folder}/board.otio: {clip.name} points at {url}, which is not there")
    takes = sorted(p.name for p in (folder / "board_media").iterdir())
    if len(takes) != len(doc.timeline.find_clips()):
        problems.append(f"{folder}/board_media: {len(takes)} files for {len(doc.timeline.find_clips())} shots: {takes}")
    if not import_timeline(folder / "board.edl").find_clips():
        problems.append(f"{folder}/board.edl: no events")
    return problems


if __name__ == "__main__":
    found = [p for folder in sys.argv[1:] for p in check(Path(folder))]
    for problem in found:
        print(f"quick start: {problem}", file=sys.stderr)
    print("quick start: " + ("FAILED" if found else f"the demo's outputs open ({', '.join(sys.argv[1:])})"))
    sys.exit(1 if found else 0)
