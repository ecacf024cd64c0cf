"""Shared pytest set-up: Qt offscreen and small torch thread pools on the 2-core CI machine."""
import atexit
import os
import shutil
import tempfile

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Signing makes a local certificate authority on first use; tests keep it out of the user's
# data folder (one per test session).
os.environ["LATENTCUT_DATA_DIR"] = tempfile.mkdtemp(prefix="latentcut-test-data-")
atexit.register(shutil.rmtree, os.environ["LATENTCUT_DATA_DIR"], ignore_errors=True)


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    """The remembered model folders (models.json) of a test live in its own folder, never the
    user's: loading a model or adding one in the app writes that list."""
    monkeypatch.setenv("LATENTCUT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("LATENTCUT_MODELS", raising=False)
    return tmp_path / "config"
