"""Every edit command: its effect on the track, and undo/redo giving back the exact OTIO JSON."""
import opentimelineio as otio
import pytest

from timeline import EditError
from timeline.edits import (AddMarker, AddTrack, Append, CloseGap, Insert, Lift, Move,
                            MoveMarker, Overwrite, RemoveMarker, RemoveTrack, Rename,
                            RippleDelete, SetEnabled, SetSettings, Slip, Split, TrimHead,
                            TrimTail)
from timeline_helpers import RT, TR, assert_roundtrip, frames, layout, make_clip, snapshot


def v1(doc):
    return doc.video_tracks[0]


def test_insert_in_the_middle_of_a_clip_splits_it_and_ripples(doc, stack):
    assert_roundtrip(stack, Insert(v1(doc), frames(30), make_clip("x", 12)))
    assert layout(v1(doc)) == [("Clip", "a", 0, 24), ("Clip", "b", 24, 6), ("Clip", "x", 30, 12),
                               ("Clip", "b", 42, 18), ("Clip", "c", 60, 24)]
    # the second half of b shows the media after the cut
    assert v1(doc)[3].source_range.start_time == RT(16, 24)


def test_insert_past_the_end_pads_with_a_gap(doc, stack):
    assert_roundtrip(stack, Insert(v1(doc), frames(100), make_clip("x", 12)))
    assert layout(v1(doc))[-2:] == [("Gap", "", 72, 28), ("Clip", "x", 100, 12)]


def test_overwrite_replaces_the_covered_range(doc, stack):
    assert_roundtrip(stack, Overwrite(v1(doc), frames(12), make_clip("x", 36)))
    assert layout(v1(doc)) == [("Clip", "a", 0, 12), ("Clip", "x", 12, 36), ("Clip", "c", 48, 24)]
    assert v1(doc).duration() == frames(72)


def test_overwrite_over_the_end_extends_the_track(doc, stack):
    assert_roundtrip(stack, Overwrite(v1(doc), frames(60), make_clip("x", 30)))
    assert layout(v1(doc))[-2:] == [("Clip", "c", 48, 12), ("Clip", "x", 60, 30)]


def test_append(doc, stack):
    assert_roundtrip(stack, Append(v1(doc), make_clip("x", 5)))
    assert layout(v1(doc))[-1] == ("Clip", "x", 72, 5)


def test_lift_leaves_a_gap(doc, stack):
    b = v1(doc)[1]
    assert_roundtrip(stack, Lift(b))
    assert layout(v1(doc)) == [("Clip", "a", 0, 24), ("Gap", "", 24, 24), ("Clip", "c", 48, 24)]
    assert b.parent() is None


def test_lift_merges_neighbouring_gaps(doc, stack):
    stack.push(Lift(v1(doc)[0]))
    stack.push(Lift(v1(doc)[2]))  # c; its gap would be trailing, so it is dropped
    assert layout(v1(doc)) == [("Gap", "", 0, 24), ("Clip", "b", 24, 24)]
    assert_roundtrip(stack, Lift(v1(doc)[1]))
    assert layout(v1(doc)) == []


def test_lift_between_gaps_makes_one_gap(doc, stack):
    stack.push(Lift(v1(doc)[0]))
    stack.push(Lift(v1(doc)[2]))
    stack.push(Append(v1(doc), make_clip("d")))
    stack.push(Insert(v1(doc), frames(48), make_clip("e", 10)))
    stack.push(Lift(v1(doc)[2]))
    assert layout(v1(doc)) == [("Gap", "", 0, 24), ("Clip", "b", 24, 24), ("Gap", "", 48, 10),
                               ("Clip", "d", 58, 24)]
    assert_roundtrip(stack, Lift(v1(doc)[1]))
    assert layout(v1(doc)) == [("Gap", "", 0, 58), ("Clip", "d", 58, 24)]


def test_ripple_delete_closes_the_space(doc, stack):
    assert_roundtrip(stack, RippleDelete(v1(doc)[1]))
    assert layout(v1(doc)) == [("Clip", "a", 0, 24), ("Clip", "c", 24, 24)]


def test_split_cuts_a_clip_and_keeps_metadata_and_markers_in_their_half(doc, stack):
    b = v1(doc)[1]
    b.metadata["resolve"] = {"color": "Orange"}
    b.markers.append(otio.schema.Marker(name="early", marked_range=TR(RT(12, 24), RT(0, 24))))
    b.markers.append(otio.schema.Marker(name="late", marked_range=TR(RT(30, 24), RT(0, 24))))
    assert_roundtrip(stack, Split(v1(doc), frames(30)))
    assert layout(v1(doc))[1:3] == [("Clip", "b", 24, 6), ("Clip", "b", 30, 18)]
    second = v1(doc)[2]
    assert second.metadata["resolve"]["color"] == "Orange"
    assert [m.name for m in second.markers] == ["late"]
    assert second.source_range == TR(RT(16, 24), RT(18, 24))


def test_split_on_an_edit_point_or_past_the_end_is_refused(doc, stack):
    before = snapshot(doc)
    with pytest.raises(EditError, match="spans"):
        stack.push(Split(v1(doc), frames(24)))
    with pytest.raises(EditError):
        stack.push(Split(v1(doc), frames(500)))
    assert snapshot(doc) == before and not stack.can_undo


def test_trim_head_without_ripple_opens_a_gap(doc, stack):
    assert_roundtrip(stack, TrimHead(v1(doc)[1], frames(6)))
    assert layout(v1(doc)) == [("Clip", "a", 0, 24), ("Gap", "", 24, 6), ("Clip", "b", 30, 18),
                               ("Clip", "c", 48, 24)]
    assert v1(doc)[2].source_range.start_time == RT(16, 24)


def test_trim_head_back_out_consumes_the_gap(doc, stack):
    stack.push(TrimHead(v1(doc)[1], frames(6)))
    b = v1(doc)[2]
    assert_roundtrip(stack, TrimHead(b, frames(-6)))
    assert layout(v1(doc)) == [("Clip", "a", 0, 24), ("Clip", "b", 24, 24), ("Clip", "c", 48, 24)]


def test_trim_head_with_ripple_moves_later_clips(doc, stack):
    assert_roundtrip(stack, TrimHead(v1(doc)[1], frames(6), ripple=True))
    assert layout(v1(doc)) == [("Clip", "a", 0, 24), ("Clip", "b", 24, 18), ("Clip", "c", 42, 24)]


def test_trim_tail_without_ripple_opens_a_gap(doc, stack):
    assert_roundtrip(stack, TrimTail(v1(doc)[0], frames(4)))
    assert layout(v1(doc))[:3] == [("Clip", "a", 0, 20), ("Gap", "", 20, 4), ("Clip", "b", 24, 24)]


def test_trim_tail_with_ripple_and_extension(doc, stack):
    assert_roundtrip(stack, TrimTail(v1(doc)[0], frames(-10), ripple=True))
    assert layout(v1(doc)) == [("Clip", "a", 0, 34), ("Clip", "b", 34, 24), ("Clip", "c", 58, 24)]


def test_trim_tail_of_the_last_clip_extends_into_empty_space(doc, stack):
    assert_roundtrip(stack, TrimTail(v1(doc)[2], frames(-8)))
    assert layout(v1(doc))[-1] == ("Clip", "c", 48, 32)


def test_trims_that_cannot_fit_are_refused_and_change_nothing(doc, stack):
    before = snapshot(doc)
    with pytest.raises(EditError, match="no room"):
        stack.push(TrimHead(v1(doc)[1], frames(-2)))  # a is in the way
    with pytest.raises(EditError, match="outside its media"):
        stack.push(TrimHead(v1(doc)[0], frames(-11), ripple=True))  # media starts at 0, clip at 10
    with pytest.raises(ValueError, match="delta"):
        stack.push(TrimTail(v1(doc)[0], frames(24)))
    with pytest.raises(EditError, match="gap"):
        stack.push(TrimTail(v1(doc)[0], frames(-2)))
    assert snapshot(doc) == before


def test_slip_changes_the_media_shown_not_the_cut(doc, stack):
    assert_roundtrip(stack, Slip(v1(doc)[1], frames(5)))
    assert v1(doc)[1].source_range == TR(RT(15, 24), RT(24, 24))
    assert layout(v1(doc))[1] == ("Clip", "b", 24, 24)
    with pytest.raises(EditError):
        stack.push(Slip(v1(doc)[1], frames(-20)))


def test_move_in_time_on_the_same_track(doc, stack):
    a = v1(doc)[0]
    assert_roundtrip(stack, Move(a, v1(doc), frames(84)))
    assert layout(v1(doc)) == [("Gap", "", 0, 24), ("Clip", "b", 24, 24), ("Clip", "c", 48, 24),
                               ("Gap", "", 72, 12), ("Clip", "a", 84, 24)]


def test_move_to_another_track(doc, stack):
    stack.push(AddTrack("Video"))
    v2 = doc.video_tracks[1]
    b = v1(doc)[1]
    assert_roundtrip(stack, Move(b, v2, frames(10)))
    assert layout(v2) == [("Gap", "", 0, 10), ("Clip", "b", 10, 24)]
    assert layout(v1(doc))[1] == ("Gap", "", 24, 24)
    with pytest.raises(EditError, match="audio"):
        stack.push(Move(v1(doc)[0], doc.audio_tracks[0], frames(0)))


def test_redo_reuses_objects_so_later_commands_stay_valid(doc, stack):
    """Redo reuses the same OTIO objects, so a later command on a split piece still applies."""
    stack.push(Split(v1(doc), frames(30)))
    piece = v1(doc)[2]
    stack.push(TrimTail(piece, frames(6), ripple=True))
    final = snapshot(doc)
    stack.undo()
    stack.undo()
    stack.redo()
    stack.redo()
    assert snapshot(doc) == final


def test_close_gap(doc, stack):
    stack.push(Lift(v1(doc)[1]))
    gap = v1(doc)[1]
    assert_roundtrip(stack, CloseGap(gap))
    assert layout(v1(doc)) == [("Clip", "a", 0, 24), ("Clip", "c", 24, 24)]
    with pytest.raises(ValueError, match="gap"):
        CloseGap(v1(doc)[0])


def test_add_and_remove_tracks(doc, stack):
    assert_roundtrip(stack, AddTrack("Video"))
    assert [t.name for t in doc.video_tracks] == ["V1", "V2"]
    assert_roundtrip(stack, AddTrack("Audio", name="Music", index=0))
    assert doc.timeline.tracks[0].name == "Music"
    assert_roundtrip(stack, RemoveTrack(v1(doc)))
    assert [t.name for t in doc.video_tracks] == ["V2"]
    with pytest.raises(ValueError, match="kind"):
        AddTrack("Subtitles")


def test_markers_add_move_remove(doc, stack):
    track = v1(doc)
    marker = otio.schema.Marker(name="beat", marked_range=TR(RT(5, 24), RT(0, 24)))
    assert_roundtrip(stack, AddMarker(track, marker))
    assert_roundtrip(stack, MoveMarker(track, marker, TR(RT(9, 24), RT(2, 24))))
    assert track.markers[0].marked_range.start_time == RT(9, 24)
    clip_marker = otio.schema.Marker(name="note", marked_range=TR(RT(12, 24), RT(0, 24)))
    assert_roundtrip(stack, AddMarker(track[0], clip_marker))
    assert_roundtrip(stack, RemoveMarker(track, marker))
    assert len(track.markers) == 0 and len(track[0].markers) == 1
    timeline_marker = otio.schema.Marker(name="act 2", marked_range=TR(RT(48, 24), RT(0, 24)))
    assert_roundtrip(stack, AddMarker(doc.timeline.tracks, timeline_marker))


def test_enable_and_rename(doc, stack):
    assert_roundtrip(stack, SetEnabled(v1(doc), False))
    assert v1(doc).enabled is False
    assert_roundtrip(stack, Rename(v1(doc)[0], "hero"))
    assert v1(doc)[0].name == "hero"


def test_timeline_settings(doc, stack):
    events = []
    doc.subscribe(lambda e, p: events.append(e))
    assert_roundtrip(stack, SetSettings(rate=25, width=1280, height=720))
    assert (doc.rate, doc.width, doc.height) == (25.0, 1280, 720)
    assert "timeline_changed" in events
    with pytest.raises(ValueError, match="width"):
        SetSettings(width=0)


def test_edits_work_across_frame_rates(doc, stack):
    """A 30 fps clip on a 24 fps track: record times stay exact rational times."""
    assert_roundtrip(stack, Insert(v1(doc), frames(24), make_clip("ntsc", 30, rate=30)))
    assert v1(doc)[1].duration() == RT(30, 30)
    assert_roundtrip(stack, Split(v1(doc), frames(36)))
    assert v1(doc)[1].duration() + v1(doc)[2].duration() == RT(1, 1)


def test_bad_arguments_name_themselves(doc):
    with pytest.raises(TypeError, match="time"):
        Insert(v1(doc), 1.5, make_clip("x"))
    with pytest.raises(ValueError, match="time"):
        Overwrite(v1(doc), frames(-1), make_clip("x"))
    with pytest.raises(TypeError, match="track"):
        Append(doc.timeline, make_clip("x"))
    with pytest.raises(TypeError, match="item"):
        Insert(v1(doc), frames(0), "clip.mp4")
    with pytest.raises(TypeError, match="delta"):
        TrimHead(v1(doc)[0], 3)
    with pytest.raises(EditError, match="already on track"):
        from timeline import CommandStack
        CommandStack(doc).push(Append(v1(doc), v1(doc)[0]))
