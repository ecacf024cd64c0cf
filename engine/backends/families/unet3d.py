"""UNet3D text-to-video (ModelScope, Zeroscope): generate, and restyle through VideoToVideoSDPipeline.

These older pipelines report steps through the legacy `callback(step, timestep, latents)`, and
their autoencoder is a 2D image VAE applied frame by frame, so any frame count is fine.
"""
from __future__ import annotations

import numpy as np

from engine.constraints import Constraints
from engine.backends.families.common import Family, OpContext, first_video, pil_frames

OPS = frozenset({"generate", "restyle"})


def operations_from_config(class_name: str, index: dict, configs: dict[str, dict]) -> frozenset[str]:
    return OPS


class UNet3DFamily(Family):
    name = "UNet3D text-to-video"
    native_rate = 8.0
    default_steps = 50
    default_guidance = 9.0

    def operations(self) -> frozenset[str]:
        return OPS

    def spatial_ratio(self) -> int:
        return int(self.pipe.vae_scale_factor)

    def constraints(self) -> Constraints:
        downsamples = len(self.pipe.unet.config.block_out_channels) - 1
        return Constraints(self.name, frame_step=1, size_multiple=self.spatial_ratio() * 2 ** downsamples,
                           min_frames=2)

    def native_size(self) -> tuple[int, int]:
        side = int(self.pipe.unet.config.sample_size) * self.spatial_ratio()
        return (side, side)

    def step_kwargs(self, pipe, ctx: OpContext, total: int | None = None) -> dict:
        return {"callback": lambda i, t, latents: ctx.on_step(i, latents, total), "callback_steps": 1}

    def encode_for_preview(self, video):
        vae = self.pipe.vae
        frames = video[0].permute(1, 0, 2, 3)  # [F, 3, H, W]: the image VAE sees frames as a batch
        z = vae.encode(frames.to(self.pipe._execution_device, vae.dtype)).latent_dist.mode()
        return (z * vae.config.scaling_factor).permute(1, 0, 2, 3)

    def generate(self, ctx: OpContext, frames: int) -> np.ndarray:
        pipe = self.sibling("TextToVideoSDPipeline")
        frames = ctx.fit_frames(frames)
        return first_video(pipe(height=ctx.height, width=ctx.width, num_frames=frames,
                                **self.common_kwargs(ctx), **self.step_kwargs(pipe, ctx, ctx.steps)), frames)

    def restyle(self, ctx: OpContext, frames: np.ndarray, strength: float, structure_weight: float) -> np.ndarray:
        pipe = self.sibling("VideoToVideoSDPipeline")
        ctx.notes.append("restyle through video-to-video: SDEdit at strength, structure_weight unused")
        total = min(int(ctx.steps * strength), ctx.steps)
        # This pipeline takes its size from the frames, so they are resized to the model size first.
        return first_video(pipe(video=pil_frames(frames, ctx.width, ctx.height), strength=strength,
                                **self.common_kwargs(ctx), **self.step_kwargs(pipe, ctx, total)), len(frames))


FAMILY = UNet3DFamily
