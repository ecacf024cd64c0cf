"""Where each OTIO item sits on the timeline, in whole frames of the timeline rate.

The timeline view and playback both ask "what is at frame F on track T" and "what lies between
frames A and B" many times per repaint; a per-track index of start frames answers both with a
bisect, and is rebuilt only for the track a document event names.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

import opentimelineio as otio
from timeline.generated import take_keys
from timeline.provenance import app_data, app_value, is_generated

__all__ = ["TimelineIndex", "TrackLayout", "app_data", "app_value", "frames", "generation_status", "is_generated",
           "is_still", "media_path", "take_keys"]


def frames(rt: otio.opentime.RationalTime, rate: float) -> int:
    """A RationalTime as whole frames at `rate`."""
    return int(round(rt.rescaled_to(rate).value))


def media_path(ref) -> str | None:
    """The local file path of an ExternalReference, or None."""
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
        return None
    url = ref.target_url
    if url.startswith("file:"):
        return unquote(urlparse(url).path)
    return url


def used_media(timeline) -> list[str]:
    """Every file the timeline's clips play (each once, in timeline order): a project's media."""
    paths: dict[str, None] = {}
    for clip in timeline.find_clips():
        path = media_path(clip.media_reference)
        if path is not None:
            paths.setdefault(path, None)
    return list(paths)


def generation_status(item) -> str | None:
    """"pending", "failed" or "done" for a generated clip, None otherwise."""
    if not isinstance(item, otio.schema.Clip) or not is_generated(item):
        return None
    status = app_value(item, "status")
    if status:
        return str(status)
    return "pending" if item.active_media_reference_key == "recipe" else "done"


def is_still(clip) -> bool:
    """A clip whose media is a single image (Animate applies to it)."""
    path = media_path(clip.media_reference) if isinstance(clip, otio.schema.Clip) else None
    return bool(path) and path.lower().rsplit(".", 1)[-1] in {"png", "jpg", "jpeg", "tif", "tiff", "bmp", "webp", "exr"}


@dataclass
class TrackLayout:
    """One track's items (gaps included, transitions left out) with their frame ranges."""

    track: object
    kind: str                      # otio.schema.TrackKind.Video or .Audio
    number: int                    # 1-based within its kind (V1, V2, A1...)
    starts: list = field(default_factory=list)
    ends: list = field(default_factory=list)
    items: list = field(default_factory=list)
    positions: dict = field(default_factory=dict)  # id(item) -> index in items

    @property
    def label(self) -> str:
        prefix = "V" if self.kind == otio.schema.TrackKind.Video else "A"
        return f"{prefix}{self.number}"

    @property
    def name(self) -> str:
        return self.track.name or self.label

    @property
    def end(self) -> int:
        return self.ends[-1] if self.ends else 0

    def rebuild(self, rate: float) -> None:
        self.starts, self.ends, self.items, self.positions = [], [], [], {}
        # Sum exact rational durations, then round each boundary, so long tracks never drift.
        position = otio.opentime.RationalTime(0, rate)
        for child in self.track:
            if isinstance(child, otio.schema.Transition):
                continue
            start = frames(position, rate)
            position = position + child.duration()
            self.positions[id(child)] = len(self.items)
            self.starts.append(start)
            self.ends.append(frames(position, rate))
            self.items.append(child)

    def index_at(self, frame: int) -> int | None:
        """Index of the item covering `frame`, or None past the end."""
        i = bisect.bisect_right(self.starts, frame) - 1
        if i < 0 or frame >= self.ends[i]:
            return None
        return i

    def visible(self, first: int, last: int) -> range:
        """Indices of items overlapping frames [first, last)."""
        lo = max(0, bisect.bisect_right(self.starts, first) - 1)
        hi = bisect.bisect_left(self.starts, last)
        return range(lo, hi)

    def index_of(self, item) -> int | None:
        return self.positions.get(id(item))

    def range_of(self, item) -> tuple[int, int] | None:
        i = self.positions.get(id(item))
        return None if i is None else (self.starts[i], self.ends[i])


class TimelineIndex:
    """Layouts for every track of a timeline: video tracks top-most first, then audio."""

    def __init__(self, timeline, rate: float):
        self.timeline = timeline
        self.rate = rate
        self.layouts: list[TrackLayout] = []
        self._by_track: dict[int, TrackLayout] = {}
        self._edit_points: list[int] | None = None
        self.rebuild()

    def follow(self, event: str, payload) -> None:
        """Bring the index up to date after a document event: only the track it names, when it
        names one (adding or removing a track shifts every row)."""
        track = payload.get("track") if isinstance(payload, dict) else None
        if track is not None and event not in ("track_added", "track_removed"):
            self.rebuild_track(track)
        else:
            self.rebuild()

    def rebuild(self) -> None:
        tracks = list(self.timeline.tracks)
        video = [t for t in tracks if t.kind == otio.schema.TrackKind.Video]
        audio = [t for t in tracks if t.kind != otio.schema.TrackKind.Video]
        layouts = []
        # The last video track composites on top, so it is drawn first (highest row).
        for n, track in reversed(list(enumerate(video, 1))):
            layouts.append(TrackLayout(track, otio.schema.TrackKind.Video, n))
        for n, track in enumerate(audio, 1):
            layouts.append(TrackLayout(track, otio.schema.TrackKind.Audio, n))
        for layout in layouts:
            layout.rebuild(self.rate)
        self.layouts = layouts
        self._by_track = {id(l.track): l for l in layouts}
        self._edit_points = None

    def rebuild_track(self, track) -> None:
        layout = self._by_track.get(id(track))
        if layout is None:
            self.rebuild()
            return
        layout.rebuild(self.rate)
        self._edit_points = None

    def layout_of(self, track) -> TrackLayout | None:
        return self._by_track.get(id(track))

    def locate(self, item) -> tuple[TrackLayout, int] | None:
        """The layout and index of an item, or None if it is not on a top-level track."""
        parent = item.parent() if hasattr(item, "parent") else None
        layout = self._by_track.get(id(parent)) if parent is not None else None
        if layout is None:
            return None
        i = layout.index_of(item)
        return None if i is None else (layout, i)

    @property
    def video_layouts(self) -> list[TrackLayout]:
        return [l for l in self.layouts if l.kind == otio.schema.TrackKind.Video]

    @property
    def duration(self) -> int:
        return max((l.end for l in self.layouts), default=0)

    def edit_points(self) -> list[int]:
        """Sorted frames where any item starts or ends (for snapping)."""
        if self._edit_points is None:
            points = set()
            for layout in self.layouts:
                points.update(layout.starts)
                points.update(layout.ends)
            self._edit_points = sorted(points)
        return self._edit_points

    def marker_frames(self) -> list[int]:
        """Frames of the markers on the top-level stack and on each track."""
        result = []
        sources = [self.timeline.tracks] + [l.track for l in self.layouts]
        for source in sources:
            for marker in source.markers:
                result.append(frames(marker.marked_range.start_time, self.rate))
        return sorted(result)
