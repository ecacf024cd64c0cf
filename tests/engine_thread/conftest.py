"""Fixtures for the engine thread: a tiny random model folder and tiny clips encoded with PyAV."""
from job_fixtures import clip, clip_b, encode_clip, tiny_model  # noqa: F401  (fixtures are registered by import)
