"""The Backend protocol every model backend implements, and the VideoResult it returns.

Frames in and out are uint8 RGB numpy arrays [T,H,W,3]. callback(step, total, preview) reports
progress (preview: uint8 [H,W,3] or None); cancel is a threading.Event polled every denoising
step, and a set event makes the call raise engine.errors.Cancelled. Bad arguments raise
ValueError naming the argument. No torch import here: this module is imported by torch-free code.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

OPERATIONS = frozenset({"generate", "animate", "extend", "fill", "restyle"})
DIRECTIONS = ("tail", "head")

StepCallback = Callable[[int, int, Any], None]


@dataclass
class VideoResult:
    frames: Any            # np.ndarray [T,H,W,3] uint8
    rate: float            # frames per second of `frames`
    metadata: dict = field(default_factory=dict)

    @property
    def frame_count(self) -> int:
        return int(self.frames.shape[0])

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)."""
        return int(self.frames.shape[2]), int(self.frames.shape[1])


@runtime_checkable
class Backend(Protocol):
    name: str
    sha256: str
    operations: frozenset[str]
    native_size: tuple[int, int]   # (width, height)
    native_rate: float

    def generate(self, prompt: str, seconds: float, size: tuple[int, int] | None = None, seed: int = 0,
                 steps: int | None = None, guidance: float | None = None, negative_prompt: str = "",
                 callback: StepCallback | None = None, cancel: threading.Event | None = None,
                 **kwargs) -> VideoResult: ...

    def animate(self, image, prompt: str, seconds: float, **kwargs) -> VideoResult: ...

    def extend(self, frames, seconds: float, direction: str = "tail", prompt: str | None = None,
               **kwargs) -> VideoResult: ...

    def fill(self, before_frames, after_frames, seconds: float, prompt: str | None = None,
             **kwargs) -> VideoResult: ...

    def restyle(self, frames, prompt: str, strength: float = 0.7, structure_weight: float = 1.0,
                **kwargs) -> VideoResult: ...
