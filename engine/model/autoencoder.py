"""Video autoencoder: frames [B,3,T,H,W] in [-1,1] <-> latents [B,C,T/kt,H/ks,W/ks].

The encoder is linear: each (kt, ks, ks) patch of pixels is projected onto C directions, fitted
as the patches' principal components (`fit_pca`) and then trained. A linear code keeps every
patch's mean colour, so a saturated subject survives encoding, and its latents are smooth, a
low-resolution video in a rotated colour basis, which is an easy target for the denoiser.

The decoder is the transposed projection (the PCA reconstruction) plus a learned residual. The
residual is computed at latent resolution from each cell's neighbourhood and unshuffled into the
cell's pixels, so it can remove the block edges of the linear code and sharpen what the
neighbours imply. Its output layer starts at zero: an untrained decoder is the PCA decoder.

No normalisation spans time, so a short context encodes and decodes like the same frames inside
a whole clip.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .config import ModelConfig


def check_frames(x: torch.Tensor, kt: int, ks: int) -> None:
    """Frames [B,3,T,H,W] whose T is a multiple of kt and H, W of ks (either autoencoder's strides)."""
    if x.dim() != 5 or x.shape[1] != 3:
        raise ValueError(f"frames must be [B,3,T,H,W], got {tuple(x.shape)}")
    if x.shape[2] % kt or x.shape[3] % ks or x.shape[4] % ks:
        raise ValueError(f"frames {tuple(x.shape)}: T must be a multiple of {kt}, H and W of {ks}")


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(8 if ch % 8 == 0 else 1, ch)


class FrameResBlock(nn.Module):
    """3x3 residual block on each latent frame, then a (3,1,1) mix across neighbouring frames.
    GroupNorm runs per frame, never across time."""

    def __init__(self, ch: int):
        super().__init__()
        self.norm1, self.conv1 = _norm(ch), nn.Conv2d(ch, ch, 3, padding=1)
        self.norm2, self.conv2 = _norm(ch), nn.Conv2d(ch, ch, 3, padding=1)
        self.time = nn.Conv3d(ch, ch, (3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [B, C, T, H, W]
        b = x.shape[0]
        h = rearrange(x, "b c t h w -> (b t) c h w")
        h = self.conv2(F.silu(self.norm2(self.conv1(F.silu(self.norm1(h))))))
        h = rearrange(h, "(b t) c h w -> b c t h w", b=b)
        # Replicate padding in time, so clip ends are not pulled toward zero.
        h = h + self.time(F.pad(h, (0, 0, 0, 0, 1, 1), mode="replicate"))
        return x + h


class VideoAutoencoder(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.kt, self.ks, self.c = cfg.time_compression, cfg.space_compression, cfg.latent_channels
        patch = 3 * self.kt * self.ks * self.ks
        self.encode_proj = nn.Linear(patch, self.c)
        self.decode_proj = nn.Linear(self.c, patch)
        width = cfg.decoder_channels
        self.refine_in = nn.Conv3d(self.c, width, (1, 3, 3), padding=(0, 1, 1))
        self.refine = nn.ModuleList([FrameResBlock(width) for _ in range(cfg.decoder_blocks)])
        self.refine_norm = _norm(width)
        self.refine_out = nn.Conv2d(width, patch, 1)
        nn.init.zeros_(self.refine_out.weight)
        nn.init.zeros_(self.refine_out.bias)

    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """[B,3,T,H,W] -> [B,T/kt,H/ks,W/ks, kt*ks*ks*3]."""
        return rearrange(x, "b c (t i) (h j) (w k) -> b t h w (i j k c)", i=self.kt, j=self.ks, k=self.ks)

    def unpatchify(self, p: torch.Tensor) -> torch.Tensor:
        return rearrange(p, "b t h w (i j k c) -> b c (t i) (h j) (w k)", i=self.kt, j=self.ks, k=self.ks, c=3)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """[B,3,T,H,W] in [-1,1] -> unscaled latents [B,C,T/kt,H/ks,W/ks]."""
        check_frames(x, self.kt, self.ks)
        return rearrange(self.encode_proj(self.patchify(x)), "b t h w c -> b c t h w")

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Unscaled latents -> frames [B,3,T,H,W], roughly in [-1,1] (clamp before display)."""
        base = self.decode_proj(rearrange(z, "b c t h w -> b t h w c"))
        h = self.refine_in(z)
        for block in self.refine:
            h = block(h)
        h = rearrange(h, "b c t h w -> (b t) c h w")
        residual = rearrange(self.refine_out(F.silu(self.refine_norm(h))), "(b t) p h w -> b t h w p", b=z.shape[0])
        return self.unpatchify(base + residual)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.encode(x)
        return self.decode(z), z

    def decoder_parameters(self) -> list[nn.Parameter]:
        """What decode() uses and encode() does not."""
        return [p for n, p in self.named_parameters() if not n.startswith("encode_proj")]

    @torch.no_grad()
    def normalise_channels(self, frames: torch.Tensor) -> torch.Tensor:
        """Rescale the code so every latent channel of `frames` ([N,3,T,H,W] in [-1,1]) has unit
        std; the decoder is rescaled to match, so reconstructions are unchanged. Principal
        components span a wide range of variances: under one scalar factor the denoiser's small
        absolute errors in the weak channels decode as colourful speckle. Returns the old stds."""
        z = self.encode(frames.float())
        std = z.transpose(0, 1).reshape(self.c, -1).std(dim=1).clamp(min=1e-6)
        self.encode_proj.weight.div_(std[:, None])
        self.encode_proj.bias.div_(std)
        self.decode_proj.weight.mul_(std[None, :])
        self.refine_in.weight.mul_(std[None, :, None, None, None])
        return std

    @torch.no_grad()
    def fit_pca(self, frames: torch.Tensor, max_patches: int = 200_000, seed: int = 0) -> float:
        """Set both projections to the principal components of the frames' patches (frames
        [N,3,T,H,W] in [-1,1]): encode = (p - mean) @ V, decode = z @ V^T + mean. Returns the share
        of the patch variance that the C components keep."""
        p = self.patchify(frames.float()).reshape(-1, self.encode_proj.in_features)
        if p.shape[0] > max_patches:
            gen = torch.Generator().manual_seed(seed)
            p = p[torch.randperm(p.shape[0], generator=gen)[:max_patches]]
        mean = p.mean(0)
        centred = (p - mean).double()
        values, vectors = torch.linalg.eigh(centred.T @ centred / centred.shape[0])
        order = values.argsort(descending=True)
        basis = vectors[:, order[: self.c]].float()  # [P, C], largest variance first
        self.encode_proj.weight.copy_(basis.T)
        self.encode_proj.bias.copy_(-(mean @ basis))
        self.decode_proj.weight.copy_(basis)
        self.decode_proj.bias.copy_(mean)
        return float(values[order[: self.c]].sum() / values.sum())
