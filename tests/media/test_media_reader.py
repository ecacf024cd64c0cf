"""FrameReader: exact frames by index in any order, sequential decode, scaling, rotation, audio."""
from __future__ import annotations

import numpy as np
import pytest

import media_fixtures as mf
from engine.media.reader import FrameReader, read_audio


def test_random_access_is_exact(long_gop):
    order = [30, 5, 47, 0, 31, 32, 12, 11, 45, 46, 23, 24, 1]
    with FrameReader(long_gop) as reader:
        assert (reader.frame_count, reader.rate, reader.width, reader.height) == (48, 24.0, 64, 36)
        assert [mf.decode_index(reader.read(i)) for i in order] == order
        assert reader.bad_frames == set() and reader.warnings == []


def test_sequential_matches_random_access(long_gop):
    with FrameReader(long_gop) as reader:
        frames = list(reader.iter_frames())
        assert [mf.decode_index(f) for f in frames] == list(range(48))
        part = list(reader.iter_frames(13, 29))
        assert [mf.decode_index(f) for f in part] == list(range(13, 29))
        for i in (0, 13, 28, 47):
            np.testing.assert_array_equal(reader.read(i), frames[i])
        assert list(reader.iter_frames(40, 40)) == []


def test_frames_are_rgb_uint8_and_cached(h264_aac):
    with FrameReader(h264_aac, cache_size=2) as reader:
        first = reader.read(3)
        assert first.dtype == np.uint8 and first.shape == (36, 64, 3)
        assert first[0, -1, 0] > 200 and first[0, -1, 1] < 60  # the red band on top
        assert reader.read(3) is first  # served from the cache
        reader.read(4), reader.read(5)  # pushes frame 3 out of a 2-frame cache
        again = reader.read(3)
        assert again is not first
        np.testing.assert_array_equal(again, first)
        with pytest.raises(ValueError):
            first[0, 0, 0] = 0  # cached frames are read-only


def test_scaled_read(long_gop):
    with FrameReader(long_gop) as reader:
        small = reader.read(9, size=(32, 18))
        assert small.shape == (18, 32, 3)
        assert mf.decode_index(small) == 9


def test_bad_index(long_gop):
    with FrameReader(long_gop) as reader:
        for bad in (-1, 48, 2.5):
            with pytest.raises(IndexError, match="index"):
                reader.read(bad)


def test_odd_rate_timing(odd_rate):
    path, rate = odd_rate
    with FrameReader(path) as reader:
        assert reader.frame_count == 20
        assert reader.frame_time(10) == pytest.approx(10 / float(rate), abs=1e-3)
        assert reader.nearest_index(10 / float(rate)) == 10
        assert mf.decode_index(reader.read(19)) == 19


def test_variable_rate_by_presentation_time(vfr):
    with FrameReader(vfr) as reader:
        assert reader.frame_count == len(mf.VFR_PTS_MS)
        for i, ms in enumerate(mf.VFR_PTS_MS):
            assert reader.frame_time(i) == pytest.approx(ms / 1000)
        assert [mf.decode_index(reader.read(i)) for i in (9, 3, 11, 0)] == [9, 3, 11, 0]
        assert reader.index_at(0.5) == 7  # the 440 ms frame is still on screen at 500 ms
        assert reader.index_at(0.41) == 5
        assert reader.nearest_index(0.59) == 8  # 600 ms is nearest
        assert [mf.decode_index(f) for f in reader.iter_frames()] == list(range(len(mf.VFR_PTS_MS)))


def test_rotation_is_applied(rotated):
    with FrameReader(rotated) as reader:
        assert (reader.width, reader.height) == (36, 64)
        frame = reader.read(2)
        assert frame.shape == (64, 36, 3)
        # The red band along the coded top edge now runs down the left side.
        assert frame[:, 0, 0].mean() > 200 and frame[:, -1, 0].mean() < 100
        assert reader.read(2, size=(18, 32)).shape == (32, 18, 3)


def test_read_audio(h264_aac):
    full = read_audio(h264_aac, 48000, 2)
    assert full.dtype == np.float32 and full.shape[1] == 2
    assert full.shape[0] == pytest.approx(48000, abs=2048)
    reference = mf.tone(1.0)
    # Away from the encoder's start-up, the decoded tone matches what was encoded.
    assert np.abs(full[4800:40000] - reference[4800:40000]).max() < 0.1

    span = read_audio(h264_aac, 48000, 2, start=0.25, duration=0.5)
    assert span.shape == (24000, 2)
    np.testing.assert_allclose(span[1000:2000], full[13000:14000], atol=1e-4)

    mono = read_audio(h264_aac, 16000, 1)
    assert mono.shape[1] == 1 and mono.shape[0] == pytest.approx(16000, abs=700)
    assert read_audio(h264_aac, 48000, 2, start=5.0).shape == (0, 2)
    with pytest.raises(ValueError, match="channels"):
        read_audio(h264_aac, 48000, 3)


def test_read_frame_gives_the_decoded_frame(long_gop):
    with FrameReader(long_gop) as reader:
        for i in (20, 21, 5):
            frame = reader.read_frame(i)
            assert (frame.width, frame.height, frame.format.name) == (64, 36, "yuv420p")
            assert mf.decode_index(frame.to_ndarray(format="rgb24")) == i
            frame.pts = 0  # an encoder may restamp it; the reader keeps its own place
        assert mf.decode_index(reader.read(6)) == 6
