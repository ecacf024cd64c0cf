"""Fixtures for the CLI: the shared tiny model and clips, plus stills, audio and projects."""
from pathlib import Path

import av
import numpy as np
import pytest

from job_fixtures import clip, clip_b, encode_clip, encode_still, tiny_model  # noqa: F401  (fixtures are registered by import)


def encode_audio(path: Path, seconds: float = 1.0, sample_rate: int = 16000) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=sample_rate)
        stream.layout = "mono"
        t = np.arange(int(seconds * sample_rate)) / sample_rate
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = sample_rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def clips24(tmp_path):
    """Two half-second clips at 24 fps (EDL timecode needs a SMPTE rate)."""
    return (encode_clip(tmp_path / "shot_a.mp4", rate=24), encode_clip(tmp_path / "shot_b.mp4", rate=24, shift=20))


@pytest.fixture
def still(tmp_path) -> Path:
    return encode_still(tmp_path / "still.png")


@pytest.fixture
def tone(tmp_path) -> Path:
    return encode_audio(tmp_path / "tone.m4a")


class CliResult:
    def __init__(self, rc, out, err):
        self.rc, self.out, self.err = rc, out, err

    def __iter__(self):  # rc, out, err = cli(...)
        return iter((self.rc, self.out, self.err))

    def json(self):
        import json
        return json.loads(self.out)


@pytest.fixture
def cli(capsys):
    """Runs `latentcut ARGS` in this process; returns its exit code, stdout and stderr."""
    from desktop.cli import main

    def run(*args):
        capsys.readouterr()
        rc = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return CliResult(rc, out, err)

    return run
