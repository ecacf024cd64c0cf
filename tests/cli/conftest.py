"""Fixtures for the engine thread: a tiny random model folder and tiny clips encoded with PyAV."""
from pathlib import Path

import av
import numpy as np
import pytest


def encode_clip(path: Path, count: int = 12, rate: int = 8, width: int = 64, height: int = 32,
                shift: int = 0) -> Path:
    """A gradient with a bright square sliding right: real, compressible, moving content."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        ys, xs = np.mgrid[0:height, 0:width]
        for i in range(count):
            img = np.zeros((height, width, 3), np.uint8)
            img[..., 0] = (xs * 255 // width).astype(np.uint8)
            img[..., 2] = (ys * 255 // height).astype(np.uint8)
            x = (shift + i * 3) % (width - 8)
            img[10:18, x:x + 8] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    from engine.model.tiny import make_tiny_model_folder

    return make_tiny_model_folder(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture
def clip(tmp_path) -> Path:
    return encode_clip(tmp_path / "clip.mp4")


@pytest.fixture
def clip_b(tmp_path) -> Path:
    return encode_clip(tmp_path / "clip_b.mp4", shift=20)


def encode_still(path: Path, width: int = 64, height: int = 32) -> Path:
    ys, xs = np.mgrid[0:height, 0:width]
    img = np.stack([(xs * 4) % 256, (ys * 8) % 256, np.full_like(xs, 128)], -1).astype(np.uint8)
    with av.open(str(path), "w", format="image2") as container:
        stream = container.add_stream("png", rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, "rgb24"
        for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


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
