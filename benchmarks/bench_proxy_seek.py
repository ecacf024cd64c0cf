"""Random access into a proxy: p95 latency of ``FrameReader.read(i)`` (cache off) on a proxy made
by ``make_proxy`` from a 1080p H.264 source, as a ratio to the 30 ms goal (goal: below 1.0).
For reference it also times the same reads on the long-GOP source itself.

    python benchmarks/bench_proxy_seek.py [--seconds 10] [--size 1920x1080] [--height 270] [--reads 200]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from engine.media.proxy import make_proxy, proxy_path_for  # noqa: E402
from engine.media.reader import FrameReader  # noqa: E402
from engine.media.writer import write_video  # noqa: E402
from benchmarks.synthetic_footage import moving_frames  # noqa: E402

GOAL_MS = 30.0
RATE = 24


def seek_times_ms(path: Path, indices: list[int]) -> np.ndarray:
    with FrameReader(path, cache_size=0) as reader:
        reader.read(0)  # the first read opens the decoder; scrubbing starts after that
        times = []
        for i in indices:
            start = time.perf_counter()
            reader.read(i)
            times.append((time.perf_counter() - start) * 1000)
    return np.array(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="source length (default 10)")
    ap.add_argument("--size", default="1920x1080", help="source size WxH (default 1920x1080)")
    ap.add_argument("--height", type=int, default=270, help="proxy height (default 270)")
    ap.add_argument("--reads", type=int, default=200, help="random reads to time (default 200)")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "latentcut-bench",
                    help="where the source and proxy are kept")
    args = ap.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    args.dir.mkdir(parents=True, exist_ok=True)
    src = args.dir / f"seek_{width}x{height}_{args.seconds:g}s.mp4"
    count = round(args.seconds * RATE)
    if not src.exists():
        # A long GOP (10 s) as cameras and delivery files have, so source seeks are costly.
        write_video(src, moving_frames(count, width, height, box=False), RATE, crf=20, preset="veryfast", gop=240)
    proxy = proxy_path_for(src, args.dir, height=args.height)
    if not proxy.exists():
        make_proxy(src, proxy, height=args.height)

    rng = np.random.default_rng(1)
    indices = [int(i) for i in rng.integers(0, count, args.reads)]
    proxy_ms = seek_times_ms(proxy, indices)
    source_ms = seek_times_ms(src, indices[: max(1, args.reads // 10)])
    p95 = float(np.percentile(proxy_ms, 95))
    print(f"proxy: {proxy.name} ({args.height}p, all-intra), {args.reads} random reads")
    print(f"proxy read p50 {np.median(proxy_ms):.2f} ms, p95 {p95:.2f} ms   "
          f"(source {width}x{height} long-GOP p95 {np.percentile(source_ms, 95):.1f} ms)")
    print(f"proxy seek p95 / {GOAL_MS:g} ms: {p95 / GOAL_MS:.3f}  (goal < 1) {'PASS' if p95 < GOAL_MS else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
