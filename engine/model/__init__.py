"""The conditioned video latent diffusion model. Its modules import torch, except `config`,
which torch-free paths (the command line's checks before loading) read; so this package
imports nothing itself: import the module you need (`engine.model.ldm`, `engine.model.loading`)."""
