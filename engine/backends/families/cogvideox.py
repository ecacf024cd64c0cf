"""CogVideoX 1.0 / 1.5: text-to-video, image-to-video and video-to-video.

- T2V folders (CogVideoXPipeline): generate; restyle through CogVideoXVideoToVideoPipeline (SDEdit
  at `strength`) over the same modules.
- I2V folders (the transformer also takes the image latents): animate; extend by animating from the
  edge frame (time-reversed for the head). CogVideoX has no last-frame condition, so no fill.
"""
from __future__ import annotations

import numpy as np

from engine.constraints import Constraints
from engine.backends.families.common import (Family, OpContext, call_frame_count, first_video, padded, pil,
                                             pil_frames)

T2V = frozenset({"generate", "restyle"})
I2V = frozenset({"animate", "extend"})


def is_i2v(class_name: str, transformer: dict) -> bool:
    return (class_name == "CogVideoXImageToVideoPipeline"
            or transformer.get("in_channels", 16) > transformer.get("out_channels", 16))


def operations_from_config(class_name: str, index: dict, configs: dict[str, dict]) -> frozenset[str]:
    return I2V if is_i2v(class_name, configs.get("transformer", {})) else T2V


class CogVideoXFamily(Family):
    name = "CogVideoX"
    default_steps = 50
    default_guidance = 6.0

    def __init__(self, pipe, prepare=None):
        super().__init__(pipe, prepare)
        self.transformer_config = dict(pipe.transformer.config)
        self.i2v = is_i2v(type(pipe).__name__, self.transformer_config)
        # 1.5 models (temporal patches) were trained at 16 fps, 1.0 models at 8 fps.
        self.native_rate = 16.0 if self.transformer_config.get("patch_size_t") else 8.0

    def operations(self) -> frozenset[str]:
        return I2V if self.i2v else T2V

    def spatial_ratio(self) -> int:
        return int(self.pipe.vae_scale_factor_spatial)

    def native_size(self) -> tuple[int, int]:
        r = self.spatial_ratio()
        return (self.transformer_config["sample_width"] * r, self.transformer_config["sample_height"] * r)

    def constraints(self) -> Constraints:
        # The VAE decodes latent frames in pairs and keeps a lone first frame only when the count
        # is odd, so latent counts must be odd: frames = 2 * 4 * n + 1 = 8n+1 (49, 81...).
        step = 2 * int(self.pipe.vae_scale_factor_temporal)
        # A learned position table (CogVideoX 1.0 I2V) only covers the size it was trained at.
        fixed = self.native_size() if self.transformer_config.get("use_learned_positional_embeddings") else None
        return Constraints(self.name, frame_step=step, size_multiple=self.spatial_ratio() *
                           self.transformer_config["patch_size"], min_frames=step + 1, fixed_size=fixed)

    def encode_for_preview(self, video):
        vae = self.pipe.vae
        z = vae.encode(video.to(self.pipe._execution_device, vae.dtype)).latent_dist.mode()
        return (z * vae.config.scaling_factor)[0]

    def latents_cfhw(self, latents, ctx: OpContext):
        return latents[0].permute(1, 0, 2, 3)  # the loop keeps [B, F, C, h, w]

    def _call(self, class_name: str, ctx: OpContext, total: int | None = None, **kwargs) -> np.ndarray:
        pipe = self.sibling(class_name)
        return first_video(pipe(height=ctx.height, width=ctx.width,
                                max_sequence_length=self.transformer_config["max_text_seq_length"],
                                **self.common_kwargs(ctx), **self.step_kwargs(pipe, ctx, total), **kwargs),
                           call_frame_count(kwargs))

    def _i2v(self, ctx: OpContext, image: np.ndarray, frames: int) -> np.ndarray:
        return self._call("CogVideoXImageToVideoPipeline", ctx, image=pil(image, ctx.width, ctx.height),
                          num_frames=frames)

    def generate(self, ctx: OpContext, frames: int) -> np.ndarray:
        return self._call("CogVideoXPipeline", ctx, num_frames=ctx.fit_frames(frames))

    def animate(self, ctx: OpContext, image: np.ndarray, frames: int) -> np.ndarray:
        return self._i2v(ctx, image, ctx.fit_frames(frames))

    def extend(self, ctx: OpContext, frames: np.ndarray, new: int, direction: str) -> np.ndarray:
        total = ctx.fit_frames(new + 1, "edge frame + new frames")
        video = self._i2v(ctx, frames[-1] if direction == "tail" else frames[0], total)
        if direction == "tail":
            return video[1:]
        ctx.notes.append("head extension made by image-to-video from the first frame, time-reversed")
        return video[::-1][:-1]

    def restyle(self, ctx: OpContext, frames: np.ndarray, strength: float, structure_weight: float) -> np.ndarray:
        count = len(frames)
        video = pil_frames(padded(frames, self.constraints().ceil_frames(count)), ctx.width, ctx.height)
        ctx.notes.append("restyle through CogVideoX video-to-video: SDEdit at strength, structure_weight unused")
        return self._call("CogVideoXVideoToVideoPipeline", ctx, min(int(ctx.steps * strength), ctx.steps),
                          video=video, strength=strength)[:count]


FAMILY = CogVideoXFamily
