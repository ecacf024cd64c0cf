"""Timeline repaint time with many clips, under zoom and scroll.

Goal (issue 5): a timeline of 5,000 clips repaints in under 16 ms at the median.
Prints the median repaint against that 16 ms budget, and against its peer measured in this
process: the same clips as QGraphicsRectItems (with labels) in a QGraphicsView, the other way
to build a timeline in Qt, under the same zoom and scroll.

    python benchmarks/bench_timeline_repaint.py            # 5,000 clips
    python benchmarks/bench_timeline_repaint.py --clips 500 --repeats 3   # quick
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import opentimelineio as otio  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

BUDGET_MS = 16.0


def build_document(clips: int, rate: float = 24.0):
    """`clips` clips over two video tracks and one audio track; every 7th is generated (some pending)."""
    from timeline import Document
    from timeline.generated import make_pending_clip

    doc = Document.new(rate=rate, width=1920, height=1080)
    tracks = [doc.video_tracks[0], doc.audio_tracks[0]]
    v2 = otio.schema.Track(name="V2", kind=otio.schema.TrackKind.Video)
    doc.timeline.tracks.insert(1, v2)
    tracks.insert(1, v2)
    rt = otio.opentime.RationalTime
    for n in range(clips):
        track = tracks[n % 3]
        length = 12 + (n * 37) % 60
        if n % 7 == 0:
            clip = make_pending_clip("generate", {"prompt": f"shot {n}"}, rt(length, rate), f"gen {n}")
            if n % 14 == 0:
                clip.metadata["latentcut"]["status"] = "failed"
        else:
            rng = otio.opentime.TimeRange(rt(0, rate), rt(length, rate))
            clip = otio.schema.Clip(name=f"clip {n}", source_range=rng,
                                    media_reference=otio.schema.ExternalReference(f"/media/missing-{n}.mp4"))
        if n % 11 == 0:
            track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(rt(0, rate), rt(6, rate))))
        track.append(clip)
    return doc


def views(canvas, steps: int):
    """(scale, origin) pairs: zoomed out to the whole cut, then zooming in, then scrolling."""
    duration = canvas.index.duration
    width = canvas.width() - 150
    fit = width / duration
    out = [(fit * (1.6 ** z), 0.0) for z in range(steps)]
    for s in range(steps):
        out.append((4.0, duration * s / steps))
    return out


def measure(canvas, settings, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        for scale, origin in settings:
            canvas.scale, canvas.origin = scale, origin
            t0 = time.perf_counter()
            canvas.repaint()   # paints synchronously
            times.append((time.perf_counter() - t0) * 1000)
    return times


def measure_graphics_view(canvas, settings, repeats: int, width: int, height: int) -> list[float]:
    """The peer: one QGraphicsRectItem plus a label per clip, x in frames, scaled by the view."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QBrush, QColor, QPen, QTransform
    from PySide6.QtWidgets import QGraphicsScene, QGraphicsSimpleTextItem, QGraphicsView

    scene = QGraphicsScene()
    brush, pen = QBrush(QColor(58, 96, 150)), QPen(QColor(30, 50, 80))
    for row, layout in enumerate(canvas.index.layouts):
        for start, end, item in zip(layout.starts, layout.ends, layout.items):
            if isinstance(item, otio.schema.Gap):
                continue
            rect = scene.addRect(QRectF(start, row * 56, end - start, 52), pen, brush)
            label = QGraphicsSimpleTextItem(item.name, rect)
            label.setPos(start, row * 56)
            label.setFlag(QGraphicsSimpleTextItem.GraphicsItemFlag.ItemIgnoresTransformations)
    view = QGraphicsView(scene)
    view.resize(width, height)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
    view.show()
    QApplication.processEvents()
    times = []
    for _ in range(repeats):
        for scale, origin in settings:
            view.setTransform(QTransform.fromScale(scale, 1.0))
            view.horizontalScrollBar().setValue(int(origin * scale))
            t0 = time.perf_counter()
            view.viewport().repaint()
            times.append((time.perf_counter() - t0) * 1000)
    view.close()
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=8, help="zoom levels and scroll positions")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", default="1600x420", help="view size WxH")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))

    app = QApplication.instance() or QApplication([])
    from desktop.edit_controller import EditController
    from desktop.timeline_view import TimelineCanvas
    from desktop.undo import UndoStack

    doc = build_document(args.clips)
    canvas = TimelineCanvas(doc, EditController(UndoStack(doc)))
    canvas.resize(width, height)
    canvas.show()
    app.processEvents()
    settings = views(canvas, args.steps)
    measure(canvas, settings[:2], 1)    # warm up fonts and caches
    culled = measure(canvas, settings, args.repeats)

    peer = measure_graphics_view(canvas, settings, args.repeats, width, height)

    med, p95 = statistics.median(culled), sorted(culled)[int(0.95 * (len(culled) - 1))]
    med_peer = statistics.median(peer)
    print(f"clips: {args.clips}  view: {width}x{height}  repaints: {len(culled)}")
    print(f"median repaint: {med:.2f} ms (p95 {p95:.2f} ms)")
    print(f"ratio to the 16 ms budget: {med / BUDGET_MS:.3f}  ({'meets' if med < BUDGET_MS else 'misses'} the goal)")
    print(f"peer, QGraphicsView with one item per clip: median {med_peer:.2f} ms; "
          f"ratio timeline/peer: {med / med_peer:.3f}")
    canvas.thumbnails.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
