"""The model commands (generate, animate, extend, fill, restyle) and `latentcut models`, the
list of model folders and what each can do."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from desktop.cli_credentials import signing_from_args
from desktop.cli_errors import PROG, Failure, UsageError
from desktop.cli_jobs import report, run_jobs
from desktop.cli_project import check_new_file, check_video_output
from engine.jobs import AnimateJob, ExtendJob, FillJob, GenerateJob, MediaInput, ModelJob, RestyleJob


def common_fields(args, **extra) -> dict:
    if args.model is not None and not args.engine and not Path(args.model).is_dir():
        raise Failure(f"--model: {args.model} is not a model folder (it does not exist)")
    fields = dict(negative_prompt=args.negative_prompt, seed=args.seed, steps=args.steps, guidance=args.guidance,
                  size=args.size, rate=args.rate, model=args.model, device=args.device)
    if getattr(args, "output", None) is not None and "output" not in extra:
        check_video_output(args.output)
        check_new_file(args.output, args.force)
        fields["output"] = args.output
    if hasattr(args, "seconds"):
        fields["seconds"] = args.seconds
    fields.update(extra)
    return fields


def _input(path: str, frames: tuple[int, int] | None = None, frame: int | None = None) -> MediaInput:
    if not Path(path).is_file():
        raise Failure(f"{path}: file not found")
    if frame is not None:
        if frame < 0:
            raise UsageError(f"--frame: must be 0 or more, got {frame}")
        return MediaInput(path, frame, frame + 1)
    return MediaInput(path, *frames) if frames else MediaInput(path)


def cmd_generate(args) -> int:
    return run_model(args, GenerateJob(prompt=args.prompt, **common_fields(args)))


def cmd_animate(args) -> int:
    return run_model(args, AnimateJob(prompt=args.prompt, image=_input(args.image, frame=args.frame),
                                       **common_fields(args)))


def cmd_extend(args) -> int:
    return run_model(args, ExtendJob(prompt=args.prompt, source=_input(args.input, args.frames),
                                      direction="head" if args.head else "tail", **common_fields(args)))


def cmd_fill(args) -> int:
    return run_model(args, FillJob(prompt=args.prompt, before=_input(args.a), after=_input(args.b),
                                    **common_fields(args)))


def cmd_restyle(args) -> int:
    return run_model(args, RestyleJob(prompt=args.prompt, source=_input(args.input, args.frames),
                                       strength=args.strength, structure_weight=args.structure_weight,
                                       **common_fields(args)))


def checked(job: ModelJob, what: str = "") -> ModelJob:
    """The job after the checks made before any model loads; their warnings go to stderr."""
    from engine.preflight import check_job

    job, notes = check_job(job, what)
    for note in notes:
        print(f"{PROG}: warning: {note}", file=sys.stderr)
    return job


def run_model(args, job: ModelJob) -> int:
    result = run_jobs([checked(job)], label=job.op, threads=args.threads, signing=signing_from_args(args),
                      engine=args.engine, token=args.token)[0]
    prov = result["provenance"]
    report(result, args.json, f"wrote {result['path']} ({result['frames']} frames, {result['width']}x"
                               f"{result['height']} at {result['rate']:g} fps, seed {prov['seed']}, "
                               f"model {prov['model']['name']})")
    return 0





def cmd_models(args) -> int:
    from engine.backends.registry import describe, known_model_folders

    folders = [Path(d) for d in args.dirs] if args.dirs else known_model_folders()
    rows = []
    for folder in folders:
        if not folder.is_dir():
            raise Failure(f"{folder}: not a folder")
        rows.append(describe(folder))
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 1 if any(row.get("error") for row in rows) else 0
    if not rows:
        print("no model folders known; name one (latentcut models DIR) or list folders in $LATENTCUT_MODELS")
    for row in rows:
        kind = f"{row['family']} ({row['pipeline']})" if row.get("family") else "unknown kind"
        print(f"{row['name']}  {kind}\n    {row['path']}")
        if row.get("error"):
            print(f"    cannot run: {row['error']}")
        else:
            print(f"    can: {', '.join(row['operations'])}")
    return 1 if any(row.get("error") for row in rows) else 0
