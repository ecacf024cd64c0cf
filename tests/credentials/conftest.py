"""Fixtures for the Content Credentials tests."""
from job_fixtures import clip, clip_b, encode_clip, tiny_model  # noqa: F401  (fixtures are registered by import)
