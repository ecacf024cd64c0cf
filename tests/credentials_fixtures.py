"""Content Credentials helpers: signed takes written through the engine's result writer (the
one place that signs), with real PyAV media; shared by the credentials, CLI and app tests."""
from pathlib import Path

import numpy as np


def frames(count: int = 8, width: int = 64, height: int = 32, shift: int = 0) -> np.ndarray:
    """A moving square over a gradient: what a model might hand the result writer."""
    ys, xs = np.mgrid[0:height, 0:width]
    out = np.zeros((count, height, width, 3), np.uint8)
    out[..., 0] = (xs * 255 // width).astype(np.uint8)
    out[..., 1] = (ys * 255 // height).astype(np.uint8)
    for i in range(count):
        x = (shift + 4 * i) % (width - 8)
        out[i, 8:16, x:x + 8] = (255, 255, 0)
    return out


def write_take(path: Path, job=None, signing=None, count: int = 8, shift: int = 0, rate: float = 8.0) -> dict:
    """A generated take written (and, by default, signed) by `engine.results.write_result`."""
    from engine.jobs import GenerateJob
    from engine.results import build_provenance, write_result

    job = job or GenerateJob(prompt="a red ball moving left over a field at sunset", seed=7, steps=3,
                             guidance=4.0, output=str(path))
    pixels = frames(count, shift=shift)
    provenance = build_provenance(job, {"seed": job.seed}, pixels, rate, "tiny-test-model", "ab" * 32, "0.1.0")
    return write_result(pixels, rate, provenance, path, signing=signing)


def tamper(path: Path) -> None:
    """Flips one byte well inside the media data (the mdat box), as a careless edit would."""
    data = bytearray(path.read_bytes())
    at = data.index(b"mdat") + 64
    data[at] ^= 0x01
    path.write_bytes(bytes(data))
