"""OTIO bundles: .otioz (a zip) and .otiod (a folder) holding the cut and the active media
of each clip. Writing replaces an older bundle only once the new one is complete; reading an
.otioz unpacks it next to itself so its clips point at real files."""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import opentimelineio as otio
from opentimelineio.adapters.file_bundle_utils import MediaReferencePolicy

from .errors import ProjectError
from .project import timeline_from_json


def write_bundle(timeline, out: Path, adapter: str, base_dir, dropped: list[str]) -> None:
    """Write an .otioz/.otiod bundle with the active media of each clip copied in."""
    # a copy with every media path absolute, as the bundle adapters need
    tl = timeline_from_json(timeline.to_json_string(), out, Path(base_dir) if base_dir else Path.cwd())
    for clip in tl.find_clips():
        refs = clip.media_references()
        ref = clip.media_reference
        others = [k for k, r in refs.items() if r is not ref
                  and isinstance(r, otio.schema.ExternalReference)]
        if others:
            dropped.append(f"clip {clip.name!r}: inactive media {', '.join(sorted(others))} "
                           "not bundled (still referenced by path)")
        url = getattr(ref, "target_url", None)
        if url is not None:
            path = otio.url_utils.filepath_from_url(url) if url.startswith("file:") else url
            if not os.path.isfile(path):
                dropped.append(f"clip {clip.name!r}: media {url} is missing, not bundled")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    _remove(tmp)
    try:
        otio.adapters.write_to_file(tl, str(tmp), adapter_name=adapter,
                                    media_policy=MediaReferencePolicy.MissingIfNotFile)
    except (otio.exceptions.OTIOError, OSError) as exc:
        _remove(tmp)
        raise ProjectError(out, f"cannot bundle: {exc}") from exc
    try:
        if out.is_dir():  # an older .otiod: swap it out, then delete it
            old = out.with_name(f".{out.name}.{os.getpid()}.old")
            os.replace(out, old)
            os.replace(tmp, out)
            shutil.rmtree(old)
        else:
            os.replace(tmp, out)
    except OSError as exc:
        _remove(tmp)
        raise ProjectError(out, f"cannot replace it: {exc.strerror or exc}") from exc


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def otioz_media_folder(path) -> Path:
    """Where ``import_timeline`` unpacks an .otioz bundle: ``NAME_otioz/`` next to it."""
    path = Path(path)
    return path.with_name(path.stem + "_otioz")


def read_otioz(path: Path) -> otio.schema.Timeline:
    """Read an .otioz, unpacking it (again) so the clips point at real files."""
    folder = otioz_media_folder(path).absolute()
    if folder.exists() and not (folder / "content.otio").is_file():
        raise ProjectError(path, f"cannot unpack: {folder} exists and is not an unpacked bundle")
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(path) as bundle:
            text = bundle.read("content.otio").decode("utf-8")
            _remove(tmp)
            bundle.extractall(tmp)
        if folder.exists():  # an earlier unpack: swap it out, then delete it
            old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
            os.replace(folder, old)
            os.replace(tmp, folder)
            shutil.rmtree(old)
        else:
            os.replace(tmp, folder)
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError) as exc:
        _remove(tmp)
        raise ProjectError(path, f"not an OTIOZ bundle ({exc})") from exc
    except OSError as exc:
        _remove(tmp)
        raise ProjectError(path, f"cannot unpack to {folder}: {exc.strerror or exc}") from exc
    return timeline_from_json(text, path, folder)
