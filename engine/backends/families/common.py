"""What every diffusers video family shares: the per-call context, sibling pipelines built from the
loaded components, the step hook, and the fitted latent->RGB projection used for previews."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from PIL import Image

from engine.constraints import Constraints, warn_adjusted

if TYPE_CHECKING:  # torch is imported where tensors are made, so describing a folder stays torch-free
    import torch

GRAY = (128, 128, 128)


@dataclass
class OpContext:
    """One call's settings, as the backend resolved them. `on_step(index, latents, total)` reports a
    finished denoising step (it raises Cancelled when the user cancelled)."""
    prompt: str
    negative_prompt: str
    width: int
    height: int
    steps: int
    guidance: float
    generator: torch.Generator
    on_step: Callable[[int, torch.Tensor, int | None], None]
    constraints: Constraints
    notes: list[str] = field(default_factory=list)
    call_frames: int = 0  # frame count of the pipeline call in flight (LTX unpacks latents with it)

    def fit_frames(self, frames: int, what: str = "frames") -> int:
        fitted, note = self.constraints.fit_frames(frames, what)
        warn_adjusted(note, self.notes)
        return fitted


class Family:
    """Base of a family: subclasses name their pipelines and implement the operations they support."""

    name = ""
    fast = True  # the backend may turn our faster paths off to compare with stock diffusers
    native_rate = 24.0
    default_steps = 50
    default_guidance = 5.0

    def __init__(self, pipe, prepare: Callable[[Any], None] | None = None):
        self.pipe = pipe
        self._prepare = prepare or (lambda p: None)
        self._siblings: dict[str, Any] = {type(pipe).__name__: pipe}

    # --- description -------------------------------------------------------------------------
    def operations(self) -> frozenset[str]:
        raise NotImplementedError

    def constraints(self) -> Constraints:
        raise NotImplementedError

    def native_size(self) -> tuple[int, int]:
        raise NotImplementedError

    # --- running -------------------------------------------------------------------------------
    def sibling(self, class_name: str):
        """A pipeline of another class over the same loaded modules (no second load)."""
        if class_name not in self._siblings:
            import diffusers

            cls = getattr(diffusers, class_name)
            params = inspect.signature(cls.__init__).parameters
            parts = {k: v for k, v in self.pipe.components.items() if k in params}
            # Registered config values such as Wan's expand_timesteps/boundary_ratio travel too.
            for key in ("boundary_ratio", "expand_timesteps"):
                if key in params and key in getattr(self.pipe, "config", {}):
                    parts[key] = self.pipe.config[key]
            sib = cls(**parts)
            sib.set_progress_bar_config(disable=True)
            self._prepare(sib)
            self._siblings[class_name] = sib
        return self._siblings[class_name]

    def step_kwargs(self, pipe, ctx: OpContext, total: int | None = None) -> dict:
        """callback_on_step_end wiring; the hook raises Cancelled from inside the loop."""

        def hook(p, i, t, kwargs):
            ctx.on_step(i, kwargs["latents"], total or getattr(p, "_num_timesteps", None))
            return {}

        return {"callback_on_step_end": hook, "callback_on_step_end_tensor_inputs": ["latents"]}

    def common_kwargs(self, ctx: OpContext) -> dict:
        return dict(prompt=ctx.prompt, negative_prompt=ctx.negative_prompt or None,
                    num_inference_steps=ctx.steps, guidance_scale=ctx.guidance, generator=ctx.generator,
                    output_type="np", return_dict=False)

    def latents_cfhw(self, latents: torch.Tensor, ctx: OpContext) -> torch.Tensor:
        """The loop's latents of the first video as [C, F, h, w]."""
        return latents[0]

    def encode_for_preview(self, video: torch.Tensor) -> torch.Tensor:
        """Encode [1, 3, F, H, W] in [-1, 1] into the loop's latent space, as [C, F, h, w]."""
        raise NotImplementedError

    def spatial_ratio(self) -> int:
        raise NotImplementedError

    # Operations return float frames [T, H, W, 3] in [0, 1]: the new frames only.
    def generate(self, ctx: OpContext, frames: int) -> np.ndarray:
        raise NotImplementedError

    def animate(self, ctx: OpContext, image: np.ndarray, frames: int) -> np.ndarray:
        raise NotImplementedError

    def extend(self, ctx: OpContext, frames: np.ndarray, new: int, direction: str) -> np.ndarray:
        raise NotImplementedError

    def fill(self, ctx: OpContext, before: np.ndarray, after: np.ndarray, new: int) -> np.ndarray:
        raise NotImplementedError

    def restyle(self, ctx: OpContext, frames: np.ndarray, strength: float, structure_weight: float) -> np.ndarray:
        raise NotImplementedError


# --- helpers shared by the family modules ------------------------------------------------------
def first_video(output, expected: int | None = None) -> np.ndarray:
    """A pipeline's `return_dict=False, output_type='np'` result -> float frames [T, H, W, 3],
    checked to hold the `expected` frame count (the families slice new frames out by position)."""
    frames = output[0] if isinstance(output, tuple) else output
    frames = np.asarray(frames[0] if isinstance(frames, (list, tuple)) or np.ndim(frames) == 5 else frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise RuntimeError(f"pipeline returned frames of shape {frames.shape}, expected [T, H, W, 3]")
    if expected is not None and len(frames) != expected:
        raise RuntimeError(f"pipeline returned {len(frames)} frames where {expected} were asked for")
    return frames.astype(np.float32, copy=False)


def call_frame_count(call_kwargs: dict) -> int:
    """Frames a pipeline call makes: num_frames, or as many as the video it restyles."""
    return call_kwargs["num_frames"] if "num_frames" in call_kwargs else len(call_kwargs["video"])


def pil(frame: np.ndarray, width: int, height: int) -> Image.Image:
    image = Image.fromarray(frame)
    return image if image.size == (width, height) else image.resize((width, height), Image.BICUBIC)


def pil_frames(frames: np.ndarray, width: int, height: int) -> list[Image.Image]:
    return [pil(f, width, height) for f in frames]


def padded(frames: np.ndarray, count: int) -> np.ndarray:
    """Repeat the last frame until there are `count` frames (to reach a k*n+1 count)."""
    if count <= len(frames):
        return frames[:count]
    return np.concatenate([frames, np.repeat(frames[-1:], count - len(frames), axis=0)])


def solid(width: int, height: int, value) -> Image.Image:
    return Image.new("RGB", (width, height), value)


def edge_context(frames: np.ndarray, direction: str, step: int, most_latents: int = 2) -> np.ndarray:
    """The known frames next to the edge being extended: a k*n+1 count, at most `most_latents`
    latent frames' worth, so the model sees the motion without paying for the whole clip."""
    count = 1
    while count + step <= min(len(frames), 1 + step * most_latents):
        count += step
    return frames[-count:] if direction == "tail" else frames[:count]


class LatentProjection:
    """A fixed linear map latent -> RGB fitted once per model: encode a palette of colours with the
    model's own VAE and solve least squares (ridge) for RGB = [z, 1] @ W at latent resolution."""

    def __init__(self, weights: torch.Tensor, ratio: int):
        self.weights = weights  # [C + 1, 3]
        self.ratio = ratio

    @classmethod
    def fit(cls, family: Family, ridge: float = 1e-2) -> "LatentProjection":
        import torch

        ratio = family.spatial_ratio()
        grid = 8
        block = 2 * ratio  # each colour covers 2x2 latent pixels, so neighbours bleed little
        g = torch.Generator().manual_seed(0)
        colours = torch.rand(grid * grid, 3, generator=g)
        colours[:8] = torch.tensor([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0],
                                    [0, 1, 1], [1, 0, 1]], dtype=torch.float32)
        image = colours.view(grid, grid, 3).permute(2, 0, 1)
        image = image.repeat_interleave(block, 1).repeat_interleave(block, 2)  # [3, H, W]
        with torch.no_grad():
            z = family.encode_for_preview((image * 2 - 1)[None, :, None]).float().cpu()  # [C, 1, h, w]
        c, _, h, w = z.shape
        target = torch.nn.functional.adaptive_avg_pool2d(image[None], (h, w))[0]  # [3, h, w]
        x = torch.cat([z[:, 0].reshape(c, -1).T, torch.ones(h * w, 1)], dim=1)  # [N, C+1]
        y = target.reshape(3, -1).T  # [N, 3]
        # Ridge keeps the map tame when there are more channels than palette samples (LTX: 128).
        weights = torch.linalg.solve(x.T @ x + ridge * torch.eye(c + 1), x.T @ y)
        return cls(weights, max(1, ratio))

    def __call__(self, latents_cfhw: torch.Tensor) -> np.ndarray:
        """The middle latent frame as a uint8 RGB image, upsampled to about output size."""
        import torch

        z = latents_cfhw[:, latents_cfhw.shape[1] // 2].float().cpu()  # [C, h, w]
        c, h, w = z.shape
        x = torch.cat([z.reshape(c, -1).T, torch.ones(h * w, 1)], dim=1)
        rgb = (x @ self.weights).clamp(0, 1).reshape(h, w, 3)
        image = (rgb.numpy() * 255 + 0.5).astype(np.uint8)
        return image.repeat(self.ratio, axis=0).repeat(self.ratio, axis=1)
