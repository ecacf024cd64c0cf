"""The first window fits the screen it opens on: 1400x900 where there is room, the screen's free
area on a 1366x768 laptop, and a remembered geometry wins over both. Each case runs the real app
in a fresh process whose offscreen screen has that size (Qt reads it from a config file)."""
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, sys
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from desktop.app import MainWindow
    from desktop.theme import apply_theme

    app = QApplication([])
    apply_theme(app)
    settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
    win = MainWindow(settings=settings)
    win.show()
    app.processEvents()
    free = win.screen().availableGeometry()
    frame, inner = win.frameGeometry(), win.geometry()
    scroll = win.generate_panel.findChild(type(win.generate_panel.body_scroll), "generate_scroll")
    print(json.dumps({"free": [free.x(), free.y(), free.width(), free.height()],
                      "generate_scrolls": scroll.verticalScrollBar().maximum(),
                      "frame": [frame.x(), frame.y(), frame.width(), frame.height()],
                      "size": [inner.width(), inner.height()]}))
    if len(sys.argv) > 2:  # the user resizes the window before quitting
        win.resize(*map(int, sys.argv[2].split("x")))
        app.processEvents()
    win.save_layout()
    settings.sync()
    win.undo_stack.setClean()
    win.close()
""")


def _launch(tmp_path, screen: tuple[int, int], settings: Path, resize_to: str | None = None) -> dict:
    config = tmp_path / f"screen-{screen[0]}x{screen[1]}.json"
    config.write_text(json.dumps({"screens": [{"name": "test", "x": 0, "y": 0, "width": screen[0],
                                               "height": screen[1], "logicalDpiX": 96, "logicalDpiY": 96}]}))
    env = {"QT_QPA_PLATFORM": f"offscreen:configfile={config}", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT),
           "HOME": str(tmp_path), "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", SCRIPT, str(settings), *([resize_to] if resize_to else [])], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def _inside(frame, free) -> bool:
    x, y, w, h = frame
    fx, fy, fw, fh = free
    return fx <= x and fy <= y and x + w <= fx + fw and y + h <= fy + fh


@pytest.mark.parametrize("screen", [(1366, 768), (1280, 720)])
def test_first_window_fits_a_small_screen(tmp_path, screen):
    shown = _launch(tmp_path, screen, tmp_path / "fresh.ini")
    assert _inside(shown["frame"], shown["free"]), shown
    assert shown["size"][0] >= screen[0] - 16  # as wide as the screen allows, not a smaller default
    assert shown["generate_scrolls"] == 0, shown


def test_first_window_is_1400x900_where_there_is_room_and_a_remembered_one_wins(tmp_path):
    settings = tmp_path / "remembered.ini"
    shown = _launch(tmp_path, (2560, 1440), settings)
    assert shown["size"] == [1400, 900] and _inside(shown["frame"], shown["free"]), shown
    # The user's own geometry, saved when they quit, is what the next launch restores.
    _launch(tmp_path, (2560, 1440), settings, resize_to="1800x1100")
    again = _launch(tmp_path, (2560, 1440), settings)
    assert again["size"] == [1800, 1100], again
