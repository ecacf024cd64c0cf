"""Frame-count and size rules of a video model family, met by rounding with a warning that says so.

Video autoencoders compress time by a factor k and keep the first frame on its own, so a clip must
have k*n + 1 frames (4n+1 for Wan and CogVideoX, 8n+1 for LTX-Video). Sizes must be divisible by
the autoencoder's spatial factor times the transformer's patch size (16 or 32).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass


class ConstraintWarning(UserWarning):
    """A requested frame count or size was rounded to one the model can make."""


@dataclass(frozen=True)
class Constraints:
    family: str
    frame_step: int       # frames must be frame_step * n + 1 (1: any count)
    size_multiple: int    # width and height must be multiples of this
    min_frames: int = 1
    fixed_size: tuple[int, int] | None = None  # models with learned position tables make one size only

    def __post_init__(self):
        if self.frame_step < 1 or self.size_multiple < 1 or self.min_frames < 1:
            raise ValueError(f"constraints for {self.family}: frame_step, size_multiple and min_frames must be >= 1")

    def frame_rule(self) -> str:
        return "any frame count" if self.frame_step == 1 else f"{self.frame_step}n+1 frames"

    def valid_frames(self, frames: int) -> bool:
        return frames >= self.min_frames and (frames - 1) % self.frame_step == 0

    def fit_frames(self, frames: int, what: str = "frames") -> tuple[int, str | None]:
        """Nearest valid count (ties go up), and the warning text when it had to change."""
        if frames < 1:
            raise ValueError(f"{what}: need at least 1 frame, got {frames}")
        n = max(round((frames - 1) / self.frame_step + 1e-9), 0)
        fitted = n * self.frame_step + 1
        while fitted < self.min_frames:
            fitted += self.frame_step
        if fitted == frames:
            return frames, None
        return fitted, (f"{self.family} needs {self.frame_rule()}: {what} rounded from {frames} to {fitted}")

    def ceil_frames(self, frames: int) -> int:
        """Smallest valid count >= frames (restyle pads to it and trims back, so no warning)."""
        fitted = 1 + self.frame_step * -(-(max(frames, 1) - 1) // self.frame_step)
        while fitted < self.min_frames:
            fitted += self.frame_step
        return fitted

    def fit_size(self, width: int, height: int, what: str = "size") -> tuple[tuple[int, int], str | None]:
        """Nearest multiples of size_multiple (at least one multiple), and the warning text if changed."""
        if width < 1 or height < 1:
            raise ValueError(f"{what}: width and height must be positive, got {width}x{height}")
        if self.fixed_size is not None:
            if (width, height) == self.fixed_size:
                return (width, height), None
            fw, fh = self.fixed_size
            return self.fixed_size, f"{self.family} makes only {fw}x{fh}: {what} {width}x{height} changed to it"
        m = self.size_multiple
        fw = max(m, int(round(width / m)) * m)
        fh = max(m, int(round(height / m)) * m)
        if (fw, fh) == (width, height):
            return (width, height), None
        return (fw, fh), (f"{self.family} needs sizes divisible by {m}: {what} rounded from "
                          f"{width}x{height} to {fw}x{fh}")


def warn_adjusted(note: str | None, notes: list[str]) -> None:
    """Emit the rounding warning and keep its text for the result's metadata."""
    if note:
        warnings.warn(note, ConstraintWarning, stacklevel=3)
        notes.append(note)
