"""Project files: atomic save, relative media paths, autosave and recovery, bad files."""
import os
import shutil

import opentimelineio as otio
import pytest

from timeline import CommandStack, Document, ProjectError
from timeline.edits import Append
from timeline.generated import AddTake, PlacePendingClip, make_pending_clip
from timeline.project import (autosave, autosave_path, discard_recovery, load_project,
                              media_folder, recovery_for, save_project)
from timeline_helpers import RT, TR, frames, make_clip, snapshot


def build(folder):
    """A project in ``folder`` with one camera clip inside the media folder, one outside,
    and a generated clip whose take lives in the media folder."""
    media = folder / "cut_media"
    media.mkdir()
    (media / "cam.mp4").write_bytes(b"\0")
    (media / "take.mp4").write_bytes(b"\0")
    doc = Document.new(rate=24, width=64, height=36)
    stack = CommandStack(doc)
    track = doc.video_tracks[0]
    stack.push(Append(track, make_clip("cam", url=str(media / "cam.mp4"))))
    stack.push(Append(track, make_clip("stock", url="/library/stock.mov")))
    stack.push(Append(track, make_clip("web", url="https://example.com/a.mp4")))
    clip = make_pending_clip("generate", {"prompt": "night", "seed": 1}, frames(24), "gen")
    stack.push(PlacePendingClip(clip, track, frames(72)))
    stack.push(AddTake(clip, str(media / "take.mp4"), TR(RT(0, 24), RT(24, 24))))
    return doc


def urls(doc):
    return [ref.target_url for c in doc.timeline.find_clips()
            for ref in c.media_references().values() if hasattr(ref, "target_url")]


def test_save_stores_relative_paths_and_a_moved_folder_still_opens(tmp_path):
    first = tmp_path / "a"
    first.mkdir()
    doc = build(first)
    in_memory = snapshot(doc)
    path = save_project(doc, first / "cut.otio")
    assert snapshot(doc) == in_memory  # saving does not touch the open document
    saved = otio.adapters.read_from_file(str(path))
    assert sorted(urls(Document(saved))) == sorted(
        ["cut_media/cam.mp4", "/library/stock.mov", "https://example.com/a.mp4", "cut_media/take.mp4"])
    assert media_folder(path).is_dir()

    moved = tmp_path / "b"
    shutil.move(str(first), str(moved))
    reopened = load_project(moved / "cut.otio")
    assert str(moved / "cut_media" / "cam.mp4") in urls(reopened)
    assert str(moved / "cut_media" / "take.mp4") in urls(reopened)
    assert "/library/stock.mov" in urls(reopened)
    assert reopened.rate == 24.0 and reopened.width == 64


def test_save_replaces_atomically_and_leaves_no_temp_files(tmp_path):
    doc = build(tmp_path)
    path = tmp_path / "cut.otio"
    save_project(doc, path)
    CommandStack(doc).push(Append(doc.video_tracks[0], make_clip("more")))
    save_project(doc, path)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    assert len(load_project(path).video_tracks[0]) == 5


def test_a_failed_save_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    doc = build(tmp_path)
    path = save_project(doc, tmp_path / "cut.otio")
    old = path.read_bytes()
    CommandStack(doc).push(Append(doc.video_tracks[0], make_clip("more")))

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(ProjectError, match="cut.otio: cannot write: No space left"):
        save_project(doc, path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.otio", "cut_media"]


def test_autosave_and_recovery(tmp_path):
    doc = build(tmp_path)
    path = save_project(doc, tmp_path / "cut.otio")
    assert recovery_for(path) is None
    CommandStack(doc).push(Append(doc.video_tracks[0], make_clip("unsaved")))
    auto = autosave(doc, path)
    assert auto == autosave_path(path) and auto.name == ".cut.otio.autosave"
    os.utime(auto, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    assert recovery_for(path) == auto
    assert len(load_project(path).video_tracks[0]) == 4
    recovered = load_project(path, use_recovery=True)
    assert recovered.video_tracks[0][-1].name == "unsaved"
    assert str(tmp_path / "cut_media" / "cam.mp4") in urls(recovered)
    discard_recovery(path)
    assert recovery_for(path) is None and not auto.exists()


def test_an_older_autosave_is_not_offered_and_saving_clears_it(tmp_path):
    doc = build(tmp_path)
    path = tmp_path / "cut.otio"
    auto = autosave(doc, path)
    assert recovery_for(path) == auto  # no project yet: the autosave is all there is
    save_project(doc, path)
    assert not auto.exists() and recovery_for(path) is None
    auto = autosave(doc, path)
    os.utime(auto, ns=(path.stat().st_mtime_ns - 10**9,) * 2)
    assert recovery_for(path) is None


@pytest.mark.parametrize("content, cause", [
    (None, "does not exist"),
    (b"", "empty"),
    (b"hello, not json", "not a valid OTIO file"),
    (b'{"OTIO_SCHEMA": "Timeline.1", "tracks": {"OTIO_SCHEMA": "Stack.1", "children": [', "not a valid OTIO file"),
    (otio.schema.Track(name="x").to_json_string().encode(), "not a Timeline"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
])
def test_bad_project_files_raise_project_error_naming_the_file(tmp_path, content, cause):
    path = tmp_path / "bad.otio"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ProjectError, match=cause) as info:
        load_project(path)
    assert info.value.path == path and "bad.otio" in str(info.value)


def test_truncated_save_of_a_real_project_is_reported(tmp_path):
    doc = build(tmp_path)
    path = save_project(doc, tmp_path / "cut.otio")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ProjectError, match="cut.otio"):
        load_project(path)


def test_save_argument_checks(tmp_path):
    doc = Document.new()
    with pytest.raises(ValueError, match="path"):
        save_project(doc, tmp_path / "cut.json")
    with pytest.raises(ProjectError, match="folder does not exist"):
        save_project(doc, tmp_path / "nowhere" / "cut.otio")


def test_only_media_paths_are_rewritten(tmp_path):
    folder = tmp_path / "My Film – ünï"
    folder.mkdir()
    doc = Document.new()
    inside = str(folder / "cut_media" / "shot 1.mp4")
    clip = make_clip("x", url=inside)
    clip.metadata["notes"] = {"text": f'"target_url": "{inside}"', "path": inside}
    seq = otio.schema.ImageSequenceReference(target_url_base=str(folder / "cut_media" / "frames") + "/",
                                             name_prefix="f.", name_suffix=".exr", rate=24)
    clip.set_media_references({"DEFAULT_MEDIA": clip.media_reference, "frames": seq}, "DEFAULT_MEDIA")
    CommandStack(doc).push(Append(doc.video_tracks[0], clip))
    CommandStack(doc).push(Append(doc.video_tracks[0], make_clip("y", url="file:///srv/y.mov")))
    path = save_project(doc, folder / "cut.otio")
    text = path.read_text(encoding="utf-8")
    assert '"target_url": "cut_media/shot 1.mp4"' in text
    assert '"target_url_base": "cut_media/frames/"' in text
    back = load_project(path)
    assert snapshot(back) == snapshot(doc)  # other strings untouched, paths back to absolute


def test_media_paths_relative_to_the_current_folder_resolve_after_save(tmp_path, monkeypatch):
    """A take path given relative to the current folder (as the engine returns it for a
    relative --out) must name the same file after save and load, wherever the project is."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub" / "board_media").mkdir(parents=True)
    (tmp_path / "sub" / "board_media" / "take.mp4").write_bytes(b"\0")
    (tmp_path / "elsewhere.mp4").write_bytes(b"\0")
    doc = Document.new(rate=24, width=64, height=36)
    track = doc.video_tracks[0]
    Append(track, make_clip("cam", url="elsewhere.mp4")).do(doc)
    clip = make_pending_clip("generate", {"prompt": "night", "seed": 1}, frames(24), "gen")
    PlacePendingClip(clip, track, frames(48)).do(doc)
    AddTake(clip, "sub/board_media/take.mp4", TR(RT(0, 24), RT(24, 24))).do(doc)
    save_project(doc, "sub/board.otio")
    text = (tmp_path / "sub" / "board.otio").read_text()
    assert '"target_url": "board_media/take.mp4"' in text
    monkeypatch.chdir("/")
    loaded = urls(load_project(tmp_path / "sub" / "board.otio"))
    assert sorted(loaded) == sorted([str(tmp_path / "elsewhere.mp4"), str(tmp_path / "sub/board_media/take.mp4")])
    assert all(os.path.isfile(u) for u in loaded)


def test_a_killed_save_leaves_temps_that_the_next_save_or_open_removes(tmp_path):
    path = tmp_path / "cut.otio"
    save_project(Document.new(rate=24, width=64, height=36), path)
    dead = tmp_path / ".cut.otio.999999999-abc123.tmp"   # a save whose process is gone
    older = tmp_path / ".cut.otio.k2j3h4.tmp"           # the name earlier versions used
    live = tmp_path / f".cut.otio.{os.getpid()}-zz.tmp"  # a save in flight in a running process
    other = tmp_path / ".other.otio.999999999-a.tmp"    # another project's
    for p in (dead, older, live, other):
        p.write_text("{")
    load_project(path)
    assert not dead.exists() and not older.exists() and live.exists() and other.exists()
    dead.write_text("{")
    save_project(Document.new(rate=24, width=64, height=36), path)
    assert not dead.exists() and live.exists()
