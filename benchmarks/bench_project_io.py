"""Save + load of a large project against plain OTIO: ratio of
``save_project`` + ``load_project`` to ``otio.adapters.write_to_file`` + ``read_from_file`` on
the same timeline (goal: at most 1.5).

    python benchmarks/bench_project_io.py [--clips 10000] [--repeats 5] [--dir DIR]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import opentimelineio as otio  # noqa: E402

from timeline import Document  # noqa: E402
from timeline.generated import make_pending_clip  # noqa: E402
from timeline.project import load_project, media_folder, save_project  # noqa: E402

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
GOAL = 1.5
RATE = 24


def build(n: int, project: Path) -> Document:
    """``n`` clips on V1 whose media live in the project's media folder (so every path is
    made relative on save and absolute on load), every 50th a generated clip with a take."""
    media = media_folder(project)
    doc = Document.new(rate=RATE, width=1920, height=1080)
    v1 = doc.video_tracks[0]
    for i in range(n):
        avail = TR(RT(0, RATE), RT(240, RATE))
        if i % 50 == 25:
            clip = make_pending_clip("generate", {"prompt": f"shot {i}", "seed": i}, RT(24, RATE), f"g{i}")
            refs = dict(clip.media_references())
            refs["take-1"] = otio.schema.ExternalReference(target_url=str(media / f"g{i}.mp4"),
                                                           available_range=avail)
            clip.set_media_references(refs, "take-1")
        else:
            clip = otio.schema.Clip(
                name=f"c{i}", source_range=TR(RT(10, RATE), RT(24, RATE)),
                media_reference=otio.schema.ExternalReference(target_url=str(media / f"c{i}.mp4"),
                                                              available_range=avail))
        v1.append(clip)
    return doc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=10000, help="clips in the project (default 10000)")
    ap.add_argument("--repeats", type=int, default=5, help="runs of each (default 5)")
    ap.add_argument("--dir", type=Path, default=None, help="folder to write in (default: a temp folder)")
    args = ap.parse_args(argv)
    if args.clips < 1 or args.repeats < 1:
        ap.error("--clips and --repeats must be >= 1")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        folder = Path(tmp)
        project = folder / "bench.otio"
        plain = folder / "plain.otio"
        doc = build(args.clips, project)
        ours, theirs = [], []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            otio.adapters.write_to_file(doc.timeline, str(plain))
            otio.adapters.read_from_file(str(plain))
            theirs.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            save_project(doc, project)
            loaded = load_project(project)
            ours.append(time.perf_counter() - t0)
        assert len(loaded.video_tracks[0]) == args.clips
        a, b = statistics.median(ours), statistics.median(theirs)
        ratio = a / b
        print(f"{args.clips}-clip project, median of {args.repeats}: save_project+load_project "
              f"{a * 1e3:.1f} ms, otio write_to_file+read_from_file {b * 1e3:.1f} ms")
        print(f"ratio {ratio:.3f} (goal <= {GOAL}: {'meets' if ratio <= GOAL else 'misses'} it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
