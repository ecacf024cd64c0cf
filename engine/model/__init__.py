"""The conditioned video latent diffusion model (imports torch; keep out of torch-free paths)."""
from .config import ALL_OPERATIONS, ModelConfig
from .conditioning import build_condition, known_mask
from .flow import add_noise, predicted_x0, sample_timesteps, velocity_target
from .ldm import LatentCutLDM
from .loading import load_config, load_model, load_text_encoder, save_model, weights_sha256
from .text_encoder import TextEncoder
from .tiny import make_tiny_model_folder

__all__ = [
    "ALL_OPERATIONS", "ModelConfig", "LatentCutLDM", "TextEncoder", "build_condition", "known_mask",
    "add_noise", "predicted_x0", "sample_timesteps", "velocity_target", "load_config", "load_model",
    "load_text_encoder", "save_model", "weights_sha256", "make_tiny_model_folder",
]
