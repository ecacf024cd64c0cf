"""Every file the result writer makes carries a signed C2PA manifest that c2pa's own Reader
reads back: the created action, trained algorithmic media, the model, the recipe and, for
footage-based operations, the source as an ingredient with its own manifest."""
import json
import os
import shutil

import c2pa
import numpy as np
import pytest
from credentials_fixtures import write_take

from engine.credentials import SigningError, SigningSettings
from engine.credentials.embed import sign_file
from engine.credentials.local_ca import KEY_FILE, credentials_dir, local_signer
from engine.credentials.manifests import TRAINED, generated_manifest
from engine.jobs import ExtendJob, MediaInput
from engine.media.reader import FrameReader
from engine.media.writer import write_video

TRAINED_URL = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _active(path):
    with c2pa.Reader(str(path)) as reader:
        return reader.get_active_manifest(), reader.get_validation_state(), reader.get_validation_results()


def _actions(manifest):
    return [a for s in manifest["assertions"] if s["label"].startswith("c2pa.actions") for a in s["data"]["actions"]]


def test_a_generated_take_reads_back_with_c2pa(tmp_path):
    result = write_take(tmp_path / "shot.mp4")
    manifest, state, results = _active(tmp_path / "shot.mp4")
    assert state == "Valid"  # a correct signature; the local CA is in no trust list
    assert [f["code"] for f in results["activeManifest"]["failure"]] == ["signingCredential.untrusted"]
    [created] = _actions(manifest)
    assert created["action"] == "c2pa.created" and created["digitalSourceType"] == TRAINED_URL == TRAINED
    agent = created["softwareAgent"]
    assert agent["name"] == "LatentCut" and agent["version"] == "0.1.0"
    assert agent["org.latentcut.model"] == {"name": "tiny-test-model", "sha256": "ab" * 32}
    recipe = next(s["data"] for s in manifest["assertions"] if s["label"] == "org.latentcut.recipe")
    assert recipe["op"] == "generate" and recipe["prompt"] == "a red ball moving left over a field at sunset"
    assert (recipe["seed"], recipe["steps"], recipe["guidance"]) == (7, 3, 4.0)
    assert {"negative_prompt", "strength"} <= set(recipe)
    assert manifest.get("ingredients", []) == []
    assert result["provenance"]["credentials"]["manifest"] == manifest["label"]
    # The container tag is still there beside the manifest.
    from engine.media.probe import probe
    assert json.loads(probe(tmp_path / "shot.mp4").metadata["latentcut"])["seed"] == 7


def test_extend_lists_its_source_with_the_source_s_own_manifest(tmp_path, clip):
    source = tmp_path / "source.mp4"
    write_take(source)
    job = ExtendJob(source=MediaInput(str(source)), seconds=1, seed=3, output=str(tmp_path / "ext.mp4"))
    write_take(tmp_path / "ext.mp4", job=job)
    camera = ExtendJob(source=MediaInput(str(clip)), seconds=1, seed=3, output=str(tmp_path / "ext2.mp4"))
    write_take(tmp_path / "ext2.mp4", job=camera)

    manifest, state, _ = _active(tmp_path / "ext.mp4")
    assert state == "Valid"
    [ingredient] = manifest["ingredients"]
    assert ingredient["title"] == "source.mp4" and ingredient["relationship"] == "inputTo"
    source_manifest, _, _ = _active(source)
    assert ingredient["active_manifest"] == source_manifest["label"]  # the chain of credentials
    [created] = _actions(manifest)
    assert len(created["parameters"]["ingredients"]) == 1

    manifest, _, _ = _active(tmp_path / "ext2.mp4")
    [ingredient] = manifest["ingredients"]
    assert ingredient["title"] == "clip.mp4" and "active_manifest" not in ingredient  # camera footage


def test_signing_does_not_change_a_pixel(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, (10, 32, 64, 3), dtype=np.uint8)
    unsigned = write_video(tmp_path / "unsigned.mp4", pixels, 8.0)
    shutil.copy(unsigned, tmp_path / "copy.mp4")
    prov = {"op": "generate", "model": {"name": "m", "sha256": "0" * 64}, "engine_version": "0.1.0", "source": []}
    sign_file(tmp_path / "copy.mp4", tmp_path / "signed.mp4", *generated_manifest(prov, "signed.mp4"),
              SigningSettings())
    assert (tmp_path / "signed.mp4").stat().st_size > unsigned.stat().st_size  # the manifest went in
    before, after = FrameReader(unsigned), FrameReader(tmp_path / "signed.mp4")
    try:
        assert before.frame_count == after.frame_count == 10
        for i in range(10):
            assert np.array_equal(before.read(i), after.read(i)), f"frame {i} changed"
    finally:
        before.close()
        after.close()


def test_the_local_signer_is_made_once_with_a_private_key(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTCUT_DATA_DIR", str(tmp_path / "data"))
    cert, key = local_signer()
    assert key == credentials_dir() / KEY_FILE and key.parent.parent == tmp_path / "data"
    assert os.stat(key).st_mode & 0o777 == 0o600
    first = key.read_bytes()
    assert local_signer() == (cert, key) and key.read_bytes() == first  # made on first use only
    write_take(tmp_path / "shot.mp4")
    manifest, _, _ = _active(tmp_path / "shot.mp4")
    assert manifest["signature_info"]["common_name"].startswith("LatentCut local signer")


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_key_that_does_not_match_fails_cleanly(tmp_path, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    cert, _ = local_signer()
    wrong = tmp_path / "keys" / "wrong.pem"
    wrong.parent.mkdir()
    wrong.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SigningError, match="does not belong to the signing certificate"):
        write_take(out / "shot.mp4", signing=SigningSettings(cert=str(cert), key=str(wrong)))
    assert _leftovers(out) == []


@pytest.mark.parametrize("content, words", [(b"not a key", "not a PEM private key"), (None, "not found")])
def test_a_bad_or_missing_key_fails_cleanly(tmp_path, content, words):
    cert, _ = local_signer()
    key = tmp_path / "key.pem"
    if content is not None:
        key.write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SigningError, match=words) as info:
        write_take(out / "shot.mp4", signing=SigningSettings(cert=str(cert), key=str(key)))
    assert str(key) in str(info.value)
    assert _leftovers(out) == []


def test_a_failure_inside_c2pa_leaves_no_file(tmp_path, monkeypatch):
    """The key checks pass, then the library refuses (an unreachable timestamp authority):
    the unsigned encode is removed and nothing takes the final name."""
    out = tmp_path / "out"
    out.mkdir()
    settings = SigningSettings(tsa_url="http://127.0.0.1:9/")  # nothing listens on the discard port
    with pytest.raises(SigningError, match="shot.mp4"):
        write_take(out / "shot.mp4", signing=settings)
    assert _leftovers(out) == []


def test_a_format_that_cannot_carry_credentials_fails_before_writing(tmp_path):
    with pytest.raises(SigningError, match="cannot carry Content Credentials"):
        write_take(tmp_path / "shot.webm")
    assert _leftovers(tmp_path) == []
    result = write_take(tmp_path / "shot.mkv", signing=SigningSettings(enabled=False))
    assert "credentials" not in result["provenance"] and (tmp_path / "shot.mkv").is_file()


def test_settings_come_from_flags_then_environment_then_preferences():
    env = {"LATENTCUT_SIGN_CERT": "env.pem", "LATENTCUT_SIGN_KEY": "env.key", "LATENTCUT_TSA_URL": "http://tsa"}
    prefs = {"cert": "pref.pem", "key": "pref.key", "trust_anchors": "cas.pem"}
    s = SigningSettings.resolve(cert="flag.pem", key="flag.key", environ=env, preferences=prefs)
    assert (s.cert, s.key, s.tsa_url, s.trust_anchors) == ("flag.pem", "flag.key", "http://tsa", "cas.pem")
    s = SigningSettings.resolve(environ=env, preferences=prefs)
    assert (s.cert, s.key) == ("env.pem", "env.key")
    s = SigningSettings.resolve(environ={}, preferences=prefs)
    assert (s.cert, s.key, s.is_local) == ("pref.pem", "pref.key", False)
    assert SigningSettings.resolve(environ={}).is_local
    assert not SigningSettings.resolve(no_sign=True, environ={}).enabled
    with pytest.raises(ValueError, match="LATENTCUT_SIGN_KEY"):
        SigningSettings.resolve(environ={"LATENTCUT_SIGN_CERT": "c.pem"})
    with pytest.raises(ValueError, match="--sign-cert"):
        SigningSettings.resolve(key="k.pem", environ={})
    with pytest.raises(ValueError, match="--tsa-url"):
        SigningSettings.resolve(tsa_url="ftp://x", environ={})
