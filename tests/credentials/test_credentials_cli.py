"""The signing options of the commands that write media: a studio signer by flag or
environment, --no-sign said on stderr, a bad key failing with a sentence and no file."""
import pytest

from engine.credentials.local_ca import CA_FILE, credentials_dir, local_signer
from engine.credentials.reading import read_credentials

FAST = ["--steps", "2", "--seed", "5", "--seconds", "0.5", "--rate", "8"]


@pytest.fixture
def project(tmp_path, clip, cli):
    path = tmp_path / "p.otio"
    assert cli("new", path, "--rate", "8", "--size", "64x32").rc == 0
    assert cli("add", path, clip).rc == 0
    return path


def test_generate_signs_with_a_studio_signer_from_the_environment(cli, tmp_path, tiny_model, monkeypatch):
    cert, key = local_signer()  # stands in for a studio's chain and key
    monkeypatch.setenv("LATENTCUT_SIGN_CERT", str(cert))
    monkeypatch.setenv("LATENTCUT_SIGN_KEY", str(key))
    monkeypatch.setenv("LATENTCUT_TRUST_ANCHORS", str(credentials_dir() / CA_FILE))
    rc, _, err = cli("generate", "a red ball", "-o", tmp_path / "shot.mp4", "--model", tiny_model, *FAST)
    assert rc == 0, err
    rc, out, _ = cli("verify", tmp_path / "shot.mp4")
    assert rc == 0 and "Content Credentials valid" in out


def test_no_sign_says_so_and_writes_a_file_without_credentials(cli, tmp_path, tiny_model, project):
    rc, _, err = cli("generate", "a red ball", "-o", tmp_path / "shot.mp4", "--model", tiny_model, "--no-sign", *FAST)
    assert rc == 0 and "--no-sign" in err and "no Content Credentials" in err
    assert read_credentials(tmp_path / "shot.mp4").state == "none"
    rc, _, err = cli("render", project, tmp_path / "cut.mp4", "--no-sign")
    assert rc == 0 and "--no-sign" in err
    assert read_credentials(tmp_path / "cut.mp4").state == "none"
    rc, _, err = cli("render", project, tmp_path / "cut.mkv", "--no-sign")  # Matroska cannot carry credentials
    assert rc == 0, err


def test_render_signs_by_default(cli, tmp_path, project):
    rc, _, err = cli("render", project, tmp_path / "cut.mp4")
    assert rc == 0, err
    assert read_credentials(tmp_path / "cut.mp4").state == "untrusted"


def test_a_bad_key_fails_with_a_sentence_and_no_file(cli, tmp_path, tiny_model, project):
    cert, _ = local_signer()
    (tmp_path / "key.pem").write_text("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n")
    bad = ["--sign-cert", cert, "--sign-key", tmp_path / "key.pem"]
    rc, _, err = cli("generate", "a red ball", "-o", tmp_path / "shot.mp4", "--model", tiny_model, *bad, *FAST)
    assert rc == 1 and "key.pem: not a PEM private key" in err and "Traceback" not in err
    rc, _, err = cli("render", project, tmp_path / "cut.mp4", *bad)
    assert rc == 1 and "key.pem" in err
    assert not (tmp_path / "shot.mp4").exists() and not (tmp_path / "cut.mp4").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    rc, _, err = cli("render", project, tmp_path / "cut.mp4", "--sign-key", tmp_path / "key.pem")
    assert rc == 1 and "--sign-cert" in err  # half a studio signer is refused
