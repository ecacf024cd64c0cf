"""Every kind of bad input gets its own typed error that names the file and the cause."""
from __future__ import annotations

import pytest

import media_fixtures as mf
from engine.errors import (
    CorruptMedia,
    EmptyMedia,
    MediaError,
    MissingMedia,
    NoAudioStream,
    NotAVideo,
    NoVideoStream,
    TruncatedMedia,
    ZeroDuration,
)
from engine.media.probe import probe
from engine.media.reader import FrameReader, read_audio


def _names_file(exc: MediaError, path) -> None:
    assert exc.path == str(path)
    assert str(path) in str(exc)


def test_missing(tmp_path):
    path = tmp_path / "nowhere.mp4"
    for call in (probe, FrameReader):
        with pytest.raises(MissingMedia) as info:
            call(path)
        _names_file(info.value, path)
        assert "no such file" in str(info.value)


def test_empty(empty_file):
    for call in (probe, FrameReader):
        with pytest.raises(EmptyMedia) as info:
            call(empty_file)
        _names_file(info.value, empty_file)
        assert "0 bytes" in str(info.value)


def test_truncated(truncated):
    for call in (probe, FrameReader):
        with pytest.raises(TruncatedMedia) as info:
            call(truncated)
        _names_file(info.value, truncated)
        assert "atom" in str(info.value)


def test_not_a_video(not_a_video, tmp_path):
    with pytest.raises(NotAVideo) as info:
        probe(not_a_video)
    _names_file(info.value, not_a_video)
    folder = tmp_path / "folder.mp4"
    folder.mkdir()
    with pytest.raises(NotAVideo, match="is a folder"):
        FrameReader(folder)


def test_audio_only(audio_only):
    info = probe(audio_only)  # an audio file is fine to probe ...
    assert info.video is None and info.audio.channels == 2
    with pytest.raises(NoVideoStream) as exc:  # ... but has no frames to read
        FrameReader(audio_only)
    _names_file(exc.value, audio_only)
    assert "only audio" in str(exc.value)


def test_video_only_has_no_audio(long_gop):
    with pytest.raises(NoAudioStream) as exc:
        read_audio(long_gop)
    _names_file(exc.value, long_gop)


def test_zero_duration(zero_duration):
    for call in (probe, FrameReader):
        with pytest.raises(ZeroDuration) as info:
            call(zero_duration)
        _names_file(info.value, zero_duration)


def test_corrupt_packets_in_the_middle(corrupt):
    path, damaged = corrupt
    info = probe(path)
    assert info.video.frame_count == 48
    with FrameReader(path) as reader:
        frames = list(reader.iter_frames())
        # Every frame slot is filled, the damaged ones with the last good frame.
        assert len(frames) == 48
        assert sorted(reader.bad_frames) == damaged
        assert any(str(path) in w and "could not be decoded" in w for w in reader.warnings)
        for i in range(damaged[0]):
            assert mf.decode_index(frames[i]) == i
        held = frames[damaged[0]]
        assert mf.decode_index(held) == damaged[0] - 1
        # Keyframes after the damage decode cleanly again.
        next_key = (damaged[-1] // 12 + 1) * 12
        assert mf.decode_index(frames[next_key]) == next_key

    with FrameReader(path) as reader:  # random access reports the same frames
        assert mf.decode_index(reader.read(damaged[0])) == damaged[0] - 1
        assert reader.bad_frames == {damaged[0]}
        assert mf.decode_index(reader.read(47)) == 47


def test_errors_share_a_base():
    for cls in (MissingMedia, EmptyMedia, TruncatedMedia, NotAVideo, NoVideoStream, ZeroDuration,
                CorruptMedia, NoAudioStream):
        assert issubclass(cls, MediaError)
    err = CorruptMedia("/x/clip.mov", "no keyframe")
    assert str(err) == "/x/clip.mov: corrupt media: no keyframe"
