"""Screenshots of LatentCut's main workflows, taken by driving the real app offscreen.

    python -m desktop.screenshots [--out docs/screenshots] [--model DIR|tiny] [--steps N] [--size WxH]

It makes its own media (encoded with PyAV), its own settings and an unsaved project in a temporary
folder, runs real jobs on the engine thread (the embedded model when it is shipped, else a tiny
random model), and writes one PNG per workflow step.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from desktop.bridge import FINISHED

SHOTS = (
    ("01-empty-project", "A new, empty project"),
    ("02-media-on-timeline", "Media imported, on the timeline, first clip selected"),
    ("03-generation-pending", "Generating into a gap: the pending clip with its progress"),
    ("04-generated-clip-takes", "A generated clip with two takes in the Inspector"),
    ("05-storyboard-animatic", "A storyboard built as an animatic; title cards until results arrive"),
    ("06-jobs-panel", "The Jobs panel: done, running, failed"),
)
BOARD = """# opening
2: a red ball moving left over a field at sunset, static camera
2: pan right over mountains at night
1.5: zoom in on a yellow box in a city, day
2: a white ball still by the sea, tilt up, day
"""


def footage(path: Path, sky: tuple, ground: tuple, ball: tuple, frames: int = 48, size=(320, 180), rate=24) -> Path:
    """A short clip that reads as a scene: sky, ground and a ball crossing the frame."""
    from engine.media.writer import write_video

    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    horizon = int(h * 0.62)
    base = np.zeros((h, w, 3), np.float32)
    t = (ys / horizon)[..., None]
    base[:horizon] = ((1 - t) * np.array(sky) + t * np.array(sky) * 0.6)[:horizon]
    base[horizon:] = np.array(ground)
    video = []
    for i in range(frames):
        img = base.copy()
        cx, cy, r = int(w * 0.15 + i * w * 0.7 / frames), horizon - 14, 12
        img[(xs - cx) ** 2 + (ys - cy) ** 2 < r * r] = ball
        video.append(np.clip(img, 0, 255).astype(np.uint8))
    return write_video(path, video, rate)


class Shooter:
    """Drives the window and saves grabs."""

    def __init__(self, app, window, out: Path):
        self.app, self.window, self.out = app, window, out
        self.written: list[Path] = []

    def wait(self, predicate, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise RuntimeError(f"screenshots: timed out after {timeout:.0f} s waiting for {what}")
            self.settle(20)

    def settle(self, ms: int = 400) -> None:
        """Run the event loop for `ms`. Not QTest.qWait: it keeps the GIL, which starves the engine thread."""
        end = time.monotonic() + ms / 1000
        while time.monotonic() < end:
            self.app.processEvents()
            time.sleep(0.005)

    def save(self, name: str, widget=None, settle: bool = True) -> Path:
        widget = widget or self.window
        if settle:
            self.settle(250)
        path = self.out / f"{name}.png"
        image = widget.grab()
        if not image.save(str(path)):
            raise OSError(f"screenshots: could not write {path}")
        self.written.append(path)
        print(f"wrote {path}", flush=True)
        return path

    def save_when(self, signal, predicate, name: str, widget=None) -> dict:
        """Grab inside the slot the first time PREDICATE(*args) holds, so a fast job cannot
        finish between the event and the picture. The returned dict gets "path" once taken."""
        taken: dict = {}

        def slot(*args):
            if "path" not in taken and predicate(*args):
                taken["path"] = self.save(name, widget, settle=False)

        signal.connect(slot)
        return taken

    def show_frame(self, playback, frame: int, timeout: float = 20) -> None:
        """Seek and wait until the viewer has a picture for the frame (decoding is asynchronous)."""
        got = []
        playback.picture_changed.connect(lambda picture: got.append(picture))
        playback.seek(frame)
        playback.refresh()  # the playhead may already be there: ask for the picture again
        self.wait(lambda: any(p is not None for p in got), timeout, f"the viewer to show frame {frame}")


def _model_folder(choice: str | None, tmp: Path) -> tuple[str | None, str, int | None]:
    """(model folder for the bridge, words for the log, steps; None: the model's own default).
    A None folder means the shipped embedded model. The tiny model runs a step in milliseconds,
    so it gets more steps than a real model, enough for the pending state to show."""
    if choice not in (None, "tiny"):
        folder = Path(choice).expanduser()
        if not (folder / "config.json").is_file() and not (folder / "model_index.json").is_file():
            raise SystemExit(f"screenshots: --model {folder} has neither config.json nor model_index.json")
        return str(folder), str(folder), None
    if choice is None:
        from engine.backends.embedded import embedded_model_dir

        try:
            return None, f"the embedded model ({embedded_model_dir()})", None
        except FileNotFoundError:
            pass  # not trained/shipped in this checkout: fall back to the tiny model
    from engine.model.tiny import make_tiny_model_folder

    folder = make_tiny_model_folder(tmp / "tiny-model")
    return str(folder), "a tiny random model (the embedded one is not shipped here)", 40


def run(out: Path, model_choice: str | None, steps: int | None, size: tuple[int, int]) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from desktop.theme import apply_theme

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName("LatentCut")
    app.setApplicationName("LatentCut screenshots")
    apply_theme(app)
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="latentcut-shots-") as tmp_name:
        tmp = Path(tmp_name)
        model, words, default_steps = _model_folder(model_choice, tmp)
        steps = steps or default_steps
        print(f"screenshots: generating with {words}, {steps or 'its default'} steps", flush=True)
        from desktop.app import MainWindow
        from desktop.bridge import EngineBridge

        settings = QSettings(str(tmp / "settings.ini"), QSettings.IniFormat)
        bridge = EngineBridge(model=model, device="cpu")
        window = MainWindow(bridge=bridge, settings=settings)
        try:
            window.resize(*size)
            window.show()
            shots = Shooter(app, window, out)
            _workflows(shots, window, bridge, tmp, steps)
            return shots.written
        finally:
            window.actions.maybe_save = lambda: True  # nothing of the demo project is worth keeping
            window.shutdown()
            bridge.shutdown()
            window.deleteLater()
            app.processEvents()


def _workflows(shots: Shooter, window, bridge, tmp: Path, steps: int) -> None:
    import opentimelineio as otio

    shots.settle(600)
    shots.save("01-empty-project")

    # Media: import, place two clips with a one-second gap between them, select the first.
    media = tmp / "media"
    media.mkdir()
    day = footage(media / "field-day.mp4", (110, 170, 235), (70, 140, 60), (220, 40, 40))
    dusk = footage(media / "sea-sunset.mp4", (245, 140, 80), (30, 70, 130), (240, 220, 60))
    panel = window.media_panel
    panel.add_files([day, dusk])
    shots.wait(lambda: all(panel.state(p) == "ready" for p in (day, dusk)), 60, "the media to be probed")
    shots.wait(lambda: all(panel.proxy_for(p) for p in (day, dusk)), 120, "the proxies")
    track = window.document.video_tracks[0]
    window.edits.place_media([str(day)], track, 0)
    window.edits.place_media([str(dusk)], track, 72)
    canvas = window.canvas
    canvas.zoom_to_fit()
    first = next(it for it in track if isinstance(it, otio.schema.Clip))
    window.edits.set_selection([first])
    window.docks["inspector"].raise_()
    shots.show_frame(window.playback, 20)
    shots.settle(1500)  # timeline thumbnails arrive from a thread pool
    shots.save("02-media-on-timeline")

    # Generate into the gap; shoot while the pending clip shows its progress.
    gap = next(it for it in track if isinstance(it, otio.schema.Gap))
    window.edits.set_selection([gap])
    gen = window.generate_panel
    gen.prompt.setPlainText("a red ball moving left over a field at sunset, static camera")
    if steps is not None:
        gen.steps.setValue(steps)
    gen.seed_lock.setChecked(True)
    gen.seed.setValue(1234)
    window.docks["generate"].raise_()
    bridge.queued.connect(lambda job: job.failed.connect(lambda message: print(f"job failed: {message}", flush=True)))
    window.playback.seek(60)  # inside the gap, where the pending clip lands
    handle = window.generation.request("generate", gen.params())
    if handle is None:
        raise RuntimeError("screenshots: the generate request was refused (see the status bar)")
    pending = shots.save_when(handle.progress, lambda step, total: step >= total // 3, "03-generation-pending")
    shots.wait(lambda: handle.state in FINISHED, 600, "the generation to finish")
    if "path" not in pending:
        raise RuntimeError("screenshots: the generation finished before a third of its steps was reported")

    # A second take from the same recipe, then the clip in the Inspector.
    generated = next(it for it in track if isinstance(it, otio.schema.Clip) and "recipe" in it.media_references())
    second = window.generation.retry(generated, same_seed=False)
    shots.wait(lambda: second.state in FINISHED, 600, "the second take")
    shots.settle(300)
    window.edits.set_selection([generated])
    window.docks["inspector"].raise_()
    shots.show_frame(window.playback, 60)
    shots.settle(800)
    shots.save("04-generated-clip-takes")

    # A job that fails, for the Jobs panel below: a proxy of a file that is gone.
    from engine.jobs import ProxyJob

    failed = bridge.submit(ProxyJob(source=str(tmp / "media" / "deleted-rushes.mov")))
    shots.wait(lambda: failed.state in FINISHED, 60, "the failed job")

    # Storyboard → animatic: shoot while the first shots are still pending (title cards).
    board = window.storyboard_panel
    board.import_text(BOARD, source="storyboard.txt")
    rate = window.document.rate
    window.playback.seek(int(2.5 * rate))  # inside shot 2
    window.edits.set_selection([])
    window.docks["generate"].raise_()
    shot_jobs = window.generation.build_animatic(board.shots(), gen.params())
    animatic = shots.save_when(shot_jobs[1].progress, lambda step, total: step >= total // 2, "05-storyboard-animatic")
    canvas.zoom_to_fit()
    shots.wait(lambda: "path" in animatic or shot_jobs[1].state in FINISHED, 600,
               "the second animatic shot to be half done")
    if "path" not in animatic:
        raise RuntimeError("screenshots: the animatic's second shot finished unseen")

    # Jobs: the panel on its own while the last shot runs.
    jobs_dock = window.docks["jobs"]
    jobs_dock.setFloating(True)
    jobs_dock.resize(460, 640)
    jobs = shots.save_when(shot_jobs[-1].progress, lambda step, total: step >= total // 2, "06-jobs-panel", jobs_dock)
    shots.wait(lambda: all(h.state in FINISHED for h in shot_jobs), 900, "the animatic")
    if "path" not in jobs:
        raise RuntimeError("screenshots: the last animatic shot finished unseen")
    jobs_dock.setFloating(False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m desktop.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"), help="folder for the PNGs")
    parser.add_argument("--model", default=None,
                        help="model folder, or 'tiny' for a tiny random model (default: the embedded model if shipped)")
    parser.add_argument("--steps", type=int, default=None,
                        help="denoising steps per generation (default: 40 with the tiny model, else the model's own)")
    parser.add_argument("--size", default="1400x900", help="window size WxH (the README shows 1400x900)")
    args = parser.parse_args(argv)
    try:
        w, h = (int(v) for v in args.size.lower().split("x"))
    except ValueError:
        parser.error(f"--size: expected WxH such as 1440x900, got {args.size!r}")
    if args.steps is not None and args.steps < 1:
        parser.error("--steps: must be at least 1")
    try:
        written = run(args.out, args.model, args.steps, (w, h))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"{len(written)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
