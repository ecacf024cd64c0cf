"""Fixtures for the timeline tests."""
import pytest

from timeline import CommandStack, Document
from timeline_helpers import make_clip


@pytest.fixture
def doc():
    """A 24 fps document whose V1 holds clips a, b, c (24 frames each, starting at media frame 10)."""
    d = Document.new(rate=24, width=64, height=36)
    v1 = d.video_tracks[0]
    for name in "abc":
        v1.append(make_clip(name, start=10))
    return d


@pytest.fixture
def stack(doc):
    return CommandStack(doc)
