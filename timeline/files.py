"""Atomic file writes: a file is written under a temporary name beside its target, flushed
to disk, and renamed over the target, so a crash or a failed write never leaves a
half-written file and the old one stays as it was."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for a writer that wants a file name (safetensors,
    JSON dumps). On a normal exit the file is synced and renamed over ``path``, keeping the old
    file's mode (or 0644); on an exception it is removed. Raises OSError."""
    path = Path(path)
    # the PID in the name tells a save in flight from one a killed process left (project.py)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp makes the file private; keep the old file's mode, or the usual one
        os.chmod(tmp, (path.stat().st_mode if path.exists() else 0o644) & 0o777)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` atomically. Raises OSError."""
    with atomic_path(path) as tmp:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)


def _sync_folder(folder: Path) -> None:
    """Make a rename durable; some file systems cannot fsync a folder, and then the file itself
    is synced all the same."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
