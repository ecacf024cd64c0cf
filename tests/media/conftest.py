"""Media fixtures, encoded once per session with PyAV (see tests/media_fixtures.py)."""
from __future__ import annotations

from fractions import Fraction

import pytest

import media_fixtures as mf

@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def h264_aac(media_dir):
    """24 fps, 24 frames, 64x36 H.264 with a stereo AAC tone."""
    return mf.encode(media_dir / "h264_aac.mp4", 24, Fraction(24), audio=True)


@pytest.fixture(scope="session")
def long_gop(media_dir):
    """48 frames at 24 fps, one keyframe every 12, B-frames: exercises seeking."""
    return mf.encode(media_dir / "long_gop.mp4", 48, Fraction(24), gop=12, bframes=3)


@pytest.fixture(scope="session", params=[("23.976", Fraction(24000, 1001), "mp4"),
                                         ("29.97", Fraction(30000, 1001), "mov"),
                                         ("12.5", Fraction(25, 2), "mkv")],
                ids=lambda p: p[0])
def odd_rate(request, media_dir):
    name, rate, ext = request.param
    path = mf.encode(media_dir / f"rate_{name}.{ext}", 20, rate)
    return path, rate


@pytest.fixture(scope="session")
def vfr(media_dir):
    return mf.encode_vfr(media_dir / "vfr.mkv", mf.VFR_PTS_MS)


@pytest.fixture(scope="session")
def rotated(media_dir):
    """Coded 64x36, shown turned 90 degrees counter-clockwise (a phone held upright)."""
    return mf.encode(media_dir / "rotated.mp4", 6, Fraction(24), rotation=90)


@pytest.fixture(scope="session")
def audio_only(media_dir):
    return mf.encode_audio_only(media_dir / "audio_only.m4a")


@pytest.fixture(scope="session")
def zero_duration(media_dir):
    return mf.encode_zero_duration(media_dir / "zero.mp4")


@pytest.fixture(scope="session")
def empty_file(media_dir):
    path = media_dir / "empty.mp4"
    path.write_bytes(b"")
    return path


@pytest.fixture(scope="session")
def not_a_video(media_dir):
    path = media_dir / "notes.mp4"
    path.write_text("These are shot notes, not a video.\n" * 40)
    return path


@pytest.fixture(scope="session", params=["index-at-end", "faststart"])
def truncated(request, media_dir):
    """An MP4 cut at 60%: once with its index (moov) at the end, once with it up front."""
    options = {"movflags": "faststart"} if request.param == "faststart" else {}
    full = mf.encode(media_dir / f"full_{request.param}.mp4", 24, Fraction(24), audio=True,
                     options=options, noise=True)
    data = full.read_bytes()
    path = media_dir / f"truncated_{request.param}.mp4"
    path.write_bytes(data[: int(len(data) * 0.6)])
    return path


@pytest.fixture(scope="session")
def corrupt(media_dir):
    """48 frames, no B-frames, one keyframe every 12; two P-frame packets in the middle are noise.
    Returns (path, indices of the damaged frames)."""
    clean = mf.encode(media_dir / "clean.mp4", 48, Fraction(24), gop=12, bframes=0, noise=True)
    path = media_dir / "corrupt.mp4"
    damaged = mf.corrupt_packets(clean, path, [20, 30])
    return path, damaged
