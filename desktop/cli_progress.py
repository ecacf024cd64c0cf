"""The command line's progress bar: jobs, windows and steps, with a total ETA, on stderr."""
from __future__ import annotations

import sys
import threading
import time


def steps_per_window(job) -> int | None:
    """Denoising steps the pipeline runs per window of a model job (restyle runs a share of
    them, as much as its strength), or None when not known before it runs."""
    steps = getattr(job, "steps", None)
    if steps is None:
        return None
    strength = getattr(job, "strength", None)
    return steps if strength is None else max(1, min(steps, round(steps * strength)))


class ProgressBar:
    """A one-line bar on a terminal; on a pipe, a line per quarter so logs stay short.

    A long clip is made window by window, so the engine's step count runs over all windows;
    knowing each job's steps per window, the bar shows `window 2/3, step 4/10`."""

    width = 30

    def __init__(self, label: str, count: int, per_window: list[int | None] | None = None, stream=None):
        self.label = label
        self.count = count
        self.per_window = list(per_window or [None] * count)
        self.job_index = -1  # jobs run one after another, so the n-th start is the n-th job
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last_quarter = -1
        self._started = time.monotonic()
        self._drawn = False
        self.working = False  # the current job has reported progress (frames are being made)
        self._lock = threading.Lock()

    def on_event(self, event) -> None:
        with self._lock:
            if event.kind == "started":
                self.working = False
                self.job_index += 1
                self._started = time.monotonic()
                self._last_quarter = -1
                self._line(f"{self._prefix()} started")
            elif event.kind == "progress" and event.total:
                self.working = True
                self._progress(event.step, event.total)

    def _prefix(self) -> str:
        return f"{self.label} {self.job_index + 1}/{self.count}" if self.count > 1 else self.label

    def _where(self, step: int, total: int) -> str:
        per = self.per_window[self.job_index] if 0 <= self.job_index < len(self.per_window) else None
        if not per or total % per or total <= per:
            return f"{step}/{total}"
        window = min((step - 1) // per + 1, total // per) if step else 1
        return f"window {window}/{total // per}, step {step - (window - 1) * per}/{per}"

    def _eta(self, step: int, total: int) -> str:
        """Time left for the whole job (all windows), from the pace so far."""
        if not 0 < step < total:
            return ""
        elapsed = time.monotonic() - self._started
        return f" ETA {elapsed / step * (total - step):.0f}s"

    def _progress(self, step: int, total: int) -> None:
        frac = min(1.0, step / total)
        if self.tty:
            filled = int(frac * self.width)
            self.stream.write(f"\r{self._prefix()} [{'#' * filled}{'.' * (self.width - filled)}] "
                              f"{self._where(step, total)}{self._eta(step, total) or '    '}   ")
            self.stream.flush()
            self._drawn = True
        elif int(frac * 4) > self._last_quarter:
            self._last_quarter = int(frac * 4)
            self._line(f"{self._prefix()} {self._where(step, total)}{self._eta(step, total)}")

    def _line(self, text: str) -> None:
        if self.tty and self._drawn:
            self.stream.write("\n")
            self._drawn = False
        if not self.tty:
            self.stream.write(text + "\n")
            self.stream.flush()

    def close(self) -> None:
        with self._lock:
            if self._drawn:
                self.stream.write("\n")
                self.stream.flush()
                self._drawn = False
