"""The edit controller without any widget: the selection and In/Out it owns, the edits it makes
from gestures, and its one error path."""
import opentimelineio as otio
import pytest

from desktop.edit_controller import EditController
from desktop.undo import UndoStack
from timeline import Document
from timeline.edits import TrimTail
from timeline.provenance import track_flag

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def clip(name, frames=24):
    ref = otio.schema.ExternalReference(target_url=f"/m/{name}.mp4", available_range=TR(RT(0, 24), RT(240, 24)))
    return otio.schema.Clip(name=name, media_reference=ref, source_range=TR(RT(0, 24), RT(frames, 24)))


@pytest.fixture
def edits(qapp):
    doc = Document.new(rate=24)
    for name in ("a", "b"):
        doc.video_tracks[0].append(clip(name))
    controller = EditController(UndoStack(doc))
    controller.messages = []
    controller.message.connect(controller.messages.append)
    return controller


def test_selection_and_in_out_live_in_the_controller(edits):
    changed = []
    edits.selection_changed.connect(lambda: changed.append(1))
    a, b = edits.index.layouts[0].items
    edits.set_selection([a])
    assert edits.selected_clips() == [a] and edits.selected_gap() is None
    edits.set_in(30)
    edits.set_out(10)  # before In: In is dropped
    assert edits.marked_range() is None and edits.out_point == 10
    edits.set_in(2)
    assert edits.marked_range() == (2, 10) and len(changed) == 4
    edits.delete()  # a is lifted: a gap stands in its place and the selection forgets a
    assert edits.selection == [] and isinstance(edits.index.layouts[0].items[0], otio.schema.Gap)
    edits.set_selection([edits.index.layouts[0].items[0]])
    assert edits.selected_gap() is not None
    edits.undo_stack.undo()
    assert edits.index.layouts[0].items[0] is a  # the index follows undo too


def test_razor_splits_at_the_frame_and_a_locked_track_refuses(edits):
    edits.razor(30)
    assert [round(c.duration().value) for c in edits.index.layouts[0].items] == [24, 6, 18]
    track = edits.document.video_tracks[0]
    edits.set_track_flag(track, "locked", True)
    assert track_flag(track, "locked")
    edits.set_selection(list(edits.index.layouts[0].items[:1]))
    edits.delete()
    assert edits.messages[-1] == "Track V1 is locked" and len(edits.index.layouts[0].items) == 3
    edits.razor(10)
    assert edits.messages[-1] == "Nothing to cut at the playhead"


def test_a_refused_edit_is_said_once_and_changes_nothing(edits):
    a = edits.index.layouts[0].items[0]
    before = otio.adapters.write_to_string(edits.document.timeline, "otio_json")
    assert not edits.push(TrimTail(a, RT(500, 24)))
    assert len(edits.messages) == 1 and edits.messages[0].startswith("Trim")
    assert otio.adapters.write_to_string(edits.document.timeline, "otio_json") == before
    assert edits.undo_stack.count() == 0
