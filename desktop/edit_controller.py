"""The edit controller: the selection, the In/Out marks, and the edit rules that turn the
timeline's gestures into document commands. It has no widgets: the canvas paints what it
holds and reports gestures; the main window wires the two together.

Every command goes through `push`, the one error path: a command the document refuses is
reported on `message` and nothing changes.
"""
from __future__ import annotations

import bisect
from pathlib import Path

import opentimelineio as otio
from PySide6.QtCore import QObject, Signal

from desktop.timeline_items import TimelineIndex
from timeline.commands import CompoundCommand
from timeline.edits import AddMarker, AddTrack, CloseGap, Insert, RippleDelete, SetAppMetadata, SetEnabled
from timeline.errors import EditError
from timeline.generated import DropTake, SwitchTake
from timeline.links import LinkedDelete, LinkedMove, LinkedSplit, LinkedTrim, PlaceLinked, partners
from timeline.provenance import track_flag, with_track_flag


def _rt(frames: int, rate: float):
    return otio.opentime.RationalTime(frames, rate)


def _one(commands: list, text: str):
    """A single command as it is, several as one undo step named `text`."""
    return commands[0] if len(commands) == 1 else CompoundCommand(commands, text=text)


class EditController(QObject):
    """Owns the selection and In/Out of one document, and makes its edits (each undoable)."""

    selection_changed = Signal()   # the selection or the In/Out marks changed
    message = Signal(str)          # a sentence for the status bar: why an edit did not happen

    def __init__(self, undo_stack, parent=None, trust_anchors=lambda: None):
        super().__init__(parent)
        self.undo_stack = undo_stack
        self.trust_anchors = trust_anchors  # () -> the CA file that imported credentials are checked against
        self.document = undo_stack.document
        self.index = TimelineIndex(self.document.timeline, self.document.rate)
        self.selection: list = []
        self.one_side = False
        self.in_point: int | None = None
        self.out_point: int | None = None
        self.snapping = True
        # Subscribed before any view, so the index is current when a view repaints.
        self.document.subscribe(self._on_document_event)

    # -- selection and In/Out --
    def set_selection(self, items: list, one_side: bool = False) -> None:
        """`one_side` (an Alt-click, as in Premiere): delete and razor leave linked partners alone."""
        self.selection = list(items)
        self.one_side = one_side
        self.selection_changed.emit()

    def selected_clips(self) -> list:
        return [i for i in self.selection if not isinstance(i, otio.schema.Gap)]

    def selected_gap(self):
        gaps = [i for i in self.selection if isinstance(i, otio.schema.Gap)]
        return gaps[0] if len(gaps) == 1 and len(self.selection) == 1 else None

    def select_all(self) -> None:
        self.set_selection([it for l in self.index.layouts for it in l.items if not isinstance(it, otio.schema.Gap)])

    def set_in(self, frame: int | None) -> None:
        self.in_point = frame
        if frame is not None and self.out_point is not None and self.out_point <= frame:
            self.out_point = None
        self.selection_changed.emit()

    def set_out(self, frame: int | None) -> None:
        self.out_point = frame
        if frame is not None and self.in_point is not None and self.in_point >= frame:
            self.in_point = None
        self.selection_changed.emit()

    def marked_range(self) -> tuple[int, int] | None:
        """The In/Out range in frames [in, out), when both are set."""
        if self.in_point is None or self.out_point is None:
            return None
        return self.in_point, self.out_point

    def snap(self, frame: int, limit: float, playhead: int, exclude: tuple[int, ...] = ()) -> tuple[int, int | None]:
        """(frame, point) for the nearest edit point, playhead, marker or In/Out within `limit`
        frames of `frame`, or (frame, None) when none is that close or snapping is off."""
        if not self.snapping:
            return frame, None
        best, best_d = None, limit + 1
        points = self.index.edit_points()
        i = bisect.bisect_left(points, frame)
        candidates = points[max(0, i - 2):i + 2] + [playhead] + self.index.marker_frames()
        candidates += [f for f in (self.in_point, self.out_point) if f is not None]
        for c in candidates:
            d = abs(c - frame)
            if c not in exclude and d <= limit and d < best_d:
                best, best_d = c, d
        return (best, best) if best is not None else (frame, None)

    def _on_document_event(self, event: str, payload: dict) -> None:
        self.index.follow(event, payload)
        if self.selection:  # an item the edit removed is no longer selected
            live = {id(it) for l in self.index.layouts for it in l.items}
            kept = [it for it in self.selection if id(it) in live]
            if len(kept) != len(self.selection):
                self.set_selection(kept)

    # -- the one error path --
    def push(self, command) -> bool:
        try:
            self.undo_stack.push_command(command)
        except (EditError, ValueError, KeyError) as exc:
            self.message.emit(f"{getattr(command, 'text', 'Edit')}: {exc}")
            return False
        return True

    def _unlocked(self, item) -> bool:
        track = item.parent()
        locked = track is not None and track_flag(track, "locked")
        if locked:
            self.message.emit(f"Track {track.name} is locked")
        return not locked

    # -- edits --
    def add_marker(self, frame: int) -> None:
        """A marker on the sequence at `frame` (snapping pulls to it)."""
        rate = self.document.rate
        count = len(self.document.timeline.tracks.markers)
        marker = otio.schema.Marker(name=f"Marker {count + 1}",
                                    marked_range=otio.opentime.TimeRange(_rt(frame, rate), _rt(0, rate)))
        self.push(AddMarker(self.document.timeline.tracks, marker))

    def razor(self, frame: int) -> None:
        """Cut at `frame`: the selected clips' tracks, or every unlocked track when none is
        selected. A linked clip's partner is cut with it, and the pieces after the cut stay linked."""
        clips = self.selected_clips()
        layouts = ([self.index.locate(c)[0] for c in clips if self.index.locate(c)] if clips
                   else self.index.layouts)
        commands, seen = [], set()
        for layout in layouts:
            if id(layout.track) in seen or track_flag(layout.track, "locked"):
                continue
            seen.add(id(layout.track))
            i = layout.index_at(frame)
            if i is not None and layout.starts[i] < frame and not isinstance(layout.items[i], otio.schema.Gap):
                linked = not (clips and self.one_side)
                if linked:
                    seen.update(id(p.parent()) for p in partners(self.document, layout.items[i]))
                commands.append(LinkedSplit(layout.track, _rt(frame, self.document.rate), linked=linked))
        if not commands:
            self.message.emit("Nothing to cut at the playhead")
            return
        self.push(_one(commands, "Razor"))

    def delete(self, items=None, ripple: bool = False) -> None:
        """Delete leaves a gap (lift), ripple delete closes the space; a linked clip's partner goes
        with it. A gap is closed. `items` default to the selection."""
        commands, gone = [], set()
        for item in self.selection if items is None else items:
            if id(item) in gone or not self._unlocked(item):
                continue
            if isinstance(item, otio.schema.Gap):
                commands.append(CloseGap(item))
                continue
            if not self.one_side:
                gone.update(id(p) for p in partners(self.document, item))
            commands.append(LinkedDelete(item, ripple=ripple, linked=not self.one_side))
        if commands:
            self.push(_one(commands, "Ripple delete" if ripple else "Delete"))

    def ripple_delete(self, items=None) -> None:
        """Delete and close the space, moving later items earlier."""
        self.delete(items, ripple=True)

    def move_item(self, item, track, frame: int, ripple: bool, linked: bool = True) -> None:
        """Drag-move; a linked partner moves by the same amount on its own track (unless `linked`
        is False). A ripple move pulls each clip out (closing its space) and inserts it."""
        if not self._unlocked(item) or track_flag(track, "locked"):
            return
        rate = self.document.rate
        if not ripple:
            self.push(LinkedMove(item, track, _rt(frame, rate), linked=linked))
            return
        layout, i = self.index.locate(item)
        shift = frame - layout.starts[i]
        moves = [(item, track)] + [(p, p.parent()) for p in (partners(self.document, item) if linked else [])]
        commands = []
        for clip, target in moves:  # partners sit on other tracks, so each track is edited once
            layout, i = self.index.locate(clip)
            start, end = layout.starts[i], layout.ends[i]
            to = start + shift
            if target is layout.track and to > start:
                to = max(start, to - (end - start))  # the track closes up before the insert
            commands += [RippleDelete(clip), Insert(target, _rt(to, rate), clip)]
        self.push(CompoundCommand(commands, text=f"Ripple move {item.name}"))

    def trim_item(self, item, edge: str, delta: int, ripple: bool, linked: bool = True) -> None:
        if not self._unlocked(item):
            return
        rate = self.document.rate
        # The view reports where the edge went; the command takes how much shorter the clip gets.
        self.push(LinkedTrim(item, edge, _rt(delta if edge == "head" else -delta, rate), ripple, linked=linked))

    def set_track_flag(self, track, which: str, value: bool) -> None:
        if which == "enabled":
            self.push(SetEnabled(track, value))
        else:
            self.push(SetAppMetadata(track, with_track_flag(track, which, value)))

    def switch_take(self, clip, key: str) -> None:
        self.push(SwitchTake(clip, key))

    def drop_take(self, clip, key: str) -> None:
        self.push(DropTake(clip, key))

    def place_media(self, paths, track, frame: int) -> None:
        """Overwrite-edit each file at `frame`, one after another (like a Premiere drop): the
        picture on `track` (or the first video track), its sound linked on the first audio track."""
        from engine.media.importing import STILL_SECONDS, clips_for_file

        if track_flag(track, "locked"):
            self.message.emit(f"Track {track.name} is locked")
            return
        rate = self.document.rate
        commands, at, targets = [], frame, {}
        for path in paths:
            try:
                made = clips_for_file(path, rate, STILL_SECONDS, trust_anchors=self.trust_anchors())
            except Exception as exc:  # each bad file is named; the others are still placed
                self.message.emit(f"Cannot place {Path(path).name}: {exc}")
                continue
            pairs = []
            for clip, kind in ((made.video, otio.schema.TrackKind.Video), (made.audio, otio.schema.TrackKind.Audio)):
                if clip is None:
                    continue
                if kind not in targets:
                    targets[kind] = self._drop_target(track, kind, commands)
                pairs.append((targets[kind], clip))
            commands.append(PlaceLinked(pairs, _rt(at, rate), text=f"Place {made.path.name}"))
            at += int(round(made.duration.rescaled_to(rate).value))
        if commands:
            self.push(_one(commands, "Place media"))

    def add_track(self, kind: str) -> bool:
        """A new empty video track above the others, or audio track below them (V2, A2, ...)."""
        return self.push(AddTrack(kind=kind))

    def _drop_target(self, track, kind, commands: list):
        """The track a dropped file's `kind` half lands on; a new one (added by `commands`) when none."""
        if track.kind == kind:
            return track
        tracks = self.document.video_tracks if kind == otio.schema.TrackKind.Video else self.document.audio_tracks
        if tracks:
            return tracks[0]
        add = AddTrack(kind=kind)
        add.track = otio.schema.Track(name="V1" if kind == otio.schema.TrackKind.Video else "A1", kind=kind)
        commands.append(add)
        return add.track
