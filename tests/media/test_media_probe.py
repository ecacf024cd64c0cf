"""probe: streams, duration, exact and variable frame rates, rotation, audio, JSON."""
from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

import media_fixtures as mf
from engine.media.probe import MediaInfo, probe


def test_h264_with_aac(h264_aac):
    info = probe(h264_aac)
    assert isinstance(info, MediaInfo)
    assert [s.type for s in info.streams] == ["video", "audio"]
    v = info.video
    assert (v.codec, v.width, v.height, v.pix_fmt) == ("h264", 64, 36, "yuv420p")
    assert (v.rate, v.rate_fraction, v.frame_count) == (24.0, "24/1", 24)
    assert not v.variable_rate and v.rotation == 0
    a = info.audio
    assert (a.codec, a.sample_rate, a.channels, a.layout) == ("aac", 48000, 2, "stereo")
    assert info.duration == pytest.approx(1.0, abs=0.05)
    assert info.size_bytes == h264_aac.stat().st_size


def test_odd_rates_are_exact(odd_rate):
    path, rate = odd_rate
    v = probe(path).video
    assert Fraction(v.rate_fraction) == rate
    assert v.rate == pytest.approx(float(rate))
    assert v.frame_count == 20
    assert not v.variable_rate


def test_variable_rate(vfr):
    v = probe(vfr).video
    assert v.variable_rate
    assert v.frame_count == len(mf.VFR_PTS_MS)
    # The average rate: frames over the span they cover.
    assert 5 < v.rate < 20


def test_rotation(rotated):
    v = probe(rotated).video
    assert v.rotation == 90
    assert (v.width, v.height) == (64, 36)
    assert (v.display_width, v.display_height) == (36, 64)


def test_json_round_trip(h264_aac):
    info = probe(h264_aac)
    data = json.loads(info.to_json())
    assert data == info.to_dict()
    assert data["video"]["rate_fraction"] == "24/1"
    assert data["audio"]["layout"] == "stereo"
    assert data["streams"][1] == {"index": 1, "type": "audio", "codec": "aac"}


def test_import_does_not_pull_torch():
    code = "import sys, engine.media, engine.media.render, engine.media.proxy; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_long_constant_rate_render_with_b_frames_is_constant(tmp_path):
    """636 frames at 24 fps with B-frames: more packets than the rate scan reads, so the scan
    stops between a frame and the B-frames shown before it. It must not read as variable."""
    from engine.media.writer import VideoWriter

    path = tmp_path / "render.mp4"
    with VideoWriter(path, 24, preset="medium") as writer:
        for i in range(636):
            frame = np.zeros((36, 64, 3), np.uint8)
            frame[:, i % 64] = 255
            writer.write(frame)
    info = probe(path)
    assert not info.video.variable_rate
    assert info.video.rate_fraction == "24/1" and info.video.frame_count == 636
    assert info.video.frame_count / info.video.rate == pytest.approx(26.5)
