"""The Content Credentials a file carries now, for exports: a take may have been edited or
signed again since it was made, so an export re-reads each generated take rather than
repeating the state recorded then. A file is read again only when its size or modification
time changed, so exporting a long cut in several formats reads each take once."""
from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import Any

from engine.credentials.settings import configured_trust_anchors

_known: dict[tuple, dict[str, Any]] = {}
_lock = threading.Lock()


def current_record(path: str | os.PathLike, trust_anchors: str | None = None) -> dict[str, Any] | None:
    """What the document keeps of `path`'s credentials (`Credentials.record`) as the file is
    now; None when the file cannot be found or read. `trust_anchors` defaults to the
    configured ones ($LATENTCUT_TRUST_ANCHORS)."""
    from engine.credentials.reading import read_credentials

    anchors = trust_anchors or configured_trust_anchors()
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    key = (str(Path(path).absolute()), st.st_size, st.st_mtime_ns, anchors)
    with _lock:
        if key not in _known:
            try:
                _known[key] = read_credentials(path, trust_anchors=anchors).record()
            except OSError:
                return None
        return dict(_known[key])
