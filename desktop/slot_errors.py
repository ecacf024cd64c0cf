"""An exception raised in a Qt slot becomes a message to the user, not a line on stderr and a panel
left showing stale data. Qt calls sys.excepthook for them; `install` routes that hook here."""
from __future__ import annotations

import sys
import traceback

from PySide6.QtCore import QObject, Signal


def sentence(exc: BaseException) -> str:
    """One line a user can act on: the error's own words, or its kind when it has none."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"Something went wrong: {text} (the details are in the log)."


class SlotErrorReporter(QObject):
    """Emits `reported(sentence)` for each uncaught exception; the trace still goes to stderr."""

    reported = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._previous = None

    def install(self) -> None:
        self._previous = sys.excepthook
        sys.excepthook = self._hook

    def uninstall(self) -> None:
        if self._previous is not None and sys.excepthook == self._hook:
            sys.excepthook = self._previous
        self._previous = None

    def _hook(self, kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            (self._previous or sys.__excepthook__)(kind, value, tb)
            return
        traceback.print_exception(kind, value, tb, file=sys.stderr)
        try:
            self.reported.emit(sentence(value))
        except RuntimeError:  # the window that listened is gone (the app is closing)
            pass


def report_slot_errors(window) -> SlotErrorReporter:
    """Show every uncaught exception from now on in WINDOW (`window.show_error`)."""
    reporter = SlotErrorReporter(window)
    reporter.reported.connect(window.show_error)
    reporter.install()
    return reporter
