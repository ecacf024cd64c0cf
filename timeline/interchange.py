"""Interchange: export a cut to .otio .otioz .otiod .edl .xml .fcpxml .xges .mlt, saying what
each format could not hold, and import whatever OTIO's adapters read.

OTIO formats keep everything. For the others the cut is shaped for the writer (file:// URLs,
every range filled in, the active media only), written, and the text is read back with the
same reader an import uses before anything reaches the disk: what differs from the cut is
the "dropped" report, in an editor's words. Generated clips carry their provenance and recipe
in EDL comments and FCP XML log notes, and come back generated.
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import opentimelineio as otio

from .document import Document
from .errors import ProjectError
from .interchange_bundle import otioz_media_folder, read_otioz, write_bundle
from .interchange_credentials import Check, with_current_credentials
from .interchange_edl import check_edl, edl_rate, edl_timeline, read_edl, restore_generated, write_edl
from .interchange_fcp import fcp_timeline, read_fcp_xml
from .interchange_formats import fcpxml_timeline, mlt_timeline, xges_text, xges_timeline
from .interchange_prepare import image_sequences_as_files, prepared_copy, with_local_paths
from .interchange_report import inventory, losses
from .project import read_timeline, write_text_atomic, write_timeline
from .provenance import timeline_rate

__all__ = ["FORMATS", "ExportReport", "edl_rate", "export_timeline", "import_timeline",
           "otioz_media_folder"]

FORMATS = {".otio": "otio_json", ".otioz": "otioz", ".otiod": "otiod", ".edl": "cmx_3600",
           ".xml": "fcp_xml", ".fcpxml": "fcpx_xml", ".xges": "xges", ".mlt": "mlt_xml"}
FORMAT_NAMES = {"cmx_3600": "EDL", "fcp_xml": "FCP XML", "fcpx_xml": "FCPXML", "xges": "xges",
                "mlt_xml": "MLT XML"}


@dataclass
class ExportReport:
    """What ``export_timeline`` wrote, what the format could not hold, and which generated
    takes' Content Credentials are not what they were when the take was made."""

    path: Path
    format: str
    dropped: list[str] = field(default_factory=list)
    credentials: list[str] = field(default_factory=list)


def _timeline_of(doc_or_timeline) -> otio.schema.Timeline:
    if isinstance(doc_or_timeline, Document):
        return doc_or_timeline.timeline
    if isinstance(doc_or_timeline, otio.schema.Timeline):
        return doc_or_timeline
    raise TypeError(f"doc_or_timeline: expected Document or Timeline, "
                    f"got {type(doc_or_timeline).__name__}")


def _size(timeline) -> tuple[int | None, int | None]:
    doc = Document(timeline)
    return doc.width, doc.height


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _shape(tl, fmt: str, rate: float, size) -> tuple[otio.schema.Timeline, list[str], dict]:
    """The writer's copy of the cut, the changes made on the way and the writer's options."""
    if fmt == "cmx_3600":
        tl, notes = edl_timeline(tl)
        return tl, notes, {}
    if fmt != "mlt_xml":  # MLT reads image sequences; the others get their first frame
        image_sequences_as_files(tl)
    if fmt == "fcp_xml":
        return fcp_timeline(tl, *size), [], {}
    if fmt == "fcpx_xml":
        return fcpxml_timeline(tl, rate), [], {}
    if fmt == "xges":
        return xges_timeline(tl, rate), [], {}
    tl, notes = mlt_timeline(tl, rate)
    width, height = size
    return tl, notes, ({"width": width, "height": height} if width and height else {})


def read_back(text: str, fmt: str, rate: float) -> otio.schema.Timeline | None:
    """``text`` read with the reader an import would use (None for MLT, which has none)."""
    if fmt == "cmx_3600":
        return restore_generated(check_edl(text, rate))
    if fmt == "mlt_xml":
        return None
    if fmt == "fcp_xml":
        return _one_timeline(read_fcp_xml(text))
    return _one_timeline(otio.adapters.read_from_string(text, adapter_name=fmt))


def _write_text(timeline, fmt: str, out: Path, base: Path) -> tuple[str, list[str]]:
    name = FORMAT_NAMES[fmt]
    rate = timeline_rate(timeline)
    tl, notes = prepared_copy(timeline, base)
    before = copy.deepcopy(tl)  # the cut as written, media as absolute paths, to compare with
    with_local_paths(before)
    with warnings.catch_warnings():  # adapters warn of what they skip; the report says it
        warnings.simplefilter("ignore")
        text, back, more = _write_and_read(tl, fmt, rate, _size(timeline), out, name)
    notes += more
    if back is not None:
        with_local_paths(back)
        try:
            notes += losses(inventory(before, rate), inventory(back, rate), name)
        except Exception as exc:  # the file is sound; only the comparison failed, so say so
            notes.append(f"LatentCut could not compare the {name} with the cut "
                         f"({_first_line(exc)}); check it in the editor it is for")
    return text, notes


def _write_and_read(tl, fmt, rate, size, out, name):
    try:
        tl, more, options = _shape(tl, fmt, rate, size)
        if fmt == "cmx_3600":
            text = write_edl(tl, rate)
        else:
            text = otio.adapters.write_to_string(tl, adapter_name=fmt, **options)
        if fmt == "xges":
            text = xges_text(text, rate, *size)
    except Exception as exc:  # adapters raise many kinds of errors for cuts they cannot hold
        raise ProjectError(out, f"the {name} writer cannot write this cut: {_first_line(exc)}") from exc
    try:
        back = read_back(text, fmt, rate)
    except Exception as exc:  # a file its own reader refuses must not reach the user
        raise ProjectError(out, f"the {name} written does not read back ({_first_line(exc)}); "
                                "nothing was written") from exc
    return text, back, more


def export_timeline(doc_or_timeline, out_path, base_dir=None, credentials: Check | None = None) -> ExportReport:
    """Write the cut in the format ``out_path``'s extension names (see ``FORMATS``).
    ``base_dir`` resolves relative media paths (defaults to the current folder).
    ``credentials`` reads a file's Content Credentials as they are now (the engine's
    ``current_record``): given, each generated take is checked again and exported with its
    current state. Returns an ``ExportReport`` listing what the format could not hold and
    which credentials changed."""
    timeline = _timeline_of(doc_or_timeline)
    out = Path(out_path).absolute()
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise ValueError(f"out_path: unknown export format {out.suffix!r} "
                         f"(use one of {', '.join(FORMATS)})")
    if not out.parent.is_dir():
        raise ProjectError(out, "the folder does not exist")
    base = Path(base_dir) if base_dir else Path.cwd()
    dropped: list[str] = []
    changed: list[str] = []
    if credentials is not None:
        timeline, changed = with_current_credentials(timeline, base, credentials)
    if fmt == "otio_json":
        write_timeline(timeline, out)
    elif fmt in ("otioz", "otiod"):
        write_bundle(timeline, out, fmt, base, dropped)
    else:
        text, dropped = _write_text(timeline, fmt, out, base)
        write_text_atomic(text, out)
    return ExportReport(path=out, format=out.suffix.lower().lstrip("."), dropped=dropped, credentials=changed)


def _one_timeline(result) -> otio.schema.Timeline:
    if isinstance(result, otio.schema.SerializableCollection):
        timelines = [t for t in result.find_children(descended_from_type=otio.schema.Timeline)] \
            or [t for t in result if isinstance(t, otio.schema.Timeline)]
        if not timelines:
            raise ValueError("it holds no timeline (only clips or bins)")
        result = timelines[0]
    if not isinstance(result, otio.schema.Timeline):
        raise ValueError(f"it holds a {type(result).__name__}, not a timeline")
    return result


def import_timeline(path, rate: float | None = None, notes: list | None = None) -> otio.schema.Timeline:
    """Read any file an OTIO adapter reads (.otio .otioz .otiod .edl .xml .fcpxml .xges ...)
    as a Timeline. Relative media paths in .otio files and .otiod bundles are resolved against
    their folder; an .otioz is unpacked once into ``NAME_otioz/`` next to it. An EDL is read
    at ``rate`` when given, else at the rate it states or implies; anything the reader had to
    assume is appended to ``notes``. Media come back as plain paths, from URLs or paths."""
    path = Path(path)
    if not path.exists():
        raise ProjectError(path, "the file does not exist")
    suffix = path.suffix.lower()
    if suffix == ".otio":
        return read_timeline(path, path.parent.absolute())
    if suffix == ".otioz":
        return read_otioz(path)
    if suffix == ".otiod":  # media paths inside the bundle are relative to its folder
        return read_timeline(path / "content.otio", path.absolute())
    if suffix == ".edl":
        timeline = read_edl(path, rate, notes)
    else:
        try:
            if suffix == ".xml":
                timeline = _one_timeline(read_fcp_xml(path.read_bytes()))
            else:
                timeline = _one_timeline(otio.adapters.read_from_file(str(path)))
        except Exception as exc:  # adapters raise many kinds of errors for bad input
            raise ProjectError(path, f"cannot read as a timeline: {_first_line(exc)}") from exc
    with_local_paths(timeline)
    return timeline
