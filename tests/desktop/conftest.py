"""Desktop test fixtures: isolated QSettings, tiny PyAV media, a tiny random model, one window."""
from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import av
import numpy as np
import pytest
from PySide6.QtCore import QSettings

W, H, FRAMES, RATE = 64, 36, 12, 24


def encode_clip(path, frames=FRAMES, rate=RATE, color=(200, 40, 40)):
    """A tiny H.264 file whose frame i has a bar at x=4*i, so frames can be told apart."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
    for i in range(frames):
        image = np.zeros((H, W, 3), np.uint8)
        image[:] = color
        image[:, (4 * i) % W:(4 * i) % W + 4] = 255
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    return str(path)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    return QSettings(str(tmp_path / "settings" / "latentcut.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def media(tmp_path):
    """Two tiny clips (red and blue)."""
    return [encode_clip(tmp_path / "red.mp4"), encode_clip(tmp_path / "blue.mp4", color=(40, 40, 200))]


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    import torch

    from engine.model.tiny import make_tiny_model_folder

    torch.set_num_threads(2)
    return make_tiny_model_folder(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture
def bridge(qtbot, tiny_model):
    from desktop.bridge import EngineBridge

    b = EngineBridge(model=str(tiny_model))
    yield b
    b.shutdown()


@pytest.fixture
def window(qtbot, bridge, isolated_settings):
    from desktop.app import MainWindow

    win = MainWindow(bridge=bridge, settings=isolated_settings)
    win.actions.prompt = _unexpected_prompt
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    yield win
    win.undo_stack.setClean()
    win.close()
    win.deleteLater()


def _unexpected_prompt(title, text, choices):
    raise AssertionError(f"unexpected prompt {title!r}: {text}")


@pytest.fixture
def themed(qapp):
    """The app's own style, as `latentcut` shows it (its paddings set the panels' sizes); the
    shared QApplication gets its old look back afterwards."""
    from desktop.theme import apply_theme

    old_sheet, old_palette, old_style = qapp.styleSheet(), qapp.palette(), qapp.style().name()
    apply_theme(qapp)
    yield qapp
    qapp.setStyleSheet(old_sheet)
    qapp.setPalette(old_palette)
    qapp.setStyle(old_style)
