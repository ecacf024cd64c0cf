"""A tiny built-in 5x7 bitmap font, drawn into numpy frames (title cards need no Qt or fonts)."""
from __future__ import annotations

import textwrap

import numpy as np

# Each glyph: 7 rows of 5 columns, '#' is ink. Lower case is drawn as upper case.
_GLYPHS = {
    "A": [" ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
    "B": ["#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### "],
    "C": [" ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### "],
    "D": ["#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### "],
    "E": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####"],
    "F": ["#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    "],
    "G": [" ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####"],
    "H": ["#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #"],
    "I": [" ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
    "J": ["  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  "],
    "K": ["#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #"],
    "L": ["#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####"],
    "M": ["#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #"],
    "N": ["#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #"],
    "O": [" ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "],
    "P": ["#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    "],
    "Q": [" ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #"],
    "R": ["#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #"],
    "S": [" ####", "#    ", "#    ", " ### ", "    #", "    #", "#### "],
    "T": ["#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  "],
    "U": ["#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### "],
    "V": ["#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  "],
    "W": ["#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # "],
    "X": ["#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #"],
    "Y": ["#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  "],
    "Z": ["#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####"],
    "0": [" ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### "],
    "1": ["  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### "],
    "2": [" ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####"],
    "3": ["#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### "],
    "4": ["   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # "],
    "5": ["#####", "#    ", "#### ", "    #", "    #", "#   #", " ### "],
    "6": ["  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### "],
    "7": ["#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   "],
    "8": [" ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### "],
    "9": [" ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  "],
    " ": ["     "] * 7,
    ".": ["     ", "     ", "     ", "     ", "     ", " ##  ", " ##  "],
    ",": ["     ", "     ", "     ", "     ", " ##  ", "  #  ", " #   "],
    ":": ["     ", " ##  ", " ##  ", "     ", " ##  ", " ##  ", "     "],
    ";": ["     ", " ##  ", " ##  ", "     ", " ##  ", "  #  ", " #   "],
    "-": ["     ", "     ", "     ", "#####", "     ", "     ", "     "],
    "'": ["  #  ", "  #  ", " #   ", "     ", "     ", "     ", "     "],
    '"': [" # # ", " # # ", "     ", "     ", "     ", "     ", "     "],
    "!": ["  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "  #  "],
    "?": [" ### ", "#   #", "    #", "   # ", "  #  ", "     ", "  #  "],
    "/": ["    #", "    #", "   # ", "  #  ", " #   ", "#    ", "#    "],
    "(": ["   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # "],
    ")": [" #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   "],
    "&": [" ##  ", "#  # ", "# #  ", " #   ", "# # #", "#  # ", " ## #"],
    "+": ["     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     "],
    "#": [" # # ", " # # ", "#####", " # # ", "#####", " # # ", " # # "],
    "%": ["##   ", "##  #", "   # ", "  #  ", " #   ", "#  ##", "   ##"],
    "=": ["     ", "     ", "#####", "     ", "#####", "     ", "     "],
    "_": ["     ", "     ", "     ", "     ", "     ", "     ", "#####"],
}
# Unknown characters show as a hollow box, so missing glyphs are visible rather than dropped.
_UNKNOWN = ["#####", "#   #", "#   #", "#   #", "#   #", "#   #", "#####"]
GLYPH_W, GLYPH_H = 5, 7
ADVANCE_X, ADVANCE_Y = 6, 10  # one column and three rows of spacing


def _bitmap(rows: list[str]) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows], dtype=bool)


_BITMAPS = {ch: _bitmap(rows) for ch, rows in _GLYPHS.items()}
_UNKNOWN_BITMAP = _bitmap(_UNKNOWN)


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """Boolean ink mask of one line of `text`, each font pixel `scale` x `scale`."""
    if scale < 1:
        raise ValueError(f"scale: must be at least 1, got {scale}")
    mask = np.zeros((GLYPH_H, max(1, len(text) * ADVANCE_X - 1)), dtype=bool)
    for i, ch in enumerate(text.upper()):
        mask[:, i * ADVANCE_X:i * ADVANCE_X + GLYPH_W] = _BITMAPS.get(ch, _UNKNOWN_BITMAP)
    return np.kron(mask, np.ones((scale, scale), dtype=bool)) if scale > 1 else mask


def draw_text_block(frame: np.ndarray, text: str, color=(230, 230, 230), margin: float = 0.08) -> np.ndarray:
    """Draw `text` wrapped and centred in `frame` (HxWx3 uint8, changed in place), as large as fits."""
    h, w = frame.shape[:2]
    usable_w = max(1, int(w * (1 - 2 * margin)))
    usable_h = max(1, int(h * (1 - 2 * margin)))
    words = " ".join(text.split())
    if not words:
        return frame
    # Largest scale whose wrapped text fits; the smallest scale clips rather than failing.
    lines = [words]
    scale = 1
    for s in range(max(1, usable_h // ADVANCE_Y), 0, -1):
        per_line = max(1, (usable_w + 1) // (ADVANCE_X * s))
        wrapped = textwrap.wrap(words, per_line, break_long_words=True) or [words]
        if len(wrapped) * ADVANCE_Y * s - (ADVANCE_Y - GLYPH_H) * s <= usable_h:
            lines, scale = wrapped, s
            break
    else:
        per_line = max(1, (usable_w + 1) // ADVANCE_X)
        lines = textwrap.wrap(words, per_line, break_long_words=True)[: max(1, usable_h // ADVANCE_Y)]
    block_h = len(lines) * ADVANCE_Y * scale - (ADVANCE_Y - GLYPH_H) * scale
    y = max(0, (h - block_h) // 2)
    for line in lines:
        mask = text_mask(line, scale)[: h - y, :w]
        x = max(0, (w - mask.shape[1]) // 2)
        region = frame[y:y + mask.shape[0], x:x + mask.shape[1]]
        region[mask[:, :region.shape[1]]] = color
        y += ADVANCE_Y * scale
        if y >= h:
            break
    return frame
