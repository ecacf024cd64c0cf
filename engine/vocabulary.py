"""The embedded previz model's vocabulary: every word of the captions it was trained on.

One place for it, read by the command line (a warning before a generation) and the app's
Generate panel. The words come from the caption tables in `engine/train/captions.py`, so a
model trained on a richer world names its new words there and nowhere else.
"""
from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    """Every word the previz captions use (lower case)."""
    from engine.train import captions, world

    tables = (captions.TIME_PHRASES, captions.TIME_WORDS, captions.SETTING_PHRASES, captions.SETTING_WORDS,
              captions.CAMERA_CLAUSES, captions.CAMERA_VERBS, captions.SHAPE_WORDS, captions.MOTION_PHRASES,
              captions.DIRECTIONS)
    text = [phrase for table in tables for phrases in table.values() for phrase in phrases]
    # the parts moves are put together from
    text += [*captions.CAMERA_NOUNS, *captions.HOLDS, *(form for forms in captions.VERBS for form in forms)]
    text += [*world.COLORS, *world.SHAPES, *world.TIMES_OF_DAY, *world.SETTINGS, *world.CAMERAS]
    # the glue words of the caption templates and the fixed evaluation prompt
    text += ["a", "empty", "standing", "moving", "during", "the", "over", "in", "static", "camera"]
    return frozenset(w for phrase in text for w in _WORD.findall(phrase.lower()))


def unknown_words(prompt: str) -> list[str]:
    """The prompt's words the previz model never saw, each once, in the prompt's order."""
    known = known_words()
    seen: list[str] = []
    for word in _WORD.findall((prompt or "").lower()):
        if word not in known and word not in seen:
            seen.append(word)
    return seen


def vocabulary_note(prompt: str, model_name: str) -> str | None:
    """A one-line warning naming the words ``model_name`` does not know, or None."""
    words = unknown_words(prompt)
    if not words:
        return None
    listed = ", ".join(f"'{w}'" for w in words)
    return (f"{model_name} does not know {listed}; it draws skies (day, sunset, night), settings (mountains, sea, "
            f"city, field), a red, green, blue, yellow or white ball or box moving left or right, and camera moves")


def summary() -> str:
    """What the previz model draws, compact, as the Generate panel shows it:
    "day/sunset/night; static, pan left/right, …; a red/…/white ball/box moving left/right or still; …"."""
    from engine.train import world

    cameras: dict[str, list[str]] = {}
    for move in world.CAMERAS:  # "pan left", "pan right" -> "pan left/right"
        verb, _, way = move.partition(" ")
        cameras.setdefault(verb, []).append(way)
    camera = ", ".join(f"{verb} {'/'.join(ways)}".strip() for verb, ways in cameras.items())
    *moves, still = world.MOTIONS
    return (f"{'/'.join(world.TIMES_OF_DAY)}; {camera}; a {'/'.join(world.COLORS)} {'/'.join(world.SHAPES)} "
            f"moving {'/'.join(moves)} or {still}; {'/'.join(world.SETTINGS)}")
