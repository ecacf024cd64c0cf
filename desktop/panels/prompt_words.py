"""Marks the words of a prompt that the chosen model does not understand (a wavy underline and a
list under the prompt), for models that declare their vocabulary (the embedded previz model)."""
from __future__ import annotations

import re
from typing import Callable

from PySide6.QtGui import QColor, QSyntaxHighlighter, QTextCharFormat

_WORD = re.compile(r"[A-Za-z]+")


class UnknownWordMarker(QSyntaxHighlighter):
    """Underlines the words `unknown(text)` names; with no vocabulary set nothing is marked."""

    def __init__(self, document, parent=None):
        super().__init__(document)
        self.unknown: Callable[[str], list[str]] | None = None
        self._format = QTextCharFormat()
        self._format.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        self._format.setUnderlineColor(QColor(255, 150, 90))
        self._format.setToolTip("The chosen model does not know this word")

    def set_vocabulary(self, unknown: Callable[[str], list[str]] | None) -> None:
        self.unknown = unknown
        self.rehighlight()

    def words(self, text: str) -> list[str]:
        return self.unknown(text) if self.unknown is not None else []

    def highlightBlock(self, text: str) -> None:
        marked = set(self.words(text))
        if not marked:
            return
        for match in _WORD.finditer(text):
            if match.group().lower() in marked:
                self.setFormat(match.start(), match.end() - match.start(), self._format)
