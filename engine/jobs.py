"""Job specs: plain dataclasses the engine thread runs, each with a JSON round trip.

A job is data only (no open files, no arrays), so it can sit in a recipe (the generated
clip's `GeneratorReference` parameters), travel to a worker thread, and be retried later.
`to_json()` writes a `"kind"` tag; `job_from_json()` / `job_from_dict()` read any job back.
"""
from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

# An `output` ending in one of these is the exact file to write; anything else is a folder
# in which the engine picks a unique file name.
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm"})
# The one seed range (it fits a Qt spin box and every backend's generator).
SEED_MAX = 2**31 - 1
DEFAULT_STRENGTH = 0.7          # restyle: how far from the source the new look may go
DEFAULT_STRUCTURE_WEIGHT = 1.0  # restyle: how closely the source's layout is kept


def draw_seed() -> int:
    """A fresh seed in 0..SEED_MAX, for a job whose ``seed`` is None (the engine records it)."""
    return random.randint(0, SEED_MAX)

# Upper bounds, checked before any work: a typo must not start a day-long job or a huge allocation.
MAX_SECONDS = 600.0   # new footage per job (10 minutes)
MAX_SIDE = 4096       # frame width or height in pixels
MAX_RATE = 240.0      # frames per second


@dataclass
class MediaInput:
    """Frames [start, stop) of a media file, in that file's own frame numbers.

    `stop=None` means "to the end". For a still image use start=0, stop=None.
    """

    path: str
    start: int = 0
    stop: int | None = None

    def __post_init__(self):
        self.path = str(self.path)
        if self.start < 0:
            raise ValueError(f"start: must be >= 0, got {self.start} (input {self.path})")
        if self.stop is not None and self.stop <= self.start:
            raise ValueError(f"stop: must be greater than start ({self.start}), got {self.stop} (input {self.path})")


@dataclass
class Job:
    """Base of every job spec. `kind` is the JSON tag; subclasses set it."""

    kind: ClassVar[str] = ""
    queue: ClassVar[str] = ""  # "model" or "media": which worker runs it

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["kind"] = self.kind
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Job":
        """Reads any job kind; called on a subclass it also checks the kind matches."""
        job = job_from_dict(json.loads(text))
        if cls is not Job and not isinstance(job, cls):
            raise ValueError(f"kind: expected {cls.kind!r}, got {job.kind!r}")
        return job

    def describe(self) -> str:
        """A short human line for job lists and progress bars."""
        return self.kind


@dataclass
class ModelJob(Job):
    """What every model operation shares. `seed=None` means the engine picks one and records it;
    `steps`/`guidance`/`size`/`rate` None mean the model's defaults; `model=None` is the
    engine's default model (the embedded one unless the Engine was given another)."""

    queue: ClassVar[str] = "model"
    op: ClassVar[str] = ""

    prompt: str = ""
    negative_prompt: str = ""
    seconds: float = 2.0
    size: tuple[int, int] | None = None  # (width, height)
    rate: float | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    model: str | None = None
    device: str | None = None
    output: str = "."

    def __post_init__(self):
        self.size = _check_size(self.size)
        if not 0 < self.seconds <= MAX_SECONDS:
            raise ValueError(f"seconds: must be more than 0 and at most {MAX_SECONDS:g}, got {self.seconds}")
        _check_rate(self.rate)
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"steps: must be >= 1, got {self.steps}")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)
                                      or not 0 <= self.seed <= SEED_MAX):
            raise ValueError(f"seed: expected an integer in 0..{SEED_MAX} or none, got {self.seed!r}")
        if self.model is not None:
            self.model = str(self.model)
        self.output = str(self.output)

    @property
    def output_is_file(self) -> bool:
        return Path(self.output).suffix.lower() in VIDEO_SUFFIXES

    def inputs(self) -> list[MediaInput]:
        """The media this job conditions on (none for generate)."""
        return []

    def describe(self) -> str:
        return f"{self.op} {self.seconds:g}s: {self.prompt}" if self.prompt else f"{self.op} {self.seconds:g}s"


@dataclass
class GenerateJob(ModelJob):
    kind: ClassVar[str] = "generate"
    op: ClassVar[str] = "generate"


@dataclass
class AnimateJob(ModelJob):
    """A still (an image file, or one frame of a video at `image.start`) becomes a shot."""

    kind: ClassVar[str] = "animate"
    op: ClassVar[str] = "animate"
    image: MediaInput | None = None

    def __post_init__(self):
        super().__post_init__()
        self.image = _media_input(self.image, "image")

    def inputs(self) -> list[MediaInput]:
        return [self.image]


@dataclass
class ExtendJob(ModelJob):
    """New frames before (head) or after (tail) `source`; only the new frames are written."""

    kind: ClassVar[str] = "extend"
    op: ClassVar[str] = "extend"
    source: MediaInput | None = None
    direction: str = "tail"

    def __post_init__(self):
        super().__post_init__()
        self.source = _media_input(self.source, "source")
        if self.direction not in ("head", "tail"):
            raise ValueError(f"direction: must be 'head' or 'tail', got {self.direction!r}")

    def inputs(self) -> list[MediaInput]:
        return [self.source]

    def describe(self) -> str:
        return f"extend {self.direction} {self.seconds:g}s of {Path(self.source.path).name}"


@dataclass
class FillJob(ModelJob):
    """Bridges the gap between the end of `before` and the start of `after`."""

    kind: ClassVar[str] = "fill"
    op: ClassVar[str] = "fill"
    before: MediaInput | None = None
    after: MediaInput | None = None

    def __post_init__(self):
        super().__post_init__()
        self.before = _media_input(self.before, "before")
        self.after = _media_input(self.after, "after")

    def inputs(self) -> list[MediaInput]:
        return [self.before, self.after]


@dataclass
class RestyleJob(ModelJob):
    """Keeps `source`'s layout and motion, changes its look; as many frames out as in.
    `seconds` is unused (the source decides the length) but kept for a uniform recipe."""

    kind: ClassVar[str] = "restyle"
    op: ClassVar[str] = "restyle"
    source: MediaInput | None = None
    strength: float = DEFAULT_STRENGTH
    structure_weight: float = DEFAULT_STRUCTURE_WEIGHT

    def __post_init__(self):
        super().__post_init__()
        self.source = _media_input(self.source, "source")
        if not 0.0 < self.strength <= 1.0:
            raise ValueError(f"strength: must be in (0, 1], got {self.strength}")
        if self.structure_weight < 0:
            raise ValueError(f"structure_weight: must be >= 0, got {self.structure_weight}")
        if not self.prompt.strip():
            raise ValueError("prompt: restyle needs a prompt describing the new look")

    def inputs(self) -> list[MediaInput]:
        return [self.source]


@dataclass
class RenderJob(Job):
    """Render a timeline to one file. Give either `project` (an .otio path) or `timeline_json`
    (OTIO JSON text of an unsaved document) plus `base_dir` for its relative media paths.
    `range` is (start, end) in seconds of timeline time; `size` is (width, height)."""

    kind: ClassVar[str] = "render"
    queue: ClassVar[str] = "media"

    output: str = ""
    project: str | None = None
    timeline_json: str | None = None
    base_dir: str | None = None
    range: tuple[float, float] | None = None
    size: tuple[int, int] | None = None
    rate: float | None = None
    codec: str = "h264"

    def __post_init__(self):
        if not self.output:
            raise ValueError("output: a render needs an output file")
        if (self.project is None) == (self.timeline_json is None):
            raise ValueError("project: give exactly one of project or timeline_json")
        if self.range is not None:
            self.range = tuple(float(v) for v in self.range)
            if len(self.range) != 2 or self.range[0] < 0 or self.range[1] <= self.range[0]:
                raise ValueError(f"range: expected (start, end) seconds with 0 <= start < end, got {self.range}")
        self.size = _check_size(self.size)
        _check_rate(self.rate)

    def describe(self) -> str:
        return f"render {Path(self.output).name}"


@dataclass
class ProxyJob(Job):
    """An all-intra low-resolution copy of `source` for scrubbing. `output` is the proxy file;
    empty means the media layer's cache location next to the source."""

    kind: ClassVar[str] = "proxy"
    queue: ClassVar[str] = "media"

    source: str = ""
    output: str = ""
    height: int = 270

    def __post_init__(self):
        if not self.source:
            raise ValueError("source: a proxy job needs a source file")
        if self.height < 2:
            raise ValueError(f"height: must be >= 2, got {self.height}")

    def describe(self) -> str:
        return f"proxy {Path(self.source).name}"


@dataclass
class ThumbnailJob(Job):
    """`count` thumbnails evenly spread over `source`, each `height` pixels high."""

    kind: ClassVar[str] = "thumbnail"
    queue: ClassVar[str] = "media"

    source: str = ""
    count: int = 1
    height: int = 72

    def __post_init__(self):
        if not self.source:
            raise ValueError("source: a thumbnail job needs a source file")
        if self.count < 1:
            raise ValueError(f"count: must be >= 1, got {self.count}")
        if self.height < 2:
            raise ValueError(f"height: must be >= 2, got {self.height}")

    def describe(self) -> str:
        return f"thumbnails {Path(self.source).name}"


JOB_KINDS: dict[str, type[Job]] = {
    cls.kind: cls
    for cls in (GenerateJob, AnimateJob, ExtendJob, FillJob, RestyleJob, RenderJob, ProxyJob, ThumbnailJob)
}


def job_from_dict(data: dict[str, Any]) -> Job:
    """Builds the job named by `data["kind"]`; unknown kinds or fields raise ValueError."""
    if not isinstance(data, dict) or "kind" not in data:
        raise ValueError("kind: a job spec needs a 'kind'")
    data = dict(data)
    kind = data.pop("kind")
    cls = JOB_KINDS.get(kind)
    if cls is None:
        raise ValueError(f"kind: unknown job kind {kind!r} (expected one of {', '.join(sorted(JOB_KINDS))})")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ValueError(f"{unknown[0]}: not a field of a {kind} job")
    return cls(**data)


def job_from_json(text: str) -> Job:
    return job_from_dict(json.loads(text))


def _check_size(size) -> tuple[int, int] | None:
    if size is None:
        return None
    size = tuple(int(v) for v in size)
    if len(size) != 2 or not all(0 < v <= MAX_SIDE for v in size):
        raise ValueError(f"size: expected (width, height), each more than 0 and at most {MAX_SIDE}, got {size}")
    return size


def _check_rate(rate) -> None:
    if rate is not None and not 0 < rate <= MAX_RATE:
        raise ValueError(f"rate: must be more than 0 and at most {MAX_RATE:g}, got {rate}")


def _media_input(value: MediaInput | dict | str | None, name: str) -> MediaInput:
    if isinstance(value, MediaInput):
        return value
    if isinstance(value, dict):
        return MediaInput(**value)
    if isinstance(value, (str, Path)):
        return MediaInput(str(value))
    raise ValueError(f"{name}: this job needs an input file")
