"""Timeline render: ``render_timeline`` of a 1080p cut against an ffmpeg command doing the same
concat and encode (frame-exact input seeks + the concat filter, libx264 with the same CRF and
preset); ratio = our time / ffmpeg's time (goal: at most 1.3).

    python benchmarks/bench_render.py [--seconds 60] [--cuts 20] [--size 1920x1080] [--preset medium]

Needs the ``ffmpeg`` program (apt-get install ffmpeg). Sources are made with PyAV and kept in --dir.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import opentimelineio as otio  # noqa: E402

from engine.media.probe import probe  # noqa: E402
from engine.media.render import render_timeline  # noqa: E402
from engine.media.writer import write_video  # noqa: E402
from benchmarks.synthetic_footage import moving_frames  # noqa: E402

GOAL = 1.3
RATE = 24
CRF = 18
RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def make_sources(folder: Path, count: int, seconds: float, width: int, height: int) -> list[Path]:
    paths = []
    for s in range(count):
        path = folder / f"render_src{s}_{width}x{height}_{seconds:g}s.mp4"
        if not path.exists():
            write_video(path, moving_frames(round(seconds * RATE), width, height, seed=s), RATE,
                        crf=20, preset="veryfast", gop=2 * RATE)
        paths.append(path)
    return paths


def plan_cuts(sources: list[Path], source_frames_each: int, cuts: int, cut_frames: int):
    """(source, first frame, frame count) for each cut; in-points land between keyframes."""
    plan = []
    for i in range(cuts):
        room = source_frames_each - cut_frames
        start = (i * 37 + 5) % max(1, room)
        plan.append((sources[i % len(sources)], start, cut_frames))
    return plan


def timeline_for(plan, width: int, height: int, source_frames_each: int) -> otio.schema.Timeline:
    tl = otio.schema.Timeline(name="bench cut")
    tl.metadata["latentcut"] = {"rate": RATE, "width": width, "height": height}
    track = otio.schema.Track("V1")
    for n, (path, start, frames) in enumerate(plan):
        ref = otio.schema.ExternalReference(str(path), TR(RT(0, RATE), RT(source_frames_each, RATE)))
        track.append(otio.schema.Clip(f"cut {n}", ref, TR(RT(start, RATE), RT(frames, RATE))))
    tl.tracks.append(track)
    return tl


def ffmpeg_cmd(plan, out: Path, preset: str) -> list[str]:
    cmd = ["ffmpeg", "-v", "error", "-y"]
    for path, start, frames in plan:
        cmd += ["-ss", f"{start / RATE:.6f}", "-t", f"{frames / RATE:.6f}", "-i", str(path)]
    chain = "".join(f"[{i}:v]" for i in range(len(plan))) + f"concat=n={len(plan)}:v=1:a=0[v]"
    cmd += ["-filter_complex", chain, "-map", "[v]", "-r", str(RATE), "-c:v", "libx264",
            "-crf", str(CRF), "-preset", preset, "-pix_fmt", "yuv420p", "-an", str(out)]
    return cmd


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the cut (default 60)")
    ap.add_argument("--cuts", type=int, default=20, help="number of cuts (default 20)")
    ap.add_argument("--sources", type=int, default=4, help="distinct source files (default 4)")
    ap.add_argument("--size", default="1920x1080", help="frame size WxH (default 1920x1080)")
    ap.add_argument("--preset", default="medium", help="x264 preset for both (default medium)")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "latentcut-bench",
                    help="where sources and outputs are kept")
    args = ap.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        ap.error("the ffmpeg program is needed for the comparison (apt-get install ffmpeg)")
    if args.cuts < 1 or args.sources < 1 or args.seconds <= 0:
        ap.error("--cuts, --sources and --seconds must be positive")
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.dir.mkdir(parents=True, exist_ok=True)

    cut_frames = max(1, round(args.seconds * RATE / args.cuts))
    source_seconds = max(2.0, 2 * cut_frames / RATE)
    sources = make_sources(args.dir, args.sources, source_seconds, width, height)
    plan = plan_cuts(sources, round(source_seconds * RATE), args.cuts, cut_frames)
    timeline = timeline_for(plan, width, height, round(source_seconds * RATE))

    ours_out, ff_out = args.dir / "render_ours.mp4", args.dir / "render_ffmpeg.mp4"
    start = time.perf_counter()
    render_timeline(timeline, ours_out, args.dir, codec="h264", crf=CRF, preset=args.preset)
    t_ours = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run(ffmpeg_cmd(plan, ff_out, args.preset), check=True)
    t_ff = time.perf_counter() - start

    frames_ours, frames_ff = probe(ours_out).video.frame_count, probe(ff_out).video.frame_count
    ratio = t_ours / t_ff
    print(f"{args.cuts} cuts, {frames_ours} frames at {width}x{height} (ffmpeg wrote {frames_ff}), "
          f"libx264 crf {CRF} preset {args.preset}")
    print(f"render_timeline: {t_ours:.1f} s   ffmpeg concat+encode: {t_ff:.1f} s")
    print(f"render time ratio (ours / ffmpeg): {ratio:.2f}  (goal <= {GOAL}) {'PASS' if ratio <= GOAL else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
