"""Edit command + undo on a long track: median milliseconds per command, as a ratio to the
5 ms goal (ratio < 1 meets it).

    python benchmarks/bench_edit_commands.py [--clips 10000] [--repeats 40] [--seed 0]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import opentimelineio as otio  # noqa: E402

from timeline import Document  # noqa: E402
from timeline.edits import (AddMarker, AddTrack, Append, CloseGap, Insert, Lift, Move,  # noqa: E402
                            MoveMarker, Overwrite, RemoveMarker, RemoveTrack, RippleDelete,
                            Slip, Split, TrimHead, TrimTail)
from timeline.generated import (AddTake, DropTake, MarkFailed, PlacePendingClip,  # noqa: E402
                                SwitchTake, make_pending_clip)

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
GOAL_MS = 5.0
RATE = 24


def clip(name: str, length: int = 24) -> otio.schema.Clip:
    ref = otio.schema.ExternalReference(target_url=f"/media/{name}.mp4",
                                        available_range=TR(RT(0, RATE), RT(480, RATE)))
    return otio.schema.Clip(name=name, media_reference=ref,
                            source_range=TR(RT(100, RATE), RT(length, RATE)))


def build(n: int) -> Document:
    """V1 with ``n`` items: 24-frame clips, every tenth a 12-frame gap; one generated clip
    with two takes every 100 items; an empty V2."""
    doc = Document.new(rate=RATE, width=1920, height=1080)
    v1 = doc.video_tracks[0]
    for i in range(n):
        if i % 10 == 5:
            v1.append(otio.schema.Gap(source_range=TR(RT(0, RATE), RT(12, RATE))))
        elif i % 100 == 50:
            g = make_pending_clip("generate", {"prompt": f"shot {i}", "seed": i}, RT(24, RATE), f"g{i}")
            refs = dict(g.media_references())
            for k in (1, 2):
                refs[f"take-{k}"] = otio.schema.ExternalReference(
                    target_url=f"/media/g{i}_{k}.mp4", available_range=TR(RT(0, RATE), RT(24, RATE)))
            g.set_media_references(refs, "take-2")
            v1.append(g)
        else:
            v1.append(clip(f"c{i}"))
    doc.timeline.tracks.append(otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video))
    return doc


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=10000, help="items on the track (default 10000)")
    ap.add_argument("--repeats", type=int, default=40, help="runs per command (default 40)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.clips < 200 or args.repeats < 1:
        ap.error("--clips must be >= 200 and --repeats >= 1")
    rnd = random.Random(args.seed)
    doc = build(args.clips)
    v1, v2 = doc.video_tracks
    n = len(v1)
    marker = otio.schema.Marker(name="existing", marked_range=TR(RT(10, RATE), RT(0, RATE)))
    v1.markers.append(marker)

    def item(kind=otio.schema.Clip, generated=False):
        while True:
            it = v1[rnd.randrange(n // 20, n - n // 20)]  # away from the ends, like real edits
            gen = "latentcut" in it.metadata
            if isinstance(it, kind) and (not generated or gen) and (generated or not gen):
                return it

    def when():
        return RT(rnd.randrange(24 * n // 40, 24 * n // 2), RATE) + RT(0.5, RATE).rescaled_to(RATE)

    def pending():
        return make_pending_clip("generate", {"prompt": "night", "seed": 1}, RT(30, RATE), "p")

    # name: (pick the target, untimed; build the command from it, timed)
    clip_, gap_, gen_ = (lambda: item(),), (lambda: item(otio.schema.Gap),), (lambda: item(generated=True),)
    none = (lambda: None,)
    commands = {
        "insert": ((when,), lambda t: Insert(v1, t, clip("x", 30))),
        "overwrite": ((when,), lambda t: Overwrite(v1, t, clip("x", 60))),
        "append": (none, lambda _: Append(v1, clip("x"))),
        "lift": (clip_, Lift),
        "ripple_delete": (clip_, RippleDelete),
        "split": ((when,), lambda t: Split(v1, t)),
        "trim_head": (clip_, lambda c: TrimHead(c, RT(6, RATE))),
        "trim_head_ripple": (clip_, lambda c: TrimHead(c, RT(-6, RATE), ripple=True)),
        "trim_tail": (clip_, lambda c: TrimTail(c, RT(6, RATE))),
        "trim_tail_ripple": (clip_, lambda c: TrimTail(c, RT(-6, RATE), ripple=True)),
        "slip": (clip_, lambda c: Slip(c, RT(7, RATE))),
        "move_in_time": ((lambda: (item(), when()),), lambda a: Move(a[0], v1, a[1])),
        "move_to_track": ((lambda: (item(), when()),), lambda a: Move(a[0], v2, a[1])),
        "close_gap": (gap_, CloseGap),
        "add_track": (none, lambda _: AddTrack("Video")),
        "remove_track": (none, lambda _: RemoveTrack(v2)),
        "add_marker": (none, lambda _: AddMarker(v1, otio.schema.Marker(name="m"))),
        "move_marker": (none, lambda _: MoveMarker(v1, marker, TR(RT(99, RATE), RT(0, RATE)))),
        "remove_marker": (none, lambda _: RemoveMarker(v1, marker)),
        "place_pending_clip": ((when,), lambda t: PlacePendingClip(pending(), v1, t)),
        "add_take": (gen_, lambda g: AddTake(g, "/media/new.mp4", TR(RT(0, RATE), RT(24, RATE)),
                                             {"seed": 3})),
        "switch_take": (gen_, lambda g: SwitchTake(g, "take-1")),
        "drop_take": (gen_, lambda g: DropTake(g, "take-2")),
        "mark_failed": (gen_, lambda g: MarkFailed(g, "out of memory")),
    }
    start_len = len(v1)
    print(f"edit command + undo on a {start_len}-item track, {args.repeats} runs each: median "
          f"wall ms, median CPU ms (the process's own time; the wall figure includes waiting "
          f"for a shared CPU), ratio of wall to the {GOAL_MS:g} ms goal")
    worst = 0.0
    for name, ((pick,), make) in commands.items():
        times, cpu = [], []
        for _ in range(args.repeats):
            target = pick()
            t0, c0 = time.perf_counter(), time.process_time()
            cmd = make(target)
            cmd.do(doc)
            cmd.undo(doc)
            times.append((time.perf_counter() - t0) * 1e3)
            cpu.append((time.process_time() - c0) * 1e3)
        if len(v1) != start_len:
            raise SystemExit(f"{name}: undo did not restore the track length")
        med = statistics.median(times)
        worst = max(worst, med / GOAL_MS)
        print(f"  {name:20s} {med:7.3f} ms  cpu {statistics.median(cpu):7.3f} ms  "
              f"ratio {med / GOAL_MS:.3f}")
    print(f"worst ratio to {GOAL_MS:g} ms: {worst:.3f} ({'meets' if worst < 1 else 'misses'} the goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
