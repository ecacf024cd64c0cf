"""Viewer audio mix speed: the viewer mixes the timeline's audio in 0.5 s blocks on its mixer
thread; to play without gaps it must mix faster than the sound plays. Figure: seconds of audio
mixed per second of mixing (its peer is real time, 1.0; goal: at least 4, so a busy machine still
keeps up). For comparison it also prints the renderer's 10 s blocks on the same timeline.

    python benchmarks/bench_audio_mix.py [--seconds 20] [--tracks 4] [--cuts 10]

Sources (AAC stereo with a tiny picture) are made with PyAV in a temporary folder.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import opentimelineio as otio  # noqa: E402

from desktop.audio_playback import BLOCK_SECONDS, mix_window  # noqa: E402
from engine.media.render import _AUDIO_BLOCK_SECONDS, AUDIO_RATE  # noqa: E402
from engine.media.writer import write_video  # noqa: E402
from timeline import Document  # noqa: E402

GOAL = 4.0
RATE = 24


def make_source(path: Path, seconds: float, freq: float) -> str:
    t = np.arange(round(seconds * AUDIO_RATE)) / AUDIO_RATE
    tone = np.repeat((0.3 * np.sin(2 * np.pi * freq * t))[:, None], 2, axis=1).astype(np.float32)
    frames = np.zeros((round(seconds * RATE), 36, 64, 3), np.uint8)
    write_video(path, frames, RATE, audio=(tone, AUDIO_RATE))
    return str(path)


def build_timeline(sources: list[str], seconds: float, tracks: int, cuts: int):
    """`tracks` audio tracks, each cut into `cuts` clips taken from different points of a source."""
    doc = Document.new(rate=RATE, width=64, height=36)
    timeline = doc.timeline
    frames = round(seconds * RATE)
    for k in range(tracks):
        track = otio.schema.Track(name=f"A{k + 1}", kind=otio.schema.TrackKind.Audio)
        length = frames // cuts
        for c in range(cuts):
            path = sources[(k + c) % len(sources)]
            ref = otio.schema.ExternalReference(target_url=path)
            start = (c * 7) % max(1, frames - length)
            track.append(otio.schema.Clip(name=f"a{k}-{c}", media_reference=ref, source_range=otio.opentime.TimeRange(
                otio.opentime.RationalTime(start, RATE), otio.opentime.RationalTime(length, RATE))))
        timeline.tracks.append(track)
    return timeline


def mix_speed(timeline, seconds: float, block_seconds: float) -> float:
    """Seconds of audio mixed per second of wall time, mixing the timeline block by block."""
    block = round(block_seconds * AUDIO_RATE)
    total = round(seconds * AUDIO_RATE)
    t0 = time.perf_counter()
    for first in range(0, total, block):
        mix_window(timeline, first, min(block, total - first))
    return seconds / (time.perf_counter() - t0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="timeline length")
    ap.add_argument("--tracks", type=int, default=4, help="audio tracks")
    ap.add_argument("--cuts", type=int, default=10, help="clips per track")
    args = ap.parse_args(argv)
    if args.seconds <= 0 or args.tracks < 1 or args.cuts < 1:
        ap.error("--seconds must be positive, --tracks and --cuts at least 1")
    with tempfile.TemporaryDirectory() as tmp:
        sources = [make_source(Path(tmp) / f"src{i}.mp4", args.seconds, 220.0 * (i + 1)) for i in range(3)]
        timeline = build_timeline(sources, args.seconds, args.tracks, args.cuts)
        mix_speed(timeline, min(args.seconds, 1.0), BLOCK_SECONDS)   # warm the file cache
        viewer = mix_speed(timeline, args.seconds, BLOCK_SECONDS)
        render = mix_speed(timeline, args.seconds, _AUDIO_BLOCK_SECONDS)
    print(f"timeline: {args.seconds:g} s, {args.tracks} audio tracks x {args.cuts} clips")
    print(f"renderer's {_AUDIO_BLOCK_SECONDS:g} s blocks: {render:.1f}x real time (for comparison)")
    print(f"viewer audio mix ({BLOCK_SECONDS:g} s blocks) / real time: {viewer:.1f}x "
          f"(goal: at least {GOAL:g}x) {'OK' if viewer >= GOAL else 'BELOW GOAL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
