"""Project files: ``NAME.otio`` plus the media folder ``NAME_media/`` next to it.

Saves are atomic (temporary file in the same folder, flushed, fsynced, renamed over the old
file). Media paths inside the project folder are stored relative to it and made absolute on
load, so a moved project folder still opens. Autosave writes ``.NAME.otio.autosave``; when it
is newer than the project, ``recovery_for`` offers it.
"""
from __future__ import annotations

import os
import urllib.parse
from pathlib import Path

import opentimelineio as otio

from .document import Document
from .errors import ProjectError

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
def _url_fields(timeline):
    """(reference, attribute) for every file-like media reference in the timeline, takes included."""
    for clip in timeline.find_clips():
        for ref in clip.media_references().values():
            if isinstance(ref, otio.schema.ExternalReference):
                yield ref, "target_url"
            elif isinstance(ref, otio.schema.ImageSequenceReference):
                yield ref, "target_url_base"


def _local_path(url: str) -> str | None:
    """The file path a URL names, or None for non-file URLs (http:, ...)."""
    if not url:
        return None
    if url.startswith("file:"):
        return otio.url_utils.filepath_from_url(url)
    scheme = urllib.parse.urlparse(url).scheme
    if scheme and len(scheme) > 1:  # one letter: a Windows drive
        return None
    return url


def _relativize(timeline, folder: Path) -> list:
    """Point media inside ``folder`` at relative paths; returns what to put back."""
    changed = []
    root = os.path.abspath(folder)
    for ref, attr in _url_fields(timeline):
        url = getattr(ref, attr)
        path = _local_path(url)
        if path is None or not os.path.isabs(path):
            continue
        rel = os.path.relpath(path, root) if os.path.splitdrive(path)[0] == os.path.splitdrive(root)[0] else None
        if rel is None or rel == os.pardir or rel.startswith(os.pardir + os.sep):
            continue
        changed.append((ref, attr, url))
        setattr(ref, attr, Path(rel).as_posix() + ("/" if attr == "target_url_base" else ""))
    return changed


def _absolutize(timeline, folder: Path) -> None:
    """Resolve relative media paths against the project folder."""
    for ref, attr in _url_fields(timeline):
        url = getattr(ref, attr)
        path = _local_path(url)
        if path is None or os.path.isabs(path):
            continue
        full = os.path.normpath(os.path.join(folder, path))
        setattr(ref, attr, full + (os.sep if attr == "target_url_base" else ""))


# -- writing ---------------------------------------------------------------------------------
def _write_atomic(timeline, path: Path) -> None:
    """Save ``timeline`` as OTIO JSON at ``path`` with media paths relative to its folder."""
    changed = _relativize(timeline, path.parent)
    try:
        text = timeline.to_json_string(indent=4)
    finally:
        for ref, attr, url in changed:
            setattr(ref, attr, url)
    write_text_atomic(text, path)


def write_text_atomic(text: str, path: Path) -> None:
    """Write ``text`` to a temp file beside ``path``, flush, fsync, rename over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    created = False
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            created = True
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        if created:
            tmp.unlink(missing_ok=True)
        raise ProjectError(path, f"cannot write: {exc.strerror or exc}") from exc
    try:  # make the rename itself durable
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass  # some file systems cannot fsync a directory; the file itself is synced


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
    _write_atomic(_document_timeline(doc), path)
    media_folder(path).mkdir(exist_ok=True)
    autosave_path(path).unlink(missing_ok=True)
    return path


def autosave(doc, path) -> Path:
    """Write the autosave of project ``path`` (a separate file; the project is untouched)."""
    path = Path(path)
    target = autosave_path(path)
    if not path.parent.is_dir():
        raise ProjectError(path, "the folder does not exist")
    _write_atomic(_document_timeline(doc), target)
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
def read_timeline(path) -> otio.schema.Timeline:
    """Read an OTIO JSON timeline; ProjectError naming the file when it is missing or bad."""
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
    try:
        obj = otio.core.deserialize_json_from_string(text)
    except Exception as exc:  # OTIO raises ValueError or its own errors for bad JSON
        raise ProjectError(path, f"not a valid OTIO file ({str(exc).splitlines()[0][:200]})") from exc
    if not isinstance(obj, otio.schema.Timeline):
        raise ProjectError(path, f"holds a {type(obj).__name__}, not a Timeline")
    return obj


def load_project(path, use_recovery: bool = False) -> Document:
    """Open project ``path``; with ``use_recovery`` open its newer autosave instead (if any).
    Relative media paths are resolved against the project's folder."""
    path = Path(path)
    source = path
    if use_recovery:
        source = recovery_for(path) or path
    timeline = read_timeline(source)
    _absolutize(timeline, path.parent.absolute())
    return Document(timeline)
