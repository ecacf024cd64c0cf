"""Interchange: OTIO formats keep everything; EDL and FCP XML say what they dropped and label
generated clips; files written by the real adapters are read back and compared structurally."""
import zipfile
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest

from timeline import CommandStack, Document, ProjectError
from timeline.edits import AddMarker, AddTrack, Append
from timeline.generated import AddTake, PlacePendingClip, make_pending_clip
from timeline.interchange import export_timeline, import_timeline
from timeline_helpers import RT, TR, frames, make_clip, snapshot


def encode(path, n=12, size=(64, 36), rate=24):
    """A tiny real H.264 file made with PyAV."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        for i in range(n):
            img = np.full((size[1], size[0], 3), i * 20 % 255, np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


@pytest.fixture
def cut(tmp_path):
    """A cut with everything: 2 video tracks, audio, a transition, a nested stack, markers,
    other applications' metadata and a generated clip with two takes plus a pending one."""
    media = tmp_path / "cut_media"
    media.mkdir()
    cam = encode(media / "cam.mp4")
    take1 = encode(media / "take1.mp4")
    take2 = encode(media / "take2.mp4")
    doc = Document.new(rate=24, width=64, height=36)
    doc.timeline.metadata["resolve"] = {"project": "Feature", "lut": [1, 2, 3]}
    stack = CommandStack(doc)
    v1 = doc.video_tracks[0]
    v1.metadata["avid"] = {"locked": True}
    a = make_clip("cam", 12, media_frames=12, url=str(cam))
    a.metadata["nuke"] = {"node": "Read1"}
    stack.push(Append(v1, a))
    stack.push(Append(v1, make_clip("cam2", 6, start=6, media_frames=12, url=str(cam))))
    v1.insert(1, otio.schema.Transition(name="dissolve", in_offset=RT(3, 24), out_offset=RT(3, 24),
                                        transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve))
    gen = make_pending_clip("generate", {"prompt": "zoom in on a yellow box", "seed": 5}, frames(12), "gen")
    stack.push(PlacePendingClip(gen, v1, frames(18)))
    stack.push(AddTake(gen, str(take1), TR(RT(0, 24), RT(12, 24)), {"seed": 5}))
    stack.push(AddTake(gen, str(take2), TR(RT(0, 24), RT(12, 24)), {"seed": 6}))
    pending = make_pending_clip("generate", {"prompt": "night", "seed": 1}, frames(12), "todo")
    stack.push(PlacePendingClip(pending, v1, frames(30)))
    inner = otio.schema.Track(name="inner")
    inner.append(make_clip("nested", 12, media_frames=12, url=str(cam)))
    v1.append(otio.schema.Stack(name="comp", children=[inner], metadata={"fusion": {"id": 9}}))
    stack.push(AddMarker(v1, otio.schema.Marker(name="beat", marked_range=TR(RT(6, 24), RT(0, 24)))))
    stack.push(AddMarker(a, otio.schema.Marker(name="focus", marked_range=TR(RT(2, 24), RT(0, 24)))))
    stack.push(AddTrack("Video"))
    stack.push(Append(doc.video_tracks[1], make_clip("overlay", 6, media_frames=12, url=str(cam))))
    stack.push(Append(doc.audio_tracks[0], make_clip("music", 24, media_frames=48, url=str(cam))))
    return doc, tmp_path


def structure(item):
    """Everything but media locations, recursively."""
    out = {"schema": item.schema_name(), "name": item.name,
           "metadata": otio.core.serialize_json_to_string(item.metadata)}
    if hasattr(item, "source_range"):
        out["range"] = str(item.source_range)
    if isinstance(item, otio.schema.Transition):
        out["offsets"] = (str(item.in_offset), str(item.out_offset), item.transition_type)
    if isinstance(item, otio.schema.Clip):
        out["refs"] = sorted(item.media_references().keys())
        out["active"] = item.active_media_reference_key
    if hasattr(item, "markers"):
        out["markers"] = [(m.name, str(m.marked_range)) for m in item.markers]
    if isinstance(item, otio.core.Composition):
        out["children"] = [structure(c) for c in item]
    return out


def test_otio_export_is_lossless(cut):
    doc, folder = cut
    report = export_timeline(doc, folder / "out.otio")
    assert report.format == "otio" and report.dropped == []
    back = import_timeline(folder / "out.otio")
    assert otio.adapters.write_to_string(back) == snapshot(doc)


@pytest.mark.parametrize("ext", ["otioz", "otiod"])
def test_bundles_keep_structure_and_carry_the_active_media(cut, ext):
    doc, folder = cut
    report = export_timeline(doc, folder / f"out.{ext}")
    assert any("take-1" in d and "not bundled" in d for d in report.dropped)
    back = import_timeline(folder / f"out.{ext}")
    assert structure(back.tracks) == structure(doc.timeline.tracks)
    assert back.metadata["resolve"]["project"] == "Feature"
    if ext == "otioz":
        names = zipfile.ZipFile(folder / "out.otioz").namelist()
    else:
        names = [p.relative_to(folder / "out.otiod").as_posix()
                 for p in (folder / "out.otiod").rglob("*") if p.is_file()]
    assert {"content.otio", "media/cam.mp4", "media/take2.mp4"} <= set(names)
    cam = back.video_tracks()[0][0].media_reference.target_url
    assert Path(cam).is_file() and Path(cam).read_bytes() == (folder / "cut_media" / "cam.mp4").read_bytes()
    assert Path(cam).parent.parent != folder / "cut_media"  # the bundle's own copy
    # exporting again replaces the old bundle, importing again unpacks it again
    export_timeline(doc, folder / f"out.{ext}")
    assert structure(import_timeline(folder / f"out.{ext}").tracks) == structure(doc.timeline.tracks)


def test_edl_keeps_one_video_track_says_what_it_dropped_and_labels_generated_clips(cut):
    doc, folder = cut
    before = snapshot(doc)
    report = export_timeline(doc, folder / "out.edl")
    assert snapshot(doc) == before  # exporting never changes the document
    dropped = "\n".join(report.dropped)
    assert "video track V2" in dropped and "audio track A1" in dropped
    assert "clip 'gen'" in dropped and "the other take (take-1) is not kept in the EDL" in dropped
    assert "'todo'" not in dropped  # a clip not generated yet keeps its recipe in the comments
    assert "video track V1: marker 'beat' is left out" in dropped
    assert "nested stack 'comp'" in dropped
    text = (folder / "out.edl").read_text()
    assert text.count("AI-GENERATED by LatentCut") == 2 and "take2.mp4" in text
    assert "LOC" in text  # clip markers survive as locators
    assert " D 006 " in text  # the dissolve survives
    back = otio.adapters.read_from_file(str(folder / "out.edl"), rate=24)
    clips = [c.name for c in back.find_clips()]
    assert clips[:2] == ["cam", "cam2"] and "gen" in clips and "nested" in clips


def test_fcp_xml_keeps_tracks_and_labels_generated_clips(cut):
    doc, folder = cut
    report = export_timeline(doc, folder / "out.xml")
    assert not any("track" in d and "EDL" in d for d in report.dropped)
    assert not any("'todo'" in d for d in report.dropped)
    assert "video track V1: marker 'beat' is left out" in report.dropped
    assert "AI-GENERATED by LatentCut" in (folder / "out.xml").read_text()
    back = import_timeline(folder / "out.xml")
    kinds = [t.kind for t in back.tracks]
    assert kinds.count("Video") == 2 and kinds.count("Audio") == 1
    names = {c.name for c in back.find_clips()}
    assert {"cam", "gen", "todo", "overlay", "music"} <= names


def test_bad_export_and_import_arguments(cut, tmp_path):
    doc, folder = cut
    with pytest.raises(ValueError, match="out_path"):
        export_timeline(doc, folder / "out.mov")
    with pytest.raises(ProjectError, match="folder does not exist"):
        export_timeline(doc, folder / "missing" / "out.otio")
    with pytest.raises(ProjectError, match="does not exist"):
        import_timeline(folder / "nothing.edl")
    (folder / "fake.otioz").write_bytes(b"PK not really")
    with pytest.raises(ProjectError, match="fake.otioz"):
        import_timeline(folder / "fake.otioz")
    bad = tmp_path / "bad.xml"
    bad.write_text("<xmeml><sequence>")
    with pytest.raises(ProjectError, match="bad.xml"):
        import_timeline(bad)
    empty = Document.new()
    empty.timeline.tracks[0].enabled = False
    with pytest.raises(ProjectError, match="video track"):
        export_timeline(empty, folder / "empty.edl")


def test_an_edl_of_a_cut_without_video_names_the_file_not_a_parameter(tmp_path):
    doc = Document.new(rate=24, width=64, height=36)
    for track in doc.video_tracks:
        track.enabled = False
    with pytest.raises(ProjectError) as err:
        export_timeline(doc, tmp_path / "cut.edl")
    assert "cut.edl" in str(err.value) and "video track" in str(err.value)
    assert "doc_or_timeline" not in str(err.value)


def test_edl_reels_are_unique_per_take_with_the_takes_source_timecode(tmp_path):
    doc = Document.new(rate=24, width=64, height=36)
    track = doc.video_tracks[0]
    Append(track, make_clip("interview_1", url=str(tmp_path / "interview_1.mp4"))).do(doc)
    Append(track, make_clip("interview_2", url=str(tmp_path / "interview_2.mp4"))).do(doc)
    for n, timecode in ((1, "10:00:00:00"), (2, "10:00:05:00")):
        clip = make_pending_clip("generate", {"prompt": "night", "seed": n}, frames(24), f"shot {n}")
        PlacePendingClip(clip, track, doc.track_end(track)).do(doc)
        AddTake(clip, str(tmp_path / f"generate_night_s{n}.mp4"), TR(RT(0, 24), RT(48, 24)),
                {"seed": n, "timecode": timecode}).do(doc)
    export_timeline(doc, tmp_path / "cut.edl")
    events = [line.split() for line in (tmp_path / "cut.edl").read_text().splitlines()
              if line[:3].isdigit()]
    assert [e[1] for e in events] == ["intervie", "intervi2", "shot_1T1", "shot_2T1"]
    assert [e[4] for e in events[2:]] == ["10:00:00:00", "10:00:05:00"]  # source in
    back = import_timeline(tmp_path / "cut.edl")
    clips = back.find_clips()
    assert [c.metadata["cmx_3600"]["reel"] for c in clips][2:] == ["shot_1T1", "shot_2T1"]
    # read back, a take's in point counts its file's frames again (the timecode is the file's)
    assert [c.source_range.start_time.value for c in clips[2:]] == [0, 0]


def test_a_12fps_take_exports_to_edl_and_fcp_xml_at_its_source_timecode(tmp_path):
    """`latentcut generate` writes 12 fps files stamped with the time of day; in a 24 fps cut the
    EDL's source in is that stamp (12 fps has no SMPTE timecode of its own), read back to frame 0,
    and the FCP XML writer takes the clip."""
    doc = Document.new(rate=24, width=64, height=36)
    track = doc.video_tracks[0]
    clip = make_pending_clip("generate", {"prompt": "night", "seed": 1}, frames(48), "shot 1")
    PlacePendingClip(clip, track, RT(0, 24)).do(doc)
    AddTake(clip, str(tmp_path / "generate_night_s1.mp4"), TR(RT(0, 12), RT(24, 12)),
            {"seed": 1, "timecode": "19:56:16:06", "rate": 12.0}).do(doc)
    report = export_timeline(doc, tmp_path / "cut.edl")
    assert not [line for line in report.dropped if "in point" in line], report.dropped
    event = next(line.split() for line in (tmp_path / "cut.edl").read_text().splitlines() if line[:3].isdigit())
    assert event[4:6] == ["19:56:16:12", "19:56:18:12"]  # source in and out, at the EDL's 24 fps
    back = import_timeline(tmp_path / "cut.edl").find_clips()
    assert back[0].source_range.start_time.value == 0
    report = export_timeline(doc, tmp_path / "cut.xml")
    back = import_timeline(tmp_path / "cut.xml").find_clips()
    assert len(back) == 1 and back[0].source_range.duration.to_seconds() == pytest.approx(2.0)
    assert not [line for line in report.dropped if "in point" in line or "length" in line], report.dropped
