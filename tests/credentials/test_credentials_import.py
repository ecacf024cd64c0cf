"""On import (`latentcut add`, the app's drop) credentials are read: a file whose manifest says
trained algorithmic media becomes a generated clip even without its `latentcut` tag."""
import shutil

import opentimelineio as otio
from credentials_fixtures import frames, write_take

from engine.credentials import SigningSettings
from engine.credentials.embed import sign_file
from engine.credentials.manifests import generated_manifest
from engine.media.importing import clips_for_file
from engine.media.probe import probe
from engine.media.writer import write_video
from timeline.project import load_project
from timeline.provenance import APP_KEY, is_generated


def _untagged_signed(tmp_path):
    """A clip signed as generated whose container never had the `latentcut` tag."""
    plain = write_video(tmp_path / "plain.mp4", frames(8), 8.0)
    prov = {"op": "restyle", "prompt": "at night", "seed": 11, "steps": 4, "guidance": 3.0, "strength": 0.6,
            "model": {"name": "tiny-test-model", "sha256": "cd" * 32}, "engine_version": "0.1.0", "source": []}
    sign_file(plain, tmp_path / "untagged.mp4", *generated_manifest(prov, "untagged.mp4"), SigningSettings())
    assert "latentcut" not in probe(tmp_path / "untagged.mp4").metadata
    return tmp_path / "untagged.mp4"


def test_a_signed_file_without_its_tag_is_imported_as_generated(tmp_path):
    made = clips_for_file(_untagged_signed(tmp_path), rate=8)
    assert made.generated and is_generated(made.video)
    md = made.video.metadata[APP_KEY]
    assert (md["op"], md["seed"], md["prompt"]) == ("restyle", 11, "at night")
    assert md["model"]["sha256"] == "cd" * 32
    assert md["credentials"]["state"] == "untrusted" and made.credentials.state == "untrusted"


def test_add_marks_a_stripped_or_tampered_take_generated_with_its_state(tmp_path, cli):
    write_take(tmp_path / "shot.mp4")
    data = (tmp_path / "shot.mp4").read_bytes()
    (tmp_path / "stripped.mp4").write_bytes(data.replace(b"mdtalatentcut", b"mdtaxxxxxxxxx"))
    shutil.copy(tmp_path / "shot.mp4", tmp_path / "intact.mp4")
    project = tmp_path / "p.otio"
    assert cli("new", project, "--rate", "8", "--size", "64x32").rc == 0
    res = cli("add", project, tmp_path / "intact.mp4", tmp_path / "stripped.mp4", _untagged_signed(tmp_path))
    assert res.rc == 0, res.err
    assert "untrusted signer" in res.out and "invalid" in res.out
    clips = load_project(project).timeline.find_clips()
    assert [is_generated(c) for c in clips] == [True, True, True]
    states = [c.metadata[APP_KEY]["credentials"]["state"] for c in clips]
    assert states == ["untrusted", "invalid", "untrusted"]


def test_camera_footage_stays_a_plain_clip_with_no_credentials(clip):
    made = clips_for_file(clip, rate=8)
    assert not made.generated and made.credentials.state == "none"
    assert APP_KEY not in made.video.metadata or "credentials" not in made.video.metadata[APP_KEY]
