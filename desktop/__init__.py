"""LatentCut desktop package."""
from desktop.refcount_guard import guard_singletons

guard_singletons()  # before any Qt call: PySide6 6.12 drops references to None/True/False on 3.11
