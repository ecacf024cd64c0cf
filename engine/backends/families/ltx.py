"""LTX-Video: text-to-video, and the condition pipeline that pins images or videos at frame positions.

One folder (LTXPipeline, LTXImageToVideoPipeline or LTXConditionPipeline: the same modules) does
every operation: generate through LTXPipeline; animate, extend and fill through
LTXConditionPipeline with conditions (the edge frames of a clip as a video condition at frame 0 for
a tail extension, an image pinned to the last frame for a head extension or the end of a fill);
restyle as SDEdit: the source's latents noised to `strength` (denoise_strength).
"""
from __future__ import annotations

import numpy as np

from engine.constraints import Constraints
from engine.backends.families.common import Family, OpContext, edge_context, first_video, padded, pil, pil_frames

ALL = frozenset({"generate", "animate", "extend", "fill", "restyle"})


def operations_from_config(class_name: str, index: dict, configs: dict[str, dict]) -> frozenset[str]:
    return ALL


class LTXFamily(Family):
    name = "LTX-Video"
    native_rate = 24.0
    default_steps = 50
    default_guidance = 3.0

    def operations(self) -> frozenset[str]:
        return ALL

    def spatial_ratio(self) -> int:
        return int(self.pipe.vae_spatial_compression_ratio)

    def constraints(self) -> Constraints:
        patch = int(self.pipe.transformer_spatial_patch_size)
        step = int(self.pipe.vae_temporal_compression_ratio)
        # LTX's pipelines insist on multiples of 32 whatever the autoencoder's factor.
        return Constraints(self.name, frame_step=step, size_multiple=max(32, self.spatial_ratio() * patch),
                           min_frames=step + 1)

    def native_size(self) -> tuple[int, int]:
        return (704, 480)

    def _normalised(self, video):
        """[1, 3, F, H, W] in [-1, 1] -> the loop's normalised latents [1, C, f, h, w]."""
        vae = self.pipe.vae
        z = vae.encode(video.to(self.pipe._execution_device, vae.dtype)).latent_dist.mode()
        return self.pipe._normalize_latents(z, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)

    def encode_for_preview(self, video):
        return self._normalised(video)[0]

    def latents_cfhw(self, latents, ctx: OpContext):
        p, pt = self.pipe.transformer_spatial_patch_size, self.pipe.transformer_temporal_patch_size
        f = (ctx.call_frames - 1) // self.pipe.vae_temporal_compression_ratio + 1
        h, w = ctx.height // self.spatial_ratio(), ctx.width // self.spatial_ratio()
        tokens = (f // pt) * (h // p) * (w // p)
        # The condition pipeline puts the extra conditioning tokens first; the video is the tail.
        return self.pipe._unpack_latents(latents[:, -tokens:], f // pt, h // p, w // p, p, pt)[0]

    def _call(self, class_name: str, ctx: OpContext, frames: int, total: int | None = None, **kwargs) -> np.ndarray:
        pipe = self.sibling(class_name)
        ctx.call_frames = frames
        return first_video(pipe(height=ctx.height, width=ctx.width, num_frames=frames,
                                frame_rate=int(round(self.native_rate)), **self.common_kwargs(ctx),
                                **self.step_kwargs(pipe, ctx, total), **kwargs), frames)

    def _conditioned(self, ctx: OpContext, frames: int, conditions: list) -> np.ndarray:
        return self._call("LTXConditionPipeline", ctx, frames, conditions=conditions)

    def _image_at(self, ctx: OpContext, image: np.ndarray, index: int):
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        return LTXVideoCondition(image=pil(image, ctx.width, ctx.height), frame_index=index)

    def generate(self, ctx: OpContext, frames: int) -> np.ndarray:
        return self._call("LTXPipeline", ctx, ctx.fit_frames(frames))

    def animate(self, ctx: OpContext, image: np.ndarray, frames: int) -> np.ndarray:
        frames = ctx.fit_frames(frames)
        return self._conditioned(ctx, frames, [self._image_at(ctx, image, 0)])

    def extend(self, ctx: OpContext, frames: np.ndarray, new: int, direction: str) -> np.ndarray:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        if direction == "tail":
            known = edge_context(frames, "tail", self.constraints().frame_step)
            total = ctx.fit_frames(len(known) + new, "context + new frames")
            video = LTXVideoCondition(video=pil_frames(known, ctx.width, ctx.height), frame_index=0)
            return self._conditioned(ctx, total, [video])[len(known):]
        total = ctx.fit_frames(new + 1, "new frames + first frame")
        return self._conditioned(ctx, total, [self._image_at(ctx, frames[0], total - 1)])[:-1]

    def fill(self, ctx: OpContext, before: np.ndarray, after: np.ndarray, new: int) -> np.ndarray:
        total = ctx.fit_frames(new + 2, "first + new + last frames")
        conditions = [self._image_at(ctx, before[-1], 0), self._image_at(ctx, after[0], total - 1)]
        return self._conditioned(ctx, total, conditions)[1:-1]

    def restyle(self, ctx: OpContext, frames: np.ndarray, strength: float, structure_weight: float) -> np.ndarray:
        import torch

        count = len(frames)
        total = self.constraints().ceil_frames(count)
        pipe = self.sibling("LTXConditionPipeline")
        video = pipe.video_processor.preprocess_video(pil_frames(padded(frames, total), ctx.width, ctx.height),
                                                      ctx.height, ctx.width)
        latents = self._normalised(video).to(torch.float32)
        ctx.notes.append("restyle through LTX SDEdit: strength is the denoise strength, structure_weight unused")
        steps_run = max(1, int(ctx.steps * strength))
        return self._call("LTXConditionPipeline", ctx, total, steps_run, latents=latents,
                          denoise_strength=strength)[:count]


FAMILY = LTXFamily
