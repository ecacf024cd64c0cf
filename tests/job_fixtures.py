"""Tiny moving clips and stills encoded with PyAV, shared by the engine-thread, CLI and server tests."""
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
