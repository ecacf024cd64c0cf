"""Storyboard panel: editing, reordering, the SECONDS: prompt text format, Build animatic."""
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from desktop.panels.storyboard_panel import PROMPT_COL, SECONDS_COL, StoryboardPanel
from timeline.storyboard import Shot

BOARD = """# opening
3: a red ball moving left over a field at sunset, static camera
pan right over mountains at night
1.5: zoom in on a yellow box in a city, day
"""


@pytest.fixture
def panel(qtbot):
    p = StoryboardPanel()
    qtbot.addWidget(p)
    p.resize(420, 320)
    p.show()
    return p


def prompts(panel):
    return [s.prompt for s in panel.shots()]


def test_import_text_and_export_round_trip(panel):
    assert panel.import_text(BOARD)
    assert panel.shots() == [
        Shot(3.0, "a red ball moving left over a field at sunset, static camera"),
        Shot(2.0, "pan right over mountains at night"),
        Shot(1.5, "zoom in on a yellow box in a city, day"),
    ]
    assert panel.summary.text() == "3 shots · 6.5 s"
    again = StoryboardPanel()
    again.import_text(panel.export_text())
    assert again.shots() == panel.shots()
    again.deleteLater()


def test_bad_line_is_named_and_the_list_is_kept(panel):
    panel.set_shots([Shot(2.0, "keep me")])
    assert not panel.import_text("2: fine\n-1: broken\n", source="board.txt")
    assert prompts(panel) == ["keep me"]
    assert not panel.message.isHidden()
    assert "board.txt" in panel.message.text() and "line 2" in panel.message.text()


def test_files_round_trip(panel, tmp_path):
    panel.import_text(BOARD)
    out = tmp_path / "board.txt"
    assert panel.export_file(out)
    assert out.read_text().splitlines()[0].startswith("3")
    fresh = StoryboardPanel()
    assert fresh.import_file(out)
    assert fresh.shots() == panel.shots()
    assert not fresh.import_file(tmp_path / "nope.txt")
    assert "nope.txt" in fresh.message.text()
    fresh.deleteLater()


def test_edit_seconds_and_prompt_in_place(panel):
    panel.set_shots([(2.0, "field at day"), (4.0, "sea at night")])
    item = panel.tree.topLevelItem(1)
    item.setData(SECONDS_COL, Qt.EditRole, 2.5)
    item.setText(PROMPT_COL, "sea at sunset")
    assert panel.shots()[1] == Shot(2.5, "sea at sunset")
    assert panel.summary.text() == "2 shots · 4.5 s"
    # The length editor is a spin box bounded to sensible shot lengths.
    index = panel.tree.indexFromItem(item, SECONDS_COL)
    editor = panel.tree.itemDelegate().createEditor(panel.tree.viewport(), None, index)
    assert editor.minimum() == pytest.approx(0.1) and editor.maximum() == 600
    editor.setValue(7.25)
    panel.tree.itemDelegate().setModelData(editor, panel.tree.model(), index)
    assert panel.shots()[1].seconds == 7.25


def test_reorder_with_buttons_and_alt_arrows(qtbot, panel):
    panel.set_shots([(1, "one"), (1, "two"), (1, "three")])
    panel.tree.setCurrentItem(panel.tree.topLevelItem(2))
    qtbot.mouseClick(panel.up_button, Qt.LeftButton)
    assert prompts(panel) == ["one", "three", "two"]
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key_Up, Qt.AltModifier)
    assert prompts(panel) == ["three", "one", "two"]
    qtbot.keyClick(panel.tree, Qt.Key_Up, Qt.AltModifier)  # already first: nothing moves
    assert prompts(panel) == ["three", "one", "two"]
    qtbot.keyClick(panel.tree, Qt.Key_Down, Qt.AltModifier)
    assert prompts(panel) == ["one", "three", "two"]
    assert panel.tree.currentItem().text(PROMPT_COL) == "three"


def test_reorder_by_dragging_rows(panel):
    panel.set_shots([(1, "one"), (1, "two"), (1, "three"), (1, "four")])
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    tree = panel.tree
    mime = tree.model().mimeData([tree.indexFromItem(tree.topLevelItem(0), 0)])
    below_three = tree.visualItemRect(tree.topLevelItem(2)).bottomLeft() + QPoint(4, -2)
    drop = QDropEvent(QPointF(below_three), Qt.MoveAction | Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    tree.dropEvent(drop)  # offscreen Qt has no drag manager, so the drop is delivered directly
    assert drop.isAccepted() and drop.dropAction() != Qt.MoveAction  # the view must not delete rows
    assert prompts(panel) == ["two", "three", "one", "four"]
    assert tree.currentItem().text(PROMPT_COL) == "one"
    flags = tree.topLevelItem(0).flags()
    assert flags & Qt.ItemIsDragEnabled and not flags & Qt.ItemIsDropEnabled  # shots never nest


def test_add_and_remove(qtbot, panel):
    panel.set_shots([(1, "one"), (1, "two")])
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    qtbot.mouseClick(panel.add_button, Qt.LeftButton)
    assert [s.seconds for s in panel.shots()] == [1, 2.0, 1]
    assert panel.tree.currentItem() is panel.tree.topLevelItem(1)
    panel.tree.currentItem().setText(PROMPT_COL, "new")
    panel.tree.setCurrentItem(panel.tree.topLevelItem(0))
    panel.tree.setFocus()
    qtbot.keyClick(panel.tree, Qt.Key_Delete)
    assert prompts(panel) == ["new", "two"]


def test_build_animatic_emits_shots_only_when_every_shot_has_a_prompt(qtbot, panel):
    assert not panel.build_button.isEnabled()  # nothing to build yet
    panel.set_shots([(2, "field at day"), (3, "")])
    assert not panel.build_button.isEnabled()
    assert "Shot 2 has no prompt" in panel.build_button.toolTip()
    got = []
    panel.build_animatic_requested.connect(got.append)
    panel.build_animatic()
    assert got == [] and "Shot 2" in panel.message.text()
    panel.tree.topLevelItem(1).setText(PROMPT_COL, "city at night")
    assert panel.build_button.isEnabled()
    with qtbot.waitSignal(panel.build_animatic_requested) as blocker:
        qtbot.mouseClick(panel.build_button, Qt.LeftButton)
    assert blocker.args == [[Shot(2.0, "field at day"), Shot(3.0, "city at night")]]


def test_delete_in_the_list_wins_over_the_windows_delete_shortcut(qtbot):
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    fired = []
    timeline_delete = QAction("Delete", window)
    timeline_delete.setShortcut(QKeySequence("Delete"))
    timeline_delete.triggered.connect(lambda: fired.append(True))
    window.addAction(timeline_delete)
    board = StoryboardPanel()
    window.setCentralWidget(board)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # window shortcuts only fire in the active window
    board.set_shots([(1, "one"), (1, "two")])
    board.tree.setCurrentItem(board.tree.topLevelItem(0))
    board.tree.setFocus()
    assert QApplication.focusWidget() is board.tree
    qtbot.keyClick(board.tree, Qt.Key_Delete)
    assert prompts(board) == ["two"] and fired == []
    board.import_button.setFocus()
    qtbot.keyClick(board.import_button, Qt.Key_Delete)  # elsewhere the window's shortcut still works
    assert fired == [True]
