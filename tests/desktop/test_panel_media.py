"""Media panel with real files encoded by PyAV, a real proxy job through the engine bridge."""
import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication

from desktop.panels.media_panel import FACTS_ROLE, MEDIA_MIME, STATUS_ROLE, MediaPanel
from engine.media.writer import write_video


def encode(path: Path, frames: int = 12, width: int = 64, height: int = 36, rate: int = 12, audio: bool = False) -> Path:
    ys, xs = np.mgrid[0:height, 0:width]
    video = []
    for i in range(frames):
        img = np.zeros((height, width, 3), np.uint8)
        img[..., 0] = (xs * 255 // width).astype(np.uint8)
        img[..., 1] = (i * 20) % 255
        img[..., 2] = (ys * 255 // height).astype(np.uint8)
        video.append(img)
    sound = None
    if audio:
        t = np.arange(int(48000 * frames / rate)) / 48000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        sound = (np.stack([tone, tone], axis=1), 48000)
    return write_video(path, video, rate, audio=sound)


@pytest.fixture
def clip(tmp_path):
    return encode(tmp_path / "shot one.mp4", audio=True)


@pytest.fixture
def panel(qtbot):
    p = MediaPanel(None)
    qtbot.addWidget(p)
    p.resize(360, 400)
    p.show()
    yield p
    p.wait_for_background()


def wait_ready(qtbot, panel, path, state="ready"):
    qtbot.waitUntil(lambda: panel.state(path) == state, timeout=30000)


def item_for(panel, path):
    return panel._items[str(Path(path).resolve())]


def test_import_probes_and_thumbnails_off_the_ui_thread(qtbot, panel, clip):
    assert panel.add_files([clip]) == [str(clip)]
    assert panel.state(clip) == "probing"  # add_files returns before the probe finishes
    wait_ready(qtbot, panel, clip)
    item = item_for(panel, clip)
    facts = item.data(FACTS_ROLE)
    assert "64×36" in facts and "12 fps" in facts and "h264" in facts and "48 kHz" in facts
    assert "00:00:01+00" in facts  # 12 frames at 12 fps: seconds+frames, SMPTE has no 12 fps
    pixmap = item.data(Qt.DecorationRole)
    assert pixmap is not None and pixmap.height() == 54
    assert panel.info(clip).video.frame_count == 12
    assert panel.hint.isHidden() and panel.count_label.text() == "1 item"
    assert item.data(STATUS_ROLE) == "Plays from the original"  # no bridge, no proxy


def test_still_image_and_unreadable_file(qtbot, panel, tmp_path):
    still = tmp_path / "board.png"
    image = QImage(80, 45, QImage.Format_RGB32)
    image.fill(QColor("#336699"))
    assert image.save(str(still))
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"this is not a video at all" * 10)
    panel.add_files([still, bad])
    wait_ready(qtbot, panel, still)
    wait_ready(qtbot, panel, bad, "error")
    assert item_for(panel, still).data(FACTS_ROLE).startswith("80×45 · still")
    status = item_for(panel, bad).data(STATUS_ROLE)
    assert "broken.mp4" in status
    assert not item_for(panel, bad).flags() & Qt.ItemIsDragEnabled  # cannot go on the timeline
    assert item_for(panel, still).flags() & Qt.ItemIsDragEnabled


def test_folder_import_and_no_duplicates(qtbot, panel, tmp_path):
    folder = tmp_path / "rushes"
    (folder / "day2").mkdir(parents=True)
    a = encode(folder / "a.mp4")
    b = encode(folder / "day2" / "b.mov")
    (folder / "notes.txt").write_text("not media")
    assert panel.add_files([folder]) == [str(a), str(b)]
    assert panel.add_files([a]) == []
    assert panel.paths() == [str(a), str(b)]
    assert panel.list.currentItem().data(Qt.UserRole) == str(a)  # the existing item is selected
    wait_ready(qtbot, panel, a)
    wait_ready(qtbot, panel, b)


def test_drag_carries_paths_as_latentcut_media_and_uris(qtbot, panel, clip, tmp_path):
    other = encode(tmp_path / "other.mp4")
    panel.add_files([clip, other])
    wait_ready(qtbot, panel, clip)
    wait_ready(qtbot, panel, other)
    items = [item_for(panel, clip), item_for(panel, other)]
    mime = panel.list.mimeData(items)
    assert json.loads(bytes(mime.data(MEDIA_MIME)).decode()) == [str(clip), str(other)]
    assert [u.toLocalFile() for u in mime.urls()] == [str(clip), str(other)]
    assert MEDIA_MIME in panel.list.mimeTypes()


def test_dropping_files_imports_them(qtbot, panel, clip):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(clip))])
    pos = panel.rect().center()  # QDragEnterEvent takes a QPoint, QDropEvent a QPointF
    # The handlers are called directly: offscreen Qt has no drag manager to route a synthetic drop.
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    panel.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(pos), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    panel.dropEvent(drop)
    assert drop.isAccepted()
    assert panel.paths() == [str(clip)]
    wait_ready(qtbot, panel, clip)

    text_only = QMimeData()
    text_only.setText("not a file")
    refused = QDragEnterEvent(pos, Qt.CopyAction, text_only, Qt.LeftButton, Qt.NoModifier)
    panel.dragEnterEvent(refused)
    assert not refused.isAccepted()


def test_double_click_activates_filter_and_delete(qtbot, panel, clip, tmp_path):
    other = encode(tmp_path / "b-roll.mp4")
    panel.add_files([clip, other])
    wait_ready(qtbot, panel, clip)
    wait_ready(qtbot, panel, other)
    item = item_for(panel, clip)
    rect = panel.list.visualItemRect(item)
    got = []
    panel.media_activated.connect(got.append)
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=rect.center())
    with qtbot.waitSignal(panel.media_activated) as blocker:
        qtbot.mouseDClick(panel.list.viewport(), Qt.LeftButton, pos=rect.center())
    assert blocker.args == [str(clip)]
    assert got == [str(clip)]  # once per double-click

    panel.filter.setText("b-roll")
    assert item.isHidden() and not item_for(panel, other).isHidden()
    panel.filter.clear()
    assert not item.isHidden()

    panel.list.setCurrentItem(item)
    panel.list.setFocus()
    qtbot.keyClick(panel.list, Qt.Key_Delete)
    assert panel.paths() == [str(other)]
    assert clip.exists()  # removing from the panel never deletes the file


def test_proxy_is_made_in_the_background(qtbot, clip, tmp_path):
    from desktop.bridge import EngineBridge

    bridge = EngineBridge()
    try:
        panel = MediaPanel(bridge)
        qtbot.addWidget(panel)
        queued = []
        bridge.queued.connect(lambda handle: queued.append(handle.job))
        with qtbot.waitSignal(panel.proxy_ready, timeout=60000) as blocker:
            panel.add_files([clip])
        assert [job.kind for job in queued] == ["proxy"] and queued[0].source == str(clip)
        source, proxy = blocker.args
        assert source == str(clip) and Path(proxy).is_file()
        assert panel.proxy_for(clip) == proxy and panel.proxies_pending() == 0
        assert item_for(panel, clip).data(STATUS_ROLE).startswith("Proxy ready")
        panel.wait_for_background()
    finally:
        bridge.shutdown()


def test_delete_in_the_list_wins_over_the_windows_delete_shortcut(qtbot, clip):
    from PySide6.QtGui import QAction, QKeySequence
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    fired = []
    timeline_delete = QAction("Delete", window)
    timeline_delete.setShortcut(QKeySequence("Delete"))
    timeline_delete.triggered.connect(lambda: fired.append(True))
    window.addAction(timeline_delete)
    panel = MediaPanel(None)
    window.setCentralWidget(panel)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # window shortcuts only fire in the active window
    panel.add_files([clip])
    wait_ready(qtbot, panel, clip)
    panel.list.setCurrentItem(item_for(panel, clip))
    panel.list.setFocus()
    assert QApplication.focusWidget() is panel.list
    qtbot.keyClick(panel.list, Qt.Key_Delete)
    assert panel.paths() == [] and fired == []
    panel.import_button.setFocus()
    qtbot.keyClick(panel.import_button, Qt.Key_Delete)  # elsewhere the window's shortcut still works
    assert fired == [True]
    panel.wait_for_background()


def test_audio_only_file_is_media_too(qtbot, panel, tmp_path):
    import av

    wav = tmp_path / "room tone.wav"
    with av.open(str(wav), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=48000)
        stream.layout = "stereo"
        samples = (np.sin(np.linspace(0, 200 * np.pi, 48000)) * 8000).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(np.stack([samples, samples]).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = 48000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    panel.add_files([wav])
    wait_ready(qtbot, panel, wav)
    item = item_for(panel, wav)
    assert item.data(FACTS_ROLE).startswith("1.00 s") and "48 kHz" in item.data(FACTS_ROLE)
    assert item.data(STATUS_ROLE) == "No proxy needed"
    assert item.data(Qt.DecorationRole) is None  # drawn as an audio placeholder
    assert item.flags() & Qt.ItemIsDragEnabled
