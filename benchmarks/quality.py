"""Quality of a previz model on held-out world seeds, scored from pixels only.

Figures: the autoencoder's ceiling (held-out world clips encoded and decoded, scored with the
same metrics, with frame and subject PSNR; as they are, and in the camera frame the pipeline
encodes a given clip in, engine/train/ceiling.py); accuracy per attribute (sky colour vs time of day,
global motion vs camera move, subject hue vs colour, subject path vs direction) for the fixed
wording and for free phrasing (engine/train/eval_prompts.py), each printed as a ratio against
its peer, the same metric on the world's own renderings of the same scenes. Also flicker, long
shots made window by window (biggest frame-to-frame jump over the median one), and the other
operations: extend (seam / typical frame change, the biggest change at the seam or among the new
frames within a second of it over the same, motion continues, the subject moves on as before the
seam), fill (both seams, likewise, and the world's own frames of the gap scored so as the peer),
restyle (edge correlation with the input, requested look met), animate (first frame PSNR against
the still, requested move shown). A seam passes when it is at most 1.5x the median frame-to-frame
change around it.

    python benchmarks/quality.py                                 # shipped model, 12 prompts and clips
    python benchmarks/quality.py --count 4 --ops 2 --steps 4     # quick
    python benchmarks/quality.py --sample 1                      # the same checks on other held-out seeds
    python benchmarks/quality.py --model runs/previz/best --json out.json
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.train import evaluate as ev  # noqa: E402
from engine.train.captions import prompt  # noqa: E402
from engine.train.ceiling import autoencoder_ceiling, psnr  # noqa: E402
from engine.train.eval_prompts import free_prompt  # noqa: E402
from engine.train.world import EVAL_SEED_START, render, restyled, sample_scene  # noqa: E402
from engine.requests import AnimateRequest, ExtendRequest, FillRequest, GenerateRequest, RestyleRequest

ATTRIBUTES = ("time_of_day", "camera", "color", "motion")


def held_out_scenes(count: int, offset: int = 0) -> list:
    """Held-out scenes with a subject, from seeds EVAL_SEED_START + offset onward."""
    return [sample_scene(EVAL_SEED_START + offset + i, subject_probability=1.0) for i in range(count)]


def attribute_check(pipe, scenes, steps, free: bool = False) -> dict:
    hits = {k: [] for k in ATTRIBUTES}
    world_hits = {k: [] for k in ATTRIBUTES}
    flicker, world_flicker, rows = [], [], []
    size = pipe.native_size
    frames = round(pipe.config.frames)
    for i, scene in enumerate(scenes):
        text = free_prompt(scene, i) if free else prompt(scene)
        request = GenerateRequest(prompt=text, seconds=frames / pipe.native_rate, seed=i, steps=steps)
        clip = pipe.generate(request).frames
        truth = render(scene, size[0], size[1], frames)
        guess, world = ev.classify_clip(clip), ev.classify_clip(truth)
        for k in ATTRIBUTES:
            hits[k].append(guess[k] == getattr(scene, k))
            world_hits[k].append(world[k] == getattr(scene, k))
        flicker.append(ev.flicker(clip))
        world_flicker.append(ev.flicker(truth))
        rows.append({"prompt": text, "guess": guess})
    out = {k: float(np.mean(v)) for k, v in hits.items()}
    out["world"] = {k: float(np.mean(v)) for k, v in world_hits.items()}
    out["flicker"] = float(np.mean(flicker))
    out["world_flicker"] = float(np.mean(world_flicker))
    out["clips"] = rows
    return out


def long_shot_check(pipe, scenes, steps, seconds: float = 8.0) -> dict:
    """Shots longer than one window: the biggest frame-to-frame change over the median one."""
    ratios = []
    for i, scene in enumerate(scenes):
        clip = pipe.generate(GenerateRequest(prompt=prompt(scene), seconds=seconds, seed=i, steps=steps)).frames
        changes = ev.frame_changes(clip)
        ratios.append(float(changes.max() / max(np.median(changes), 0.5)))
    return {"seconds": seconds, "max_jump_over_median": float(np.median(ratios))}


def animate_check(pipe, scenes, steps) -> dict:
    first, moved = [], []
    w, h = pipe.native_size
    for i, scene in enumerate(scenes):
        still = render(scene, w, h, 1)[0]
        seconds = pipe.config.frames / pipe.native_rate
        request = AnimateRequest(image=still, prompt=prompt(scene), seconds=seconds, seed=i, steps=steps)
        clip = pipe.animate(request).frames
        first.append(psnr(clip[0], still))
        moved.append(ev.classify_camera(clip) == scene.camera and ev.classify_motion(clip) == scene.motion)
    return {"first_frame_psnr": float(np.mean(first)), "move_shown": float(np.mean(moved))}


def extend_check(pipe, scenes, steps) -> dict:
    ratios, regions, continues, subject = [], [], [], []
    w, h = pipe.native_size
    reach = round(pipe.native_rate)
    for i, scene in enumerate(scenes):
        clip = render(scene, w, h, pipe.config.frames)
        camera = ev.classify_camera(clip)
        for direction in ("tail", "head"):
            request = ExtendRequest(frames=clip, seconds=2.0, direction=direction, prompt=prompt(scene), seed=i,
                                    steps=steps, rate=pipe.native_rate)
            new = pipe.extend(request).frames
            pair = (clip, new) if direction == "tail" else (new, clip)
            ratios.append(ev.seam_ratio(*pair))
            regions.append(ev.seam_region_ratio(*pair, reach, "after" if direction == "tail" else "before"))
            continues.append(ev.classify_camera(new) == camera)
            subject.append(ev.subject_continues(*pair, reach) if scene.has_subject else None)
    return {"seam_ratio_median": float(np.median(ratios)),
            "seam_pass": float(np.mean(np.array(ratios) <= ev.SEAM_PASS)),
            "motion_continues": float(np.mean(continues)), **_region_figures(regions), **_subject_figure(subject)}


def fill_check(pipe, scenes, steps) -> dict:
    passes, ratios, regions, subject, world = [], [], [], [], []
    w, h = pipe.native_size
    reach = round(pipe.native_rate)
    for i, scene in enumerate(scenes):
        clip = render(scene, w, h, 2 * pipe.config.frames)  # a 4 s shot; its middle second is the gap
        cut = clip.shape[0] * 3 // 8
        before, after = clip[:cut], clip[-cut:]
        gap = (clip.shape[0] - before.shape[0] - after.shape[0]) / pipe.native_rate
        request = FillRequest(before_frames=before, after_frames=after, seconds=gap, prompt=prompt(scene), seed=i,
                              steps=steps, rate=pipe.native_rate)
        new = pipe.fill(request).frames
        a, b = ev.seam_ratio(before, new), ev.seam_ratio(new, after)
        ratios += [a, b]
        regions += [ev.seam_region_ratio(before, new, reach, "after"),
                    ev.seam_region_ratio(new, after, reach, "before")]
        passes.append(a <= ev.SEAM_PASS and b <= ev.SEAM_PASS)
        # the peer: the world's own frames of the gap, scored the same way
        world += [ev.seam_region_ratio(before, clip[cut:-cut], reach, "after"),
                  ev.seam_region_ratio(clip[cut:-cut], after, reach, "before")]
        if scene.has_subject:
            subject += [ev.subject_continues(before, new, reach), ev.subject_continues(new, after, reach)]
    return {"seam_ratio_median": float(np.median(ratios)), "both_seams_pass": float(np.mean(passes)),
            **_region_figures(regions), "world_seam_region_pass": float(np.mean(np.array(world) <= ev.SEAM_PASS)),
            **_subject_figure(subject)}


def _subject_figure(checks: list) -> dict:
    """The share of seams of clips with a subject across which it moves on as it moved up to them."""
    known = [c for c in checks if c is not None]
    return {"subject_continues": float(np.mean(known)) if known else float("nan")}


def _region_figures(regions: list[float]) -> dict:
    """The biggest jump within a second of each seam, over the typical change: median and passing share."""
    return {"seam_region_median": float(np.median(regions)),
            "seam_region_pass": float(np.mean(np.array(regions) <= ev.SEAM_PASS))}


def restyle_check(pipe, scenes, steps) -> dict:
    corr, look, world_corr = [], [], []
    w, h = pipe.native_size
    for i, scene in enumerate(scenes):
        target = restyled(scene, i)
        clip = render(scene, w, h, pipe.config.frames)
        request = RestyleRequest(frames=clip, prompt=prompt(target), strength=0.7, seed=i, steps=steps,
                                 rate=pipe.native_rate)
        new = pipe.restyle(request).frames
        corr.append(ev.edge_correlation(clip, new))
        world_corr.append(ev.edge_correlation(clip, render(target, w, h, pipe.config.frames)))
        look.append(ev.classify_time_of_day(new) == target.time_of_day and ev.classify_color(new) == target.color)
    return {"edge_correlation": float(np.mean(corr)), "world_edge_correlation": float(np.mean(world_corr)),
            "look_met": float(np.mean(look))}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the shipped previz-v1)")
    parser.add_argument("--count", type=int, default=12, help="held-out prompts for the attribute check")
    # 12 as for the prompts: over 3 clips a share moves in thirds, and no share can show the bar's 90%.
    parser.add_argument("--ops", type=int, default=12,
                        help="held-out clips per long-shot/animate/extend/fill/restyle check (0: skip)")
    # Another sample of the same checks: figures tuned on one sample of 12 can miss on the next (session
    # 31: restyle edges 0.61 on sample 0, 0.57 on 12 more clips).
    parser.add_argument("--sample", type=int, default=0,
                        help="held-out sample: every check's seeds move on by 1,000 per sample (the ceiling's stay)")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps (default: the model's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    if args.count < 1 or args.ops < 0 or args.sample < 0:
        parser.error("--count must be >= 1, --ops and --sample >= 0")
    base = 1000 * args.sample

    from engine.backends.embedded import embedded_model_dir
    from engine.pipeline import LatentCutPipeline

    folder = Path(args.model) if args.model else embedded_model_dir()
    pipe = LatentCutPipeline.from_pretrained(folder, device=args.device, threads=args.threads)
    t0 = time.time()
    report = {"model": str(folder), "sha256": pipe.sha256, "steps": args.steps or pipe.config.default_steps,
              "count": args.count, "first_seed": EVAL_SEED_START + base}
    from engine.model.loading import load_model

    model = load_model(folder)
    report["ceiling"] = autoencoder_ceiling(model, args.count)
    report["ceiling_camera_frame"] = autoencoder_ceiling(model, args.count, camera_frame=True)
    del model
    report["attributes"] = attribute_check(pipe, held_out_scenes(args.count, offset=base), args.steps)
    report["free"] = attribute_check(pipe, held_out_scenes(args.count, offset=base + 200), args.steps, free=True)
    if args.ops:
        report["long_shot"] = long_shot_check(pipe, held_out_scenes(args.ops, offset=base + 300), args.steps)
        report["animate"] = animate_check(pipe, held_out_scenes(args.ops, offset=base + 400), args.steps)
        ops_scenes = held_out_scenes(args.ops, offset=base + 500)
        report["extend"] = extend_check(pipe, ops_scenes, args.steps)
        report["fill"] = fill_check(pipe, ops_scenes, args.steps)
        report["restyle"] = restyle_check(pipe, ops_scenes, args.steps)
    report["wall_s"] = round(time.time() - t0, 1)

    attrs, free, ceiling = report["attributes"], report["free"], report["ceiling"]
    print(f"model {folder} ({pipe.sha256[:12]}), {args.count} held-out prompts per set, steps {report['steps']}")
    for name, c in (("autoencoder ceiling", ceiling), ("  in the camera frame", report["ceiling_camera_frame"])):
        print(f"{name}: " + ", ".join(f"{k} {c[k]:.2f}" for k in ATTRIBUTES)
              + f"; PSNR {c['psnr']:.1f} dB, subject {c['subject_psnr']:.1f} dB, "
              f"subject saturation kept {c['subject_saturation_kept']:.2f}, biggest change / world median "
              f"{c['biggest_change']:.2f} (within {ev.SEAM_PASS}x: {c['biggest_change_pass']:.2f})")
    print(f"{'attribute':<14}{'fixed':>8}{'free':>8}{'world':>8}{'ratio':>8}")
    for k in ATTRIBUTES:
        peer = attrs["world"][k]
        print(f"{k:<14}{attrs[k]:>8.2f}{free[k]:>8.2f}{peer:>8.2f}"
              f"{free[k] / peer if peer else float('nan'):>8.2f}")
    # the world column is the fixed prompts' scenes, so the ratio is fixed over world
    print(f"{'flicker':<14}{attrs['flicker']:>8.2f}{free['flicker']:>8.2f}{attrs['world_flicker']:>8.2f}"
          f"{attrs['flicker'] / max(attrs['world_flicker'], 1e-6):>8.2f}   (mean |2nd diff| of mean luma)")
    if args.ops:
        e, f, r = report["extend"], report["fill"], report["restyle"]
        ls, an = report["long_shot"], report["animate"]
        print(f"long shot {ls['seconds']:.0f} s: biggest frame change / median {ls['max_jump_over_median']:.2f}")
        print(f"animate  first frame PSNR {an['first_frame_psnr']:.1f} dB, move shown {an['move_shown']:.2f}")
        print(f"extend   seam/typical median {e['seam_ratio_median']:.2f}, seams passing {e['seam_pass']:.2f}, "
              f"motion continues {e['motion_continues']:.2f}; biggest jump within 1 s of new frames / typical median "
              f"{e['seam_region_median']:.2f}, passing {e['seam_region_pass']:.2f}; "
              f"subject moves on {e['subject_continues']:.2f}")
        print(f"fill     seam/typical median {f['seam_ratio_median']:.2f}, "
              f"both seams passing {f['both_seams_pass']:.2f}; "
              f"biggest jump within 1 s of new frames / typical median {f['seam_region_median']:.2f}, "
              f"passing {f['seam_region_pass']:.2f} (the world's own {f['world_seam_region_pass']:.2f}); "
              f"subject moves on {f['subject_continues']:.2f}")
        print(f"restyle  edge correlation {r['edge_correlation']:.2f} (world pair {r['world_edge_correlation']:.2f}, "
              f"ratio {r['edge_correlation'] / max(r['world_edge_correlation'], 1e-6):.2f}), "
              f"look met {r['look_met']:.2f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
