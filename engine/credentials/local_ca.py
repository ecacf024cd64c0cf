"""The local signer: on first use, a certificate authority and an ES256 signing certificate
it issued, kept in the user's data folder. No reader trusts this CA (it exists only on this
machine), so its credentials read as valid but from an untrusted signer; a studio that needs
trusted credentials gives its own certificate chain and key instead."""
from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path

CERT_FILE = "signer-chain.pem"  # signing certificate, then the local CA
KEY_FILE = "signer-key.pem"     # the signing certificate's private key (mode 0600)
CA_FILE = "local-ca.pem"        # the CA alone, for anyone who chooses to trust it
_VALID_DAYS = 3650
_lock = threading.Lock()


def data_dir() -> Path:
    """LatentCut's per-user data folder: $LATENTCUT_DATA_DIR, else $XDG_DATA_HOME/latentcut,
    else ~/.local/share/latentcut."""
    explicit = os.environ.get("LATENTCUT_DATA_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "latentcut"


def credentials_dir() -> Path:
    return data_dir() / "credentials"


def local_signer() -> tuple[Path, Path]:
    """(certificate chain, private key) of the local signer, made on first use."""
    folder = credentials_dir()
    cert, key = folder / CERT_FILE, folder / KEY_FILE
    with _lock:
        if not (cert.is_file() and key.is_file()):
            _make(folder)
    return cert, key


def _make(folder: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    folder.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)  # tolerate a little clock skew
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "user"

    def name(common: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "LatentCut (local, untrusted)")])

    def usage(sign: bool, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                             encipher_only=False, decipher_only=False)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = name(f"LatentCut local CA ({user})")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(usage(sign=False, ca=True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())  # ES256: ECDSA on P-256 with SHA-256
    # C2PA wants an end-entity certificate with digitalSignature and a signing EKU.
    cert = (x509.CertificateBuilder().subject_name(name(f"LatentCut local signer ({user})")).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage(sign=True, ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    _write(folder / KEY_FILE, key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()), private=True)
    _write(folder / CA_FILE, ca.public_bytes(pem))
    # The chain last, so a half-made folder is made again on the next use.
    _write(folder / CERT_FILE, cert.public_bytes(pem) + ca.public_bytes(pem))


def _write(path: Path, data: bytes, private: bool = False) -> None:
    """Writes `data` under a temporary name and renames it; a private file is created 0600,
    so the key is never readable by others, not even for a moment."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
