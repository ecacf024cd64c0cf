"""Typed, frozen requests: what one backend call is asked to make.

A backend method takes exactly one of these (``backend.generate(GenerateRequest(...))``), so the
pipeline, the diffusers backends and a remote engine read the same named fields instead of a
dozen keyword arguments each. Building a request checks every value a backend does not need
to know about (types, ranges, frame arrays) and raises ValueError naming the field; what
depends on the model (sizes it can make, operations it has) the backend checks itself.
Frames are uint8 RGB numpy arrays [T,H,W,3]; an image is [H,W,3]. A backend returns a
VideoResult; ``Backend`` is the protocol every backend (the LatentCut pipeline, the diffusers
backends, a remote engine) implements. No torch here.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Protocol, runtime_checkable

import numpy as np

from engine.jobs import DEFAULT_STRENGTH, DEFAULT_STRUCTURE_WEIGHT, SEED_MAX

__all__ = ["DEFAULT_STRENGTH", "DEFAULT_STRUCTURE_WEIGHT", "SEED_MAX", "AnimateRequest", "ExtendRequest",
           "FillRequest", "GenerateRequest", "REQUESTS", "Request", "RestyleRequest", "StepCallback", "VideoResult", "Backend"]

StepCallback = Callable[[int, int, Any], None]
DIRECTIONS = ("tail", "head")


def _number(value, name: str, *, integer: bool = False, low: float = 0.0, low_ok: bool = False,
            high: float | None = None):
    """``value`` when it is a finite real (an integer with ``integer``) above ``low`` (or equal
    with ``low_ok``) and at most ``high``; else ValueError naming ``name``."""
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if (isinstance(value, bool) or not ok_type or not math.isfinite(value) or value < low
            or (value == low and not low_ok) or (high is not None and value > high)):
        kind = "an integer" if integer else "a number"
        bound = f"in {low:g}..{high:g}" if high is not None else f"{'>=' if low_ok else '>'} {low:g}"
        raise ValueError(f"{name}: expected {kind} {bound}, got {value!r}")
    return int(value) if integer else float(value)


def check_frames(value, name: str) -> np.ndarray:
    """uint8 RGB frames [T,H,W,3] (a list of HxWx3 arrays is stacked; an alpha channel is dropped)."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ValueError(f"{name}: no frames given")
        try:
            value = np.stack([np.asarray(v) for v in value])
        except ValueError as exc:
            raise ValueError(f"{name}: frames of different shapes ({exc})") from None
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{name}: expected uint8 RGB frames as a numpy array [T,H,W,3], got {type(value).__name__}")
    if value.dtype != np.uint8:
        raise ValueError(f"{name}: expected uint8 frames [T,H,W,3], got dtype {value.dtype}")
    if value.ndim != 4 or value.shape[-1] not in (3, 4):
        raise ValueError(f"{name}: expected shape [T,H,W,3], got {list(value.shape)}")
    if 0 in value.shape[:3]:
        raise ValueError(f"{name}: empty frames, shape {list(value.shape)}")
    return value[..., :3]


def check_image(value, name: str = "image") -> np.ndarray:
    """One uint8 RGB image [H,W,3] (grey [H,W] is made RGB; a single frame [1,H,W,3] is unwrapped)."""
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.dtype == np.uint8:
        value = np.repeat(value[..., None], 3, axis=-1)
    if isinstance(value, np.ndarray) and value.ndim == 3:
        value = value[None]
    frames = check_frames(value, name)
    if frames.shape[0] != 1:
        raise ValueError(f"{name}: expected one image [H,W,3], got {frames.shape[0]} frames")
    return frames[0]


@dataclass(frozen=True, kw_only=True)
class Request:
    """What every operation shares. ``seed`` is the seed to use (the engine drew it when the job
    had none); ``size``, ``steps``, ``guidance`` and ``rate`` None mean the model's own."""

    op: ClassVar[str] = ""

    prompt: str = ""
    negative_prompt: str = ""
    size: tuple[int, int] | None = None   # (width, height)
    seed: int = 0
    steps: int | None = None
    guidance: float | None = None
    rate: float | None = None             # frames per second of frames in and out
    callback: StepCallback | None = None  # (step, total, preview uint8 [H,W,3] or None)
    cancel: threading.Event | None = None  # polled every denoising step

    def __post_init__(self):
        for name in ("prompt", "negative_prompt"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"{name}: expected a string, got {type(getattr(self, name)).__name__}")
        if self.size is not None:
            if isinstance(self.size, (str, bytes)) or not hasattr(self.size, "__len__") or len(self.size) != 2:
                raise ValueError(f"size: expected (width, height), got {self.size!r}")
            self._set("size", tuple(_number(v, "size", integer=True) for v in self.size))
        self._set("seed", _number(self.seed, "seed", integer=True, low_ok=True, high=SEED_MAX))
        if self.steps is not None:
            self._set("steps", _number(self.steps, "steps", integer=True, low=1, low_ok=True, high=1000))
        if self.guidance is not None:
            self._set("guidance", _number(self.guidance, "guidance", low_ok=True))
        if self.rate is not None:
            self._set("rate", _number(self.rate, "rate"))
        if self.callback is not None and not callable(self.callback):
            raise ValueError("callback: expected a callable(step, total, preview)")
        if self.cancel is not None and not hasattr(self.cancel, "is_set"):
            raise ValueError("cancel: expected a threading.Event")

    def _set(self, name: str, value) -> None:
        object.__setattr__(self, name, value)  # normalising a frozen request while it is built

    def replace(self, **changes) -> "Request":
        """A copy with ``changes`` (a backend fills in its defaults this way)."""
        return dataclasses.replace(self, **changes)

    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()


def _seconds(request) -> None:
    request._set("seconds", _number(request.seconds, "seconds"))


@dataclass(frozen=True, kw_only=True)
class GenerateRequest(Request):
    op: ClassVar[str] = "generate"
    seconds: float

    def __post_init__(self):
        super().__post_init__()
        _seconds(self)


@dataclass(frozen=True, kw_only=True)
class AnimateRequest(Request):
    """A still becomes a shot of ``seconds``."""

    op: ClassVar[str] = "animate"
    image: Any
    seconds: float

    def __post_init__(self):
        super().__post_init__()
        self._set("image", check_image(self.image))
        _seconds(self)


@dataclass(frozen=True, kw_only=True)
class ExtendRequest(Request):
    """``seconds`` of new frames after (tail) or before (head) ``frames``; only the new ones come back."""

    op: ClassVar[str] = "extend"
    frames: Any
    seconds: float
    direction: str = "tail"

    def __post_init__(self):
        super().__post_init__()
        self._set("frames", check_frames(self.frames, "frames"))
        _seconds(self)
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction: expected one of {', '.join(DIRECTIONS)}, got {self.direction!r}")


@dataclass(frozen=True, kw_only=True)
class FillRequest(Request):
    """The frames of a ``seconds`` gap between the end of ``before_frames`` and the start of ``after_frames``."""

    op: ClassVar[str] = "fill"
    before_frames: Any
    after_frames: Any
    seconds: float

    def __post_init__(self):
        super().__post_init__()
        self._set("before_frames", check_frames(self.before_frames, "before_frames"))
        self._set("after_frames", check_frames(self.after_frames, "after_frames"))
        _seconds(self)


@dataclass(frozen=True, kw_only=True)
class RestyleRequest(Request):
    """As many frames as given, with their layout and motion and the prompt's look."""

    op: ClassVar[str] = "restyle"
    frames: Any
    strength: float = DEFAULT_STRENGTH
    structure_weight: float = DEFAULT_STRUCTURE_WEIGHT

    def __post_init__(self):
        super().__post_init__()
        self._set("frames", check_frames(self.frames, "frames"))
        self._set("strength", _number(self.strength, "strength", high=1.0))
        self._set("structure_weight", _number(self.structure_weight, "structure_weight", low_ok=True))


REQUESTS: dict[str, type[Request]] = {cls.op: cls for cls in (
    GenerateRequest, AnimateRequest, ExtendRequest, FillRequest, RestyleRequest)}


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
    operations: frozenset[str]     # names from engine.operations.OPERATIONS (it may do a subset)
    native_size: tuple[int, int]   # (width, height)
    native_rate: float

    def generate(self, request: GenerateRequest) -> VideoResult: ...

    def animate(self, request: AnimateRequest) -> VideoResult: ...

    def extend(self, request: ExtendRequest) -> VideoResult: ...   # the new frames only

    def fill(self, request: FillRequest) -> VideoResult: ...

    def restyle(self, request: RestyleRequest) -> VideoResult: ...  # as many frames as given
