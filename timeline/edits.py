"""Edit commands on the document: insert, overwrite, append, lift, ripple delete, split, trim,
slip, move, tracks, markers and close gap. Primitive commands (InsertItem, RemoveItem,
SetSourceRange, ...) each hold what they need to undo themselves exactly; every editor-facing
edit is an ``EditCommand`` built from them. Record positions (``time``) are in track time;
``source_range`` values are in the item's media time; times are RationalTime/TimeRange throughout.
"""
from __future__ import annotations

import copy

import opentimelineio as otio

from .commands import Command, EditCommand
from .errors import EditError
from .provenance import app_data, has_app_data

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange


# -- primitives ------------------------------------------------------------------------------
class InsertItem(Command):
    """Put ``item`` at ``index`` of ``track``; undo takes it out again."""

    text = "Insert item"

    def __init__(self, track, index: int, item):
        self.track, self.index, self.item = track, index, item

    def do(self, doc):
        doc.insert_item(self.track, self.index, self.item)

    def undo(self, doc):
        doc.remove_item(self.track, self.index)


class RemoveItem(Command):
    """Take the item at ``index`` out of ``track``; undo puts the same object back there."""

    text = "Remove item"

    def __init__(self, track, index: int):
        self.track, self.index = track, index
        self.item = None

    def do(self, doc):
        self.item = doc.remove_item(self.track, self.index)

    def undo(self, doc):
        doc.insert_item(self.track, self.index, self.item)


class _SetValue(Command):
    """Set one property of an item through the Document method `write`; undo restores the old value."""

    read = ""    # the item's attribute
    write = ""   # the Document method that changes it

    def __init__(self, item, value):
        self.item, self.new = item, value
        self.old = None

    def do(self, doc):
        self.old = getattr(self.item, self.read)
        getattr(doc, self.write)(self.item, self.new)

    def undo(self, doc):
        getattr(doc, self.write)(self.item, self.old)


class SetSourceRange(_SetValue):
    """Change an item's source range (media time)."""

    text, read, write = "Set source range", "source_range", "set_source_range"


class SetEnabled(_SetValue):
    """Enable or disable a clip or track (hide a video track, mute an audio track)."""

    read, write = "enabled", "set_enabled"

    def __init__(self, item, enabled: bool):
        super().__init__(item, bool(enabled))
        self.text = ("Enable " if enabled else "Disable ") + (item.name or "item")


class Rename(_SetValue):
    """Rename a clip or track."""

    read, write = "name", "set_name"

    def __init__(self, item, name: str):
        super().__init__(item, name)
        self.text = f"Rename to {name}"


class SetAppMetadata(Command):
    """Replace ``metadata["latentcut"]`` of an object; undo restores the old value exactly."""

    text = "Set metadata"

    def __init__(self, obj, value: dict | None):
        self.obj, self.new = obj, value
        self.old = None

    def do(self, doc):
        self.old = app_data(self.obj) if has_app_data(self.obj) else None
        doc.set_app_metadata(self.obj, self.new)

    def undo(self, doc):
        doc.set_app_metadata(self.obj, self.old)


class SetMediaReferences(Command):
    """Replace a clip's named media references and active key; undo restores both."""

    text = "Set media references"

    def __init__(self, clip, references: dict, active_key: str):
        self.clip, self.new, self.new_key = clip, dict(references), active_key
        self.old = self.old_key = None

    def do(self, doc):
        self.old = dict(self.clip.media_references())
        self.old_key = self.clip.active_media_reference_key
        doc.set_media_references(self.clip, self.new, self.new_key)

    def undo(self, doc):
        doc.set_media_references(self.clip, self.old, self.old_key)


class InsertTrack(Command):
    """Put ``track`` at ``index`` of the timeline's stack."""

    text = "Insert track"

    def __init__(self, index: int, track):
        self.index, self.track = index, track

    def do(self, doc):
        doc.insert_track(self.index, self.track)

    def undo(self, doc):
        doc.remove_track(self.index)


# -- helpers ---------------------------------------------------------------------------------
def _is_gap(item) -> bool:
    return isinstance(item, otio.schema.Gap)


def make_gap(duration: RationalTime) -> otio.schema.Gap:
    """A gap of ``duration`` (its source range starts at 0 in its own time)."""
    return otio.schema.Gap(source_range=TimeRange(RationalTime(0, duration.rate), duration))


def _require_positive(name: str, duration: RationalTime) -> None:
    if duration.value <= 0:
        raise ValueError(f"{name}: duration must be > 0, got {duration}")


def _require_time(name: str, time) -> None:
    if not isinstance(time, RationalTime):
        raise TypeError(f"{name}: expected RationalTime, got {type(time).__name__}")
    if time.value < 0:
        raise ValueError(f"{name}: must be >= 0, got {time}")


def _require_track(track) -> None:
    if not isinstance(track, otio.schema.Track):
        raise TypeError(f"track: expected otio.schema.Track, got {type(track).__name__}")


def _require_item(name: str, item) -> None:
    if not isinstance(item, otio.core.Item):
        raise TypeError(f"{name}: expected an OTIO clip or gap, got {type(item).__name__}")


def _require_delta(delta) -> None:
    if not isinstance(delta, RationalTime):
        raise TypeError(f"delta: expected RationalTime, got {type(delta).__name__}")


def _require_free(item) -> None:
    if item.parent() is not None:
        raise EditError(f"item {item.name!r} is already on track {item.parent().name!r}")


def _with_explicit_range(cmd: EditCommand, doc, item) -> TimeRange:
    """The item's source range, first making it explicit when the media's range was used."""
    if item.source_range is None:
        cmd.step(doc, SetSourceRange(item, item.trimmed_range()))
    return item.source_range


def _check_available(item, new: TimeRange) -> None:
    """Refuse a source range that reaches outside the active media's known range."""
    ref = getattr(item, "media_reference", None)
    avail = ref.available_range if ref is not None else None
    if avail is None:
        return
    if new.start_time < avail.start_time or new.end_time_exclusive() > avail.end_time_exclusive():
        raise EditError(f"item {item.name!r}: {new.start_time}..{new.end_time_exclusive()} "
                        f"is outside its media ({avail.start_time}..{avail.end_time_exclusive()})")


def edit_point(cmd: EditCommand, doc, track, time: RationalTime, pad: bool = True) -> int:
    """Make sure an item boundary exists at ``time`` (track time), splitting the item that
    spans it; past the end, pad with a gap (when ``pad``). Returns the index of the item that
    starts at ``time`` (or ``len(track)``)."""
    end = doc.track_end(track)
    if time >= end:
        if time > end and pad:
            cmd.step(doc, InsertItem(track, len(track), make_gap(time - end)))
        return len(track)
    index, item, rng = doc.item_at(track, time)
    if item is None or rng.start_time == time:
        return index
    offset = time - rng.start_time  # how far into the item, in track time
    src = _with_explicit_range(cmd, doc, item)
    second = copy.deepcopy(item)
    second.source_range = TimeRange(src.start_time + offset, src.duration - offset)
    # Each piece keeps the markers that start inside it (markers are in media time).
    cut = src.start_time + offset
    keep = [m for m in second.markers if m.marked_range.start_time >= cut]
    second.markers[:] = keep
    cmd.step(doc, SetSourceRange(item, TimeRange(src.start_time, offset)))
    cmd.step(doc, InsertItem(track, index + 1, second))
    return index + 1


def put_gap(cmd: EditCommand, doc, track, index: int, duration: RationalTime) -> None:
    """Leave ``duration`` of empty space before ``track[index]``, merging with neighbouring
    gaps; at the end of the track nothing is kept (trailing gaps are dropped too)."""
    n = len(track)
    if index >= n:
        while len(track) and _is_gap(track[len(track) - 1]):
            cmd.step(doc, RemoveItem(track, len(track) - 1))
        return
    prev = track[index - 1] if index > 0 else None
    nxt = track[index]
    if prev is not None and _is_gap(prev):
        total = prev.duration() + duration
        if _is_gap(nxt):
            total += nxt.duration()
            cmd.step(doc, RemoveItem(track, index))
        cmd.step(doc, SetSourceRange(prev, TimeRange(prev.source_range.start_time, total)))
    elif _is_gap(nxt):
        cmd.step(doc, SetSourceRange(nxt, TimeRange(nxt.source_range.start_time,
                                                    nxt.duration() + duration)))
    else:
        cmd.step(doc, InsertItem(track, index, make_gap(duration)))


def _take_from_gap(cmd: EditCommand, doc, track, index: int, amount: RationalTime, who) -> None:
    """Shorten the gap at ``index`` by ``amount`` (removing it when used up)."""
    gap = track[index] if 0 <= index < len(track) else None
    if gap is None or not _is_gap(gap) or gap.duration() < amount:
        raise EditError(f"item {who.name!r}: no room to extend by {amount} (needs a gap)")
    if gap.duration() == amount:
        cmd.step(doc, RemoveItem(track, index))
    else:
        cmd.step(doc, SetSourceRange(gap, TimeRange(gap.source_range.start_time,
                                                    gap.duration() - amount)))


# -- edits -----------------------------------------------------------------------------------
class Insert(EditCommand):
    """Insert ``item`` at ``time`` (track time), rippling later items right (splits a clip)."""

    def __init__(self, track, time: RationalTime, item):
        _require_track(track)
        _require_item("item", item)
        super().__init__(f"Insert {item.name or 'clip'}")
        _require_time("time", time)
        _require_positive("item", item.duration())
        self.track, self.time, self.item = track, time, item

    def build(self, doc):
        _require_free(self.item)
        index = edit_point(self, doc, self.track, self.time)
        self.step(doc, InsertItem(self.track, index, self.item))


class Overwrite(EditCommand):
    """Put ``item`` at ``time`` (track time), replacing whatever covered that range."""

    def __init__(self, track, time: RationalTime, item, text: str | None = None):
        _require_track(track)
        _require_item("item", item)
        super().__init__(text or f"Overwrite with {item.name or 'clip'}")
        _require_time("time", time)
        _require_positive("item", item.duration())
        self.track, self.time, self.item = track, time, item

    def build(self, doc):
        _require_free(self.item)
        start = edit_point(self, doc, self.track, self.time)
        stop = edit_point(self, doc, self.track, self.time + self.item.duration(), pad=False)
        for i in range(stop - 1, start - 1, -1):
            self.step(doc, RemoveItem(self.track, i))
        self.step(doc, InsertItem(self.track, start, self.item))


class Append(EditCommand):
    """Put ``item`` after the last item of ``track``."""

    def __init__(self, track, item):
        _require_track(track)
        _require_item("item", item)
        super().__init__(f"Append {item.name or 'clip'}")
        _require_positive("item", item.duration())
        self.track, self.item = track, item

    def build(self, doc):
        _require_free(self.item)
        self.step(doc, InsertItem(self.track, len(self.track), self.item))


class Lift(EditCommand):
    """Take ``item`` off its track, leaving a gap of the same length (nothing moves)."""

    def __init__(self, item):
        super().__init__(f"Lift {item.name or 'clip'}")
        self.item = item

    def build(self, doc):
        track = self.item.parent()
        index = doc.index_of(self.item)
        duration = self.item.duration()
        self.step(doc, RemoveItem(track, index))
        put_gap(self, doc, track, index, duration)


class RippleDelete(EditCommand):
    """Take ``item`` off its track and close the space (later items move left)."""

    def __init__(self, item):
        super().__init__(f"Ripple delete {item.name or 'clip'}")
        self.item = item

    def build(self, doc):
        self.step(doc, RemoveItem(self.item.parent(), doc.index_of(self.item)))


class CloseGap(EditCommand):
    """Remove a gap so the items after it move left."""

    def __init__(self, gap):
        if not _is_gap(gap):
            raise ValueError(f"gap: expected a Gap, got {type(gap).__name__}")
        super().__init__("Close gap")
        self.gap = gap

    def build(self, doc):
        self.step(doc, RemoveItem(self.gap.parent(), doc.index_of(self.gap)))


class Split(EditCommand):
    """Razor: cut the item that spans ``time`` (track time) into two."""

    def __init__(self, track, time: RationalTime):
        _require_track(track)
        super().__init__("Split")
        _require_time("time", time)
        self.track, self.time = track, time

    def build(self, doc):
        _, item, rng = doc.item_at(self.track, self.time)
        if item is None or rng.start_time == self.time:
            raise EditError(f"split: no item on track {self.track.name!r} spans {self.time}")
        edit_point(self, doc, self.track, self.time)


class _Trim(EditCommand):
    """Shared by TrimHead and TrimTail: they differ in the new source range and where the gap goes."""

    edge = ""

    def __init__(self, item, delta: RationalTime, ripple: bool = False):
        _require_item("item", item)
        _require_delta(delta)
        super().__init__(("Ripple trim" if ripple else "Trim") + f" {self.edge} of {item.name or 'clip'}")
        self.item, self.delta, self.ripple = item, delta, ripple

    def build(self, doc):
        item, delta = self.item, self.delta
        if _is_gap(item):
            raise EditError("trim: cannot trim a gap; trim the clip next to it")
        track = item.parent()
        index = doc.index_of(item)
        src = _with_explicit_range(self, doc, item)
        new = self.new_range(src, delta)
        _require_positive("delta", new.duration)
        if delta.value < 0:
            _check_available(item, new)
        if not self.ripple:
            self.keep_neighbours(doc, track, index)
        self.step(doc, SetSourceRange(item, new))


class TrimHead(_Trim):
    """Move an item's in point by ``delta`` (> 0 shortens it, < 0 lengthens it).

    Without ripple the item's end stays put and a gap opens (or is consumed) before it;
    with ripple the item's start stays put and later items move.
    """

    edge = "head"

    @staticmethod
    def new_range(src: TimeRange, delta: RationalTime) -> TimeRange:
        return TimeRange(src.start_time + delta, src.duration - delta)

    def keep_neighbours(self, doc, track, index):
        if self.delta.value > 0:
            put_gap(self, doc, track, index, self.delta)
        elif self.delta.value < 0:
            _take_from_gap(self, doc, track, index - 1, -self.delta, self.item)


class TrimTail(_Trim):
    """Move an item's out point by ``-delta`` (``delta`` > 0 shortens it, < 0 lengthens it).

    Without ripple the items after it stay put (a gap opens or is consumed); with ripple they move.
    """

    edge = "tail"

    @staticmethod
    def new_range(src: TimeRange, delta: RationalTime) -> TimeRange:
        return TimeRange(src.start_time, src.duration - delta)

    def keep_neighbours(self, doc, track, index):
        if index == len(track) - 1:
            return  # nothing after the last item to keep in place
        if self.delta.value > 0:
            put_gap(self, doc, track, index + 1, self.delta)
        elif self.delta.value < 0:
            _take_from_gap(self, doc, track, index + 1, -self.delta, self.item)


class Slip(EditCommand):
    """Shift which part of the media a clip shows by ``delta`` (media time); nothing moves."""

    def __init__(self, item, delta: RationalTime):
        _require_item("item", item)
        _require_delta(delta)
        super().__init__(f"Slip {item.name or 'clip'}")
        self.item, self.delta = item, delta

    def build(self, doc):
        src = _with_explicit_range(self, doc, self.item)
        new = TimeRange(src.start_time + self.delta, src.duration)
        _check_available(self.item, new)
        self.step(doc, SetSourceRange(self.item, new))


class Move(EditCommand):
    """Move ``item`` to ``time`` (track time) on ``track`` (the same or another track),
    leaving a gap where it was and overwriting what is at the destination."""

    def __init__(self, item, track, time: RationalTime):
        _require_item("item", item)
        _require_track(track)
        super().__init__(f"Move {item.name or 'clip'}")
        _require_time("time", time)
        self.item, self.track, self.time = item, track, time

    def build(self, doc):
        if _is_gap(self.item):
            raise EditError("move: cannot move a gap")
        source = self.item.parent()
        if source is not None and source.kind != self.track.kind:
            raise EditError(f"move: {self.item.name!r} is on a {source.kind.lower()} track; "
                            f"track {self.track.name!r} is {self.track.kind.lower()}")
        self.step(doc, Lift(self.item))
        self.step(doc, Overwrite(self.track, self.time, self.item))


class AddTrack(EditCommand):
    """Add an empty track of ``kind`` ("Video" or "Audio") at ``index`` (default: top)."""

    def __init__(self, kind: str = otio.schema.TrackKind.Video, name: str | None = None,
                 index: int | None = None):
        if kind not in (otio.schema.TrackKind.Video, otio.schema.TrackKind.Audio):
            raise ValueError(f"kind: expected 'Video' or 'Audio', got {kind!r}")
        super().__init__(f"Add {kind.lower()} track")
        self.kind, self.name, self.index = kind, name, index
        self.track = None

    def build(self, doc):
        if self.track is None:
            same = doc.video_tracks if self.kind == otio.schema.TrackKind.Video else doc.audio_tracks
            name = self.name or f"{self.kind[0]}{len(same) + 1}"
            self.track = otio.schema.Track(name=name, kind=self.kind)
        n = len(doc.timeline.tracks)
        index = n if self.index is None else self.index
        if not 0 <= index <= n:
            raise ValueError(f"index: must be in 0..{n}, got {index}")
        self.step(doc, InsertTrack(index, self.track))


class RemoveTrack(EditCommand):
    """Remove ``track`` (and everything on it) from the timeline."""

    def __init__(self, track):
        super().__init__(f"Remove track {track.name}")
        self.track = track

    def build(self, doc):
        for i, t in enumerate(doc.timeline.tracks):
            if t is self.track:
                self.step(doc, _RemoveTrackAt(i))
                return
        raise EditError(f"track {self.track.name!r} is not in the timeline")


class _RemoveTrackAt(Command):
    def __init__(self, index: int):
        self.index, self.track = index, None

    def do(self, doc):
        self.track = doc.remove_track(self.index)

    def undo(self, doc):
        doc.insert_track(self.index, self.track)


class AddMarker(Command):
    """Add ``marker`` to a clip (marked range in media time) or a track/stack (its time)."""

    def __init__(self, target, marker, index: int | None = None):
        self.target, self.marker, self.index = target, marker, index
        self.text = f"Add marker {marker.name}".strip()
        self._at = None

    def do(self, doc):
        self._at = len(self.target.markers) if self.index is None else self.index
        doc.insert_marker(self.target, self._at, self.marker)

    def undo(self, doc):
        doc.remove_marker(self.target, self._at)


class RemoveMarker(Command):
    """Remove ``marker`` from ``target``; undo puts it back at the same index."""

    def __init__(self, target, marker):
        self.target, self.marker = target, marker
        self.text = f"Remove marker {marker.name}".strip()
        self._at = None

    def do(self, doc):
        for i, m in enumerate(self.target.markers):
            if m is self.marker:
                self._at = i
                break
        else:
            raise EditError(f"marker {self.marker.name!r} is not on {self.target.name!r}")
        doc.remove_marker(self.target, self._at)

    def undo(self, doc):
        doc.insert_marker(self.target, self._at, self.marker)


class MoveMarker(Command):
    """Give ``marker`` a new marked range (in the target's time)."""

    def __init__(self, target, marker, marked_range: TimeRange):
        self.target, self.marker, self.new = target, marker, marked_range
        self.text = f"Move marker {marker.name}".strip()
        self.old = None

    def do(self, doc):
        self.old = self.marker.marked_range
        doc.set_marker_range(self.target, self.marker, self.new)

    def undo(self, doc):
        doc.set_marker_range(self.target, self.marker, self.old)


class SetSettings(EditCommand):
    """Change the timeline's frame rate and/or output resolution (kept in its metadata)."""

    def __init__(self, rate: float | None = None, width: int | None = None,
                 height: int | None = None):
        for name, value in (("rate", rate), ("width", width), ("height", height)):
            if value is not None and not value > 0:
                raise ValueError(f"{name}: must be > 0, got {value!r}")
        super().__init__("Change timeline settings")
        self.changes = {k: v for k, v in (("rate", None if rate is None else float(rate)),
                                          ("width", None if width is None else int(width)),
                                          ("height", None if height is None else int(height)))
                        if v is not None}

    def build(self, doc):
        md = app_data(doc.timeline)
        md.update(self.changes)
        self.step(doc, SetAppMetadata(doc.timeline, md))
