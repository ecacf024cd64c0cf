"""The generation flow of DESIGN.md, on the UI side.

1. From the Generate panel's values and the selection, build a job spec and push ONE command
   that places a pending clip (its recipe holds every parameter) on the target range.
2. Submit the job to the bridge; its handle's progress moves the pending clip's overlay.
3. On the handle's `done` push AddTake (undo removes the take); on `failed`/`cancelled` push
   MarkFailed, so the recipe stays and the clip can be retried (the handle's Retry does that).
"""
from __future__ import annotations

from dataclasses import dataclass

import opentimelineio as otio
from PySide6.QtCore import QObject, Signal

from desktop.timeline_items import app_value, media_path
from engine.jobs import (DEFAULT_STRENGTH, DEFAULT_STRUCTURE_WEIGHT, AnimateJob, ExtendJob, FillJob, GenerateJob,
                         MediaInput, RestyleJob)
from engine.operations import ACTIONS, operation_of

CONDITION_FRAMES = 16    # frames of a neighbouring clip that condition extend and fill

MODEL_FIELDS = ("prompt", "negative_prompt", "seconds", "seed", "steps", "guidance", "model", "device")


class GenerationError(ValueError):
    """A generation cannot be asked for with this selection; the message says why and what to do."""


@dataclass
class Target:
    """Where a pending clip goes: a track and a range in timeline frames [start, start+length)."""

    track: object
    start: int
    length: int


def _frames(rt, rate) -> int:
    return int(round(rt.rescaled_to(rate).value))


def file_rate(clip) -> float:
    """The frame rate of the clip's media: its available range's rate, else the clip's source rate."""
    ref = clip.media_reference
    if ref.available_range is not None:
        return ref.available_range.duration.rate
    return (clip.source_range or clip.available_range()).start_time.rate


def clip_source_frames(clip) -> tuple[str, int, int]:
    """(path, first, stop) of the clip's used media, in the file's own frame numbers."""
    ref = clip.media_reference
    path = media_path(ref)
    if path is None:
        raise GenerationError(f"Clip {clip.name!r} has no media file to work from")
    source = clip.source_range or clip.available_range()
    rate = file_rate(clip)
    origin = ref.available_range.start_time if ref.available_range is not None else otio.opentime.RationalTime(0, rate)
    first = _frames(source.start_time - origin, rate)
    return path, max(0, first), max(first + 1, first + _frames(source.duration, rate))


class GenerationController(QObject):
    """Turns Generate/Extend/Restyle/Fill/Animate requests into pending clips and jobs."""

    message = Signal(str)     # a sentence for the status bar (problems and outcomes)

    def __init__(self, undo_stack, bridge, edits, canvas, media_dir, parent=None):
        super().__init__(parent)
        self.undo_stack = undo_stack
        self.document = undo_stack.document
        self.bridge = bridge
        self.edits = edits      # the selection and In/Out the requests work on
        self.canvas = canvas    # shows a pending clip's progress
        self.media_dir = media_dir            # callable -> folder for generated media

    # -- building the request --
    @property
    def rate(self) -> float:
        return self.document.rate

    def selection_kind(self) -> tuple[str, str]:
        """(kind, summary) for GeneratePanel.set_selection, from the timeline's selection."""
        from desktop.timeline_items import generation_status, is_still

        c = self.edits
        gap = c.selected_gap()
        if gap is not None:
            found = c.index.locate(gap)
            label = found[0].label if found else "track"
            return "gap", f"the gap on {label} ({self._seconds(gap.duration()):.1f} s)"
        clips = c.selected_clips()
        if len(clips) == 1 and isinstance(clips[0], otio.schema.Clip):
            clip = clips[0]
            if generation_status(clip) is not None:
                return "generated_clip", f"“{clip.name}”"
            if is_still(clip):
                return "still", f"“{clip.name}”"
            return "clip", f"“{clip.name}”"
        rng = c.marked_range()
        if rng is not None:
            return "range", f"the In/Out range ({(rng[1] - rng[0]) / self.rate:.1f} s)"
        layouts = c.index.video_layouts
        return "none", f"the playhead on {layouts[-1].label}" if layouts else "the playhead"

    def _seconds(self, rt) -> float:
        return rt.rescaled_to(self.rate).value / self.rate

    def _default_video_layout(self):
        layouts = [l for l in self.edits.index.video_layouts if l.track.enabled] or self.edits.index.video_layouts
        if not layouts:
            raise GenerationError("The timeline has no video track: add one first")
        return layouts[-1]  # V1, the bottom video track

    def _target_for_generate(self, params: dict, item=None) -> Target:
        c = self.edits
        gap = item if isinstance(item, otio.schema.Gap) else (c.selected_gap() if item is None else None)
        if gap is not None:
            layout, i = c.index.locate(gap)
            return Target(layout.track, layout.starts[i], layout.ends[i] - layout.starts[i])
        rng = c.marked_range()
        layout = self._default_video_layout()
        if rng is not None:
            return Target(layout.track, rng[0], rng[1] - rng[0])
        return Target(layout.track, self.canvas.playhead, max(1, int(round(params["seconds"] * self.rate))))

    def _model_job_fields(self, params: dict, seconds: float | None) -> dict:
        """Job fields from the panel's values; a seed of None is left for the engine to draw."""
        fields = {k: params.get(k) for k in MODEL_FIELDS if k != "seconds" or seconds is None}
        if seconds is not None:
            fields["seconds"] = seconds
        fields["rate"] = self.rate
        fields["output"] = str(self.media_dir())
        return {k: v for k, v in fields.items() if v is not None or k == "seed"}

    def _room(self, layout, i: int, direction: int, wanted: int) -> tuple[int, int]:
        """(start, length) of free space next to item i (direction -1 before, +1 after), up to `wanted`."""
        if direction > 0:
            start = layout.ends[i]
            j = i + 1
            if j >= len(layout.items):
                return start, wanted                   # past the end of the track: all the room we want
            if isinstance(layout.items[j], otio.schema.Gap):
                return start, min(wanted, layout.ends[j] - start)
            return start, 0
        end = layout.starts[i]
        j = i - 1
        if j >= 0 and isinstance(layout.items[j], otio.schema.Gap):
            length = min(wanted, end - layout.starts[j])
            return end - length, length
        return end, 0

    def build(self, op: str, params: dict, item=None) -> tuple[object, Target]:
        """The job spec and target for the action `op` (a key of the operation registry's
        ACTIONS) on `item` (or the selection). Raises GenerationError."""
        action = ACTIONS.get(op)
        if action is None:
            raise GenerationError(f"Unknown generation operation {op!r}")
        return getattr(self, f"_build_{action.op}")(action, params, item)

    def _build_generate(self, action, params: dict, item):
        target = self._target_for_generate(params, item)
        return GenerateJob(**self._model_job_fields(params, target.length / self.rate)), target

    def _located(self, action, item):
        """(item, layout, index) of the item an action works on: `item`, else the selection."""
        clip = item if item is not None else self._single_selected(action)
        found = self.edits.index.locate(clip)
        if found is None:
            raise GenerationError(f"{clip.name!r} is not on a timeline track")
        return (clip, *found)

    def _source_clip(self, action, item):
        clip, layout, i = self._located(action, item)
        if not isinstance(clip, otio.schema.Clip):
            raise GenerationError(f"{action.label} works on a clip: select one first")
        return clip, layout, i

    def _build_fill(self, action, params: dict, item):
        gap, layout, i = self._located(action, item)
        if not isinstance(gap, otio.schema.Gap):
            raise GenerationError("Fill needs a gap between two clips: select the gap first")
        if i == 0 or i == len(layout.items) - 1:
            raise GenerationError("Fill needs clips on both sides of the gap")
        before, after = layout.items[i - 1], layout.items[i + 1]
        bpath, bfirst, bstop = clip_source_frames(before)
        apath, afirst, astop = clip_source_frames(after)
        length = layout.ends[i] - layout.starts[i]
        # Condition on the frames the neighbours actually show next to the gap.
        job = FillJob(before=MediaInput(bpath, max(bfirst, bstop - CONDITION_FRAMES), bstop),
                      after=MediaInput(apath, afirst, min(astop, afirst + CONDITION_FRAMES)),
                      **self._model_job_fields(params, length / self.rate))
        return job, Target(layout.track, layout.starts[i], length)

    def _build_extend(self, action, params: dict, item):
        clip, layout, i = self._source_clip(action, item)
        path, first, stop = clip_source_frames(clip)
        tail = dict(action.fields)["direction"] == "tail"
        wanted = max(1, int(round(params["seconds"] * self.rate)))
        start, length = self._room(layout, i, 1 if tail else -1, wanted)
        if length <= 0:
            side = "after" if tail else "before"
            raise GenerationError(f"No room {side} {clip.name!r}: make a gap there first (move or trim the neighbour)")
        source = (MediaInput(path, max(first, stop - CONDITION_FRAMES), stop) if tail
                  else MediaInput(path, first, min(stop, first + CONDITION_FRAMES)))
        job = ExtendJob(source=source, direction="tail" if tail else "head",
                        **self._model_job_fields(params, length / self.rate))
        return job, Target(layout.track, start, length)

    def _build_restyle(self, action, params: dict, item):
        if item is None and not self.edits.selection and self.edits.marked_range():
            return self._restyle_range(params)
        clip, layout, i = self._source_clip(action, item)
        path, first, stop = clip_source_frames(clip)
        length = layout.ends[i] - layout.starts[i]
        fields = self._restyle_fields(params, length / self.rate)
        return RestyleJob(source=MediaInput(path, first, stop), **fields), Target(layout.track, layout.starts[i], length)

    def _build_animate(self, action, params: dict, item):
        clip, layout, i = self._source_clip(action, item)
        path, first, _ = clip_source_frames(clip)
        length = layout.ends[i] - layout.starts[i]
        job = AnimateJob(image=MediaInput(path, first), **self._model_job_fields(params, length / self.rate))
        return job, Target(layout.track, layout.starts[i], length)

    def _restyle_fields(self, params: dict, seconds: float) -> dict:
        fields = self._model_job_fields(params, seconds)
        if not (fields.get("prompt") or "").strip():
            raise GenerationError("Restyle needs a prompt that describes the new look")
        fields["strength"] = float(params.get("strength", DEFAULT_STRENGTH))
        fields["structure_weight"] = float(params.get("structure_weight", DEFAULT_STRUCTURE_WEIGHT))
        return fields

    def _restyle_range(self, params: dict):
        """Restyle the In/Out part of the top-most clip under the In point."""
        first_frame, last_frame = self.edits.marked_range()
        for layout in self.edits.index.video_layouts:
            i = layout.index_at(first_frame)
            if i is None or not layout.track.enabled or not isinstance(layout.items[i], otio.schema.Clip):
                continue
            clip = layout.items[i]
            path, first, _ = clip_source_frames(clip)
            end = min(last_frame, layout.ends[i])
            # Timeline frames -> the file's frames.
            scale = file_rate(clip) / self.rate
            start_in_file = first + int(round((first_frame - layout.starts[i]) * scale))
            count = max(1, int(round((end - first_frame) * scale)))
            fields = self._restyle_fields(params, (end - first_frame) / self.rate)
            job = RestyleJob(source=MediaInput(path, start_in_file, start_in_file + count), **fields)
            return job, Target(layout.track, first_frame, end - first_frame)
        raise GenerationError("No clip under the In point to restyle")

    def _single_selected(self, action):
        clips = self.edits.selected_clips()
        gap = self.edits.selected_gap()
        if gap is not None and action.enabled_for({"gap"}):
            return gap
        if len(clips) != 1:
            raise GenerationError(f"{action.label} works on one selected clip")
        return clips[0]

    # -- running it --
    def request(self, op: str, params: dict, item=None):
        """Place a pending clip for `op` and queue its job; returns the job's handle (None on a problem)."""
        try:
            job, target = self.build(op, params, item)
        except (GenerationError, ValueError) as exc:
            self.message.emit(str(exc))
            return None
        return self._place_and_submit(op, job, target, name=self._clip_name(op, job))

    @staticmethod
    def _clip_name(op: str, job) -> str:
        """A short name: the prompt's first words (the AI badge already says it is generated),
        and what made it unless it was a plain generation."""
        words = " ".join((job.prompt or "").split()[:5])
        label = ACTIONS[op].label.lower()
        if not words:
            return label
        return words if not operation_of(job).inputs else f"{words} ({label})"

    def _place_and_submit(self, op: str, job, target: Target, name: str):
        from timeline.commands import CompoundCommand
        from timeline.generated import PlacePendingClip, make_pending_clip

        rt = otio.opentime.RationalTime
        params = job.to_dict()
        clip = make_pending_clip(op=job.op, params=params, duration=rt(target.length, self.rate), name=name)
        commands = []
        track = target.track
        if operation_of(job).over_source:
            track, add = self._track_above(target.track)
            if add is not None:
                commands.append(add)
        commands.append(PlacePendingClip(clip, track, rt(target.start, self.rate)))
        command = commands[0] if len(commands) == 1 else CompoundCommand(commands, text=ACTIONS[op].label)
        try:
            self.undo_stack.push_command(command)
        except (ValueError, KeyError) as exc:
            self.message.emit(f"Cannot place the {ACTIONS[op].label.lower()} clip: {exc}")
            return None
        return self._submit(clip, job)

    def _track_above(self, track):
        """The video track above `track`, and an AddTrack command when there is none yet."""
        from timeline.edits import InsertTrack

        tracks = list(self.document.timeline.tracks)
        index = next(i for i, t in enumerate(tracks) if t is track)
        for t in tracks[index + 1:]:
            if t.kind == otio.schema.TrackKind.Video:
                return t, None
        new = otio.schema.Track(name=f"V{len(self.document.video_tracks) + 1}", kind=otio.schema.TrackKind.Video)
        return new, InsertTrack(index + 1, new)

    def _submit(self, clip, job):
        """Queue `job` for the pending `clip`; only this controller listens to the job's handle."""
        handle = self.bridge.submit(job)
        handle.on_retry = lambda: self.retry(clip, same_seed=True)  # the new take lands on the same clip
        handle.watch(self, progress=lambda step, total: self._on_progress(clip, step, total),
                     done=lambda result: self._on_done(clip, result),
                     failed=lambda message: self._mark_failed(clip, message),
                     cancelled=lambda: self._mark_failed(clip, "cancelled"))
        self.canvas.set_progress(clip, 0.0)
        return handle

    def retry(self, clip, same_seed: bool = True):
        """Run a generated clip's recipe again (a failed one, or Regenerate); the result is a new take."""
        from engine.jobs import job_from_dict

        recipe = clip.media_references().get("recipe")
        if recipe is None:
            self.message.emit(f"{clip.name!r} has no recipe to run again")
            return None
        params = dict(recipe.parameters)
        if not same_seed:
            params["seed"] = None  # the engine draws a new one and records it with the take
        elif params.get("seed") is None:
            params["seed"] = app_value(clip, "seed")  # the seed the engine drew for the last take
        params["output"] = str(self.media_dir())
        try:
            job = job_from_dict(params)
        except ValueError as exc:
            self.message.emit(f"The recipe of {clip.name!r} cannot be run: {exc}")
            return None
        return self._submit(clip, job)

    def build_animatic(self, shots, params: dict) -> list:
        """Lay one pending clip per shot on a new "Storyboard" track, end to end, and queue them all.
        A locked seed gives shot i the seed + i, as `latentcut storyboard --seed` does; unlocked,
        the engine draws each shot's seed."""
        from engine.storyboard import storyboard_shots
        from timeline.commands import CompoundCommand
        from timeline.edits import InsertTrack
        from timeline.generated import PlacePendingClip
        from timeline.storyboard import STORYBOARD_TRACK

        if not shots:
            self.message.emit("The storyboard has no shots to build")
            return []
        track = otio.schema.Track(name=STORYBOARD_TRACK, kind=otio.schema.TrackKind.Video)
        top_video = max((i for i, t in enumerate(self.document.timeline.tracks)
                         if t.kind == otio.schema.TrackKind.Video), default=-1)
        fields = self._model_job_fields(params, None)
        fields["seed"] = params.get("seed") if params.get("seed_locked") else None
        board = storyboard_shots(shots, fields, self.rate)
        commands = [InsertTrack(top_video + 1, track)]
        commands += [PlacePendingClip(shot.clip, track, shot.start) for shot in board]
        self.undo_stack.push_command(CompoundCommand(commands, text="Build animatic"))
        return [self._submit(shot.clip, shot.job) for shot in board]

    # -- a job's events (UI thread) --
    def _on_progress(self, clip, step: int, total: int):
        if total > 0:
            self.canvas.set_progress(clip, step / total)

    def _on_done(self, clip, result):
        from timeline.generated import take_from_result

        self.canvas.set_progress(clip, None)
        if clip.parent() is None:
            self.message.emit(f"{clip.name!r} was removed before its take arrived; the file is kept at {result.get('path')}")
            return
        self.undo_stack.push_command(take_from_result(clip, result))
        self.message.emit(f"New take for {clip.name!r}")

    def _mark_failed(self, clip, message: str):
        from timeline.generated import MarkFailed

        self.canvas.set_progress(clip, None)
        if clip.parent() is None:
            return
        if clip.active_media_reference_key == "recipe":
            self.undo_stack.push_command(MarkFailed(clip, message))
        self.message.emit(f"{clip.name!r}: {message}")
