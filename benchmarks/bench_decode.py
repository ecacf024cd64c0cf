"""Sequential decode to RGB: throughput of ``FrameReader.iter_frames`` against
``ffmpeg -threads N -i F -f rawvideo -pix_fmt rgb24 -y /dev/null`` with the same thread count
(ratio = ours / ffmpeg in frames per second; goal: at least 0.7).

    python benchmarks/bench_decode.py [--seconds 8] [--size 1920x1080] [--threads 2] [--repeats 3]

Needs the ``ffmpeg`` program (apt-get install ffmpeg). The H.264 test file is made with PyAV
and kept in --dir between runs.
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


from engine.media.reader import FrameReader  # noqa: E402
from engine.media.writer import write_video  # noqa: E402
from benchmarks.synthetic_footage import moving_frames  # noqa: E402

GOAL = 0.7
RATE = 24


def test_file(folder: Path, seconds: float, width: int, height: int) -> Path:
    path = folder / f"decode_{width}x{height}_{seconds:g}s.mp4"
    if not path.exists():
        write_video(path, moving_frames(round(seconds * RATE), width, height), RATE, crf=20, preset="veryfast")
    return path


def ours(path: Path, threads: int) -> tuple[int, float]:
    start = time.perf_counter()
    with FrameReader(path, threads=threads) as reader:
        count = sum(1 for _ in reader.iter_frames())
    return count, time.perf_counter() - start


def ffmpeg(path: Path, threads: int) -> float:
    cmd = ["ffmpeg", "-v", "error", "-threads", str(threads), "-i", str(path),
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", "/dev/null"]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0, help="length of the test file (default 8)")
    ap.add_argument("--size", default="1920x1080", help="frame size WxH (default 1920x1080)")
    ap.add_argument("--threads", type=int, default=2, help="decoder threads for both (default 2)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each; the best counts (default 3)")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "latentcut-bench",
                    help="where the test file is kept")
    args = ap.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        ap.error("the ffmpeg program is needed for the comparison (apt-get install ffmpeg)")
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.dir.mkdir(parents=True, exist_ok=True)
    path = test_file(args.dir, args.seconds, width, height)

    best_ours = best_ff = float("inf")
    frames = 0
    for _ in range(args.repeats):  # interleaved, so load from neighbours hits both alike
        frames, t = ours(path, args.threads)
        best_ours = min(best_ours, t)
        best_ff = min(best_ff, ffmpeg(path, args.threads))
    fps_ours, fps_ff = frames / best_ours, frames / best_ff
    ratio = fps_ours / fps_ff
    print(f"file: {path.name} ({frames} frames, {width}x{height}), threads: {args.threads}")
    print(f"FrameReader.iter_frames: {fps_ours:.1f} fps   ffmpeg rawvideo rgb24: {fps_ff:.1f} fps")
    print(f"decode throughput ratio (ours / ffmpeg): {ratio:.2f}  (goal >= {GOAL}) "
          f"{'PASS' if ratio >= GOAL else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
