"""The Document: settings, lookups on long tracks, change events, and the import boundary."""
import subprocess
import sys

import opentimelineio as otio
import pytest

from timeline import CommandStack, Document
from timeline.edits import AddMarker, AddTrack, Insert, Lift, SetEnabled, SetSettings, Split
from timeline.generated import AddTake, make_pending_clip
from timeline_helpers import RT, TR, frames, make_clip


def test_new_document_has_settings_and_one_track_of_each_kind():
    doc = Document.new(rate=25, width=1280, height=720)
    assert (doc.rate, doc.width, doc.height) == (25.0, 1280, 720)
    assert [t.name for t in doc.video_tracks] == ["V1"]
    assert [t.name for t in doc.audio_tracks] == ["A1"]
    assert doc.timeline.metadata["latentcut"]["rate"] == 25.0
    with pytest.raises(ValueError, match="rate"):
        Document.new(rate=0)
    with pytest.raises(TypeError, match="timeline"):
        Document(otio.schema.Track())


def test_a_foreign_timeline_gets_its_rate_from_its_start_time():
    tl = otio.schema.Timeline(global_start_time=RT(0, 30))
    doc = Document(tl)
    assert doc.rate == 30.0 and doc.width is None
    CommandStack(doc).push(SetSettings(width=640, height=360))
    assert (doc.width, doc.height) == (640, 360)


def test_index_of_and_item_at_on_a_long_track_with_zero_length_items():
    doc = Document.new()
    track = doc.video_tracks[0]
    clips = [make_clip(f"c{i}", 1 + i % 5) for i in range(300)]
    for c in clips:
        track.append(c)
    track.insert(150, otio.schema.Gap(source_range=TR(RT(0, 24), RT(0, 24))))
    for i in (0, 1, 149, 150, 151, 300):
        assert track[doc.index_of(track[i])] is track[i]
    for i in (0, 77, 151, 300):
        rng = track.range_of_child_at_index(i)
        index, item, found = doc.item_at(track, rng.start_time + RT(0.5, 24))
        assert item is track[i] and index == i and found == rng
    assert doc.item_at(track, track.duration()) == (len(track), None, None)
    with pytest.raises(ValueError, match="not on a track"):
        doc.index_of(make_clip("loose"))


def test_events_are_past_tense_and_name_what_changed():
    doc = Document.new(rate=24, width=64, height=36)
    stack = CommandStack(doc)
    track = doc.video_tracks[0]
    track.append(make_clip("a"))
    events = []
    unsubscribe = doc.subscribe(lambda event, payload: events.append((event, payload)))

    x = make_clip("x", 6)
    stack.push(Insert(track, frames(12), x))
    names = [e for e, _ in events]
    assert names == ["clip_changed", "clip_added", "clip_added"]
    assert events[-1][1]["item"] is x and events[-1][1]["index"] == 1
    assert events[-1][1]["track"] is track

    events.clear()
    stack.undo()
    assert [e for e, _ in events] == ["clip_removed", "clip_removed", "clip_changed"]

    events.clear()
    stack.push(AddTrack("Video"))
    stack.push(SetEnabled(doc.video_tracks[1], False))
    stack.push(AddMarker(track, otio.schema.Marker(name="m")))
    assert [e for e, _ in events] == ["track_added", "track_changed", "marker_added"]
    assert events[-1][1]["track"] is track and events[-1][1]["target"] is track

    clip = make_pending_clip("generate", {"prompt": "night"}, frames(24), "shot")
    doc.video_tracks[1].append(clip)
    events.clear()
    stack.push(AddTake(clip, "/m/take.mp4", TR(RT(0, 24), RT(24, 24)), {"seed": 1}))
    assert events[0][0] == "takes_changed" and events[0][1]["item"] is clip

    unsubscribe()
    events.clear()
    stack.push(Lift(track[0]))
    assert events == []


def test_a_failing_subscriber_cannot_leave_an_edit_half_done(caplog):
    doc = Document.new()
    track = doc.video_tracks[0]
    track.append(make_clip("a"))
    seen = []

    def broken(event, payload):
        raise RuntimeError("view bug")

    doc.subscribe(broken)
    doc.subscribe(lambda e, p: seen.append(e))
    stack = CommandStack(doc)
    stack.push(Split(track, frames(10)))
    assert len(track) == 2 and seen == ["clip_changed", "clip_added"]
    assert "view bug" in caplog.text and "clip_added" in caplog.text


def test_split_redo_reports_the_same_objects():
    doc = Document.new()
    track = doc.video_tracks[0]
    track.append(make_clip("a"))
    stack = CommandStack(doc)
    added = []
    doc.subscribe(lambda e, p: added.append(p["item"]) if e == "clip_added" else None)
    stack.push(Split(track, frames(10)))
    stack.undo()
    stack.redo()
    assert added[0] is added[1]


def test_importing_timeline_does_not_import_torch_av_ray_or_qt():
    code = ("import sys, timeline, timeline.document, timeline.commands, timeline.edits, "
            "timeline.generated, timeline.provenance, timeline.project, timeline.interchange, "
            "timeline.storyboard\n"
            "bad = [m for m in ('torch', 'av', 'PySide6', 'numpy', 'ray') if m in sys.modules]\n"
            "print(bad); sys.exit(1 if bad else 0)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_lookups_agree_with_a_linear_scan_on_irregular_tracks():
    """Mixed lengths, rates, zero-length items and a transition: every item is found at its
    index, and every probed time maps to the item whose range covers it."""
    import random
    rnd = random.Random(4)
    doc = Document.new()
    track = doc.video_tracks[0]
    for i in range(400):
        rate = rnd.choice((24, 30, 25))
        length = rnd.choice((0, 1, 2, 7, 24, 24, 24, 240))
        if length == 0 or i % 37 == 0:
            track.append(otio.schema.Gap(source_range=TR(RT(0, rate), RT(length, rate))))
        else:
            track.append(make_clip(f"c{i}", length, rate=rate, media_frames=300))
    track.insert(11, otio.schema.Transition(in_offset=RT(0, 24), out_offset=RT(0, 24)))
    for i in range(len(track)):
        assert doc.index_of(track[i]) == i
    ranges = [track.range_of_child_at_index(i) for i in range(len(track))]
    for _ in range(300):
        t = RT(rnd.uniform(0, track.duration().to_seconds()), 1).rescaled_to(24)
        index, item, rng = doc.item_at(track, t)
        want = [i for i, r in enumerate(ranges)
                if r.duration.value > 0 and not isinstance(track[i], otio.schema.Transition)
                and r.start_time <= t < r.end_time_exclusive()]
        assert [index] == want and item is track[index] and rng == ranges[index]
