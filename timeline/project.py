"""Project files: ``NAME.otio`` plus the media folder ``NAME_media/`` next to it.

Saves are atomic (temporary file in the same folder, flushed, fsynced, renamed over the old
file). Media paths inside the project folder are stored relative to it and made absolute on
load, so a moved project folder still opens. A save killed half-way leaves a hidden
``.NAME.otio.PID-XXXX.tmp``; the next save or open removes it. Autosave writes ``.NAME.otio.autosave``; when it
is newer than the project, ``recovery_for`` offers it.
"""
from __future__ import annotations

import glob
import json
import os
import re
from pathlib import Path

import opentimelineio as otio

from .document import Document
from .errors import ProjectError
from .files import write_atomic

PROJECT_SUFFIX = ".otio"


def media_folder(path) -> Path:
    """The project's media folder: ``NAME_media/`` next to ``NAME.otio``."""
    path = Path(path)
    return path.with_name(path.stem + "_media")


def autosave_path(path) -> Path:
    """Where the autosave of ``path`` lives: ``.NAME.otio.autosave`` in the same folder."""
    path = Path(path)
    return path.with_name("." + path.name + ".autosave")


# -- media paths -----------------------------------------------------------------------------
# Paths are rewritten in the JSON text rather than object by object: a string replace over
# the serialized cut costs a few ms where walking 10,000 clips' references costs hundreds.
# Only the "target_url"/"target_url_base" fields are touched (a JSON string value cannot
# contain the unescaped pattern, so nothing inside metadata strings can match).
_URL_FIELDS = ("target_url", "target_url_base")
# A relative path: not absolute (/, \\, C:), not a URL with a scheme, not empty.
_RELATIVE_URL = re.compile(
    r'"(target_url|target_url_base)": "(?!"|/|\\\\|[A-Za-z]:|[A-Za-z][A-Za-z0-9+.-]+:)')


def _json_chars(text: str) -> str:
    """``text`` as it appears inside a JSON string written by OTIO."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def relative_media_json(text: str, folder) -> str:
    """OTIO JSON with media paths inside ``folder`` made relative to it."""
    prefix = _json_chars(os.path.abspath(folder).rstrip(os.sep) + os.sep)
    for key in _URL_FIELDS:
        text = text.replace(f'"{key}": "{prefix}', f'"{key}": "')
    return text


def absolute_media_json(text: str, folder) -> str:
    """OTIO JSON with relative media paths resolved against ``folder``."""
    base = _json_chars(os.path.abspath(folder).rstrip(os.sep) + os.sep)
    return _RELATIVE_URL.sub(lambda m: f'"{m.group(1)}": "{base}', text)


def timeline_from_json(text: str, path, folder=None) -> otio.schema.Timeline:
    """Parse OTIO JSON ``text`` (read from ``path``, named in errors) into a Timeline,
    resolving relative media paths against ``folder`` when given."""
    if folder is not None:
        text = absolute_media_json(text, folder)
    try:
        obj = otio.core.deserialize_json_from_string(text)
    except Exception as exc:  # OTIO raises ValueError or its own errors for bad JSON
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ProjectError(path, f"not a valid OTIO file ({first})") from exc
    if not isinstance(obj, otio.schema.Timeline):
        raise ProjectError(path, f"holds a {type(obj).__name__}, not a Timeline")
    return obj


# -- writing ---------------------------------------------------------------------------------
def write_timeline(timeline, path: Path) -> None:
    """Save ``timeline`` as OTIO JSON at ``path``, media inside its folder stored relative.

    A relative path in a document in memory was given relative to the current folder (a
    loaded project's paths are all absolute), so it is made absolute first: stored as it is,
    it would be read back against the project's folder and name another file."""
    text = absolute_media_json(timeline.to_json_string(indent=4), Path.cwd())
    write_text_atomic(relative_media_json(text, path.parent), path)


def write_text_atomic(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` atomically (see ``files.write_atomic``); a failure raises
    ProjectError naming the file, and ``path`` is left as it was."""
    try:
        write_atomic(path, text)
    except OSError as exc:
        raise ProjectError(path, f"cannot write: {exc.strerror or exc}") from exc


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete the temporary files a killed save of ``path`` left beside it
    (``.NAME.otio.PID-XXXX.tmp`` whose process is gone, or older ones without a PID).
    Returns what was removed."""
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        match = re.fullmatch(r"(\d+)-.*", tmp.name[len(path.name) + 2:-len(".tmp")])
        if match and _process_alive(int(match.group(1))):
            continue  # a save in flight in a running process
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass  # not ours to remove (permissions): leave it
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def _document_timeline(doc) -> otio.schema.Timeline:
    if isinstance(doc, Document):
        return doc.timeline
    if isinstance(doc, otio.schema.Timeline):
        return doc
    raise TypeError(f"doc: expected Document or Timeline, got {type(doc).__name__}")


def save_project(doc, path) -> Path:
    """Save atomically to ``path`` (``NAME.otio``), create ``NAME_media/``, and drop the now
    older autosave. Returns the path."""
    path = Path(path)
    if path.suffix != PROJECT_SUFFIX:
        raise ValueError(f"path: a project file must end in {PROJECT_SUFFIX}, got {path}")
    if not path.parent.is_dir():
        raise ProjectError(path, "the folder does not exist")
    remove_stale_temps(path)
    write_timeline(_document_timeline(doc), path)
    media_folder(path).mkdir(exist_ok=True)
    autosave_path(path).unlink(missing_ok=True)
    return path


def autosave(doc, path) -> Path:
    """Write the autosave of project ``path`` (a separate file; the project is untouched)."""
    path = Path(path)
    target = autosave_path(path)
    if not path.parent.is_dir():
        raise ProjectError(path, "the folder does not exist")
    write_timeline(_document_timeline(doc), target)
    return target


def recovery_for(path) -> Path | None:
    """The autosave of ``path`` when it is newer than the project (or the project is gone)."""
    path = Path(path)
    auto = autosave_path(path)
    if not auto.is_file():
        return None
    if not path.exists() or auto.stat().st_mtime_ns > path.stat().st_mtime_ns:
        return auto
    return None


def discard_recovery(path) -> None:
    """Delete the autosave of project ``path`` if there is one."""
    autosave_path(Path(path)).unlink(missing_ok=True)


# -- reading ---------------------------------------------------------------------------------
def read_timeline(path, folder=None) -> otio.schema.Timeline:
    """Read an OTIO JSON timeline, resolving relative media paths against ``folder`` when
    given; ProjectError naming the file when it is missing or bad."""
    path = Path(path)
    if not path.exists():
        raise ProjectError(path, "the file does not exist")
    if not path.is_file():
        raise ProjectError(path, "not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProjectError(path, f"cannot read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ProjectError(path, "not an OTIO project (not UTF-8 text)") from exc
    if not text.strip():
        raise ProjectError(path, "the file is empty")
    return timeline_from_json(text, path, folder)


def load_project(path, use_recovery: bool = False) -> Document:
    """Open project ``path``; with ``use_recovery`` open its newer autosave instead (if any).
    Relative media paths are resolved against the project's folder."""
    path = Path(path)
    if path.parent.is_dir():
        remove_stale_temps(path)
    source = path
    if use_recovery:
        source = recovery_for(path) or path
    return Document(read_timeline(source, path.parent.absolute()))
