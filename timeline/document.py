"""The timeline document: one OTIO Timeline, changed only through these methods.

Every change is reported to subscribers in the past tense with a payload that names the
OTIO objects involved, so a view can update only what changed. Edit commands
(timeline/edits.py, timeline/generated.py) are built from these primitive changes.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import opentimelineio as otio

from .provenance import app_value, timeline_rate, write_app_data

RationalTime = otio.opentime.RationalTime
TimeRange = otio.opentime.TimeRange

_log = logging.getLogger(__name__)
Listener = Callable[[str, dict], None]


class Document:
    """Wraps an ``otio.schema.Timeline``; read ``doc.timeline``, change it only through methods."""

    def __init__(self, timeline: otio.schema.Timeline):
        if not isinstance(timeline, otio.schema.Timeline):
            raise TypeError(f"timeline: expected otio.schema.Timeline, got {type(timeline).__name__}")
        self.timeline = timeline
        self._listeners: list[Listener] = []

    @classmethod
    def new(cls, rate: float = 24, width: int = 1920, height: int = 1080,
            name: str = "Untitled") -> "Document":
        """A new document with one video track V1 and one audio track A1."""
        if not rate or rate <= 0:
            raise ValueError(f"rate: must be > 0, got {rate!r}")
        if int(width) <= 0 or int(height) <= 0:
            raise ValueError(f"width/height: must be > 0, got {width}x{height}")
        tl = otio.schema.Timeline(name=name, global_start_time=RationalTime(0, rate))
        write_app_data(tl, {"rate": float(rate), "width": int(width), "height": int(height)})
        tl.tracks.append(otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video))
        tl.tracks.append(otio.schema.Track(name="A1", kind=otio.schema.TrackKind.Audio))
        return cls(tl)

    # -- settings ---------------------------------------------------------------------------
    @property
    def rate(self) -> float:
        """Frames per second of the timeline (see ``provenance.timeline_rate``)."""
        return timeline_rate(self.timeline)

    @property
    def width(self) -> int | None:
        """Output width in pixels, or None when the timeline does not say."""
        w = app_value(self.timeline, "width")
        return int(w) if w else None

    @property
    def height(self) -> int | None:
        """Output height in pixels, or None when the timeline does not say."""
        h = app_value(self.timeline, "height")
        return int(h) if h else None

    @property
    def video_tracks(self) -> list:
        """Top-level video tracks, bottom first."""
        return [t for t in self.timeline.tracks
                if isinstance(t, otio.schema.Track) and t.kind == otio.schema.TrackKind.Video]

    @property
    def audio_tracks(self) -> list:
        """Top-level audio tracks."""
        return [t for t in self.timeline.tracks
                if isinstance(t, otio.schema.Track) and t.kind == otio.schema.TrackKind.Audio]

    def track_named(self, name: str) -> otio.schema.Track:
        """The top-level track called ``name``; KeyError naming it when absent."""
        for t in self.timeline.tracks:
            if t.name == name:
                return t
        raise KeyError(f"track: no track named {name!r}")

    # -- events -----------------------------------------------------------------------------
    def subscribe(self, fn: Listener) -> Callable[[], None]:
        """Call ``fn(event, payload)`` after every change; returns a function that unsubscribes."""
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn) if fn in self._listeners else None

    def notify(self, event: str, **payload: Any) -> None:
        """Tell subscribers that ``event`` happened (past tense, e.g. ``clip_added``).

        A subscriber that raises is logged and skipped: the change has already happened, and
        stopping half-way through an edit would leave the document half-changed."""
        for fn in list(self._listeners):
            try:
                fn(event, payload)
            except Exception:
                _log.exception("document subscriber %r failed on %s", fn, event)

    # -- finding things (fast on long tracks) ------------------------------------------------
    # Each OTIO range query costs O(index) in C++, and a Python loop over 10,000 children
    # costs milliseconds, so positions are found by a search on start times: a first guess
    # from the average item length, a gallop to bracket the answer, then a bisect.
    def _search(self, track, n: int, time: RationalTime, after: bool) -> int:
        """First index whose start (track time) is > ``time`` (``after``) or >= ``time``."""
        def beyond(i: int) -> bool:
            start = track.range_of_child_at_index(i).start_time
            return start > time if after else start >= time

        end = self.track_end(track).to_seconds()
        guess = min(n - 1, max(0, int(n * time.to_seconds() / end))) if end > 0 else 0
        step = 1
        if beyond(guess):
            hi, lo = guess, guess - 1
            while lo >= 0 and beyond(lo):
                hi, lo, step = lo, lo - step * 2, step * 2
            lo = max(lo + 1, 0)
        else:
            lo, hi = guess + 1, guess + 2
            while hi <= n and not beyond(hi - 1):
                lo, hi, step = hi, hi + step * 2, step * 2
            hi = min(hi, n)
        while lo < hi:  # beyond(hi) holds, beyond(lo - 1) does not
            mid = (lo + hi) // 2
            if beyond(mid):
                hi = mid
            else:
                lo = mid + 1
        return lo

    def index_of(self, item) -> int:
        """Index of ``item`` in its parent track; ValueError when it is not in one."""
        track = item.parent()
        if track is None:
            raise ValueError(f"item {item.name!r} is not on a track")
        n = len(track)
        start = track.range_of_child(item).start_time  # track time
        lo = self._search(track, n, start, after=False)
        # Zero-length items and transitions share or precede their neighbours' start.
        for i in range(max(0, lo - 4), min(n, lo + 32)):
            if track[i] is item:
                return i
        for i in range(n):
            if track[i] is item:
                return i
        raise ValueError(f"item {item.name!r} not found in track {track.name!r}")

    def item_at(self, track, time: RationalTime):
        """``(index, item, range)`` of the item covering ``time`` (track time), skipping
        transitions; ``(len(track), None, None)`` when ``time`` is at or after the end."""
        n = len(track)
        if n == 0:
            return 0, None, None
        i = self._search(track, n, time, after=True) - 1
        while i >= 0:
            child = track[i]
            rng = track.range_of_child_at_index(i)
            if not isinstance(child, otio.schema.Transition) and rng.duration.value > 0:
                if rng.start_time <= time < rng.end_time_exclusive():
                    return i, child, rng
                break
            i -= 1
        return n, None, None

    def track_end(self, track) -> RationalTime:
        """End of the last item of ``track`` (track time); faster than ``track.duration()``."""
        n = len(track)
        if n == 0:
            return RationalTime(0, self.rate)
        if isinstance(track[n - 1], otio.schema.Transition):
            return track.duration()
        return track.range_of_child_at_index(n - 1).end_time_exclusive()

    def range_of(self, item) -> TimeRange:
        """Record range of ``item`` in its track (track time)."""
        track = item.parent()
        if track is None:
            raise ValueError(f"item {item.name!r} is not on a track")
        return track.range_of_child(item)

    # -- primitive changes (used by commands; each reports one event) -------------------------
    def insert_item(self, track, index: int, item) -> None:
        """Put ``item`` at ``index`` of ``track``."""
        track.insert(index, item)
        self.notify("clip_added", track=track, index=index, item=item)

    def remove_item(self, track, index: int):
        """Take the item at ``index`` out of ``track`` and return it."""
        item = track[index]
        del track[index]
        self.notify("clip_removed", track=track, index=index, item=item)
        return item

    def set_source_range(self, item, source_range: TimeRange | None) -> None:
        """Set an item's source range (the item's media time)."""
        item.source_range = source_range
        self.notify("clip_changed", track=item.parent(), item=item, fields=("source_range",))

    def set_enabled(self, item, enabled: bool) -> None:
        """Enable or disable (hide/mute) a clip or track."""
        item.enabled = bool(enabled)
        self._changed(item, "enabled")

    def set_name(self, item, name: str) -> None:
        """Rename a clip or track."""
        item.name = name
        self._changed(item, "name")

    def set_app_metadata(self, obj, value: dict | None) -> None:
        """Replace ``obj.metadata["latentcut"]`` (None removes it); other keys are untouched."""
        write_app_data(obj, value)
        self._changed(obj, "metadata")

    def set_media_references(self, clip, references: dict, active_key: str) -> None:
        """Replace a clip's named media references and choose the active one."""
        clip.set_media_references(references, active_key)
        self.notify("takes_changed", track=clip.parent(), item=clip, active=active_key)

    def set_active_media_reference(self, clip, key: str) -> None:
        """Make the media reference named ``key`` the active one."""
        if key not in clip.media_references():
            raise KeyError(f"take: clip {clip.name!r} has no media reference {key!r}")
        clip.active_media_reference_key = key
        self.notify("takes_changed", track=clip.parent(), item=clip, active=key)

    def insert_track(self, index: int, track) -> None:
        """Put ``track`` at ``index`` of the timeline's stack (0 is the bottom)."""
        self.timeline.tracks.insert(index, track)
        self.notify("track_added", track=track, index=index)

    def remove_track(self, index: int):
        """Take the track at ``index`` out of the stack and return it."""
        track = self.timeline.tracks[index]
        del self.timeline.tracks[index]
        self.notify("track_removed", track=track, index=index)
        return track

    def insert_marker(self, target, index: int, marker) -> None:
        """Add ``marker`` to ``target`` (clip: media time, track/stack: its own time)."""
        target.markers.insert(index, marker)
        self.notify("marker_added", track=_track_of(target), target=target, index=index,
                    marker=marker)

    def remove_marker(self, target, index: int):
        """Take the marker at ``index`` off ``target`` and return it."""
        marker = target.markers[index]
        del target.markers[index]
        self.notify("marker_removed", track=_track_of(target), target=target, index=index,
                    marker=marker)
        return marker

    def set_marker_range(self, target, marker, marked_range: TimeRange) -> None:
        """Move a marker; reported as removed then added so views redraw it."""
        index = _identity_index(target.markers, marker)
        track = _track_of(target)
        self.notify("marker_removed", track=track, target=target, index=index, marker=marker)
        marker.marked_range = marked_range
        self.notify("marker_added", track=track, target=target, index=index, marker=marker)

    def _changed(self, obj, field: str) -> None:
        if isinstance(obj, otio.schema.Timeline):
            self.notify("timeline_changed", fields=(field,))
        elif isinstance(obj, otio.schema.Track) and obj.parent() is self.timeline.tracks:
            self.notify("track_changed", track=obj, fields=(field,))
        else:
            self.notify("clip_changed", track=obj.parent(), item=obj, fields=(field,))


def _track_of(target):
    """The track a marker target belongs to (itself for a track; None for the top stack)."""
    if isinstance(target, otio.schema.Track):
        return target
    parent = target.parent()
    return parent if isinstance(parent, otio.schema.Track) else None


def _identity_index(seq, obj) -> int:
    for i, x in enumerate(seq):
        if x is obj:
            return i
    raise ValueError("object is not in the list")
