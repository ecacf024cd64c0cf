"""Linked picture and sound: move, trim, razor and delete act on both sides; linked=False
(the Alt modifier) acts on one side only; every edit undoes exactly."""
import opentimelineio as otio
import pytest

from timeline import CommandStack, Document, EditError
from timeline.links import (LinkedDelete, LinkedMove, LinkedSplit, LinkedTrim, PlaceLinked, link, link_id,
                            partners)
from timeline_helpers import assert_roundtrip, frames, layout, make_clip


@pytest.fixture
def linked():
    """V1 and A1 each hold one half of a 48-frame file placed at frame 24."""
    doc = Document.new(rate=24, width=64, height=36)
    video, audio = make_clip("a.mp4", 48), make_clip("a.mp4", 48)
    link(video, audio)
    PlaceLinked([(doc.video_tracks[0], video), (doc.audio_tracks[0], audio)], frames(24)).do(doc)
    return doc, CommandStack(doc), video, audio


def tracks(doc):
    return layout(doc.video_tracks[0]), layout(doc.audio_tracks[0])


def test_placing_puts_both_halves_at_the_same_time_and_they_are_partners(linked):
    doc, _, video, audio = linked
    assert tracks(doc) == ([("Gap", "", 0, 24), ("Clip", "a.mp4", 24, 48)],
                           [("Gap", "", 0, 24), ("Clip", "a.mp4", 24, 48)])
    assert link_id(video) == link_id(audio) is not None
    assert partners(doc, video) == [audio] and partners(doc, audio) == [video]


def test_a_linked_move_moves_both_and_one_side_moves_only_that_side(linked):
    doc, stack, video, audio = linked
    assert_roundtrip(stack, LinkedMove(audio, doc.audio_tracks[0], frames(48)))
    assert tracks(doc)[0][1] == ("Clip", "a.mp4", 48, 48) and tracks(doc)[1][1] == ("Clip", "a.mp4", 48, 48)
    stack.push(LinkedMove(video, doc.video_tracks[0], frames(0), linked=False))
    assert tracks(doc)[0][0] == ("Clip", "a.mp4", 0, 48) and tracks(doc)[1][1] == ("Clip", "a.mp4", 48, 48)


def test_a_linked_move_that_would_push_a_partner_before_zero_is_refused(linked):
    doc, stack, video, audio = linked
    stack.push(LinkedMove(audio, doc.audio_tracks[0], frames(0), linked=False))
    with pytest.raises(EditError, match="before the timeline"):
        stack.push(LinkedMove(video, doc.video_tracks[0], frames(0)))


def test_a_linked_trim_trims_both_sides(linked):
    doc, stack, video, audio = linked
    assert_roundtrip(stack, LinkedTrim(video, "tail", frames(12)))
    assert video.duration() == audio.duration() == frames(36)
    stack.push(LinkedTrim(audio, "head", frames(6), linked=False))
    assert audio.duration() == frames(30) and video.duration() == frames(36)


def test_a_linked_razor_cuts_both_and_the_new_pieces_link_to_each_other(linked):
    doc, stack, video, audio = linked
    assert_roundtrip(stack, LinkedSplit(doc.video_tracks[0], frames(36)))
    v1, v2 = doc.video_tracks[0].find_clips()
    a1, a2 = doc.audio_tracks[0].find_clips()
    assert partners(doc, v1) == [a1] and partners(doc, v2) == [a2]
    stack.push(LinkedSplit(doc.audio_tracks[0], frames(60), linked=False))
    a3 = doc.audio_tracks[0].find_clips()[-1]
    assert len(doc.video_tracks[0].find_clips()) == 2 and partners(doc, a3) == []
    assert partners(doc, a2) == [v2]


def test_a_linked_delete_removes_both_and_one_side_keeps_the_other(linked):
    doc, stack, video, audio = linked
    assert_roundtrip(stack, LinkedDelete(video))
    assert doc.timeline.find_clips() == []
    stack.undo()
    stack.push(LinkedDelete(audio, ripple=True, linked=False))
    assert doc.audio_tracks[0].find_clips() == [] and doc.video_tracks[0].find_clips() == [video]


def test_unlinked_clips_edit_alone():
    doc = Document.new(rate=24, width=64, height=36)
    video, audio = make_clip("v", 48), make_clip("a", 48)
    PlaceLinked([(doc.video_tracks[0], video), (doc.audio_tracks[0], audio)], frames(0)).do(doc)
    LinkedDelete(video).do(doc)
    assert doc.audio_tracks[0].find_clips() == [audio]
    with pytest.raises(EditError, match="already on a track"):
        link(audio, otio.schema.Clip())
