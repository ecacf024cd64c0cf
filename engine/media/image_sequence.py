"""Image sequences (``shot.0001.png`` ...) as render sources: which file holds a frame, a check
that every file a clip shows exists, and decoding one image with PyAV."""
from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import unquote, urlparse

import av
import numpy as np
import opentimelineio as otio

from engine.errors import MissingMedia

_EPS = 1e-6


def _path(url: str, base_dir: Path) -> Path:
    path = Path(unquote(urlparse(url).path)) if url.startswith("file:") else Path(url)
    return path if path.is_absolute() else base_dir / path


def image_file(ref: otio.schema.ImageSequenceReference, media_t: float, base_dir: Path) -> Path:
    """The file of the image shown at ``media_t`` (seconds from the sequence's first image)."""
    number = max(0, math.floor(media_t * ref.rate + _EPS))
    return _path(ref.target_url_for_image_number(number), base_dir)


def check_images(clip, media_start: float, seconds: float, base_dir: Path, track: str) -> None:
    """Raise ``MissingMedia`` naming the first image of the shown part that does not exist."""
    ref = clip.media_reference
    count = max(1, math.ceil(seconds * ref.rate - _EPS))
    for i in range(count):
        path = image_file(ref, media_start + i / ref.rate, base_dir)
        if not path.is_file():
            raise MissingMedia(path, f"clip '{clip.name}' on {track}: image {path.name} of its "
                                     "image sequence does not exist")


def read_image(path: Path) -> np.ndarray:
    """One still image as RGB."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            return frame.to_ndarray(format="rgb24")
    raise MissingMedia(path, "the image holds no picture")
