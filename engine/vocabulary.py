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


@lru_cache(maxsize=1)
def scene_words() -> frozenset[str]:
    """The words that name a previz scene's setting or subject: the settings' words, the last word
    of each setting phrase ("by the shore"), and the subject's shapes."""
    from engine.model.subject import SUBJECT_WORDS
    from engine.train import captions, world

    words = [w for phrases in captions.SETTING_WORDS.values() for phrase in phrases for w in _WORD.findall(phrase)]
    words += [_WORD.findall(phrase)[-1] for phrases in captions.SETTING_PHRASES.values() for phrase in phrases]
    return frozenset([*words, *world.SETTINGS, *SUBJECT_WORDS])


def names_scene(prompt: str) -> bool:
    """Whether the prompt names a setting or a subject; an empty prompt asks for nothing, and passes."""
    words = _WORD.findall((prompt or "").lower())
    return not words or not scene_words().isdisjoint(words)


def look_only_note(prompt: str, model_name: str) -> str | None:
    """A one-line warning where the prompt names no setting and no subject, or None. Every caption
    the previz model learned from named the scene: told a look alone it can miss even that (a restyle
    "at night" came out at sunset, and a generate "at night" by day), while "a field at night" met it."""
    if names_scene(prompt):
        return None
    return (f"{model_name} learned prompts that name the scene; with no setting or subject it can miss the "
            f"look asked for ('at night' came out at sunset): name one too, as in 'a field at night'")


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
