"""python -m engine.train --preset previz [--device cuda|cpu] [--steps N] [--resume DIR] [--out DIR] [--set NAME=N]

--init-from MODEL_DIR starts a new run from a shipped model folder (its autoencoder and denoiser),
as when runs/ is gone.
Also: --export-from CHECKPOINT --out DIR writes a shipping model folder (fp16 weights, the
denoiser's weight average) with its preview projection refitted on the model's own samples.
--camera-head-from RUN --out DIR gives the model folder DIR a camera head and a zoom head, and refits
its subject head if it has one, fitted on the camera moves and subject speeds of RUN's pool (a run with
camera_frame), on its captions and fresh paraphrases, keeping the rest of its weights.
--decoder-from RUN --out DIR refines the decoder of the model folder DIR on RUN's clips (stage 2b:
latents with noise added), keeping its code and the rest of its weights.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _overrides(parser: argparse.ArgumentParser, items: list[str]) -> dict[str, int]:
    overrides = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            overrides[name.strip()] = int(value)
        except ValueError:
            parser.error(f"--set {item}: expected NAME=N with a whole number N")
    return overrides


def main(argv: list[str] | None = None) -> int:
    from engine.train.train import PRESETS

    parser = argparse.ArgumentParser(prog="python -m engine.train", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="previz", choices=sorted(PRESETS))
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    parser.add_argument("--steps", type=int, default=None, help="denoiser steps in total (default: the preset's)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=N",
                        help="the run's batch, pool_pairs, eval_every, eval_prompts or checkpoint_every from here on "
                             "(default: the run's, else the preset's)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (below 1000000; the rest is held out)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--resume", type=Path, default=None, help="continue the run in this folder")
    parser.add_argument("--out", type=Path, default=None, help="run folder (default runs/<preset>)")
    parser.add_argument("--init-from", type=Path, default=None,
                        help="start a new run from this model folder (its autoencoder and denoiser)")
    parser.add_argument("--export-from", type=Path, default=None,
                        help="convert this checkpoint folder into a shipping model folder at --out")
    parser.add_argument("--camera-head-from", type=Path, default=None,
                        help="fit the camera, zoom (and subject) heads on this run's pool into the model folder "
                             "at --out")
    parser.add_argument("--decoder-from", type=Path, default=None,
                        help="refine the decoder of the model folder at --out on this run's clips")
    args = parser.parse_args(argv)

    from engine.device import set_threads
    from engine.train.train import add_camera_head, export, refit_folder_decoder, run

    try:
        set_threads(args.threads)
        if args.decoder_from is not None:
            if args.out is None or args.export_from is not None:
                parser.error("--decoder-from needs --out (a model folder) and no --export-from")
            ceiling = refit_folder_decoder(args.out, args.decoder_from)
            print(f"decoder refined on {args.decoder_from} -> {args.out} (ceiling "
                  + ", ".join(f"{k} {v:.3f}" for k, v in ceiling.items()) + ")")
            return 0
        if args.camera_head_from is not None:
            if args.out is None or args.export_from is not None:
                parser.error("--camera-head-from needs --out (a model folder) and no --export-from")
            fits = add_camera_head(args.out, args.camera_head_from)
            print(f"{', '.join(fits)} heads from {args.camera_head_from} -> {args.out} (squared errors "
                  + ", ".join(f"{v:.6f}" for v in fits.values()) + ")")
            return 0
        if args.export_from is not None:
            if args.out is None:
                parser.error("--export-from needs --out")
            folder = export(args.export_from, args.out)
            print(f"exported {args.export_from} -> {folder}")
            return 0
        best = run(args.preset, args.out or Path("runs") / args.preset, device=args.device, steps=args.steps,
                   seed=args.seed, resume=args.resume, threads=args.threads, init_from=args.init_from,
                   overrides=_overrides(parser, args.set))
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"best model: {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
