"""Loading a signing certificate chain and its private key, checked before c2pa sees them so
that a wrong file gets a sentence naming it rather than a library error. A checked signer is
kept for the process and loaded again only when one of its files changes, so a session that
signs many takes reads and checks its key once."""
from __future__ import annotations

import datetime as dt
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from engine.credentials.local_ca import local_signer
from engine.credentials.settings import SigningError, SigningSettings


@dataclass(frozen=True)
class SignerMaterial:
    alg: str          # c2pa's name: es256, es384, es512, ps256, ed25519
    chain: bytes      # PEM, signing certificate first
    key: bytes        # PEM private key
    tsa_url: str | None
    subject: str      # the signing certificate's common name, for messages
    expires: dt.datetime


_checked: dict[SigningSettings, tuple[tuple, SignerMaterial]] = {}
_checked_lock = threading.Lock()


def checked_material(settings: SigningSettings) -> SignerMaterial:
    """The checked signer of `settings` (the local one, made on first use, when the settings
    name none): loaded once, then again only when its certificate or key file changed or the
    certificate expired. Raises SigningError naming the file that is wrong (a failure is not
    kept, so the next call checks again). Callers wait while another thread loads it."""
    with _checked_lock:
        cert_path, key_path = _paths(settings)
        stamp = (_stamp(cert_path), _stamp(key_path))
        known = _checked.get(settings)
        if known and known[0] == stamp and known[1].expires > dt.datetime.now(dt.timezone.utc):
            return known[1]
        material = _load(cert_path, key_path, settings.tsa_url)
        _checked[settings] = (stamp, material)
        return material


def _paths(settings: SigningSettings) -> tuple[Path, Path]:
    return local_signer() if settings.is_local else (Path(settings.cert), Path(settings.key))


def _stamp(path: Path) -> tuple | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _load(cert_path: Path, key_path: Path, tsa_url: str | None) -> SignerMaterial:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

    chain_pem, key_pem = _read(cert_path, "signing certificate"), _read(key_path, "signing key")
    try:
        chain = x509.load_pem_x509_certificates(chain_pem)
    except ValueError:
        raise SigningError(f"{cert_path}: not a PEM certificate chain") from None
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise SigningError(f"{key_path}: the signing key is encrypted; give an unencrypted PEM key") from None
    except ValueError:
        raise SigningError(f"{key_path}: not a PEM private key") from None
    leaf = chain[0]
    if leaf.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo) != \
            key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise SigningError(f"{key_path}: this key does not belong to the signing certificate in {cert_path}")
    now = dt.datetime.now(dt.timezone.utc)
    if leaf.not_valid_after_utc < now:
        raise SigningError(f"{cert_path}: the signing certificate expired on {leaf.not_valid_after_utc:%Y-%m-%d}")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = {256: "es256", 384: "es384", 521: "es512"}.get(key.curve.key_size)
    elif isinstance(key, ed25519.Ed25519PrivateKey):
        alg = "ed25519"
    elif isinstance(key, rsa.RSAPrivateKey):
        alg = "ps256"
    else:
        alg = None
    if alg is None:
        raise SigningError(f"{key_path}: C2PA cannot sign with this kind of key; use EC P-256/384/521, Ed25519 or RSA")
    names = leaf.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return SignerMaterial(alg, chain_pem, key_pem, tsa_url,
                          str(names[0].value) if names else leaf.subject.rfc4514_string(), leaf.not_valid_after_utc)


def make_signer(material: SignerMaterial):
    """A c2pa Signer (one per signing: the library closes it with its builder)."""
    import c2pa

    info = c2pa.C2paSignerInfo(material.alg.encode(), material.chain, material.key,
                               material.tsa_url.encode() if material.tsa_url else None)
    try:
        return c2pa.Signer.from_info(info)
    except c2pa.C2paError as exc:
        raise SigningError(f"the signer {material.subject!r} was refused: {exc}") from None


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SigningError(f"{path}: {what} not found") from None
    except OSError as exc:
        raise SigningError(f"{path}: cannot read the {what} ({exc.strerror or exc})") from None
