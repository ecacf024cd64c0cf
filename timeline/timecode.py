"""Timecode text for any rate OTIO can hold: the one place that shows or reads a position as text.

SMPTE timecode is defined only for the television and film rates (23.976, 24, 25, 29.97, 30, 48,
50, 59.94, 60); at 29.97 and 59.94 it is drop-frame (";" before the frames). Every other rate
(12, 15, 120, a variable-rate file's average such as 29.83) gets seconds+frames, `HH:MM:SS+FF`,
where FF counts the frames since the start of that second. Both forms, and a plain frame count,
are read back by `parse_timecode`.
"""
from __future__ import annotations

import math
import re

import opentimelineio as otio

SMPTE_RATES = (24000 / 1001, 24.0, 25.0, 30000 / 1001, 30.0, 48.0, 50.0, 60000 / 1001, 60.0)
_SMPTE_TEXT = re.compile(r"^\d{1,2}:\d{2}:\d{2}[:;.]\d{2,3}$")
_SECONDS_FRAMES = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})\+(\d{1,4})$")


def smpte_rate(rate: float) -> float | None:
    """The SMPTE rate `rate` is (within rounding of a stored 23.976 or 29.97), or None."""
    for standard in SMPTE_RATES:
        if abs(rate - standard) < 1e-3:
            return standard
    return None


def _check_rate(rate) -> float:
    rate = float(rate)
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate: expected a frame rate > 0, got {rate!r}")
    return rate


def format_timecode(frame: int | otio.opentime.RationalTime, rate: float) -> str:
    """Frame `frame` at `rate` (or a RationalTime, rescaled to `rate`) as timecode text."""
    rate = _check_rate(rate)
    if isinstance(frame, otio.opentime.RationalTime):
        frame = frame.rescaled_to(rate).value
    frame = int(round(frame))
    sign = "-" if frame < 0 else ""
    frame = abs(frame)
    standard = smpte_rate(rate)
    if standard is not None:
        return sign + otio.opentime.to_timecode(otio.opentime.RationalTime(frame, standard), standard)
    seconds = int(frame // rate)
    while seconds > 0 and math.ceil(seconds * rate) > frame:  # float rounding at a second's edge
        seconds -= 1
    extra = frame - math.ceil(seconds * rate)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h:02d}:{m:02d}:{s:02d}+{extra:02d}"


def parse_timecode(text: str, rate: float) -> int:
    """The frame that `text` names at `rate`: SMPTE (`01:00:00:00`, `00:00:01;02`), seconds+frames
    (`00:00:01+05`) or a frame count (`120`). ValueError says what was expected."""
    rate = _check_rate(rate)
    value = str(text).strip()
    if re.fullmatch(r"\d+", value):
        return int(value)
    match = _SECONDS_FRAMES.match(value)
    if match:
        h, m, s, extra = (int(g) for g in match.groups())
        start = math.ceil((h * 3600 + m * 60 + s) * rate)
        return start + extra
    standard = smpte_rate(rate)
    if standard is not None and _SMPTE_TEXT.match(value):
        try:
            return int(round(otio.opentime.from_timecode(value, standard).value))
        except ValueError as exc:
            raise ValueError(f"timecode {value!r}: {exc}") from None
    example = format_timecode(int(rate * 61) + 5, rate)
    raise ValueError(f"timecode {value!r}: expected a frame count or a timecode like {example} at {rate:g} fps")
