"""Inspector panel on a real Document and undo stack: properties, recipe, takes, provenance."""
import numpy as np
import opentimelineio as otio
import pytest
from PySide6.QtCore import QPoint, Qt

from desktop.panels.inspector_panel import InspectorPanel
from desktop.undo import UndoStack
from engine.media.writer import write_video
from timeline import Document
from timeline.edits import Append
from timeline.generated import AddTake, MarkFailed, PlacePendingClip, make_pending_clip

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange

PARAMS = {"prompt": "a red ball moving left over a field at sunset", "negative_prompt": "blur", "seed": 42,
          "steps": 8, "guidance": 4.0, "strength": 0.7, "structure_weight": 0.5, "seconds": 1.0, "model": None}


def take_file(path, shade):
    frames = np.full((24, 36, 64, 3), shade, np.uint8)
    return write_video(path, frames, 24)


@pytest.fixture
def stack():
    doc = Document.new(rate=24, width=64, height=36)
    return UndoStack(doc)


@pytest.fixture
def panel(qtbot, stack):
    p = InspectorPanel(stack)
    qtbot.addWidget(p)
    p.resize(340, 700)
    p.show()
    return p


def flush(qtbot):
    qtbot.wait(10)  # the panel coalesces document events into one refresh on the next loop pass


def place_generated(stack, tmp_path, takes=2):
    track = stack.document.video_tracks[0]
    clip = make_pending_clip("generate", PARAMS, RT(24, 24), name="shot 1")
    stack.push_command(PlacePendingClip(clip, track, RT(24, 24)))
    for n in range(takes):
        path = take_file(tmp_path / f"take{n + 1}.mp4", 60 + 60 * n)
        prov = {"seed": 42 + n, "model": {"name": "tiny-random", "sha256": "ab" * 32},
                "created": f"2026-11-24T06:0{n}:00", "engine_version": "0.1.0"}
        stack.push_command(AddTake(clip, path, TR(RT(0, 24), RT(24, 24)), prov))
    return clip


def test_empty_state(panel):
    assert not panel.empty.isHidden() and panel.details.isHidden()


def test_plain_clip_properties_rename_and_disable(qtbot, panel, stack, tmp_path):
    media = take_file(tmp_path / "camera.mp4", 128)
    clip = otio.schema.Clip(name="camera", media_reference=otio.schema.ExternalReference(
        target_url=str(media), available_range=TR(RT(0, 24), RT(24, 24))),
        source_range=TR(RT(6, 24), RT(12, 24)))
    stack.push_command(Append(stack.document.video_tracks[0], clip))
    panel.set_item(clip)
    assert panel.kind.text() == "Clip on V1"
    assert panel.fields["start"].text() == "00:00:00:00"
    assert panel.fields["duration"].text() == "00:00:00:12  (0.50 s)"
    assert panel.fields["source"].text() == "00:00:00:06 – 00:00:00:18"
    assert panel.fields["media"].text() == str(media)
    assert panel.generated.isHidden() and panel.badge.isHidden()

    panel.name.setText("camera A")
    panel.name.editingFinished.emit()
    assert clip.name == "camera A" and stack.count() == 2
    qtbot.mouseClick(panel.enabled, Qt.LeftButton, pos=QPoint(8, panel.enabled.height() // 2))  # on the box
    assert clip.enabled is False
    stack.undo()
    stack.undo()
    flush(qtbot)
    assert clip.name == "camera" and clip.enabled is True
    assert panel.name.text() == "camera" and panel.enabled.isChecked()


def test_gap_shows_its_range(panel, stack):
    track = stack.document.video_tracks[0]
    stack.push_command(Append(track, otio.schema.Gap(source_range=TR(RT(0, 24), RT(48, 24)))))
    panel.set_item(track[0])
    assert panel.kind.text() == "Gap on V1"
    assert panel.fields["duration"].text().startswith("00:00:02:00")
    assert panel.generated.isHidden()


def test_generated_clip_recipe_takes_and_provenance(qtbot, panel, stack, tmp_path):
    clip = place_generated(stack, tmp_path)
    panel.set_item(clip)
    assert panel.kind.text() == "Generated clip on V1"
    assert panel.badge.text() == "AI · 2 takes"
    assert panel.recipe_fields["prompt"].text() == PARAMS["prompt"]
    assert panel.recipe_fields["op"].text() == "generate"
    assert panel.recipe_fields["steps"].text() == "8"
    assert panel.recipe_fields["negative_prompt"].text() == "blur"
    assert panel.recipe_fields["structure_weight"].text() == "0.5"
    rows = [panel.takes.item(i).text() for i in range(panel.takes.count())]
    assert rows[0].startswith("○  take-1") and "seed 42" in rows[0]
    assert rows[1].startswith("●  take-2") and "seed 43" in rows[1]  # the newest take is active
    assert panel.provenance_fields["sha256"].text() == "ab" * 32
    assert panel.provenance_fields["model_name"].text() == "tiny-random"
    assert panel.provenance_fields["engine_version"].text() == "0.1.0"
    assert panel.provenance_fields["file"].text().endswith("take2.mp4")
    assert "take-2 in use" in panel.status.text()
    assert panel.regenerate_same.isEnabled()


def test_switch_and_delete_takes_are_undoable(qtbot, panel, stack, tmp_path):
    clip = place_generated(stack, tmp_path)
    panel.set_item(clip)
    panel.takes.setCurrentRow(0)
    assert panel.use_take.isEnabled()
    qtbot.mouseClick(panel.use_take, Qt.LeftButton)
    assert clip.active_media_reference_key == "take-1"
    flush(qtbot)
    assert panel.takes.item(0).text().startswith("●  take-1")
    assert panel.provenance_fields["file"].text().endswith("take1.mp4")

    panel.takes.setCurrentRow(1)
    qtbot.mouseClick(panel.delete_take, Qt.LeftButton)
    assert sorted(k for k in clip.media_references() if k != "recipe") == ["take-1"]
    flush(qtbot)
    assert panel.badge.text() == "AI · 1 take"

    stack.undo()  # the deleted take comes back
    stack.undo()  # and take-2 is active again
    flush(qtbot)
    assert clip.active_media_reference_key == "take-2"
    assert panel.takes.count() == 2 and panel.takes.item(1).text().startswith("●  take-2")


def test_pending_and_failed_states(qtbot, panel, stack, tmp_path):
    clip = place_generated(stack, tmp_path, takes=0)
    panel.set_item(clip)
    assert panel.status.text().startswith("Pending")
    assert panel.fields["media"].text().startswith("Not generated yet")
    assert not panel.regenerate_same.isEnabled()
    assert panel.badge.text() == "AI · 0 takes"
    stack.push_command(MarkFailed(clip, "the model folder has no config.json"))
    flush(qtbot)
    assert panel.status.text().startswith("Failed: the model folder has no config.json")
    assert panel.regenerate_same.isEnabled() and panel.regenerate_new.isEnabled()


def test_regenerate_buttons_emit_the_clip(qtbot, panel, stack, tmp_path):
    clip = place_generated(stack, tmp_path, takes=1)
    panel.set_item(clip)
    with qtbot.waitSignal(panel.regenerate_requested) as exact:
        qtbot.mouseClick(panel.regenerate_same, Qt.LeftButton)
    assert exact.args[0] is clip and exact.args[1] is True
    with qtbot.waitSignal(panel.regenerate_requested) as fresh:
        qtbot.mouseClick(panel.regenerate_new, Qt.LeftButton)
    assert fresh.args[1] is False


def test_removed_clip_clears_the_panel(qtbot, panel, stack, tmp_path):
    clip = place_generated(stack, tmp_path, takes=1)
    panel.set_item(clip)
    while stack.canUndo():
        stack.undo()  # un-placing the clip takes it off the track
    flush(qtbot)
    assert panel.item is None and not panel.empty.isHidden()


def test_panel_stops_listening_when_deleted(qtbot, stack, tmp_path):
    clip = place_generated(stack, tmp_path, takes=1)
    p = InspectorPanel(stack)
    p.set_item(clip)
    listeners = len(stack.document._listeners)
    p.deleteLater()
    qtbot.wait(10)
    assert len(stack.document._listeners) == listeners - 1
    stack.undo()  # no event reaches the deleted widget


def test_an_item_that_cannot_be_shown_says_so_instead_of_showing_the_previous_one(qtbot, panel, stack, tmp_path,
                                                                               monkeypatch):
    import desktop.panels.inspector_panel as inspector

    first = place_generated(stack, tmp_path, takes=1)
    panel.set_item(first)
    assert panel.name.text() == "shot 1"
    second = make_pending_clip("generate", PARAMS, RT(24, 24), name="shot 2")
    stack.push_command(PlacePendingClip(second, stack.document.video_tracks[0], RT(96, 24)))

    def broken(*args):
        raise ValueError("no timecode at this rate")

    monkeypatch.setattr(inspector, "format_timecode", broken)
    with pytest.raises(ValueError):  # raised on to the window's reporter, which shows it
        panel.set_item(second)
    assert panel.details.isHidden() and "shot 2: no timecode at this rate" in panel.empty.text()
    monkeypatch.undo()
    panel.set_item(first)
    assert not panel.details.isHidden() and panel.empty.isHidden()
