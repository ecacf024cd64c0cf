"""Writing a model result to a media file whose container says it is AI-generated, and
signing what the engine writes: the one place where Content Credentials are added.

The provenance dict goes into the container twice over: a plain "AI-generated" label in
`comment` (what any player shows) and the whole dict as JSON under the `latentcut` key (what
LatentCut and scripts read back). A signed C2PA manifest then says the same in a form that
cannot be changed unnoticed. The same dict, with the manifest's identifier and state, is
returned in the `done` result so the timeline can store it on the take. Renders are signed
here too (`sign_render`), with a composite manifest listing the generated takes they show.
"""
from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from engine.credentials import SigningSettings
from engine.jobs import ModelJob
from timeline.provenance import APP_KEY, latentcut_metadata, now_iso

AI_LABEL = "AI-generated"


def build_provenance(job: ModelJob, metadata: dict[str, Any], frames: np.ndarray, rate: float,
                     backend_name: str, backend_sha256: str, engine_version: str) -> dict[str, Any]:
    """The provenance of one result: the job's recipe, overridden by what the backend
    actually used (it resolves default steps, guidance, seed)."""
    def pick(key, default):
        value = metadata.get(key)
        return default if value is None else value

    model = metadata.get("model") or {}
    created = now_iso()
    return latentcut_metadata(
        job.op,
        prompt=pick("prompt", job.prompt),
        negative_prompt=pick("negative_prompt", job.negative_prompt),
        seed=pick("seed", job.seed),
        steps=pick("steps", job.steps),
        guidance=pick("guidance", job.guidance),
        strength=pick("strength", getattr(job, "strength", None)),
        model={"name": model.get("name") or backend_name, "sha256": model.get("sha256") or backend_sha256},
        source=[dict(vars(inp)) for inp in job.inputs()],
        engine_version=engine_version,
        created=created,
        # The take's source timecode: the time of day it was made, as a camera stamps its clips,
        # so an EDL can tell takes apart and relink each to its file.
        timecode=created[11:19] + ":00",
        status="done",
        label=AI_LABEL,
        frames=int(frames.shape[0]),
        rate=float(rate),
        width=int(frames.shape[2]),
        height=int(frames.shape[1]),
        job=job.to_dict(),
    )


def container_metadata(provenance: dict[str, Any]) -> dict[str, str]:
    """Container tags: title, a human `comment` with the AI label, and the full JSON."""
    model = provenance["model"]
    prompt = provenance.get("prompt") or ""
    return {
        "title": f"{provenance['op']}: {prompt}" if prompt else provenance["op"],
        "comment": (f"{AI_LABEL} by LatentCut {provenance['engine_version']} ({provenance['op']}, "
                    f"model {model['name']}, seed {provenance['seed']})"),
        APP_KEY: json.dumps(provenance, sort_keys=True),
    }


def output_path_for(job: ModelJob, seed: int) -> Path:
    """The file to write: `job.output` itself when it names a video file, else a new unique
    name in that folder (never overwriting an earlier take)."""
    out = Path(job.output)
    if job.output_is_file:
        out.parent.mkdir(parents=True, exist_ok=True)
        return out
    out.mkdir(parents=True, exist_ok=True)
    words = re.findall(r"[a-z0-9]+", (job.prompt or "").lower())[:5]
    stem = "_".join([job.op, *words, f"s{seed}"])
    candidate = out / f"{stem}.mp4"
    n = 2
    while candidate.exists():
        candidate = out / f"{stem}_{n}.mp4"
        n += 1
    return candidate


def write_result(frames: np.ndarray, rate: float, provenance: dict[str, Any], path: Path,
                 cancel: threading.Event | None = None, signing: SigningSettings | None = None) -> dict[str, Any]:
    """Encodes `frames` [T,H,W,3] uint8 to `path` with provenance tags and, unless `signing`
    is off, a signed C2PA manifest; returns the `done` result. A cancel during encoding raises
    Cancelled and leaves no file; a signing failure raises SigningError and leaves no file."""
    from engine.credentials.embed import sign_file
    from engine.credentials.manifests import generated_manifest
    from engine.media.writer import write_video

    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or frames.shape[0] == 0:
        raise ValueError(f"frames: expected a non-empty uint8 [T,H,W,3] array, got {frames.dtype} {frames.shape}")
    signing = signing or SigningSettings.resolve()
    path = Path(path)
    written = write_video(unsigned_target(path, signing), frames, rate, metadata=container_metadata(provenance),
                          cancel=cancel, timecode=provenance.get("timecode"))
    if signing.enabled:
        provenance = {**provenance, "credentials": sign_file(written, path, *generated_manifest(provenance, path.name),
                                                             signing)}
        written = path
    return {
        "path": str(Path(written).absolute()),  # resolves whatever folder the caller moves to
        "frames": int(frames.shape[0]),
        "rate": float(rate),
        "width": int(frames.shape[2]),
        "height": int(frames.shape[1]),
        "provenance": provenance,
    }


def sign_render(unsigned: Path, final: Path, segments: list[dict[str, Any]], signing: SigningSettings,
                engine_version: str) -> dict[str, Any]:
    """Signs a rendered cut (rendered to `unsigned`) into `final` with a composite manifest
    listing each generated take in `segments`; returns the credentials record."""
    from engine.credentials.embed import sign_file
    from engine.credentials.manifests import render_manifest

    return sign_file(Path(unsigned), Path(final), *render_manifest(segments, Path(final).name, engine_version),
                     signing)


def check_signing(job: ModelJob, signing: SigningSettings) -> None:
    """Fails before any frame is made when the job's output could not be signed, and starts
    preparing the signer in the background, so that it is ready when the frames are."""
    if signing.enabled:
        from engine.credentials.embed import check_can_sign

        check_can_sign(signing, job.output if job.output_is_file else "take.mp4")


def unsigned_target(path: str | os.PathLike, signing: SigningSettings) -> Path:
    """Where a writer puts a file before signing: a hidden name beside `path` (which is only
    ever written whole and signed), or `path` itself when signing is off. Checks first that
    `path` can be signed, so a bad key or format fails before any work, and starts preparing
    the signer in the background."""
    from engine.credentials.embed import check_can_sign

    if not signing.enabled:
        return Path(path)
    check_can_sign(signing, path)
    return _unsigned_name(Path(path))


def _unsigned_name(path: Path) -> Path:
    return path.with_name(f".{path.stem}.unsigned-{os.getpid()}-{threading.get_ident():x}{path.suffix}")
