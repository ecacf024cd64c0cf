"""Every keyboard shortcut of the window, pressed as a user would (QTest key events)."""
import opentimelineio as otio
import pytest
from PySide6.QtCore import Qt

from desktop.timeline_items import media_path


@pytest.fixture
def cut(window, media):
    """Two 12-frame clips end to end on V1; the canvas has focus."""
    window.edits.place_media(media, window.document.video_tracks[0], 0)
    window.canvas.setFocus()
    return window


def press(window, key, modifier=Qt.KeyboardModifier.NoModifier):
    from pytestqt.qtbot import QtBot

    QtBot.keyClick(window.canvas, key, modifier)


def v1_items(window):
    return list(window.document.video_tracks[0])


def test_space_plays_and_pauses(cut):
    press(cut, Qt.Key.Key_Space)
    assert cut.playback.playing and cut.playback.speed == 1
    press(cut, Qt.Key.Key_Space)
    assert not cut.playback.playing


def test_j_k_l_shuttle(cut):
    cut.playback.seek(10)
    press(cut, Qt.Key.Key_L)
    assert cut.playback.speed == 1
    press(cut, Qt.Key.Key_L)
    assert cut.playback.speed == 2
    press(cut, Qt.Key.Key_K)
    assert not cut.playback.playing
    press(cut, Qt.Key.Key_J)
    assert cut.playback.speed == -1
    press(cut, Qt.Key.Key_J)
    assert cut.playback.speed == -2
    press(cut, Qt.Key.Key_K)
    assert cut.playback.speed == 0


def test_arrows_step_one_frame_and_home_end_jump(cut):
    press(cut, Qt.Key.Key_Right)
    press(cut, Qt.Key.Key_Right)
    assert cut.playback.frame == 2
    press(cut, Qt.Key.Key_Left)
    assert cut.playback.frame == 1
    press(cut, Qt.Key.Key_End)
    assert cut.playback.frame == 24
    press(cut, Qt.Key.Key_Home)
    assert cut.playback.frame == 0
    assert cut.viewer.timecode_label.text() == "00:00:00:00"


@pytest.mark.parametrize("key,modifier", [(Qt.Key.Key_B, Qt.KeyboardModifier.NoModifier),
                                          (Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)])
def test_razor_cuts_at_the_playhead(cut, key, modifier):
    cut.playback.seek(5)
    press(cut, key, modifier)
    items = v1_items(cut)
    assert len(items) == 3
    assert [i.duration().value for i in items] == [5, 7, 12]
    assert media_path(items[0].media_reference) == media_path(items[1].media_reference)


def test_delete_lifts_and_shift_delete_ripples(cut):
    first = v1_items(cut)[0]
    cut.edits.set_selection([first])
    press(cut, Qt.Key.Key_Delete)
    items = v1_items(cut)
    assert isinstance(items[0], otio.schema.Gap) and cut.document.video_tracks[0].duration().value == 24
    cut.edits.set_selection([items[1]])
    press(cut, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert cut.document.video_tracks[0].duration().value == 12
    assert all(isinstance(i, otio.schema.Gap) for i in v1_items(cut))


def test_undo_and_both_redo_shortcuts(cut):
    cut.edits.set_selection([v1_items(cut)[0]])
    press(cut, Qt.Key.Key_Delete)
    lifted = otio.adapters.write_to_string(cut.document.timeline)
    press(cut, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not isinstance(v1_items(cut)[0], otio.schema.Gap)
    press(cut, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert otio.adapters.write_to_string(cut.document.timeline) == lifted
    press(cut, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    press(cut, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert otio.adapters.write_to_string(cut.document.timeline) == lifted


def test_i_and_o_mark_a_range(cut):
    cut.playback.seek(3)
    press(cut, Qt.Key.Key_I)
    cut.playback.seek(9)
    press(cut, Qt.Key.Key_O)
    assert cut.edits.marked_range() == (3, 9)
    kind, summary = cut.generation.selection_kind()
    assert kind == "range" and "0.2 s" in summary


def test_plus_and_minus_zoom(cut):
    scale = cut.canvas.scale
    press(cut, Qt.Key.Key_Plus)
    assert cut.canvas.scale > scale
    press(cut, Qt.Key.Key_Minus)
    press(cut, Qt.Key.Key_Minus)
    assert cut.canvas.scale < scale


def test_ctrl_s_saves_the_project(cut, tmp_path):
    cut.actions.choose_path = lambda mode, caption, filters: str(tmp_path / "cut.otio")
    assert "*" in cut.windowTitle().replace("[*]", "*") and cut.isWindowModified()
    press(cut, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert (tmp_path / "cut.otio").is_file()
    assert not cut.isWindowModified() and cut.windowTitle().startswith("cut")


def test_typing_in_the_prompt_does_not_trigger_shortcuts(qtbot, cut):
    prompt = cut.generate_panel.prompt
    prompt.setFocus()
    prompt.clear()
    qtbot.keyClicks(prompt, "a b")
    qtbot.keyClick(prompt, Qt.Key.Key_Space)
    assert prompt.toPlainText() == "a b " and not cut.playback.playing
    assert len(v1_items(cut)) == 2 and cut.edits.in_point is None


def test_edit_menu_names_what_undo_will_undo(cut):
    assert cut.undo_action.text().startswith("Undo Place")
    cut.undo_stack.undo()
    assert cut.redo_action.text().startswith("Redo Place")


def test_m_adds_a_marker_that_snapping_pulls_to(cut):
    cut.playback.seek(17)
    press(cut, Qt.Key.Key_M)
    assert [m.marked_range.start_time.value for m in cut.document.timeline.tracks.markers] == [17]
    cut.playback.seek(0)
    assert cut.canvas.snap(18) == (17, 17)
    cut.undo_stack.undo()
    assert not cut.document.timeline.tracks.markers and cut.canvas.snap(18) == (18, None)
