"""sha256 of weight files, cached by (path, size, mtime) so a warm engine never re-reads them."""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

_cache: dict[tuple[str, int, int], str] = {}
_lock = threading.Lock()


def sha256_file(path: str | Path) -> str:
    path = Path(path).resolve()
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"cannot hash missing file: {path}") from None
    key = (str(path), st.st_size, st.st_mtime_ns)
    with _lock:
        if key in _cache:
            return _cache[key]
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    value = digest.hexdigest()
    with _lock:
        _cache[key] = value
    return value
