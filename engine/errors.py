"""Typed errors for the engine: every expected failure names what went wrong and where."""
from __future__ import annotations

import os


class LatentCutError(Exception):
    """Base of every expected LatentCut error (the CLI prints these without a traceback)."""


class Cancelled(LatentCutError):
    """The user cancelled a job; whatever it was writing has been removed."""

    def __init__(self, message: str = "cancelled"):
        super().__init__(message)


class MediaError(LatentCutError):
    """A media file could not be read or written. `path` is the file, `cause` says why."""

    kind = "unreadable media"

    def __init__(self, path: str | os.PathLike, cause: str | BaseException):
        self.path = os.fspath(path)
        self.cause = cause
        super().__init__(f"{self.path}: {self.kind}: {cause}")


class MissingMedia(MediaError):
    kind = "missing file"


class EmptyMedia(MediaError):
    kind = "empty file"


class TruncatedMedia(MediaError):
    kind = "truncated file"


class NotAVideo(MediaError):
    kind = "not a media file"


class NoVideoStream(MediaError):
    kind = "no video stream (audio only)"


class ZeroDuration(MediaError):
    kind = "zero duration"


class CorruptMedia(MediaError):
    kind = "corrupt media"


class NoAudioStream(MediaError):
    kind = "no audio stream"
