"""Signing is prepared while the model loads and checked before the file gets its name:
the signer is loaded in a background thread once per process (again when its files change),
and a signed copy that does not verify never takes the final name."""
import threading

import c2pa
import pytest
from credentials_fixtures import write_take

from engine.credentials import SigningError, SigningSettings
from engine.credentials import signer as signer_module
from engine.credentials.local_ca import KEY_FILE, credentials_dir, local_signer
from engine.credentials.reading import read_credentials
from engine.jobs import GenerateJob
from engine.results import check_signing


def _join_preparation():
    for thread in threading.enumerate():
        if thread.name == "latentcut-sign-prepare":
            thread.join(timeout=60)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def loads(monkeypatch):
    """The name of the thread each time a signer's files are read and checked."""
    _join_preparation()  # none left over from an earlier test
    seen = []
    real = signer_module._load

    def spy(*args):
        seen.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(signer_module, "_load", spy)
    return seen


def test_the_local_signer_is_made_and_loaded_in_the_background_once(tmp_path, monkeypatch, loads):
    monkeypatch.setenv("LATENTCUT_DATA_DIR", str(tmp_path / "data"))
    job = GenerateJob(prompt="a red ball", seed=1, output=str(tmp_path / "shot.mp4"))
    check_signing(job, SigningSettings())  # returns at once: the model loads meanwhile
    _join_preparation()
    assert loads == ["latentcut-sign-prepare"]
    assert (credentials_dir() / KEY_FILE).is_file()  # the local signer was made there

    first = write_take(tmp_path / "shot.mp4")
    second = write_take(tmp_path / "again.mp4", shift=3)
    assert loads == ["latentcut-sign-prepare"]  # both takes signed with the prepared signer
    assert first["provenance"]["credentials"]["state"] == second["provenance"]["credentials"]["state"] == "untrusted"
    assert read_credentials(tmp_path / "again.mp4").manifest_id == second["provenance"]["credentials"]["manifest"]


def test_a_broken_local_key_fails_at_signing_with_a_sentence_and_no_file(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTCUT_DATA_DIR", str(tmp_path / "data"))
    _, key = local_signer()
    key.write_bytes(b"damaged")
    check_signing(GenerateJob(prompt="a red ball", output=str(tmp_path / "out" / "shot.mp4")), SigningSettings())
    _join_preparation()  # the background preparation fails quietly...
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SigningError, match="not a PEM private key") as info:  # ...signing says why
        write_take(out / "shot.mp4")
    assert str(key) in str(info.value)
    assert _leftovers(out) == []


def test_a_studio_key_that_changes_between_takes_is_checked_again(tmp_path, loads):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    cert, key = local_signer()
    studio_key = tmp_path / "studio.pem"
    studio_key.write_bytes(key.read_bytes())
    settings = SigningSettings(cert=str(cert), key=str(studio_key))
    write_take(tmp_path / "one.mp4", signing=settings)
    write_take(tmp_path / "two.mp4", signing=settings)
    assert len(loads) == 1  # checked once (before any work: a studio's files are named at once)

    studio_key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SigningError, match="does not belong to the signing certificate"):
        write_take(out / "three.mp4", signing=settings)
    assert _leftovers(out) == []


def test_a_signed_copy_that_does_not_verify_never_takes_the_final_name(tmp_path, monkeypatch):
    """A fault between c2pa writing the signed copy and the rename (here one byte of the media
    changed as it was written) is caught by the read-back, which happens before the rename."""
    real = c2pa.Builder.sign

    def faulty_disk(self, signer, mime, src, dst):
        manifest = real(self, signer, mime, src, dst)
        dst.seek(0)
        data = bytearray(dst.read())
        at = data.index(b"mdat") + 64
        dst.seek(at)
        dst.write(bytes([data[at] ^ 0x01]))
        return manifest

    monkeypatch.setattr(c2pa.Builder, "sign", faulty_disk)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SigningError, match="does not verify .*changed after signing.*no file was written"):
        write_take(out / "shot.mp4")
    assert _leftovers(out) == []
