"""A `POST /v1/videos` request made into a job spec, and that spec made runnable on a replica.

Two request shapes are accepted, both multipart (or JSON without uploads):
- LatentCut's own: a `job` field holding the job spec as JSON (engine/jobs.py), whose media
  inputs name uploads: `{"upload": "source", "start": 0, "stop": 48}`.
- The plain `/v1/videos` shape: `prompt`, `seconds`, `size` ("WxH"), `model`, and the
  extensions `operation`, `negative_prompt`, `seed`, `steps`, `guidance`, `strength`,
  `structure_weight`, `rate`, `direction`; each media input is uploaded under its own name
  (`image`, `source`, `before`, `after`; `input_reference` is the plain API's name for `image`).
The server never reads a path a client sends: inputs are uploads, and the output is its own.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from engine.jobs import MediaInput, job_from_dict
from engine.operations import OPERATIONS
from engine.serve.wire import SERVER_FIELDS

MAX_SECONDS = 60.0
SIDE_RANGE = (16, 2048)   # pixels, each of width and height
MAX_STEPS = 500
FLOAT_FIELDS = ("seconds", "rate", "guidance", "strength", "structure_weight")
INT_FIELDS = ("seed", "steps")
TEXT_FIELDS = ("prompt", "negative_prompt", "direction", "model")
UPLOAD_ALIASES = {"input_reference": "image"}


class RequestError(ValueError):
    """A request the server refuses: `status` is the HTTP code, the message one sentence."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message if message.endswith(".") else message + ".")
        self.status = status


def job_request(fields: dict[str, str], files: dict[str, tuple[str, bytes]],
                models: list[str]) -> tuple[dict, dict[str, tuple[str, bytes]], str]:
    """(spec, uploads, model name) from a request's form fields and uploaded files.
    Raises RequestError naming the bad field."""
    files = {UPLOAD_ALIASES.get(name, name): value for name, value in files.items()}
    spec = _spec_of(fields)
    kind = spec.pop("kind", None) or spec.pop("operation", None) or "generate"
    spec.pop("operation", None)
    if kind not in OPERATIONS:
        raise RequestError(f"operation: unknown operation {kind!r} (expected one of {', '.join(sorted(OPERATIONS))})")
    for name in SERVER_FIELDS:
        spec.pop(name, None)
    model = spec.pop("model", None) or models[0]
    if model not in models:
        raise RequestError(f"model: this engine has no model named {model!r} (it serves {', '.join(models)})")
    _coerce(spec)
    uploads = {}
    for name in OPERATIONS[kind].inputs:
        ref = spec.get(name) or {"upload": name}
        if isinstance(ref, str):
            ref = {"upload": ref}
        if not isinstance(ref, dict) or "path" in ref or not isinstance(ref.get("upload"), str):
            raise RequestError(f"{name}: must name an upload ({{\"upload\": \"{name}\"}}); "
                               f"the server never reads a path sent by a client")
        if ref["upload"] not in files:
            raise RequestError(f"{name}: the {kind} operation needs an uploaded file named {ref['upload']!r}")
        uploads[name] = files[ref["upload"]]
        spec[name] = {"upload": name, "start": ref.get("start", 0), "stop": ref.get("stop")}
    try:  # the job's own checks, on stand-in paths
        job = job_from_dict(dict(spec, kind=kind, **{n: _stand_in(spec[n]) for n in uploads}))
    except (ValueError, TypeError) as exc:
        raise RequestError(str(exc).split("\n")[0]) from None
    _check_limits(job)
    spec["kind"] = kind
    return spec, uploads, model


def runnable_spec(spec: dict, uploads: dict[str, tuple[str, bytes]], folder: Path) -> dict:
    """The spec with each upload written into `folder` and the output set there (on a replica)."""
    spec = dict(spec)
    for name, (filename, data) in uploads.items():
        suffix = Path(filename or "").suffix.lower()
        path = folder / (name + (suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ""))
        path.write_bytes(data)
        ref = spec[name]
        spec[name] = {"path": str(path), "start": ref.get("start", 0), "stop": ref.get("stop")}
    spec["output"] = str(folder / "out.mp4")
    return spec


def _spec_of(fields: dict[str, str]) -> dict:
    if "job" not in fields:
        spec = dict(fields)
        if isinstance(spec.get("size"), str):
            spec["size"] = _size(spec["size"])
        return spec
    extra = sorted(set(fields) - {"job"})
    if extra:
        raise RequestError(f"{extra[0]}: give the job either as one `job` JSON field or as plain fields, not both")
    try:
        spec = fields["job"] if isinstance(fields["job"], dict) else json.loads(fields["job"])
    except json.JSONDecodeError as exc:
        raise RequestError(f"job: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(spec, dict):
        raise RequestError("job: must be a JSON object")
    if isinstance(spec.get("size"), str):
        spec["size"] = _size(spec["size"])
    return spec


def _size(text: str) -> list[int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", str(text))
    if not m:
        raise RequestError(f"size: expected WIDTHxHEIGHT such as 256x144, got {text!r}")
    return [int(m.group(1)), int(m.group(2))]


def _coerce(spec: dict) -> None:
    """Numbers from form text or JSON numbers; anything else is refused by name."""
    for name, cast in [(n, float) for n in FLOAT_FIELDS] + [(n, int) for n in INT_FIELDS]:
        value = spec.get(name)
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            if isinstance(value, float) and cast is int and not value.is_integer():
                raise RequestError(f"{name}: expected a whole number, got {value}")
            if value is not None:
                spec[name] = cast(value)
            continue
        try:
            spec[name] = cast(str(value).strip())
        except ValueError:
            kind = "a whole number" if cast is int else "a number"
            raise RequestError(f"{name}: expected {kind}, got {value!r}") from None
    for name in TEXT_FIELDS:
        if spec.get(name) is not None and not isinstance(spec[name], str):
            raise RequestError(f"{name}: expected text, got {spec[name]!r}")
    size = spec.get("size")
    if size is not None and (not isinstance(size, list) or len(size) != 2
                             or not all(isinstance(v, int) and not isinstance(v, bool) for v in size)):
        raise RequestError(f"size: expected [width, height] or \"WxH\", got {size!r}")


def _stand_in(ref: dict) -> MediaInput:
    try:
        return MediaInput("upload", ref.get("start", 0), ref.get("stop"))
    except TypeError:
        raise RequestError(f"start: expected whole frame numbers, got {ref.get('start')!r}-{ref.get('stop')!r}") from None


def _check_limits(job) -> None:
    if job.seconds > MAX_SECONDS:
        raise RequestError(f"seconds: at most {MAX_SECONDS:g} per request, got {job.seconds:g}")
    low, high = SIDE_RANGE
    if job.size is not None and not all(low <= v <= high for v in job.size):
        raise RequestError(f"size: width and height must be {low} to {high} pixels, got {job.size[0]}x{job.size[1]}")
    if job.steps is not None and job.steps > MAX_STEPS:
        raise RequestError(f"steps: at most {MAX_STEPS}, got {job.steps}")
