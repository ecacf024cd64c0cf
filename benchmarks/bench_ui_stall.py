"""Event-loop stalls of the main window while the engine generates and while it renders.

Goal (issue 5): during a generation and during a render, the UI event loop's p99 stall is under
50 ms. A 10 ms QTimer timestamps the loop; a stall is how much later than 10 ms a tick came.
Prints each phase's p99 stall against the 50 ms goal, and against the idle window's p99 (the
peer, measured in the same process).

    python benchmarks/bench_ui_stall.py                       # tiny random model
    python benchmarks/bench_ui_stall.py --model embedded      # the shipped previz model
    python benchmarks/bench_ui_stall.py --seconds 0.5 --steps 4   # quick
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

GOAL_MS = 50.0
TICK_MS = 10


class TickRecorder:
    """Timestamps a 10 ms timer; `stalls()` are the delays beyond 10 ms between ticks."""

    def __init__(self):
        self.stamps: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(lambda: self.stamps.append(time.perf_counter()))

    def run(self, start_work, timeout_s: float) -> list[float]:
        """Ticks while `start_work()` runs and the job whose handle it returns (if any) finishes."""
        loop = QEventLoop()
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        self.stamps = []
        self.timer.start()

        def start():
            handle = start_work()
            if handle is not None:
                handle.finished.connect(loop.quit)
        QTimer.singleShot(0, start)
        loop.exec()
        self.timer.stop()
        return self.stalls()

    def stalls(self) -> list[float]:
        gaps = np.diff(np.array(self.stamps)) * 1000
        return list(np.maximum(0.0, gaps - TICK_MS))


def p99(values) -> float:
    return float(np.percentile(values, 99)) if len(values) else float("nan")


def make_media(folder: Path, count: int, frames: int, size=(320, 180)) -> list[str]:
    from engine.media.writer import write_video

    paths = []
    w, h = size
    for n in range(count):
        video = []
        for i in range(frames):
            image = np.zeros((h, w, 3), np.uint8)
            image[..., n % 3] = 90 + 10 * n
            image[:, (i * 7) % w:(i * 7) % w + 12] = 255
            video.append(image)
        paths.append(str(write_video(folder / f"clip{n}.mp4", video, rate=24)))
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="tiny", help="tiny (a random tiny model), embedded, or a model folder")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of the generated clip")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--clips", type=int, default=16, help="clips (2 s each) on the timeline that is rendered")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="latentcut-stall-"))
    app = QApplication.instance() or QApplication([])
    import torch

    torch.set_num_threads(2)
    from desktop.app import MainWindow
    from timeline import Document

    if args.model == "tiny":
        from engine.model.tiny import make_tiny_model_folder
        model = str(make_tiny_model_folder(work / "tiny-model"))
        size = (256, 144)
    elif args.model == "embedded":
        model, size = None, (320, 180)
    else:
        model, size = args.model, (320, 180)
    media = make_media(work, args.clips, 48, size)
    doc = Document.new(rate=24, width=size[0], height=size[1])
    window = MainWindow(model=model, document=doc)
    window.show()
    window.edits.place_media(media, doc.video_tracks[0], 0)
    window.undo_stack.setClean()
    window.generate_panel.set_params({"prompt": "a red ball moving left over a field at sunset, static camera",
                                      "steps": args.steps, "seconds": args.seconds})
    recorder = TickRecorder()

    # Idle: the peer.
    QTimer.singleShot(0, lambda: None)
    idle = recorder.run(lambda: None, 1.5)

    # Generations at the playhead, after the media (a pending clip, then the take). The first
    # also loads the model on the engine thread (cold); the second finds it loaded (warm).
    window.playback.seek(window.canvas.index.duration)
    cold = recorder.run(lambda: window.generate("generate"), args.timeout)
    window.playback.seek(window.canvas.index.duration)
    gen = recorder.run(lambda: window.generate("generate"), args.timeout)
    generated = [c for c in doc.timeline.find_clips() if (c.metadata.get("latentcut") or {}).get("status") == "done"]
    if not generated:
        print("the generation did not finish; see the Jobs panel message", file=sys.stderr)
        return 1

    # Render of the whole timeline.
    out = work / "render.mp4"
    render = recorder.run(lambda: window.actions.render(out), args.timeout)
    if not out.is_file():
        print("the render did not finish", file=sys.stderr)
        return 1

    base = max(p99(idle), 1e-3)
    print(f"model: {args.model}  generation: {args.seconds:g} s, {args.steps} steps  render: {args.clips * 2} s timeline")
    for name, stalls in (("idle", idle), ("cold gen", cold), ("generation", gen), ("render", render)):
        print(f"{name:10s}: {len(stalls):5d} ticks  median stall {statistics.median(stalls):6.2f} ms  "
              f"p99 stall {p99(stalls):6.2f} ms  max {max(stalls):6.1f} ms")
    for name, stalls in (("cold generation", cold), ("generation", gen), ("render", render)):
        value = p99(stalls)
        print(f"{name}: p99 stall / 50 ms goal = {value / GOAL_MS:.3f} ({'meets' if value < GOAL_MS else 'misses'}); "
              f"p99 / idle p99 = {value / base:.1f}")
    window.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
