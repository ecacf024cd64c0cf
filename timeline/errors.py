"""Errors raised by the timeline package."""
from __future__ import annotations

from pathlib import Path


class ProjectError(Exception):
    """A project file could not be read or written; names the file and the cause."""

    def __init__(self, path: str | Path, cause: str):
        self.path = Path(path)
        self.cause = cause
        super().__init__(f"{self.path}: {cause}")


class EditError(ValueError):
    """An edit cannot be applied to the document as it is (e.g. no room to extend a clip)."""
