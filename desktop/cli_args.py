"""The command line's argument types: each parses one option's text or refuses it with a
sentence naming what is wrong (argparse prints it and exits 2), before any work starts."""
from __future__ import annotations

import argparse
import re

from engine.jobs import MAX_SIDE, SEED_MAX

MAX_STEPS = 1000  # the pipelines' own bound on denoising steps
MAX_GUIDANCE = 100.0


def size_arg(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m or int(m.group(1)) <= 0 or int(m.group(2)) <= 0:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: expected WIDTHxHEIGHT such as 256x144")
    if max(int(m.group(1)), int(m.group(2))) > MAX_SIDE:
        raise argparse.ArgumentTypeError(f"{text} is too large: each side is at most {MAX_SIDE}")
    return int(m.group(1)), int(m.group(2))


def at_most(kind, limit, unit: str = ""):
    """An argument type: ``kind`` parsed, then refused above ``limit`` (checked before any work)."""
    def parse(text: str):
        value = kind(text)
        if value > limit:
            raise argparse.ArgumentTypeError(f"must be at most {limit:g}{unit}, got {text}")
        return value
    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None


def guidance_arg(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= MAX_GUIDANCE:
        raise argparse.ArgumentTypeError(f"must be from 0 to {MAX_GUIDANCE:g}, got {text}")
    return value


def positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid whole number {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {text}")
    return value


def seed_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"must be in 0..{SEED_MAX}, got {text}")
    return value


def strength_arg(text: str) -> float:
    value = positive_float(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must be in (0, 1], got {text}")
    return value


def structure_weight_arg(text: str) -> float:
    value = _number(text)
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def seconds_of(text: str) -> float:
    """Seconds from `12.5`, `MM:SS(.s)` or `HH:MM:SS(.s)`."""
    parts = text.strip().split(":")
    if not 1 <= len(parts) <= 3 or not all(re.fullmatch(r"\d+(\.\d*)?", p) for p in parts):
        raise argparse.ArgumentTypeError(f"invalid time {text!r}: use seconds (12.5), MM:SS or HH:MM:SS")
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


def range_arg(text: str) -> tuple[float, float]:
    if text.count("-") != 1:
        raise argparse.ArgumentTypeError(f"invalid range {text!r}: expected START-END, e.g. 2-5.5 or 0:10-0:20")
    start, end = (seconds_of(p) for p in text.split("-"))
    if end <= start:
        raise argparse.ArgumentTypeError(f"invalid range {text!r}: END must come after START")
    return start, end


def frames_arg(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if not m or int(m.group(2)) <= int(m.group(1)):
        raise argparse.ArgumentTypeError(f"invalid frames {text!r}: expected START-END frame numbers, END > START")
    return int(m.group(1)), int(m.group(2))
