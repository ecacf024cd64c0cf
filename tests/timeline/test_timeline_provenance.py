"""The one app-data module: plain copies of OTIO values, track flags, the timeline rate,
generated segments in a window, and the atomic file writer the project and models use."""
import json
import os

import opentimelineio as otio
import pytest

from timeline import CommandStack, Document
from timeline.edits import SetAppMetadata
from timeline.files import atomic_path, write_atomic
from timeline.generated import PlacePendingClip, make_pending_clip
from timeline.provenance import (APP_KEY, app_data, generated_segments, timeline_rate, to_plain,
                                 track_flag, with_track_flag)
from timeline_helpers import RT, TR, frames, make_clip


def test_to_plain_keeps_times_exact_or_makes_them_json():
    clip = otio.schema.Clip()
    md = clip.metadata
    md["x"] = {"range": TR(RT(3, 24), RT(48, 24)), "list": [RT(1, 30), "a", 2], "when": RT(5, 25)}
    kept = to_plain(md)
    assert type(kept) is dict and type(kept["x"]["list"]) is list
    assert kept["x"]["range"] == TR(RT(3, 24), RT(48, 24)) and kept["x"]["list"][0] == RT(1, 30)
    as_json = to_plain(md, json=True)
    assert as_json["x"]["range"] == {"start_time": {"value": 3, "rate": 24}, "duration": {"value": 48, "rate": 24}}
    assert as_json["x"]["when"] == {"value": 5, "rate": 25}
    assert json.loads(json.dumps(as_json)) == as_json
    assert to_plain(object(), json=True).startswith("<object")


def test_track_flags_live_in_app_data_and_undo_exactly():
    doc = Document.new()
    stack = CommandStack(doc)
    track = doc.video_tracks[0]
    track.metadata["other_app"] = {"keep": 1}
    assert not track_flag(track, "muted") and track_flag(track, "enabled")
    stack.push(SetAppMetadata(track, with_track_flag(track, "locked", True)))
    assert track_flag(track, "locked") and not track_flag(track, "muted")
    stack.push(SetAppMetadata(track, with_track_flag(track, "muted", True)))
    assert app_data(track) == {"locked": True, "muted": True}
    stack.undo()
    stack.undo()
    assert APP_KEY not in track.metadata and dict(track.metadata["other_app"]) == {"keep": 1}
    with pytest.raises(ValueError, match="which"):
        track_flag(track, "solo")


def test_timeline_rate_falls_back_to_start_time_then_first_clip():
    assert timeline_rate(Document.new(rate=25).timeline) == 25
    tl = otio.schema.Timeline(global_start_time=RT(0, 30))
    assert timeline_rate(tl) == 30
    tl = otio.schema.Timeline()
    tl.tracks.append(otio.schema.Track())
    assert timeline_rate(tl) == 24
    tl.tracks[0].append(make_clip("a", rate=50))
    assert timeline_rate(tl) == 50


def test_generated_segments_in_a_window():
    doc = Document.new(rate=24)
    stack = CommandStack(doc)
    track = doc.video_tracks[0]
    track.append(make_clip("camera", 24))
    clip = make_pending_clip("generate", {"prompt": "a red ball", "seed": 3}, frames(48), "shot")
    stack.push(PlacePendingClip(clip, track, frames(24)))
    whole = generated_segments(doc.timeline)
    assert [(s["start_frame"], s["end_frame"]) for s in whole] == [(24, 72)]
    part = generated_segments(doc.timeline, TR(RT(0, 24), RT(36, 24)))
    assert [(s["start_frame"], s["end_frame"], s["seed"]) for s in part] == [(24, 36, 3)]
    assert part[0]["provenance"]["status"] == "pending"
    assert generated_segments(doc.timeline, TR(RT(0, 24), RT(24, 24))) == []
    json.dumps(whole)  # JSON-ready


def test_atomic_write_keeps_the_old_file_when_the_writer_fails(tmp_path):
    path = tmp_path / "models.json"
    write_atomic(path, "old")
    os.chmod(path, 0o600)
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["models.json"]
    write_atomic(path, b"new")
    assert path.read_bytes() == b"new" and (path.stat().st_mode & 0o777) == 0o600
    fresh = tmp_path / "fresh.txt"
    write_atomic(fresh, "x")
    assert (fresh.stat().st_mode & 0o777) == 0o644
    with pytest.raises(OSError):
        write_atomic(tmp_path / "no" / "such" / "folder.txt", "x")
