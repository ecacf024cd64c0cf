"""Linked clips: a file with picture and sound becomes a video clip and an audio clip that
edit together, as in every editor (DESIGN.md).

The clips of one link share an id under ``metadata["latentcut"]["link"]``. The linked edits
here apply a move, trim, razor or delete to a clip and to its partners on the other tracks;
with ``linked=False`` (the app's Alt modifier, as in Premiere) they act on one side only.
Record positions are in track time, ``delta`` values as in ``edits.TrimHead``/``TrimTail``.
"""
from __future__ import annotations

import uuid

import opentimelineio as otio

from .commands import EditCommand
from .edits import Lift, Move, Overwrite, RippleDelete, SetAppMetadata, Split, TrimHead, TrimTail
from .errors import EditError
from .provenance import app_data, app_value, write_app_data

RationalTime = otio.opentime.RationalTime
LINK = "link"


def link_id(clip) -> str | None:
    """The link a clip belongs to, or None."""
    return app_value(clip, LINK) if isinstance(clip, otio.schema.Clip) else None


def link(*clips) -> str:
    """Link clips that are not on a track yet (e.g. the two halves of an imported file)."""
    new = uuid.uuid4().hex[:12]
    for clip in clips:
        if clip.parent() is not None:
            raise EditError(f"clip {clip.name!r} is already on a track; link clips before placing them")
        md = app_data(clip)
        md[LINK] = new
        write_app_data(clip, md)
    return new


def partners(doc, clip) -> list:
    """The other clips on the document's tracks that share ``clip``'s link."""
    key = link_id(clip)
    if key is None:
        return []
    return [c for c in doc.timeline.find_clips() if c is not clip and link_id(c) == key]


def _relink(cmd: EditCommand, doc, clips, key: str | None) -> None:
    """Steps that give ``clips`` the link ``key`` (None: no link)."""
    for clip in clips:
        md = app_data(clip)
        if key is None:
            md.pop(LINK, None)
        else:
            md[LINK] = key
        cmd.step(doc, SetAppMetadata(clip, md or None))


class PlaceLinked(EditCommand):
    """Overwrite each ``(track, clip)`` pair at ``time`` (track time): a file's picture and
    sound land together."""

    def __init__(self, pairs, time: RationalTime, text: str | None = None):
        self.pairs = list(pairs)
        if not self.pairs:
            raise ValueError("pairs: nothing to place")
        super().__init__(text or f"Place {self.pairs[0][1].name or 'clip'}")
        self.time = time

    def build(self, doc):
        for track, clip in self.pairs:
            self.step(doc, Overwrite(track, self.time, clip))


class LinkedMove(EditCommand):
    """Move ``item`` to ``time`` on ``track``; its partners move by the same amount on their
    own tracks."""

    def __init__(self, item, track, time: RationalTime, linked: bool = True):
        super().__init__(f"Move {item.name or 'clip'}")
        self.item, self.track, self.time, self.linked = item, track, time, linked

    def build(self, doc):
        others = partners(doc, self.item) if self.linked else []
        shift = self.time - doc.range_of(self.item).start_time
        moves = []
        for other in others:
            start = doc.range_of(other).start_time + shift
            if start.value < 0:
                raise EditError(f"move: linked clip {other.name!r} would start before the timeline")
            moves.append((other, start))
        self.step(doc, Move(self.item, self.track, self.time))
        for other, start in moves:
            self.step(doc, Move(other, other.parent(), start))


class LinkedTrim(EditCommand):
    """Trim the ``edge`` ("head" or "tail") of ``item`` and of its partners by ``delta``."""

    def __init__(self, item, edge: str, delta: RationalTime, ripple: bool = False, linked: bool = True):
        if edge not in ("head", "tail"):
            raise ValueError(f"edge: expected 'head' or 'tail', got {edge!r}")
        super().__init__(("Ripple trim" if ripple else "Trim") + f" {edge} of {item.name or 'clip'}")
        self.item, self.edge, self.delta, self.ripple, self.linked = item, edge, delta, ripple, linked

    def build(self, doc):
        trim = TrimHead if self.edge == "head" else TrimTail
        others = partners(doc, self.item) if self.linked else []
        for clip in [self.item, *others]:
            self.step(doc, trim(clip, self.delta, self.ripple))


class LinkedDelete(EditCommand):
    """Delete ``item`` and its partners: a gap stays (lift), or with ``ripple`` the space closes."""

    def __init__(self, item, ripple: bool = False, linked: bool = True):
        super().__init__(("Ripple delete " if ripple else "Delete ") + (item.name or "clip"))
        self.item, self.ripple, self.linked = item, ripple, linked

    def build(self, doc):
        others = partners(doc, self.item) if self.linked else []
        for clip in [self.item, *others]:
            self.step(doc, RippleDelete(clip) if self.ripple else Lift(clip))


class LinkedSplit(EditCommand):
    """Razor at ``time`` on ``track``; a linked clip's partners are cut at the same time, and
    the pieces after the cut form a new link. One side only (``linked=False``): the piece
    after the cut is unlinked."""

    def __init__(self, track, time: RationalTime, linked: bool = True):
        super().__init__("Split")
        self.track, self.time, self.linked = track, time, linked

    def build(self, doc):
        _, item, _ = doc.item_at(self.track, self.time)
        key = link_id(item) if item is not None else None
        cuts = [self.track]
        if key is not None and self.linked:
            for other in partners(doc, item):
                rng = doc.range_of(other)
                if rng.start_time < self.time < rng.end_time_exclusive() and other.parent() not in cuts:
                    cuts.append(other.parent())
        for track in cuts:
            self.step(doc, Split(track, self.time))
        if key is not None:
            seconds = [doc.item_at(track, self.time)[1] for track in cuts]
            _relink(self, doc, seconds, uuid.uuid4().hex[:12] if len(seconds) > 1 else None)
