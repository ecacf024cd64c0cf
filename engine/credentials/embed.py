"""Signing a finished media file: the manifest goes into a copy that replaces the final name
in one rename, so the final name never holds an unsigned file."""
from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any

from engine.credentials.manifests import Ingredient
from engine.credentials.settings import SigningError, SigningSettings
from engine.credentials.signer import SignerMaterial, load_material, make_signer

# Containers c2pa can embed a manifest in, among those LatentCut writes.
EMBEDDABLE = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime"}


def check_can_sign(settings: SigningSettings, final: str | os.PathLike) -> SignerMaterial:
    """Fails early (before any frame is made) when `final` cannot carry credentials or the
    signer's files are wrong; returns the checked signer."""
    suffix = Path(final).suffix.lower()
    if suffix not in EMBEDDABLE:
        raise SigningError(f"{final}: a {suffix or 'file without an extension'} file cannot carry Content "
                           f"Credentials; write .mp4 or .mov, or turn signing off with --no-sign")
    return load_material(settings)


def sign_file(unsigned: Path, final: Path, definition: dict[str, Any], ingredients: list[Ingredient],
              settings: SigningSettings) -> None:
    """Signs `unsigned` into `final` (renamed into place when complete) and removes `unsigned`,
    whether signing worked or not. Raises SigningError with a sentence on any failure."""
    import c2pa

    tmp = final.with_name(f".{final.stem}.signing-{os.getpid()}{final.suffix}")
    try:
        material = check_can_sign(settings, final)
        with_file, described = _split(ingredients)
        builder = c2pa.Builder({**definition, "ingredients": described})
        for ingredient, mime in with_file:
            with open(ingredient.path, "rb") as stream:
                builder.add_ingredient(ingredient.definition(), mime, stream)
        with open(unsigned, "rb") as src, open(tmp, "w+b") as dst:
            builder.sign(make_signer(material), EMBEDDABLE[final.suffix.lower()], src, dst)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, final)
    except c2pa.C2paError as exc:
        raise SigningError(f"{final}: could not add Content Credentials ({exc}); no file was written") from None
    except OSError as exc:
        raise SigningError(f"{exc.filename or final}: could not add Content Credentials "
                           f"({exc.strerror or exc}); no file was written") from None
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
