"""The first video autoencoder (config autoencoder="conv"): frames [B,3,T,H,W] <-> latents.

Kept only so that model folders written before the linear autoencoder (autoencoder.py) still
load; new models never use it. It loses saturated subjects (see MODEL_CARD.md).

Spatial work is per-frame 2D convolutions (cheap on CPU); time is folded into channels
(pixel-unshuffle in time) at the lowest resolution, with a few (3,1,1) temporal convolutions
around it so the decoder output stays smooth across latent frames. Plain deterministic AE:
the trainer adds a small latent penalty, and ModelConfig.scaling_factor normalises latent std.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .autoencoder import check_frames
from .config import ModelConfig


def _groups(ch: int) -> int:
    return 8 if ch % 8 == 0 else 1


class FrameResBlock(nn.Module):
    """2D residual block applied to every frame of a [B,C,T,H,W] tensor."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(_groups(cin), cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(_groups(cout), cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [(B T), C, H, W]
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class TemporalResBlock(nn.Module):
    """Residual (3,1,1) convolution across time, replicate-padded so clip ends are not darkened."""

    def __init__(self, ch: int):
        super().__init__()
        self.norm = nn.GroupNorm(_groups(ch), ch)
        self.conv = nn.Conv3d(ch, ch, (3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, C, T, H, W]
        h = F.silu(self.norm(x))
        h = F.pad(h, (0, 0, 0, 0, 1, 1), mode="replicate")
        return x + self.conv(h)


class Encoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        ch = cfg.ae_channels
        self.kt = cfg.time_compression
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        for cin, cout in zip(ch[:-1], ch[1:]):
            self.down.append(nn.ModuleList([FrameResBlock(cin, cin), nn.Conv2d(cin, cout, 3, stride=2, padding=1)]))
        top = ch[-1]
        self.time_fold = nn.Conv3d(top * self.kt, top, 1)
        self.temporal = nn.ModuleList([TemporalResBlock(top), TemporalResBlock(top)])
        self.norm_out = nn.GroupNorm(_groups(top), top)
        self.conv_out = nn.Conv3d(top, cfg.latent_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        h = self.conv_in(rearrange(x, "b c t h w -> (b t) c h w"))
        for block, down in self.down:
            h = down(block(h))
        # Fold each group of kt frames into channels: T -> T/kt.
        h = rearrange(h, "(b t k) c h w -> b (c k) t h w", b=b, k=self.kt)
        h = self.time_fold(h)
        for block in self.temporal:
            h = block(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class Decoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        ch = list(reversed(cfg.ae_channels))
        self.kt = cfg.time_compression
        top = ch[0]
        self.conv_in = nn.Conv3d(cfg.latent_channels, top, 1)
        self.temporal_in = TemporalResBlock(top)
        self.time_unfold = nn.Conv3d(top, top * self.kt, 1)
        self.temporal_out = TemporalResBlock(top)
        self.up = nn.ModuleList()
        for cin, cout in zip(ch[:-1], ch[1:]):
            self.up.append(nn.ModuleList([FrameResBlock(cin, cout), nn.Conv2d(cout, cout, 3, padding=1)]))
        self.norm_out = nn.GroupNorm(_groups(ch[-1]), ch[-1])
        self.conv_out = nn.Conv2d(ch[-1], 3, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        b = z.shape[0]
        h = self.temporal_in(self.conv_in(z))
        # Unfold channels back into kt frames per latent frame: T/kt -> T.
        h = rearrange(self.time_unfold(h), "b (c k) t h w -> b c (t k) h w", k=self.kt)
        h = self.temporal_out(h)
        h = rearrange(h, "b c t h w -> (b t) c h w")
        for block, conv in self.up:
            h = conv(F.interpolate(block(h), scale_factor=2.0, mode="nearest"))
        h = self.conv_out(F.silu(self.norm_out(h)))
        return rearrange(h, "(b t) c h w -> b c t h w", b=b)


class ConvAutoencoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.encoder = Encoder(cfg)
        self.decoder = Decoder(cfg)
        self.kt = cfg.time_compression
        self.ks = cfg.space_compression


    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[B,3,T,H,W] in [-1,1] -> unscaled latents [B,C,T/kt,H/ks,W/ks]."""
        check_frames(x, self.kt, self.ks)
        return self.encoder(x)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Unscaled latents -> frames [B,3,T,H,W], roughly in [-1,1] (clamp before display)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decode(z), z

    def decoder_parameters(self) -> list[nn.Parameter]:
        """What decode() uses and encode() does not."""
        return list(self.decoder.parameters())
