"""The Engine preference: This computer or Remote, remembered; the Jobs panel's engine line; and a
remote engine that cannot be reached failing the pending clip with a sentence, timeline intact.
(The server itself is tested in tests/serve.)"""
import socket

from PySide6.QtCore import QSettings

from desktop.engine_prefs import EngineDialog, engine_choice
from desktop.timeline_items import generation_status
from engine.remote_engine import RemoteEngine

TIMEOUT = 60_000


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def test_the_dialog_checks_the_url_and_remembers_the_choice(qtbot, isolated_settings):
    dialog = EngineDialog(isolated_settings)
    qtbot.addWidget(dialog)
    assert dialog.local.isChecked() and not dialog.url.isEnabled()
    dialog.remote.setChecked(True)
    dialog.url.setText("gpu-box:8765")
    dialog.save()
    assert "URL" in dialog.error.text() and engine_choice(isolated_settings) == (None, None)
    dialog.url.setText("http://gpu-box:8765/")
    dialog.token.setText("s3cret")
    dialog.save()
    assert engine_choice(isolated_settings) == ("http://gpu-box:8765", "s3cret")
    again = EngineDialog(isolated_settings)
    qtbot.addWidget(again)
    assert again.remote.isChecked() and again.url.text() == "http://gpu-box:8765"
    again.local.setChecked(True)
    again.save()
    assert engine_choice(isolated_settings) == (None, None)


def test_an_unreachable_remote_engine_fails_the_clip_with_a_sentence_and_keeps_the_cut(qtbot, window, media):
    url = closed_port_url()
    window.settings.setValue("engine/mode", "remote")
    window.settings.setValue("engine/url", url)
    window.bridge.use_engine(url, None)
    window.engine_status.refresh()
    qtbot.waitUntil(lambda: window.jobs_panel.engine.text().startswith(f"Engine: engine unreachable: {url}"),
                    timeout=TIMEOUT)
    assert isinstance(window.bridge.engine, RemoteEngine)

    track = window.document.video_tracks[0]
    window.edits.place_media(media[:1], track, 0)
    before = [(c.name, c.source_range) for c in track]
    params = dict(window.generate_panel.params(), prompt="a red ball", steps=2, seconds=0.5)
    handle = window.generation.request("extend_tail", params, list(track)[0])
    pending = list(track)[1]
    qtbot.waitUntil(lambda: generation_status(pending) == "failed", timeout=TIMEOUT)
    assert pending.metadata["latentcut"]["error"].lower().startswith(f"engine unreachable: {url}")
    assert [(c.name, c.source_range) for c in track][:1] == before
    assert pending.active_media_reference_key == "recipe"
    assert handle.state == window.jobs_panel.card(handle.id).state == "failed"

    window.bridge.use_engine(None)  # back to this computer: the panel says so
    window.engine_status.refresh()
    qtbot.waitUntil(lambda: window.jobs_panel.engine.text() == "Engine: this computer", timeout=TIMEOUT)
