"""Thumbnails and all-intra proxies."""
from __future__ import annotations

import threading

import pytest

import media_fixtures as mf
from engine.errors import Cancelled, MissingMedia
from engine.media.probe import probe
from engine.media.proxy import make_proxy, proxy_path_for
from engine.media.reader import FrameReader
from engine.media.thumbnails import thumbnail, thumbnail_strip


def test_thumbnail(long_gop):
    image = thumbnail(long_gop, 17, height=18)
    assert image.shape == (18, 32, 3)
    assert mf.decode_index(image) == 17
    assert mf.decode_index(thumbnail(long_gop, 500, height=18)) == 47  # clamped to the last frame


def test_thumbnail_strip_spans_the_file(long_gop):
    strip = thumbnail_strip(long_gop, 4, height=18)
    assert strip.shape == (4, 18, 32, 3)
    assert [mf.decode_index(f) for f in strip] == [0, 16, 31, 47]
    with pytest.raises(ValueError, match="count"):
        thumbnail_strip(long_gop, 0)


def test_thumbnail_of_rotated_media_is_upright(rotated):
    assert thumbnail(rotated, 0, height=32).shape == (32, 18, 3)


def test_proxy_is_all_intra_and_frame_exact(long_gop, tmp_path):
    dst = proxy_path_for(long_gop, tmp_path, height=18)
    calls = []
    out = make_proxy(long_gop, dst, height=18, progress=lambda done, total: calls.append((done, total)))
    assert out == dst
    info = probe(dst)
    assert (info.video.width, info.video.height, info.video.frame_count) == (32, 18, 48)
    assert info.video.rate == 24.0
    assert calls[-1] == (48, 48) and len(calls) == 48
    with FrameReader(dst) as reader:
        assert reader.keyframe_count == reader.frame_count  # every frame is a keyframe
        assert [mf.decode_index(reader.read(i)) for i in (40, 3, 22)] == [40, 3, 22]


def test_proxy_path_changes_with_the_source(long_gop, h264_aac, tmp_path):
    a = proxy_path_for(long_gop, tmp_path)
    assert a == proxy_path_for(long_gop, tmp_path) and a.parent == tmp_path
    assert a != proxy_path_for(h264_aac, tmp_path)
    assert a != proxy_path_for(long_gop, tmp_path, height=540)
    with pytest.raises(MissingMedia):
        proxy_path_for(tmp_path / "gone.mp4", tmp_path)


def test_cancelled_proxy_leaves_nothing(long_gop, tmp_path):
    cancel = threading.Event()

    def progress(done, total):
        if done == 10:
            cancel.set()

    with pytest.raises(Cancelled):
        make_proxy(long_gop, tmp_path / "p.mp4", height=18, progress=progress, cancel=cancel)
    assert list(tmp_path.iterdir()) == []
