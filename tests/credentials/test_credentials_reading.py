"""Reading credentials back: intact, tampered, stripped of the app's tag, absent, trusted;
and `latentcut verify` / `latentcut probe` saying so."""
import json

import pytest
from credentials_fixtures import tamper, write_take

from engine.credentials.local_ca import CA_FILE, credentials_dir
from engine.credentials.reading import read_credentials


def test_an_intact_take_is_a_generated_file_from_an_untrusted_signer(tmp_path):
    write_take(tmp_path / "shot.mp4")
    creds = read_credentials(tmp_path / "shot.mp4")
    assert creds.state == "untrusted" and creds.label == "untrusted signer" and creds.reason == ""
    assert creds.generated and creds.source_type == "trainedAlgorithmicMedia"
    assert creds.recipe["seed"] == 7 and creds.manifest_id.startswith("urn:c2pa:")
    assert "untrusted signer" in creds.summary()


def test_trusting_the_local_ca_makes_the_same_file_valid(tmp_path):
    write_take(tmp_path / "shot.mp4")
    creds = read_credentials(tmp_path / "shot.mp4", trust_anchors=str(credentials_dir() / CA_FILE))
    assert creds.state == "valid" and creds.label == "valid"


def test_one_changed_byte_makes_the_credentials_invalid(tmp_path, cli):
    write_take(tmp_path / "shot.mp4")
    tamper(tmp_path / "shot.mp4")
    creds = read_credentials(tmp_path / "shot.mp4")
    assert creds.state == "invalid" and "changed after signing" in creds.reason
    assert creds.generated  # what the manifest claims is still read, never trusted as valid
    for trust in (None, str(credentials_dir() / CA_FILE)):  # not even with the signer trusted
        assert read_credentials(tmp_path / "shot.mp4", trust_anchors=trust).state == "invalid"
    rc, out, err = cli("verify", tmp_path / "shot.mp4")
    assert rc == 1 and "INVALID" in out and "changed after signing" in out
    rc, out, _ = cli("probe", tmp_path / "shot.mp4")
    assert rc == 0 and json.loads(out)["credentials"]["state"] == "invalid"


def test_a_stripped_tag_still_reads_as_generated(tmp_path):
    """Renaming the `latentcut` tag's key in place hides it from probe; the manifest still
    says trained algorithmic media (and, the file having changed, that it is invalid)."""
    from engine.media.probe import probe

    write_take(tmp_path / "shot.mp4")
    data = (tmp_path / "shot.mp4").read_bytes()
    assert data.count(b"mdtalatentcut") == 1  # the key of the tag (QuickTime mdta keys)
    (tmp_path / "shot.mp4").write_bytes(data.replace(b"mdtalatentcut", b"mdtaxxxxxxxxx"))
    assert "latentcut" not in probe(tmp_path / "shot.mp4").metadata
    creds = read_credentials(tmp_path / "shot.mp4")
    assert creds.generated and creds.state == "invalid"


def test_a_file_without_credentials_reads_as_none(tmp_path, clip, cli):
    creds = read_credentials(clip)
    assert creds.state == "none" and creds.label == "none" and not creds.generated
    rc, out, _ = cli("verify", clip)
    assert rc == 3 and "no Content Credentials" in out
    rc, out, _ = cli("probe", clip)
    assert json.loads(out)["credentials"]["state"] == "none"


def test_verify_prints_the_chain_and_json(tmp_path, cli):
    write_take(tmp_path / "shot.mp4")
    rc, out, _ = cli("verify", tmp_path / "shot.mp4")
    assert rc == 0
    assert "signer is untrusted" in out and "c2pa.created (trainedAlgorithmicMedia)" in out
    assert "model tiny-test-model" in out and "seed 7" in out
    rc, out, _ = cli("verify", tmp_path / "shot.mp4", "--json")
    data = json.loads(out)
    assert rc == 0 and data["state"] == "untrusted" and data["report"]["store"]["active_manifest"] == data["manifest_id"]
    rc, out, _ = cli("verify", tmp_path / "shot.mp4", "--trust-anchors", credentials_dir() / CA_FILE)
    assert rc == 0 and "Content Credentials valid" in out


def test_verify_of_a_missing_file_names_it(tmp_path, cli):
    rc, _, err = cli("verify", tmp_path / "nope.mp4")
    assert rc == 1 and "nope.mp4" in err


def test_a_generated_file_s_manifest_gives_back_its_provenance(tmp_path, clip):
    write_take(tmp_path / "shot.mp4")
    prov = read_credentials(tmp_path / "shot.mp4").as_provenance()
    assert prov["generated"] is True and prov["op"] == "generate" and prov["seed"] == 7
    assert prov["prompt"] == "a red ball moving left over a field at sunset"
    assert prov["model"] == {"name": "tiny-test-model", "sha256": "ab" * 32}
    assert prov["credentials"]["state"] == "untrusted" and prov["credentials"]["manifest"].startswith("urn:c2pa:")
    assert read_credentials(clip).as_provenance() is None
