"""Shared pytest set-up: Qt offscreen and small torch thread pools on the 2-core CI machine."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")
