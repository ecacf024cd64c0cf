"""Wan 2.1 / 2.2: text-to-video, image-to-video (first and last frame), video-to-video and VACE.

The kind of folder decides the operations:
- T2V (WanPipeline): generate; restyle through WanVideoToVideoPipeline over the same modules.
- TI2V (WanPipeline with expand_timesteps, Wan 2.2 5B): also animate and extend, through
  WanImageToVideoPipeline, which puts the image latent in the first frame.
- I2V (WanImageToVideoPipeline, transformer takes noise + mask + image latents): animate, extend
  from the edge frame, fill from the first and last frame.
- VACE (WanVACEPipeline): everything, with known frames and a mask (black = keep, white = make).
"""
from __future__ import annotations

import numpy as np

from engine.constraints import Constraints
from engine.backends.families.common import (GRAY, Family, OpContext, call_frame_count, edge_context, first_video,
                                             padded, pil, pil_frames, solid)

BLACK, WHITE = (0, 0, 0), (255, 255, 255)
TEXT_TOKENS = 512  # WanPipeline.__call__'s default; the zero padding is attended to, so it must match


def kind_from_config(class_name: str, index: dict, transformer: dict) -> str:
    if class_name == "WanVACEPipeline" or "vace_layers" in transformer:
        return "vace"
    if transformer.get("in_channels", 16) > transformer.get("out_channels", 16):
        return "i2v"
    if index.get("expand_timesteps"):
        return "ti2v"
    return "t2v"


OPERATIONS_BY_KIND = {
    "t2v": frozenset({"generate", "restyle"}),
    "ti2v": frozenset({"generate", "animate", "extend", "restyle"}),
    "i2v": frozenset({"animate", "extend", "fill"}),
    "vace": frozenset({"generate", "animate", "extend", "fill", "restyle"}),
}


def operations_from_config(class_name: str, index: dict, configs: dict[str, dict]) -> frozenset[str]:
    transformer = configs.get("transformer") or configs.get("transformer_2") or {}
    return OPERATIONS_BY_KIND[kind_from_config(class_name, index, transformer)]


class WanFamily(Family):
    name = "Wan"
    native_rate = 16.0
    default_steps = 50
    default_guidance = 5.0

    def __init__(self, pipe, prepare=None):
        super().__init__(pipe, prepare)
        transformer = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
        self.transformer_config = dict(transformer.config)
        self.kind = kind_from_config(type(pipe).__name__, dict(pipe.config), self.transformer_config)

    def operations(self) -> frozenset[str]:
        return OPERATIONS_BY_KIND[self.kind]

    def spatial_ratio(self) -> int:
        return int(self.pipe.vae_scale_factor_spatial)

    def constraints(self) -> Constraints:
        patch = self.transformer_config["patch_size"][1]
        step = int(self.pipe.vae_scale_factor_temporal)
        return Constraints(self.name, frame_step=step, size_multiple=self.spatial_ratio() * patch, min_frames=step + 1)

    def native_size(self) -> tuple[int, int]:
        return (832, 480)

    def encode_for_preview(self, video):
        import torch

        vae = self.pipe.vae
        z = vae.encode(video.to(self.pipe._execution_device, vae.dtype)).latent_dist.mode()
        mean = torch.tensor(vae.config.latents_mean, device=z.device, dtype=z.dtype).view(1, -1, 1, 1, 1)
        std = torch.tensor(vae.config.latents_std, device=z.device, dtype=z.dtype).view(1, -1, 1, 1, 1)
        return ((z - mean) / std)[0]

    # --- pipelines --------------------------------------------------------------------------
    def _call(self, class_name: str, ctx: OpContext, total: int | None = None, **kwargs) -> np.ndarray:
        pipe = self.sibling(class_name)
        return first_video(pipe(height=ctx.height, width=ctx.width, **self.common_kwargs(ctx),
                                **self.step_kwargs(pipe, ctx, total), **kwargs), call_frame_count(kwargs))

    def _vace(self, ctx: OpContext, video: list, mask: list, **kwargs) -> np.ndarray:
        return self._call("WanVACEPipeline", ctx, video=video, mask=mask, num_frames=len(video), **kwargs)

    def _i2v(self, ctx: OpContext, image: np.ndarray, frames: int, last: np.ndarray | None = None) -> np.ndarray:
        extra = {} if last is None else {"last_image": pil(last, ctx.width, ctx.height)}
        return self._call("WanImageToVideoPipeline", ctx, image=pil(image, ctx.width, ctx.height),
                          num_frames=frames, **extra)

    # --- operations -------------------------------------------------------------------------
    def generate(self, ctx: OpContext, frames: int) -> np.ndarray:
        frames = ctx.fit_frames(frames)
        if self.kind == "vace":
            return self._call("WanVACEPipeline", ctx, num_frames=frames)
        single_stage = self.pipe.transformer is not None and self.pipe.transformer_2 is None
        if self.fast and self.kind == "t2v" and single_stage:
            return self._generate_batched(ctx, frames)
        return self._call("WanPipeline", ctx, num_frames=frames)

    def _generate_batched(self, ctx: OpContext, frames: int) -> np.ndarray:
        """WanPipeline's text-to-video with the conditional and unconditional passes in one batch
        (one transformer call per step instead of two) and nothing in the loop that waits for the
        GPU (no sigma .item(), no progress bar). Same maths: eps = u + g * (c - u)."""
        import torch

        pipe = self.sibling("WanPipeline")
        transformer, scheduler = pipe.transformer, pipe.scheduler
        device = pipe._execution_device
        cfg = ctx.guidance > 1.0

        # 1. encode the conditions: [negative, positive] so the batch splits as (uncond, cond)
        positive, negative = pipe.encode_prompt(prompt=ctx.prompt, negative_prompt=ctx.negative_prompt or "",
                                                do_classifier_free_guidance=cfg, device=device,
                                                max_sequence_length=TEXT_TOKENS)
        context = (torch.cat([negative, positive]) if cfg else positive).to(transformer.dtype)
        # 2. set the timesteps
        scheduler.set_timesteps(ctx.steps, device=device)
        scheduler.set_begin_index(0)
        timesteps = scheduler.timesteps
        # 3. prepare the latents (float32, as diffusers does)
        latents = pipe.prepare_latents(1, transformer.config.in_channels, ctx.height, ctx.width, frames,
                                       torch.float32, device, ctx.generator)
        # 4. the loop
        batch = 2 if cfg else 1
        for i, t in enumerate(timesteps):
            x = latents.to(transformer.dtype)
            x = torch.cat([x, x]) if cfg else x
            out = transformer(hidden_states=x, timestep=t.expand(batch), encoder_hidden_states=context,
                              return_dict=False)[0]
            if cfg:
                uncond, cond = out.chunk(2)
                out = uncond + ctx.guidance * (cond - uncond)
            latents = scheduler.step(out, t, latents, return_dict=False)[0]
            ctx.on_step(i, latents, len(timesteps))
        # 5. decode: undo the latent normalisation, then the VAE
        vae = pipe.vae
        z = latents.to(vae.dtype)
        mean = torch.tensor(vae.config.latents_mean, device=z.device, dtype=z.dtype).view(1, -1, 1, 1, 1)
        std = torch.tensor(vae.config.latents_std, device=z.device, dtype=z.dtype).view(1, -1, 1, 1, 1)
        video = vae.decode(z * std + mean, return_dict=False)[0]
        pipe.maybe_free_model_hooks()
        return first_video(pipe.video_processor.postprocess_video(video, output_type="np"), frames)

    def animate(self, ctx: OpContext, image: np.ndarray, frames: int) -> np.ndarray:
        frames = ctx.fit_frames(frames)
        if self.kind == "vace":
            w, h = ctx.width, ctx.height
            video = [pil(image, w, h)] + [solid(w, h, GRAY)] * (frames - 1)
            mask = [solid(w, h, BLACK)] + [solid(w, h, WHITE)] * (frames - 1)
            return self._vace(ctx, video, mask)
        return self._i2v(ctx, image, frames)

    def extend(self, ctx: OpContext, frames: np.ndarray, new: int, direction: str) -> np.ndarray:
        w, h = ctx.width, ctx.height
        if self.kind == "vace":
            known = edge_context(frames, direction, self.constraints().frame_step)
            total = ctx.fit_frames(len(known) + new, "context + new frames")
            made = total - len(known)
            known_pil, gray = pil_frames(known, w, h), [solid(w, h, GRAY)] * made
            keep, make = [solid(w, h, BLACK)] * len(known), [solid(w, h, WHITE)] * made
            if direction == "tail":
                return self._vace(ctx, known_pil + gray, keep + make)[len(known):]
            return self._vace(ctx, gray + known_pil, make + keep)[:made]
        # I2V only: animate away from the edge frame. For the head the result is played backwards,
        # so it arrives at the clip's first frame.
        total = ctx.fit_frames(new + 1, "edge frame + new frames")
        edge = frames[-1] if direction == "tail" else frames[0]
        video = self._i2v(ctx, edge, total)
        if direction == "tail":
            return video[1:]
        ctx.notes.append("head extension made by image-to-video from the first frame, time-reversed")
        return video[::-1][:-1]

    def fill(self, ctx: OpContext, before: np.ndarray, after: np.ndarray, new: int) -> np.ndarray:
        total = ctx.fit_frames(new + 2, "first + new + last frames")
        w, h = ctx.width, ctx.height
        if self.kind == "vace":
            video = [pil(before[-1], w, h)] + [solid(w, h, GRAY)] * (total - 2) + [pil(after[0], w, h)]
            mask = [solid(w, h, BLACK)] + [solid(w, h, WHITE)] * (total - 2) + [solid(w, h, BLACK)]
            return self._vace(ctx, video, mask)[1:-1]
        return self._i2v(ctx, before[-1], total, last=after[0])[1:-1]

    def restyle(self, ctx: OpContext, frames: np.ndarray, strength: float, structure_weight: float) -> np.ndarray:
        count = len(frames)
        video = pil_frames(padded(frames, self.constraints().ceil_frames(count)), ctx.width, ctx.height)
        if self.kind == "vace":
            # The source frames are VACE's control video (all to be made): the layout follows them
            # with conditioning_scale = structure_weight; VACE has no SDEdit strength.
            ctx.notes.append("restyle through VACE: structure_weight is the conditioning scale, strength unused")
            return self._vace(ctx, video, None, conditioning_scale=structure_weight)[:count]
        total = min(int(ctx.steps * strength), ctx.steps)
        return self._call("WanVideoToVideoPipeline", ctx, total, video=video, strength=strength)[:count]


FAMILY = WanFamily
