"""python -m engine.train --preset previz [--device cuda|cpu] [--steps N] [--resume DIR] [--out DIR]

Also: --export-from CHECKPOINT --out DIR [--decoder-from CHECKPOINT] writes a shipping model folder
(fp16 weights) with its preview projection refitted on the model's own samples.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from engine.train.train import PRESETS

    parser = argparse.ArgumentParser(prog="python -m engine.train", description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="previz", choices=sorted(PRESETS))
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto (default cpu)")
    parser.add_argument("--steps", type=int, default=None, help="denoiser steps in total (default: the preset's)")
    parser.add_argument("--seed", type=int, default=0, help="training seed (below 1000000; the rest is held out)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--resume", type=Path, default=None, help="continue the run in this folder")
    parser.add_argument("--out", type=Path, default=None, help="run folder (default runs/<preset>)")
    parser.add_argument("--export-from", type=Path, default=None,
                        help="convert this checkpoint folder into a shipping model folder at --out")
    parser.add_argument("--decoder-from", type=Path, default=None,
                        help="with --export-from: take the (refined) decoder from this checkpoint")
    args = parser.parse_args(argv)

    from engine.train.train import export, run

    try:
        if args.export_from is not None:
            if args.out is None:
                parser.error("--export-from needs --out")
            folder = export(args.export_from, args.out, decoder_from=args.decoder_from)
            print(f"exported {args.export_from} -> {folder}")
            return 0
        best = run(args.preset, args.out or Path("runs") / args.preset, device=args.device, steps=args.steps,
                   seed=args.seed, resume=args.resume, threads=args.threads)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"best model: {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
