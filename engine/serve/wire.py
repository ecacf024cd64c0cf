"""What the server and the remote client share: preview JPEGs, server-sent events, job states
and the job fields only the server sets.

A preview travels as a small JPEG (base64 in an SSE line); both ends use Pillow, which
diffusers already needs. No ray import: the client uses this module.
"""
from __future__ import annotations

import base64
import io
import json
from typing import Iterable, Iterator

import numpy as np

PREVIEW_HEIGHT = 144   # previews are thumbnails in the Jobs panel; bigger would only cost bandwidth
PREVIEW_QUALITY = 80

# Job states of the /v1/videos API, and the engine events that end in each final one.
STATUSES = ("queued", "in_progress", "completed", "failed", "cancelled")
FINAL_STATUSES = ("completed", "failed", "cancelled")
# Job fields a client may not choose: where the server writes, and which device it uses.
SERVER_FIELDS = ("output", "device")


def preview_jpeg(frame: np.ndarray) -> bytes:
    """An HxWx3 uint8 frame as a JPEG no taller than PREVIEW_HEIGHT."""
    from PIL import Image

    image = Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8))
    if image.height > PREVIEW_HEIGHT:
        image = image.resize((max(1, round(image.width * PREVIEW_HEIGHT / image.height)), PREVIEW_HEIGHT))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=PREVIEW_QUALITY)
    return out.getvalue()


def frame_from_jpeg(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def sse_message(event: str, data: dict) -> bytes:
    """One server-sent event; `data` is JSON on one line."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def preview_data(step: int, total: int, jpeg: bytes) -> dict:
    return {"step": step, "total": total, "jpeg": base64.b64encode(jpeg).decode("ascii")}


def jpeg_of(data: dict) -> bytes:
    return base64.b64decode(data["jpeg"])


def parse_sse(lines: Iterable[str]) -> Iterator[tuple[str, dict]]:
    """(event, data) pairs from the text lines of an event stream; comments are skipped."""
    event, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield event, json.loads("\n".join(data))
            event, data = "message", []
        elif line.startswith(":"):
            continue
        elif line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
