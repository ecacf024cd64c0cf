"""Getting ready to sign while the model loads: importing c2pa, making or loading the signer
and c2pa's reading context take about half a second the first time in a process, which a
short generation would otherwise wait for at its end. `prepare` starts that work in a
background thread; signing later finds it done (or waits for the part still running)."""
from __future__ import annotations

import threading

from engine.credentials.settings import SigningSettings

_running: set[SigningSettings] = set()
_lock = threading.Lock()


def prepare(settings: SigningSettings) -> None:
    """Starts preparing to sign with `settings`, unless a thread is already at it. A failure
    here is not reported: signing repeats the same steps and raises the error then, with its
    sentence, before any file takes the final name."""
    with _lock:
        if settings in _running:
            return
        _running.add(settings)
    threading.Thread(target=_prepare, args=(settings,), name="latentcut-sign-prepare", daemon=True).start()


def _prepare(settings: SigningSettings) -> None:
    from engine.credentials.reading import reading_context
    from engine.credentials.signer import checked_material

    try:
        import c2pa  # noqa: F401  (the import is the slow part)

        checked_material(settings)
        reading_context(settings.trust_anchors)
    except Exception:  # noqa: BLE001  (see prepare: signing raises it again, in words)
        pass
    finally:
        with _lock:
            _running.discard(settings)
