"""Keep None, True and False alive under PySide6 6.12 on CPython 3.11.

PySide6/shiboken 6.12 return None, True and False from bindings without taking a reference,
which is only safe where those objects are immortal (CPython 3.12+). On 3.11 every call of a
void Qt method (``setText``, ``click`` ...) or of ``Signal.emit()`` drops a reference the caller
never owned; after a few thousand calls Python frees None and aborts ("none_dealloc"). Adding a
huge count to the three singletons makes them as good as immortal, as they are on 3.12+.
"""
from __future__ import annotations

import ctypes
import sys

_EXTRA = 1 << 40  # more references than a process could ever drop
_guarded = False


def guard_singletons() -> bool:
    """Apply the guard once; returns True when it was needed and applied (CPython < 3.12)."""
    global _guarded
    if _guarded:
        return True
    # Only plain CPython release builds keep ob_refcnt as the first word of every object.
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or hasattr(sys, "getobjects"):
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _EXTRA
    _guarded = True
    return True
