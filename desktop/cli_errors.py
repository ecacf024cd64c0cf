"""The command line's exits: the errors its commands raise and the exit code of each, and the
signal handlers that make Ctrl-C and SIGTERM cancel a job cleanly."""
from __future__ import annotations

import signal

from engine.errors import LatentCutError

PROG = "latentcut"


class UsageError(ValueError):
    """The command line is wrong (exit 2)."""


class Failure(LatentCutError):
    """The command could not be carried out (exit 1)."""


class Interrupted(Exception):
    """Ctrl-C (exit 130) or SIGTERM (exit 143) cancelled a job."""

    def __init__(self, message: str, code: int = 130):
        super().__init__(message)
        self.code = code


class Terminated(KeyboardInterrupt):
    """SIGTERM, as job controllers send it: handled like Ctrl-C, but exits 143."""


def install_signal_handlers() -> None:
    """Ctrl-C and SIGTERM cancel cleanly however the process was started: a shell starts a
    background job with SIGINT ignored, and Python then keeps ignoring it."""
    def terminate(signum, frame):
        raise Terminated()

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, terminate)
