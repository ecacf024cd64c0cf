"""UndoStack: timeline Commands on a QUndoStack, exact undo/redo, failing edits never pushed."""
import opentimelineio as otio
import pytest

from desktop.undo import UndoStack
from timeline import Document, EditError
from timeline.edits import Append, Lift, Split


def _json(doc):
    return otio.adapters.write_to_string(doc.timeline)


def _clip(name, frames=24):
    rng = otio.opentime.TimeRange(otio.opentime.RationalTime(0, 24), otio.opentime.RationalTime(frames, 24))
    return otio.schema.Clip(name=name, media_reference=otio.schema.ExternalReference("/m/" + name), source_range=rng)


def test_push_undo_redo_round_trip(qapp):
    doc = Document.new(rate=24, width=64, height=36)
    stack = UndoStack(doc)
    before = _json(doc)
    stack.push_command(Append(doc.video_tracks[0], _clip("a")))
    after = _json(doc)
    assert after != before and stack.count() == 1 and stack.undoText()
    stack.undo()
    assert _json(doc) == before
    stack.redo()
    assert _json(doc) == after


def test_clean_state_follows_saves(qapp):
    doc = Document.new(rate=24)
    stack = UndoStack(doc)
    assert stack.isClean()
    stack.push_command(Append(doc.video_tracks[0], _clip("a")))
    assert not stack.isClean()
    stack.setClean()
    stack.push_command(Split(doc.video_tracks[0], otio.opentime.RationalTime(12, 24)))
    assert not stack.isClean()
    stack.undo()
    assert stack.isClean()


def test_failing_edit_is_not_pushed_and_changes_nothing(qapp):
    doc = Document.new(rate=24)
    stack = UndoStack(doc)
    stack.push_command(Append(doc.video_tracks[0], _clip("a")))
    before = _json(doc)
    with pytest.raises(EditError):
        stack.push_command(Split(doc.video_tracks[0], otio.opentime.RationalTime(100, 24)))
    assert stack.count() == 1 and _json(doc) == before


def test_events_reach_subscribers_on_undo(qapp):
    doc = Document.new(rate=24)
    stack = UndoStack(doc)
    clip = _clip("a")
    stack.push_command(Append(doc.video_tracks[0], clip))
    events = []
    doc.subscribe(lambda e, p: events.append(e))
    stack.push_command(Lift(clip))
    stack.undo()
    assert "clip_removed" in events and "clip_added" in events
