"""Signing a finished media file: the manifest goes into a copy under a hidden name, that copy
is read back and verified while still open, and only a copy that verifies replaces the final
name, in one rename. So the final name never holds an unsigned or badly signed file."""
from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

from engine.credentials.manifests import Ingredient
from engine.credentials.prepare import prepare
from engine.credentials.settings import SigningError, SigningSettings
from engine.credentials.signer import checked_material, make_signer

# Containers c2pa can embed a manifest in, among those LatentCut writes.
EMBEDDABLE = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}
# The states a freshly signed file must read back with (a correct signature, trusted or not).
_SIGNED = ("valid", "untrusted")


def check_can_sign(settings: SigningSettings, final: str | os.PathLike) -> None:
    """Fails early (before any frame is made) when `final` cannot carry credentials or a
    studio's certificate or key is wrong, then starts preparing to sign in the background.
    The local signer, which LatentCut makes itself, is made or loaded there too; should it be
    broken, signing says so and writes nothing."""
    _mime(final)
    if not settings.is_local:
        checked_material(settings)
    prepare(settings)


def _mime(final: str | os.PathLike) -> str:
    suffix = Path(final).suffix.lower()
    if suffix not in EMBEDDABLE:
        raise SigningError(f"{final}: a {suffix or 'file without an extension'} file cannot carry Content "
                           f"Credentials; write .mp4 or .mov, or turn signing off with --no-sign")
    return EMBEDDABLE[suffix]


def sign_file(unsigned: Path, final: Path, definition: dict[str, Any], ingredients: list[Ingredient],
              settings: SigningSettings) -> dict[str, Any]:
    """Signs `unsigned` into `final` (renamed into place once it verifies) and removes
    `unsigned`, whether signing worked or not. Returns what the document keeps of the new
    credentials (`Credentials.record`). Raises SigningError with a sentence on any failure."""
    import c2pa

    from engine.credentials.reading import read_stream

    tmp = final.with_name(f".{final.stem}.signing-{os.getpid()}{final.suffix}")
    try:
        mime = _mime(final)
        signer = make_signer(checked_material(settings))
        with_file, described = _split(ingredients)
        builder = c2pa.Builder({**definition, "ingredients": described})
        for ingredient, ingredient_mime in with_file:
            with open(ingredient.path, "rb") as stream:
                builder.add_ingredient(ingredient.definition(), ingredient_mime, stream)
        with open(unsigned, "rb") as src, open(tmp, "w+b") as dst:
            builder.sign(signer, mime, src, dst)
            dst.flush()
            dst.seek(0)
            signed = read_stream(final, mime, dst, settings.trust_anchors)
            if signed.state not in _SIGNED:
                raise SigningError(f"{final}: the signed file does not verify "
                                   f"({signed.reason or 'no manifest was found in it'}); no file was written")
            os.fsync(dst.fileno())
        os.replace(tmp, final)
        return signed.record()
    except c2pa.C2paError as exc:
        raise SigningError(f"{final}: could not add Content Credentials ({exc}); no file was written") from None
    except OSError as exc:
        raise SigningError(f"{exc.filename or final}: could not add Content Credentials "
                           f"({exc.strerror or exc}); no file was written") from None
    except ValueError as exc:  # say, the trust anchors to check the result with cannot be read
        raise SigningError(f"{final}: could not add Content Credentials ({exc}); no file was written") from None
    finally:
        tmp.unlink(missing_ok=True)
        unsigned.unlink(missing_ok=True)


def _split(ingredients: list[Ingredient]) -> tuple[list[tuple[Ingredient, str]], list[dict[str, Any]]]:
    """Ingredients c2pa can read go in with their file (their own manifest comes along, so the
    chain of credentials is kept); the others (say, a Matroska source) as a description only."""
    import c2pa

    supported = set(c2pa.Builder.get_supported_mime_types())
    with_file, described = [], []
    for ingredient in ingredients:
        mime = mimetypes.guess_type(ingredient.path.name)[0] or "application/octet-stream"
        if mime in supported and ingredient.path.is_file():
            with_file.append((ingredient, mime))
        else:
            described.append({**ingredient.definition(), "format": mime})
    return with_file, described
