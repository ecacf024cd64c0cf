"""Denoiser: a small video DiT returning the flow-matching velocity (its last layer predicts the
velocity or the clean latent, see ModelConfig.prediction).

Input = noisy latent (C) ++ condition (known latents C, known mask 1, structure S), patchified pxp.
Each block: spatial self-attention inside each latent frame, temporal self-attention across
frames at each patch position (objects persist), cross-attention to the text tokens, then an MLP.
Self-attention and MLP are modulated by adaLN-zero from (timestep embedding + pooled text).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import nn

from .camera import CameraHead
from .subject import MAX_SUBJECT_SPEED, SubjectEmbedding
from .zoom import MAX_ZOOM_RATE
from .config import ModelConfig


def sincos_1d(positions: torch.Tensor, dim: int) -> torch.Tensor:
    """[N] -> [N, dim]: sin/cos at geometric frequencies 1 .. 1/10000."""
    freqs = torch.exp(-math.log(10000.0) * torch.arange(dim // 2, device=positions.device) / (dim // 2))
    angles = positions.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos()], dim=1)


def position_embedding_3d(t: int, h: int, w: int, dim: int, device) -> torch.Tensor:
    """Factorised (t, h, w) sinusoidal embedding [t*h*w, dim]: dim/4 for time, 3dim/8 each for h and w."""
    dt, dh = dim // 4, 3 * dim // 8
    dw = dim - dt - dh
    et = sincos_1d(torch.arange(t, device=device), dt)
    eh = sincos_1d(torch.arange(h, device=device), dh)
    ew = sincos_1d(torch.arange(w, device=device), dw)
    return torch.cat([
        et[:, None, None].expand(t, h, w, dt),
        eh[None, :, None].expand(t, h, w, dh),
        ew[None, None, :].expand(t, h, w, dw),
    ], dim=-1).reshape(t * h * w, dim)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """t in [0,1] -> [B, dim], scaled by 1000 so the frequencies resolve small steps (in float32:
    bf16 would round 0.667*1000 to 668)."""
    return sincos_1d(t.float() * 1000.0, dim)


def modulate(x: torch.Tensor, shift: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return x * (1 + scale[:, None]) + shift[:, None]


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, context_dim: int | None = None, fused: bool = False):
        super().__init__()
        self.heads = heads
        self.fused = fused
        self.q = nn.Linear(dim, dim)
        self.kv = nn.Linear(context_dim or dim, 2 * dim)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None,
                mask: torch.Tensor | None = None) -> torch.Tensor:
        return self.merge(self.attend(*self.project(x, context), mask))

    def project(self, x: torch.Tensor, context: torch.Tensor | None = None):
        """-> q [B,h,N,d], k and v [B,h,M,d]."""
        context = x if context is None else context
        q = rearrange(self.q(x), "b n (h d) -> b h n d", h=self.heads)
        k, v = rearrange(self.kv(context), "b m (two h d) -> two b h m d", two=2, h=self.heads)
        return q, k, v

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor | None = None):
        if self.fused:
            return F.scaled_dot_product_attention(q, k, v, attn_mask=None if mask is None else mask[:, None, None, :])
        # softmax(q k^T / sqrt(d)) v as plain matmuls, the same maths as scaled_dot_product_attention.
        # On this 2-core AVX2 CPU in fp32 (forward and backward) they are 2-8% faster over 144 or 48
        # keys; over the 6 latent frames of temporal attention the fused call is twice as fast.
        scores = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
        if mask is not None:
            scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
        return scores.softmax(dim=-1) @ v

    def merge(self, o: torch.Tensor) -> torch.Tensor:
        return self.out(rearrange(o, "b h n d -> b n (h d)"))


# Latent-frame offsets the motion attention tells apart; farther ones share the last one's bias.
MOTION_MAX_OFFSET = 8
# The motion attention's gate and bias are stored divided by this. Adam moves a parameter by about
# its learning rate a step whatever its gradient, so at 5e-4 a gate from zero would take thousands
# of steps to open and a bias to pick a direction; scaled, a few hundred.
MOTION_PARAM_SCALE = 10.0


class MotionAttention(nn.Module):
    """Temporal attention to the (2r+1)^2 tokens around each token, in every latent frame, with its
    block's temporal projections: content that moves is found where it went. A learned bias per head
    for each (frame offset, neighbour) lets a head follow one direction, and the prompt and noise
    level (the block's conditioning) steer it: the camera words say which way the content goes. A
    per-head gate from zero adds it to the block's own temporal attention, so a checkpoint without
    it samples as before."""

    def __init__(self, heads: int, radius: int, dim: int):
        super().__init__()
        self.radius = radius
        table = (heads, 2 * MOTION_MAX_OFFSET + 1, (2 * radius + 1) ** 2)
        self.bias = nn.Parameter(torch.zeros(table))
        self.gate = nn.Parameter(torch.zeros(heads))
        self.steer = nn.Linear(dim, math.prod(table))
        nn.init.zeros_(self.steer.weight)
        nn.init.zeros_(self.steer.bias)

    def _around(self, z: torch.Tensor, batch: int, h: int, w: int) -> torch.Tensor:
        """[(b h w), heads, t, d] -> [(b h w), heads, t * n, d]: each position's n neighbours' values.
        Padded and gathered with (heads, t, d) innermost, so the result needs no further copy."""
        r, side = self.radius, 2 * self.radius + 1
        e, t, d = z.shape[1:]
        padded = z.new_zeros(batch, h + 2 * r, w + 2 * r, e, t, d)
        padded[:, r:r + h, r:r + w] = z.reshape(batch, h, w, e, t, d)
        z = torch.stack([padded[:, i:i + h, j:j + w] for i in range(side) for j in range(side)], dim=-2)
        return z.reshape(batch * h * w, e, t * side * side, d)

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, grid: tuple[int, int, int],
                emb: torch.Tensor) -> torch.Tensor:
        """q, k, v [(b h w), heads, t, d] from the block's temporal attention, emb [b, dim] its
        conditioning -> its gated addition."""
        t, h, w = grid
        batch, r, side = q.shape[0] // (h * w), self.radius, 2 * self.radius + 1
        frames = torch.arange(t, device=q.device)
        offset = (frames[None, :] - frames[:, None]).clamp(-MOTION_MAX_OFFSET, MOTION_MAX_OFFSET) + MOTION_MAX_OFFSET
        table = self.bias[None] * MOTION_PARAM_SCALE + self.steer(F.silu(emb)).reshape(-1, *self.bias.shape)
        bias = table[:, :, offset]  # [b, heads, t, t, n]
        inside = F.pad(torch.ones(h, w, device=q.device), (r, r, r, r))
        inside = torch.stack([inside[i:i + h, j:j + w] for i in range(side) for j in range(side)], dim=-1)
        outside = torch.zeros_like(inside).masked_fill(inside == 0, float("-inf"))  # [h, w, n]
        mask = bias[:, None, None] + outside[None, :, :, None, None, None]  # [b, h, w, heads, t, t, n]
        mask = rearrange(mask, "b h w e tq tk n -> (b h w) e tq (tk n)").to(q.dtype)
        o = F.scaled_dot_product_attention(q, self._around(k, batch, h, w), self._around(v, batch, h, w),
                                           attn_mask=mask)
        return o * (self.gate * MOTION_PARAM_SCALE)[None, :, None, None].to(o.dtype)


class DiTBlock(nn.Module):
    def __init__(self, dim: int, heads: int, mlp_ratio: float):
        super().__init__()
        self.norm_s = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn_s = Attention(dim, heads)
        self.norm_t = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        self.attn_t = Attention(dim, heads, fused=True)
        self.norm_x = nn.LayerNorm(dim, eps=1e-6)
        self.attn_x = Attention(dim, heads, context_dim=dim)
        self.norm_m = nn.LayerNorm(dim, elementwise_affine=False, eps=1e-6)
        hidden = int(dim * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(approximate="tanh"), nn.Linear(hidden, dim))
        # adaLN-zero: (shift, scale, gate) for spatial, temporal and MLP; zero init = identity block.
        self.ada = nn.Linear(dim, 9 * dim)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x: torch.Tensor, emb: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor,
                grid: tuple[int, int, int], motion: MotionAttention | None = None) -> torch.Tensor:
        t, h, w = grid
        b = x.shape[0]
        ss, sc, sg, ts, tc, tg, ms, mc, mg = self.ada(F.silu(emb)).chunk(9, dim=1)
        # Spatial attention: tokens of one latent frame attend to each other.
        y = rearrange(modulate(self.norm_s(x), ss, sc), "b (t h w) d -> b t (h w) d", t=t, h=h, w=w)
        y = rearrange(self.attn_s(rearrange(y, "b t n d -> (b t) n d")), "(b t) n d -> b (t n) d", b=b)
        x = x + sg[:, None] * y
        # Temporal attention: each patch position attends across latent frames.
        y = rearrange(modulate(self.norm_t(x), ts, tc), "b (t h w) d -> (b h w) t d", t=t, h=h, w=w)
        if motion is None:
            y = self.attn_t(y)
        else:
            q, k, v = self.attn_t.project(y)
            y = self.attn_t.merge(self.attn_t.attend(q, k, v) + motion(q, k, v, grid, emb))
        y = rearrange(y, "(b h w) t d -> b (t h w) d", b=b, h=h, w=w)
        x = x + tg[:, None] * y
        x = x + self.attn_x(self.norm_x(x), context=text, mask=text_mask)
        x = x + mg[:, None] * self.mlp(modulate(self.norm_m(x), ms, mc))
        return x


# Below this noise level a sample prediction is turned into a velocity as if at this level: the
# division would otherwise amplify the prediction's error without bound.
SAMPLE_T_MIN = 0.05
# The starting variance of the network's clean-latent error for "sample_wiener" (latents have unit
# variance): about previz-v3's error at t = 0.05, when it was switched over.
ERROR_VAR_START = 0.05


class ErrorVariance(nn.Module):
    """The variance of the network's clean-latent error ("sample_wiener"), per latent cell: a learned
    log-variance per channel plus one per cell read from the final tokens (zero-initialised, so it
    starts as the per-channel one). Flat sky is predicted well and takes none of x_t's noise, edges
    take x_t's detail. A module of its own, registered last: a parameter of VideoDiT itself would
    come first in its parameter order and shift every optimizer state of a resumed checkpoint."""

    def __init__(self, channels: int, dim: int, patch: int):
        super().__init__()
        self.patch = patch
        self.log_var = nn.Parameter(torch.full((channels,), math.log(ERROR_VAR_START)))
        self.cells = nn.Linear(dim, patch * patch)
        nn.init.zeros_(self.cells.weight)
        nn.init.zeros_(self.cells.bias)

    def forward(self, tokens: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
        """tokens [B, t*h*w, dim] -> variance [B, C, T, H, W]."""
        t, h, w = grid
        p = self.patch
        cells = rearrange(self.cells(tokens), "b (t h w) (p q) -> b 1 t (h p) (w q)", t=t, h=h, w=w, p=p, q=p)
        return (self.log_var.reshape(1, -1, 1, 1, 1) + cells).clamp(-15.0, 8.0).exp()


class VideoDiT(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        c, p, d = cfg.latent_channels, cfg.patch_size, cfg.dit_dim
        self.latent_channels = c
        self.prediction = cfg.prediction
        self.predicts_sample = cfg.prediction != "velocity"
        self.cond_channels = c + 1 + cfg.structure_channels
        self.patch = p
        self.dim = d
        self.patch_in = nn.Linear((c + self.cond_channels) * p * p, d)
        self.time_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.text_proj = nn.Sequential(nn.LayerNorm(cfg.text_dim), nn.Linear(cfg.text_dim, d))
        self.pool_mlp = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(
            [DiTBlock(d, cfg.dit_heads, cfg.mlp_ratio) for _ in range(cfg.dit_depth)])
        self.norm_out = nn.LayerNorm(d, elementwise_affine=False, eps=1e-6)
        self.ada_out = nn.Linear(d, 2 * d)
        self.patch_out = nn.Linear(d, c * p * p)
        for layer in (self.ada_out, self.patch_out):
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)
        self.refine = None
        if cfg.refine_channels:  # registered last: a checkpoint from before it keeps its parameter order
            r = cfg.refine_channels
            self.refine = nn.Sequential(nn.Conv2d(2 * c, r, 3, padding=1), nn.SiLU(), nn.Conv2d(r, c, 3, padding=1))
            nn.init.zeros_(self.refine[2].weight)  # zero: the output starts as the tokens' own
            nn.init.zeros_(self.refine[2].bias)
        if cfg.prediction == "sample_wiener":  # last too, so a "sample" checkpoint resumes into it
            self.error_variance = ErrorVariance(c, d, p)
        self.motion = None
        if cfg.motion_attention:  # last of all, so a checkpoint from before it resumes into it
            self.motion = nn.ModuleList(
                [MotionAttention(cfg.dit_heads, cfg.motion_attention, d) for _ in range(cfg.dit_depth)])
        self.refine_film = None
        if cfg.refine_conditioned:  # after everything else, zero: a checkpoint from before it resumes into it
            self.refine_film = nn.Linear(d, 2 * cfg.refine_channels)
            nn.init.zeros_(self.refine_film.weight)
            nn.init.zeros_(self.refine_film.bias)
        # After everything else: reads the raw text states only, so it is trained apart from the trunk.
        self.camera = CameraHead(cfg.text_dim) if cfg.camera_frame else None
        self.zoom = CameraHead(cfg.text_dim, outputs=1, limit=MAX_ZOOM_RATE) if cfg.camera_zoom else None
        self.subject, self.subject_embed = None, None
        if cfg.subject_motion:  # last: a checkpoint from before it resumes into it
            self.subject = CameraHead(cfg.text_dim, outputs=1, limit=MAX_SUBJECT_SPEED)
            self.subject_embed = SubjectEmbedding(cfg.dit_dim)
        self.layout_in = None
        if cfg.subject_layout:  # last, zero: a model that gains it samples as before
            self.layout_in = nn.Linear(p * p, d, bias=False)  # no bias: zeros are the same as none told
            nn.init.zeros_(self.layout_in.weight)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, t: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor, pass_input: bool = True, subject: torch.Tensor | None = None,
                layout: torch.Tensor | None = None) -> torch.Tensor:
        """x [B,C,T,H,W] noisy latent, cond [B,C+1+S,T,H,W], t [B] in [0,1], text [B,L,Dt], mask [B,L]
        -> velocity [B,C,T,H,W]. pass_input=False: for "sample_wiener", the velocity of the network's
        own estimate F, taking nothing of what x shows beyond it (the sampler's last step). subject [B]:
        the subject's speed in the camera frame (model/subject.py), NaN or None where none is given.
        layout [B,T,H,W]: the subject's cover of each latent cell (subject.layout_map), zeros or None
        where none is given."""
        out, s2 = self.predict(x, cond, t, text, text_mask, subject, layout)
        return self.velocity(x, t, out, s2 if pass_input or s2 is None else torch.zeros_like(s2))

    def predict(self, x: torch.Tensor, cond: torch.Tensor, t: torch.Tensor, text: torch.Tensor,
                text_mask: torch.Tensor, subject: torch.Tensor | None = None, layout: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The network's own output (a velocity, or a clean-latent estimate F) and, for "sample_wiener",
        the variance of F's error s2 [B,C,T,H,W]. s2 reads detached tokens: it is fitted to F's error
        by its own likelihood (error_variance_nll), not through the trunk."""
        b, _, nt, hh, ww = x.shape
        p = self.patch
        if hh % p or ww % p:
            raise ValueError(f"latent size {hh}x{ww} is not a multiple of the patch size {p}")
        if cond.shape[1] != self.cond_channels:
            raise ValueError(f"cond has {cond.shape[1]} channels, expected {self.cond_channels}")
        grid = (nt, hh // p, ww // p)
        tokens = rearrange(torch.cat([x, cond], dim=1), "b c t (h p) (w q) -> b (t h w) (c p q)", p=p, q=p)
        tokens = self.patch_in(tokens) + position_embedding_3d(*grid, self.dim, x.device).to(tokens.dtype)
        if self.layout_in is not None and layout is not None:
            cells = rearrange(layout.to(tokens.dtype), "b t (h p) (w q) -> b (t h w) (p q)", p=p, q=p)
            tokens = tokens + self.layout_in(cells)
        ctx = self.text_proj(text)
        weights = text_mask.to(ctx.dtype)[..., None]
        pooled = (ctx * weights).sum(1) / weights.sum(1).clamp(min=1.0)
        emb = self.time_mlp(timestep_embedding(t, self.dim).to(ctx.dtype)) + self.pool_mlp(pooled)
        if self.subject_embed is not None:
            speed = torch.full((b,), float("nan"), device=x.device) if subject is None else subject.float()
            emb = emb + self.subject_embed(speed).to(emb.dtype)
        for i, block in enumerate(self.blocks):
            tokens = block(tokens, emb, ctx, text_mask, grid, None if self.motion is None else self.motion[i])
        shift, scale = self.ada_out(F.silu(emb)).chunk(2, dim=1)
        tokens = modulate(self.norm_out(tokens), shift, scale)
        out = self.patch_out(tokens)
        out = rearrange(out, "b (t h w) (c p q) -> b c t (h p) (w q)", t=nt, h=grid[1], w=grid[2], p=p, q=p)
        if self.refine is not None:  # per latent frame, across the tokens' borders
            frames = rearrange(torch.cat([out, x.to(out.dtype)], dim=1), "b c t h w -> (b t) c h w")
            hidden = self.refine[0](frames)
            if self.refine_film is not None:
                hidden = self._conditioned(hidden, emb, nt)
            out = out + rearrange(self.refine[2](self.refine[1](hidden)), "(b t) c h w -> b c t h w", b=b)
        if self.prediction == "sample_wiener":
            return out, self.error_variance(tokens.detach(), grid).to(out.dtype)
        return out, None

    def _conditioned(self, hidden: torch.Tensor, emb: torch.Tensor, frames: int) -> torch.Tensor:
        """The refine convolution's hidden channels [(b t), r, h, w] scaled and shifted by emb [b, dim]."""
        scale, shift = self.refine_film(F.silu(emb)).repeat_interleave(frames, dim=0)[..., None, None].chunk(2, dim=1)
        return hidden * (1 + scale) + shift

    def velocity(self, x: torch.Tensor, t: torch.Tensor, out: torch.Tensor,
                 s2: torch.Tensor | None = None) -> torch.Tensor:
        """The velocity from predict's output: the network's own, or from its clean-latent estimate."""
        if self.prediction == "sample_wiener":
            # x0 = out + g (x - (1-t) out), g = (1-t) s2 / d, d = (1-t)^2 s2 + t^2 (ModelConfig.prediction);
            # the velocity (x - x0) / t written without the division, exact down to t = 0.
            tt = t.reshape(-1, 1, 1, 1, 1).to(out.dtype)
            return (x.to(out.dtype) * (tt - (1 - tt) * s2) - tt * out) / ((1 - tt) ** 2 * s2 + tt ** 2)
        if self.predicts_sample:  # x_t = x0 + t * v
            return (x - out) / t.clamp(min=SAMPLE_T_MIN).reshape(-1, 1, 1, 1, 1).to(out.dtype)
        return out
