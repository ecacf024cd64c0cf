"""Content Credentials in the app: the Media panel's and the Inspector's badge for a signed
take, a tampered one, an untrusted and a trusted signer, and a camera file; the preferences
dialog and the engine signing with what it saved."""
import shutil

import opentimelineio as otio
import pytest
from credentials_fixtures import tamper, write_take

from desktop.credentials_prefs import CredentialsDialog, signing_settings
from desktop.credentials_view import CredentialsReader
from desktop.panels.inspector_panel import InspectorPanel
from desktop.panels.media_panel import CRED_ROLE, MediaPanel
from desktop.undo import UndoStack
from engine.credentials.local_ca import CA_FILE, credentials_dir, local_signer
from timeline import Document
from timeline.edits import Append
from timeline.generated import AddTake, PlacePendingClip, make_pending_clip

RT = otio.opentime.RationalTime


@pytest.fixture
def files(tmp_path, media):
    signed = tmp_path / "signed.mp4"
    write_take(signed, count=24, rate=24.0)
    tampered = tmp_path / "tampered.mp4"
    shutil.copy(signed, tampered)
    tamper(tampered)
    return {"untrusted": signed, "invalid": tampered, "none": media[0]}


def test_the_media_panel_shows_each_file_s_state(qtbot, files):
    panel = MediaPanel(None)
    qtbot.addWidget(panel)
    panel.show()
    panel.add_files(list(files.values()))
    for state, path in files.items():
        qtbot.waitUntil(lambda p=path: panel.credentials(p) is not None, timeout=30000)
        assert panel.credentials(path).state == state
        item = panel._items[str(path)]
        qtbot.waitUntil(lambda i=item: i.data(CRED_ROLE) is not None, timeout=30000)
        assert item.data(CRED_ROLE).state == state
    assert "changed after signing" in panel._items[str(files["invalid"])].toolTip()
    panel.grab()  # paints every badge without error
    panel.wait_for_background()


def test_the_inspector_badge_follows_the_active_take(qtbot, tmp_path, files):
    doc = Document.new(rate=24, width=64, height=32)
    stack = UndoStack(doc)
    reader = CredentialsReader(trust_anchors=str(credentials_dir() / CA_FILE))  # the local CA trusted here
    panel = InspectorPanel(stack, credentials=reader)
    qtbot.addWidget(panel)
    panel.show()
    clip = make_pending_clip("generate", {"prompt": "p"}, RT(24, 24), name="shot")
    stack.push_command(PlacePendingClip(clip, doc.video_tracks[0], RT(0, 24)))
    available = otio.opentime.TimeRange(RT(0, 24), RT(24, 24))
    stack.push_command(AddTake(clip, str(files["untrusted"]), available, {}))
    panel.set_item(clip)
    qtbot.waitUntil(lambda: panel.credentials_badge.state == "valid", timeout=30000)
    assert "valid" in panel.credentials_badge.text()
    stack.push_command(AddTake(clip, str(files["invalid"]), available, {}))
    qtbot.waitUntil(lambda: panel.credentials_badge.state == "invalid", timeout=30000)
    assert "invalid" in panel.credentials_badge.text()

    camera = otio.schema.Clip(name="camera", media_reference=otio.schema.ExternalReference(
        target_url=str(files["none"]), available_range=available), source_range=available)
    stack.push_command(Append(doc.video_tracks[0], camera))
    panel.set_item(camera)
    qtbot.waitUntil(lambda: panel.credentials_badge.state == "none", timeout=30000)
    panel.set_item(doc.video_tracks[0][0])  # a generated clip again: the answer is remembered
    assert panel.credentials_badge.state == "invalid"
    reader.wait()


def test_the_preferences_dialog_checks_and_saves_a_studio_signer(qtbot, isolated_settings, tmp_path):
    cert, key = local_signer()
    dialog = CredentialsDialog(isolated_settings)
    qtbot.addWidget(dialog)
    dialog.fields["cert"].setText(str(cert))
    dialog.save()
    assert "private key" in dialog.error.text() and not isolated_settings.value("credentials/cert")
    dialog.fields["key"].setText(str(key))
    dialog.fields["tsa_url"].setText("ftp://nope")
    dialog.save()
    assert "--tsa-url" in dialog.error.text() or "URL" in dialog.error.text()
    dialog.fields["tsa_url"].setText("")
    dialog.fields["trust_anchors"].setText(str(credentials_dir() / CA_FILE))
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted
    settings = signing_settings(isolated_settings)
    assert (settings.cert, settings.key, settings.is_local) == (str(cert), str(key), False)
    assert settings.trust_anchors == str(credentials_dir() / CA_FILE)


def test_the_app_signs_renders_with_its_preferences(qtbot, window, tmp_path, media, monkeypatch):
    """With the trust anchors saved in the preferences, the app's own render reads as valid in
    its Media panel."""
    from PySide6.QtWidgets import QDialog

    window.settings.setValue("credentials/trust_anchors", str(credentials_dir() / CA_FILE))
    monkeypatch.setattr(CredentialsDialog, "exec", lambda self: QDialog.DialogCode.Accepted)
    assert window.edit_credentials()
    out = tmp_path / "cut.mp4"
    from engine.jobs import RenderJob

    doc = Document.new(rate=8, width=64, height=32)
    rng = otio.opentime.TimeRange(RT(0, 8), RT(8, 8))
    Append(doc.video_tracks[0], otio.schema.Clip(name="red", media_reference=otio.schema.ExternalReference(
        target_url=media[0], available_range=rng), source_range=rng)).do(doc)
    handle = window.bridge.submit(RenderJob(output=str(out), timeline_json=doc.timeline.to_json_string()))
    with qtbot.waitSignal(handle.done, timeout=60000):
        pass
    window.media_panel.add_files([out])
    qtbot.waitUntil(lambda: window.media_panel.credentials(out) is not None, timeout=30000)
    assert window.media_panel.credentials(out).state == "valid"


def test_a_dropped_take_without_its_tag_is_placed_as_a_generated_clip(qtbot, window, tmp_path):
    from timeline.provenance import APP_KEY, is_generated

    write_take(tmp_path / "shot.mp4", count=24, rate=24.0)
    data = (tmp_path / "shot.mp4").read_bytes()
    (tmp_path / "stripped.mp4").write_bytes(data.replace(b"mdtalatentcut", b"mdtaxxxxxxxxx"))
    window.edits.place_media([str(tmp_path / "stripped.mp4")], window.document.video_tracks[0], 0)
    [clip] = window.document.video_tracks[0].find_clips()
    assert is_generated(clip) and clip.metadata[APP_KEY]["credentials"]["state"] == "invalid"
    window.inspector.set_item(clip)
    qtbot.waitUntil(lambda: window.inspector.credentials_badge.state == "invalid", timeout=30000)


def test_export_says_which_take_s_credentials_changed_since_it_was_made(window, tmp_path):
    take = write_take(tmp_path / "shot.mp4", count=24, rate=24.0)
    clip = make_pending_clip("generate", {"prompt": "p"}, RT(24, 24), name="shot")
    window.undo_stack.push_command(PlacePendingClip(clip, window.document.video_tracks[0], RT(0, 24)))
    available = otio.opentime.TimeRange(RT(0, 24), RT(24, 24))
    window.undo_stack.push_command(AddTake(clip, take["path"], available, take["provenance"]))
    tamper(tmp_path / "shot.mp4")
    asked = []
    window.actions.prompt = lambda title, text, choices: asked.append((title, text)) or "OK"
    report = window.actions.export(tmp_path / "cut.otio")
    [(title, text)] = asked
    assert title == "Exported" and report.dropped == []
    assert "clip 'shot' (take-1, shot.mp4): Content Credentials changed from untrusted to invalid" in text
    exported = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    assert exported.find_clips()[0].metadata["latentcut"]["credentials"]["state"] == "invalid"
