"""CommandStack history and clean state; compound commands never leave a half-done edit."""
import pytest

from timeline import CommandStack, CompoundCommand, EditError
from timeline.edits import Append, Lift, TrimHead
from timeline_helpers import frames, make_clip, snapshot


def test_undo_redo_texts_and_clean_state(doc):
    changes = []
    stack = CommandStack(doc, on_change=lambda: changes.append(1))
    track = doc.video_tracks[0]
    assert stack.is_clean and not stack.can_undo and stack.undo() is None
    stack.push(Append(track, make_clip("x")))
    assert not stack.is_clean and stack.undo_text == "Append x"
    stack.set_clean()
    stack.push(Lift(track[0]))
    assert not stack.is_clean
    stack.undo()
    assert stack.is_clean and stack.redo_text == "Lift a"
    stack.undo()
    assert not stack.is_clean
    stack.redo()
    assert stack.is_clean
    stack.undo()
    stack.push(Append(track, make_clip("y")))  # the saved state can no longer be reached
    assert not stack.can_redo
    stack.undo()
    assert not stack.is_clean
    assert changes


def test_compound_rolls_back_when_a_child_fails(doc):
    stack = CommandStack(doc)
    track = doc.video_tracks[0]
    before = snapshot(doc)
    bad = CompoundCommand([Append(track, make_clip("x")), TrimHead(track[1], frames(-5))], "Two")
    with pytest.raises(EditError):
        stack.push(bad)
    assert snapshot(doc) == before and not stack.can_undo


def test_compound_undo_redo_is_exact(doc):
    stack = CommandStack(doc)
    track = doc.video_tracks[0]
    before = snapshot(doc)
    stack.push(CompoundCommand([Lift(track[0]), Append(track, make_clip("x"))], "Replace"))
    after = snapshot(doc)
    stack.undo()
    assert snapshot(doc) == before
    stack.redo()
    assert snapshot(doc) == after
