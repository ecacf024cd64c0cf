"""End to end on the tiny random model, as a user drives it:
import → place → select gap → generate → the take appears → undo → redo → extend → restyle →
storyboard → export → render."""
import json
from pathlib import Path

import opentimelineio as otio
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent

from desktop.timeline_items import generation_status, media_path
from engine.media.probe import probe
from timeline.storyboard import Shot

TIMEOUT = 180_000


def _gap_click(canvas, start, row=0):
    return QPoint(int(canvas.x_of(start + 2)), canvas.row_top(row) + 20)


def _wait_done(qtbot, window, clip):
    qtbot.waitUntil(lambda: generation_status(clip) in ("done", "failed"), timeout=TIMEOUT)
    assert generation_status(clip) == "done", clip.metadata["latentcut"].get("error")


def test_the_whole_workflow(qtbot, window, media, tmp_path):
    c, gp = window.canvas, window.generate_panel
    c.scale, c.origin = 4.0, 0.0
    gp.set_params({"prompt": "a red ball moving left over a field at sunset", "steps": 2, "seconds": 0.5})

    # import: the Media panel probes the files in the background
    window.media_panel.add_files(media)
    qtbot.waitUntil(lambda: all(window.media_panel.state(p) == "ready" for p in media), timeout=30_000)

    # place: drag the two items from the Media panel onto V1 with a gap between them
    for path, frame in ((media[0], 0), (media[1], 24)):
        window.media_panel.list.clearSelection()
        window.media_panel.list.setCurrentItem(window.media_panel._items[str(Path(path).resolve())])
        mime = window.media_panel.list.mimeData(window.media_panel.list.selectedItems())
        drop = QDropEvent(QPointF(c.x_of(frame), c.row_top(0) + 10), Qt.DropAction.CopyAction, mime,
                          Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        c.dropEvent(drop)
    v1 = window.document.video_tracks[0]
    assert [type(i).__name__ for i in v1] == ["Clip", "Gap", "Clip"]

    # select the gap: the Generate panel says what it will do
    qtbot.mouseClick(c, Qt.MouseButton.LeftButton, pos=_gap_click(c, 12))
    assert window.edits.selected_gap() is v1[1]
    assert "gap on V1" in gp.buttons["generate"].text() and gp.buttons["generate"].isEnabled()

    # generate: one command puts a pending clip in the gap at once
    qtbot.mouseClick(gp.buttons["generate"], Qt.MouseButton.LeftButton)
    generated = v1[1]
    assert generation_status(generated) == "pending" and window.undo_stack.count() == 3
    recipe = generated.media_references()["recipe"]
    assert recipe.generator_kind == "latentcut.generate"
    assert recipe.parameters["prompt"].startswith("a red ball") and recipe.parameters["steps"] == 2
    _wait_done(qtbot, window, generated)

    # the take appears, with provenance, on the same range
    assert generated.active_media_reference_key == "take-1"
    take = media_path(generated.media_reference)
    assert Path(take).is_file() and "AI-generated" in probe(take).metadata["comment"]
    assert c.index.layout_of(v1).range_of(generated) == (12, 24)
    assert c.look(generated).status == "done" and c.look(generated).takes == 1

    # undo removes the take, redo brings it back
    window.undo_stack.undo()
    assert generated.active_media_reference_key == "recipe" and "take-1" not in generated.media_references()
    window.undo_stack.redo()
    assert generated.active_media_reference_key == "take-1"

    # extend the tail of the last clip (context menu on the clip)
    blue = v1[2]
    menu = c.context_menu_for(QPointF(c.x_of(30), c.row_top(0) + 20))
    next(a for a in menu.actions() if a.objectName() == "ctx_extend_tail").trigger()
    extension = v1[3]
    assert extension.media_references()["recipe"].parameters["direction"] == "tail"
    _wait_done(qtbot, window, extension)
    assert c.index.layout_of(v1).range_of(extension) == (36, 48)

    # restyle the first clip: the result lands on the track above, over the same range
    window.edits.set_selection([v1[0]])
    gp.set_params({"prompt": "night city, pan left"})
    qtbot.mouseClick(gp.buttons["restyle"], Qt.MouseButton.LeftButton)
    v2 = window.document.video_tracks[1]
    restyled = v2[0]
    assert restyled.media_references()["recipe"].parameters["kind"] == "restyle"
    _wait_done(qtbot, window, restyled)
    assert c.index.layout_of(v2).range_of(restyled) == (0, 12)

    # storyboard: an animatic of pending clips, filled in as results arrive
    window.storyboard_panel.set_shots([Shot(0.5, "a blue box in the sea, day"), Shot(0.25, "zoom in on mountains at night")])
    window.storyboard_panel.build_animatic()
    board = window.document.video_tracks[-1]   # the new top video track
    assert board.name == "Storyboard" and [generation_status(s) for s in board] == ["pending", "pending"]
    window.playback.seek(3)
    qtbot.waitUntil(lambda: type(window.viewer.frame_view.picture).__name__ == "TitleCard", timeout=10_000)
    for shot in list(board):
        _wait_done(qtbot, window, shot)
    assert [round(s.duration().to_seconds(), 2) for s in board] == [0.5, 0.25]

    # export: OTIO keeps everything, EDL says what it dropped
    window.actions.prompt = lambda title, text, choices: choices[0]
    report = window.actions.export(tmp_path / "cut.otio")
    exported = otio.adapters.read_from_file(str(tmp_path / "cut.otio"))
    generated_clips = [cl for cl in exported.find_clips() if (cl.metadata.get("latentcut") or {}).get("generated")]
    assert report.dropped == [] and len(generated_clips) == 5
    assert window.actions.export(tmp_path / "cut.edl").dropped

    # render: progress, then the file with every generated segment in its metadata
    out = tmp_path / "cut.mp4"
    handle = window.actions.render(out)
    assert window.actions.render_jobs[handle.id].isVisible()
    with qtbot.waitSignal(handle.done, timeout=TIMEOUT, check_params_cb=lambda result: result.get("path") == str(out)):
        pass
    assert handle.id not in window.actions.render_jobs
    info = probe(out)
    assert info.video.frame_count == 48
    segments = json.loads(info.metadata["latentcut"])
    assert segments
