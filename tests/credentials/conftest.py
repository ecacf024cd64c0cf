"""Fixtures for the Content Credentials tests: the CLI runner and the shared clips and model."""
from cli.conftest import cli  # noqa: F401  (fixtures are registered by import)
from job_fixtures import clip, clip_b, encode_clip, tiny_model  # noqa: F401
