"""Writer: codecs and pixel formats, audio, container metadata, and no partial output."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest

import media_fixtures as mf
from engine.errors import Cancelled
from engine.media.probe import probe
from engine.media.reader import FrameReader, read_audio
from engine.media.writer import VideoWriter, write_video

FRAMES = np.stack([mf.coded_frame(i) for i in range(12)])
PROVENANCE = {"generated": True, "prompt": "a red ball over a field at sunset", "seed": 7}
META = {"title": "shot 1", "comment": "contains AI-generated frames", "latentcut": json.dumps(PROVENANCE)}


@pytest.mark.parametrize("codec, ext, pix_fmt", [("h264", "mp4", "yuv420p"),
                                                 ("prores", "mov", "yuv422p10le"),
                                                 ("vp9", "webm", "yuv420p")])
def test_codecs_round_trip(tmp_path, codec, ext, pix_fmt):
    path = write_video(tmp_path / f"out.{ext}", FRAMES, 24000 / 1001, codec=codec)
    info = probe(path)
    assert info.video.pix_fmt == pix_fmt
    assert info.video.rate_fraction == "24000/1001"
    assert info.video.frame_count == 12
    with FrameReader(path) as reader:
        assert [mf.decode_index(f) for f in reader.iter_frames()] == list(range(12))


@pytest.mark.parametrize("ext", ["mp4", "mov", "mkv"])
def test_metadata_reads_back(tmp_path, ext):
    path = write_video(tmp_path / f"gen.{ext}", FRAMES[:3], 24, metadata=META)
    meta = probe(path).metadata
    assert meta["title"] == "shot 1"
    assert "AI-generated" in meta["comment"]
    assert json.loads(meta["latentcut"]) == PROVENANCE


def test_audio_is_interleaved_and_kept(tmp_path):
    samples = mf.tone(0.5)
    path = write_video(tmp_path / "av.mp4", FRAMES, 24, audio=(samples, 48000))
    info = probe(path)
    assert info.audio.sample_rate == 48000 and info.audio.channels == 2
    back = read_audio(path)
    assert back.shape[0] == pytest.approx(24000, abs=2048)
    assert np.abs(back[4800:20000] - samples[4800:20000]).max() < 0.1


def test_writer_class_sizes_itself_from_the_first_frame(tmp_path):
    with VideoWriter(tmp_path / "w.mkv", 12.5) as writer:
        for frame in FRAMES[:5]:
            writer.write(frame)
    assert writer.frames_written == 5
    assert (writer.width, writer.height) == (64, 36)
    assert probe(tmp_path / "w.mkv").video.rate_fraction == "25/2"


def test_exception_leaves_no_partial_file_and_keeps_the_old_one(tmp_path):
    dst = tmp_path / "keep.mp4"
    write_video(dst, FRAMES[:2], 24)
    before = dst.read_bytes()

    def frames():
        yield FRAMES[0]
        raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        write_video(dst, frames(), 24)
    assert dst.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.mp4"]


def test_cancel_leaves_no_file(tmp_path):
    cancel = threading.Event()

    def frames():
        for i, frame in enumerate(FRAMES):
            if i == 4:
                cancel.set()
            yield frame

    with pytest.raises(Cancelled):
        write_video(tmp_path / "c.mp4", frames(), 24, cancel=cancel)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments_name_themselves(tmp_path):
    with pytest.raises(ValueError, match="codec"):
        write_video(tmp_path / "a.mp4", FRAMES, 24, codec="mpeg2")
    with pytest.raises(ValueError, match="path"):
        write_video(tmp_path / "a.mp4", FRAMES, 24, codec="prores")
    with pytest.raises(ValueError, match="rate"):
        write_video(tmp_path / "a.mp4", FRAMES, 0)
    with pytest.raises(ValueError, match="frames"):
        write_video(tmp_path / "a.mp4", [np.zeros((36, 64), np.uint8)], 24)
    with pytest.raises(ValueError, match="frames"):
        write_video(tmp_path / "a.mp4", [FRAMES[0], FRAMES[0][:, :32]], 24)
    with pytest.raises(ValueError, match="width"):
        write_video(tmp_path / "a.mp4", [np.zeros((36, 63, 3), np.uint8)], 24)
    with pytest.raises(ValueError, match="frames"):
        write_video(tmp_path / "a.mp4", [], 24)
    assert list(tmp_path.iterdir()) == []
