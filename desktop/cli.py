"""`latentcut`: the command line. With no arguments (or a .otio file) it opens the app.

Exit codes: 0 done, 1 the command failed (missing or unreadable file, model error...),
2 the command line itself is wrong, 130 cancelled with Ctrl-C, 143 cancelled by SIGTERM. Expected errors print one
line on stderr, never a traceback (set LATENTCUT_DEBUG=1 to see the engine's tracebacks).

The commands live by job: `cli_parser` (every command and its arguments), `cli_project` (media
and project commands), `cli_models` (model commands and the model list), `cli_storyboard`
(storyboard and demo), `cli_jobs` (running jobs with a progress bar), `cli_args`, `cli_errors`.
The media and project commands (probe, export, render, new, add) never import torch; the
model commands import it through the engine's model worker.
"""
from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import warnings
from pathlib import Path

from desktop.cli_errors import PROG, Failure, Interrupted, Terminated, UsageError, install_signal_handlers
from desktop.cli_parser import build_parser
from desktop.cli_project import EXPORT_SUFFIXES
from engine.errors import LatentCutError
from timeline.errors import ProjectError


def run() -> None:
    """The `latentcut` program: main(), then exit with its code. Once a model command has imported
    torch, the process ends at once, its output flushed and its exit handlers run:
    - tearing down torch's modules adds about half a second to every model command and saves
      nothing (every file the command wrote is closed by then);
    - a job cancelled while its model loads leaves the load running on a daemon thread (it cannot
      be interrupted), and Python's own shutdown would stop that thread inside torch and abort
      ("FATAL: exception not rethrown", exit -6)."""
    code = main()
    if "torch" in sys.modules or any(t.name.startswith("latentcut-") and t.is_alive()
                                     for t in threading.enumerate()):
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get("LATENTCUT_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)
    else:  # a warning (e.g. a size rounded to fit a model) reads as one line, not a source listing
        warnings.showwarning = _show_warning
    if not argv:
        return _guard(lambda: open_app(None), "app")
    if len(argv) == 1 and Path(argv[0]).suffix.lower() in EXPORT_SUFFIXES and not argv[0].startswith("-"):
        return _guard(lambda: open_app(argv[0]), "app")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on bad usage, 0 for --help/--version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_usage(sys.stderr)
        return 2
    if threading.current_thread() is threading.main_thread():
        install_signal_handlers()
    return _guard(lambda: args.func(args), args.command)


def _guard(fn, command: str) -> int:
    """Runs a command; expected errors become one line on stderr and an exit code."""
    try:
        return int(fn() or 0)
    except Interrupted as exc:
        _err(command, str(exc))
        return exc.code
    except KeyboardInterrupt as exc:
        _err(command, "terminated" if isinstance(exc, Terminated) else "interrupted")
        return 143 if isinstance(exc, Terminated) else 130
    except UsageError as exc:
        _err(command, str(exc))
        return 2
    except (LatentCutError, ProjectError, ValueError, OSError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        if isinstance(exc, FileNotFoundError) and exc.filename:
            message = f"{exc.filename}: file not found"
        _err(command, str(message))
        return 1


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _err(command: str, message: str) -> None:
    print(f"{PROG} {command}: error: {message}", file=sys.stderr)


def open_app(project: str | None) -> int:
    if project is not None and not Path(project).exists():
        raise Failure(f"{project}: project not found")
    if sys.platform.startswith("linux") and not any(
            os.environ.get(v) for v in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        raise Failure("no display found (DISPLAY and WAYLAND_DISPLAY are not set), so the app cannot open; "
                      "run `latentcut demo` for the headless demo, or `latentcut --help` for the commands")
    try:
        import PySide6  # noqa: F401  (checked first so the message names what is missing)
    except ImportError:
        raise Failure("the app needs PySide6, which is not installed (pip install pyside6-essentials); "
                      "the command-line tools work without it, see `latentcut --help`") from None
    try:
        from desktop.app import run_app
    except ModuleNotFoundError as exc:
        if exc.name != "desktop.app":
            raise
        raise Failure("the desktop app is not part of this installation; "
                      "see `latentcut --help` for the command-line tools") from None
    return run_app(project)
