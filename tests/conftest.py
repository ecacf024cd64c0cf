"""Shared pytest set-up: Qt offscreen and small torch thread pools on the 2-core CI machine."""
import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")
# Signing makes a local certificate authority on first use; tests keep it out of the user's
# data folder (one per test session).
os.environ["LATENTCUT_DATA_DIR"] = tempfile.mkdtemp(prefix="latentcut-test-data-")
atexit.register(shutil.rmtree, os.environ["LATENTCUT_DATA_DIR"], ignore_errors=True)
