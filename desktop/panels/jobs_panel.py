"""Jobs panel: every engine job with its progress, ETA, live preview, and Cancel/Retry/Reveal."""
from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop.theme import icon
from engine.jobs import ModelJob
from engine.operations import action_of

PREVIEW_W, PREVIEW_H = 96, 54
_EXCEPTION_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Cancelled|Warning)):\s*")


def as_sentence(message: str) -> str:
    """Turn an engine failure message into one plain sentence: no traceback, no exception
    class prefix, a capital first letter and a full stop."""
    text = (message or "").strip()
    if text.startswith("Traceback") or "\n" in text:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        # The last line of a traceback is the exception itself; skip the frames above it.
        text = lines[-1] if lines else ""
    text = _EXCEPTION_PREFIX.sub("", text).strip()
    if not text:
        return "The job failed for an unknown reason."
    text = text[0].upper() + text[1:]
    if text[-1] not in ".!?":
        text += "."
    return text


def format_eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def describe_job(job) -> str:
    """A title for a job spec: its kind and prompt or file."""
    if job is None:
        return "Job"
    if isinstance(job, ModelJob):
        title = action_of(job).label
    else:
        kind = getattr(job, "kind", "") or type(job).__name__.removesuffix("Job").lower()
        title = {"render": "Render", "proxy": "Proxy", "thumbnail": "Thumbnails"}.get(kind, kind.capitalize())
    prompt = getattr(job, "prompt", "")
    if prompt:
        return f"{title}: {prompt}"
    for attr in ("source", "output"):
        value = getattr(job, attr, None)
        path = getattr(value, "path", value)
        if isinstance(path, str) and path:
            return f"{title}: {Path(path).name}"
    return title


def _pixmap_from_frame(frame) -> QPixmap:
    frame = np.ascontiguousarray(np.asarray(frame, dtype=np.uint8)[..., :3])
    h, w = frame.shape[:2]
    image = QImage(frame.data, w, h, 3 * w, QImage.Format_RGB888).copy()  # copy: frame may be freed
    return QPixmap.fromImage(image).scaled(PREVIEW_W, PREVIEW_H, Qt.KeepAspectRatio, Qt.SmoothTransformation)


class ElidedLabel(QLabel):
    """One line that elides instead of widening its dock; the full text is the tooltip."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setMinimumWidth(40)
        self.setText(text)

    def text(self) -> str:
        return self._full

    def setText(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        super().setText(self.fontMetrics().elidedText(self._full, Qt.ElideRight, max(self.width(), 40)))


class JobCard(QFrame):
    """One job: preview, title, state line, progress bar and its buttons."""

    def __init__(self, job_id: str, job, parent=None):
        super().__init__(parent)
        self.job_id = job_id
        self.job = job
        self.state = "queued"
        self.result: dict | None = None
        self.message = ""
        self.step = 0
        self.total = 0
        self._queued_at = time.monotonic()
        self._started_at: float | None = None
        self._first_step_at: float | None = None
        self._finished_at: float | None = None
        self.setObjectName(f"job_{job_id}")
        self.setProperty("role", "card")
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)

        self.preview = QLabel(self)
        self.preview.setObjectName("job_preview")
        self.preview.setProperty("role", "preview")
        self.preview.setFixedSize(PREVIEW_W, PREVIEW_H)
        self.preview.setAlignment(Qt.AlignCenter)
        # Until a preview frame arrives (media jobs never send one) the box names the job's kind.
        self.preview.setText((getattr(job, "kind", "") or "job").upper())
        self.title = ElidedLabel(describe_job(job), self)
        self.title.setObjectName("job_title")
        self.title.setProperty("role", "title")
        self.status = QLabel(self)
        self.status.setObjectName("job_status")
        self.status.setWordWrap(True)  # failures are whole sentences
        self.status.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.status.setProperty("role", "muted")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("job_progress")
        self.bar.setRange(0, 0)  # busy until the first progress report
        self.bar.setTextVisible(True)

        self.cancel_button = QPushButton(icon("cancel"), "Cancel", self)
        self.cancel_button.setObjectName("job_cancel")
        self.retry_button = QPushButton(icon("retry"), "Retry", self)
        self.retry_button.setObjectName("job_retry")
        self.reveal_button = QPushButton(icon("reveal"), "Reveal", self)
        self.reveal_button.setObjectName("job_reveal")
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for b in (self.cancel_button, self.retry_button, self.reveal_button):
            b.setProperty("role", "small")
            buttons.addWidget(b)

        grid = QGridLayout(self)
        grid.setContentsMargins(6, 6, 6, 6)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(3)
        grid.addWidget(self.preview, 0, 0, 3, 1, Qt.AlignTop)
        grid.addWidget(self.title, 0, 1)
        grid.addLayout(buttons, 0, 2)
        grid.addWidget(self.status, 1, 1, 1, 2)
        grid.addWidget(self.bar, 2, 1, 1, 2)
        grid.setColumnStretch(1, 1)
        self.refresh()

    # -- state changes, called by the panel --
    def set_started(self):
        self.state = "running"
        self._started_at = time.monotonic()
        self.refresh()

    def set_progress(self, step: int, total: int):
        if self.state == "queued":
            self.set_started()
        now = time.monotonic()
        if self._first_step_at is None and step > 0:
            # Measure the rate from the first report: model loading before it says nothing about steps.
            self._first_step_at, self._first_step = now, step
        self.step, self.total = step, total
        self.refresh()

    def set_preview(self, frame):
        self.preview.setPixmap(_pixmap_from_frame(frame))

    def set_done(self, result: dict):
        self.state = "done"
        self.result = dict(result or {})
        self._finished_at = time.monotonic()
        self.refresh()

    def set_failed(self, message: str):
        self.state = "failed"
        self.message = as_sentence(message)
        self._finished_at = time.monotonic()
        self.refresh()

    def set_cancelled(self):
        self.state = "cancelled"
        self._finished_at = time.monotonic()
        self.refresh()

    @property
    def finished_at(self) -> float | None:
        return self._finished_at

    @property
    def result_path(self) -> str | None:
        path = (self.result or {}).get("path")
        return str(path) if path else None

    def eta(self) -> float | None:
        """Seconds left, from the pace of the steps reported so far; None before it is known."""
        if self.state != "running" or self._first_step_at is None or self.step <= self._first_step or not self.total:
            return None
        per_step = (time.monotonic() - self._first_step_at) / (self.step - self._first_step)
        return per_step * (self.total - self.step)

    def refresh(self):
        state = self.state
        self.setProperty("state", state)
        self.bar.setProperty("state", state)
        if state == "queued":
            self.bar.setRange(0, 0)
            status = "Waiting in the queue"
        elif state == "running":
            if self.total:
                self.bar.setRange(0, self.total)
                self.bar.setValue(self.step)
                self.bar.setFormat(f"{self.step} / {self.total}")
                eta = self.eta()
                status = f"Step {self.step} of {self.total}"
                status += f" · about {format_eta(eta)} left" if eta is not None else " · estimating time left"
            else:
                self.bar.setRange(0, 0)
                status = "Starting (loading the model or media)"
        else:
            elapsed = (self._finished_at or time.monotonic()) - (self._started_at or self._queued_at)
            self.bar.setRange(0, 1)
            self.bar.setValue(1 if state == "done" else 0)
            self.bar.setFormat({"done": "Done", "failed": "Failed", "cancelled": "Cancelled"}[state])
            if state == "done":
                status = f"Finished in {format_eta(elapsed)}"
                self.reveal_button.setToolTip(f"Show {self.result_path} in the file manager" if self.result_path
                                              else "This job left no file")
            elif state == "failed":
                status = f"Failed: {self.message}"
            else:
                status = "Cancelled; nothing was written."
        self.status.setText(status)
        self.status.setProperty("role", "error" if state == "failed" else "muted")
        self.cancel_button.setVisible(state in ("queued", "running"))
        self.retry_button.setVisible(state in ("failed", "cancelled"))
        self.reveal_button.setVisible(state == "done")
        self.reveal_button.setEnabled(self.result_path is not None)
        for w in (self, self.bar, self.status):
            w.style().unpolish(w)
            w.style().polish(w)


class JobsPanel(QWidget):
    """Lists the bridge's jobs as cards: it hears of each through the bridge's `queued`, then
    listens to that job's handle. Cancel and Retry go to the handle; Reveal is a request the
    main window carries out."""

    reveal_requested = Signal(str)

    def __init__(self, bridge, parent=None):
        super().__init__(parent)
        self.setObjectName("jobs_panel")
        self.bridge = bridge
        self.cards: dict[str, JobCard] = {}

        self.engine = ElidedLabel("Engine: this computer", self)
        self.engine.setObjectName("jobs_engine")
        self.engine.setProperty("role", "muted")
        self.summary = QLabel(self)
        self.summary.setObjectName("jobs_summary")
        self.summary.setProperty("role", "muted")
        self.clear_button = QPushButton("Clear finished", self)
        self.clear_button.setObjectName("jobs_clear")
        self.clear_button.setToolTip("Remove finished, failed and cancelled jobs from the list")
        self.clear_button.clicked.connect(self.clear_finished)
        self.empty = QLabel("No jobs yet. Generations, proxies and renders appear here as they run.", self)
        self.empty.setObjectName("jobs_empty")
        self.empty.setProperty("role", "muted")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignCenter)

        self._list = QWidget(self)
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(4, 4, 4, 4)
        self._list_layout.setSpacing(6)
        self._list_layout.addWidget(self.empty)
        self._list_layout.addStretch(1)
        self._order: list[str] = []
        self._scroll = scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.setWidget(self._list)

        # One header row, so that a 768-px screen's right column has room for the Generate panel
        # above and a whole job card below; the engine line elides first (its tooltip has it all).
        top = QHBoxLayout()
        top.addWidget(self.engine, 1)
        top.addWidget(self.summary)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)

        bridge.queued.connect(self._on_queued)
        self._update_summary()

    def one_job_height(self) -> int:
        """The height that shows the panel's header lines and one whole job card."""
        layout, lists = self.layout(), self._list_layout
        margins = layout.contentsMargins().top() + layout.contentsMargins().bottom()
        header = max(w.sizeHint().height() for w in (self.engine, self.summary, self.clear_button))
        probe = JobCard("measure", None)
        card = probe.sizeHint().height()
        probe.deleteLater()
        frame = 2 * self._scroll.frameWidth() + lists.contentsMargins().top() + lists.contentsMargins().bottom()
        return margins + header + layout.spacing() + card + frame

    def set_engine_state(self, text: str) -> None:
        """One line on the engine jobs go to: this computer, or a server's reachability, models,
        replicas and queue."""
        self.engine.setText(text)

    def card(self, job_id: str) -> JobCard | None:
        return self.cards.get(job_id)

    def cancel(self, job_id: str) -> None:
        card = self.cards.get(job_id)
        if card is not None and card.state in ("queued", "running"):
            card.cancel_button.setEnabled(False)
            card.status.setText("Cancelling…")
            self.bridge.cancel(job_id)

    def clear_finished(self) -> None:
        for job_id in [j for j, c in self.cards.items() if c.state in ("done", "failed", "cancelled")]:
            card = self.cards.pop(job_id)
            self._list_layout.removeWidget(card)
            card.deleteLater()
        self._update_summary()

    # -- job handles: the bridge announces each job; its handle tells this panel the rest --
    def _on_queued(self, handle) -> None:
        job_id = handle.id
        if job_id in self.cards:
            return
        card = JobCard(job_id, handle.job, self._list)
        card.cancel_button.clicked.connect(lambda: self.cancel(job_id))
        card.retry_button.clicked.connect(handle.retry)
        card.reveal_button.clicked.connect(lambda: self._reveal(job_id))
        handle.watch(card, started=lambda: self._changed(card.set_started), progress=card.set_progress,
                     preview=card.set_preview, done=lambda result: self._changed(card.set_done, result),
                     failed=lambda message: self._changed(card.set_failed, message),
                     cancelled=lambda: self._changed(card.set_cancelled))
        self.cards[job_id] = card
        self._list_layout.insertWidget(0, card)
        card.show()  # the layout would only show it on the next event-loop pass
        self._update_summary()

    def _changed(self, update, *args) -> None:
        """A card's state changed: update it, then the order and the summary."""
        update(*args)
        self._update_summary()

    def _reveal(self, job_id: str) -> None:
        card = self.cards.get(job_id)
        if card is not None and card.result_path:
            self.reveal_requested.emit(card.result_path)

    def order(self) -> list[str]:
        """Job ids top to bottom: running and queued jobs in queue order, then finished ones, newest first."""
        cards = list(self.cards.values())
        active = [c for c in cards if c.state in ("running", "queued")]
        active.sort(key=lambda c: c.state != "running")  # stable: keeps queue order within each state
        finished = sorted((c for c in cards if c not in active), key=lambda c: c.finished_at or 0, reverse=True)
        return [c.job_id for c in active + finished]

    def _reorder(self) -> None:
        order = self.order()
        if order == self._order:
            return
        self._order = order
        for index, job_id in enumerate(order):
            card = self.cards[job_id]
            self._list_layout.removeWidget(card)
            self._list_layout.insertWidget(index, card)
        # Place the cards now: under a burst of queued progress events the posted relayout
        # would come only after all of them.
        self._list_layout.activate()

    def _update_summary(self) -> None:
        self._reorder()
        states = [c.state for c in self.cards.values()]
        self.empty.setVisible(not states)
        parts = []
        for state, word in (("running", "running"), ("queued", "queued"), ("failed", "failed"), ("done", "done")):
            n = states.count(state)
            if n:
                parts.append(f"{n} {word}")
        self.summary.setText(" · ".join(parts) if parts else "Idle")
        self.clear_button.setEnabled(any(s in ("done", "failed", "cancelled") for s in states))
