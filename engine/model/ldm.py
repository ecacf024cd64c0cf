"""LatentCutLDM: the trainable parts of one model (autoencoder, denoiser, preview) and its config.

The text encoder is kept apart: it is frozen, loaded from its own HF folder, and not saved in
model.safetensors. Latents seen by the denoiser are scaled: z = encoder(x) * scaling_factor.
"""
from __future__ import annotations

import torch
from torch import nn

from .autoencoder import VideoAutoencoder
from .autoencoder_conv import ConvAutoencoder
from .config import ModelConfig
from .denoiser import VideoDiT
from .preview import LatentPreview
from .structure import structure_map


class LatentCutLDM(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config.validate()
        self.autoencoder = (VideoAutoencoder if config.autoencoder == "linear" else ConvAutoencoder)(config)
        self.denoiser = VideoDiT(config)
        self.preview = LatentPreview(config.latent_channels)

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """[B,3,T,H,W] in [-1,1] -> scaled latents."""
        return self.autoencoder.encode(frames) * self.config.scaling_factor

    def decode_latents(self, z: torch.Tensor) -> torch.Tensor:
        """Scaled latents -> frames [B,3,T,H,W] clamped to [-1,1]."""
        return self.autoencoder.decode(z / self.config.scaling_factor).clamp(-1, 1)

    def structure(self, frames: torch.Tensor) -> torch.Tensor:
        """[B,3,T,H,W] in [-1,1] -> structure map at latent resolution [B,4,T/kt,H/ks,W/ks]."""
        return structure_map(frames, self.config.time_compression, self.config.space_compression)
