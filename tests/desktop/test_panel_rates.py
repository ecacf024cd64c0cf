"""Every panel at every rate OTIO can hold: projects and clips at 12, 15, 23.976, 29.97 drop-frame,
59.94 and 120 fps and variable-rate media show timecode (SMPTE where defined, seconds+frames
elsewhere), and a typed timecode moves the playhead."""
from fractions import Fraction

import opentimelineio as otio
import pytest

from desktop.app import MainWindow
from desktop.panels.media_panel import FACTS_ROLE
from media_fixtures import VFR_PTS_MS, encode, encode_vfr
from timeline import Document
from timeline.timecode import format_timecode

RATES = {"12": Fraction(12), "15": Fraction(15), "23.976": Fraction(24000, 1001),
         "29.97DF": Fraction(30000, 1001), "59.94": Fraction(60000, 1001), "120": Fraction(120)}


@pytest.fixture
def open_window(qtbot, bridge, isolated_settings):
    made = []

    def make(document):
        win = MainWindow(bridge=bridge, settings=isolated_settings, document=document)
        win.actions.prompt = lambda *a: pytest.fail(f"unexpected prompt {a}")
        made.append(win)
        win.show()
        qtbot.waitExposed(win)
        return win

    yield make
    for win in made:
        win.undo_stack.setClean()
        win.close()
        win.deleteLater()


def _media(tmp_path, name):
    if name == "vfr":
        return encode_vfr(tmp_path / "vfr.mkv", VFR_PTS_MS)
    return encode(tmp_path / f"clip{name}.mp4", 40, RATES[name])


@pytest.mark.parametrize("name", list(RATES) + ["vfr"])
def test_every_panel_at_every_rate(qtbot, tmp_path, open_window, name):
    media = _media(tmp_path, name)
    rate = float(RATES.get(name, Fraction(30000, 1001)))  # a VFR file in a 29.97 project
    win = open_window(Document.new(rate=rate, width=64, height=36))
    track = win.document.video_tracks[0]
    win.edits.place_media([str(media)], track, 3)
    clip = next(c for c in track if isinstance(c, otio.schema.Clip))

    # Inspector: the selected clip's own data, not the previous one's.
    win.edits.set_selection([clip])
    qtbot.waitUntil(lambda: win.inspector.item is clip)
    assert win.inspector.fields["start"].text() == format_timecode(3, rate)
    assert win.inspector.fields["media"].text() == str(media)
    assert win.inspector.regenerate_same.parent() is not None

    # Viewer: a typed timecode moves the playhead, and both clocks follow it.
    target = 65 if rate > 20 else 17
    win.viewer.timecode_label.setText(format_timecode(target, rate))
    win.viewer.timecode_label.returnPressed.emit()
    assert win.playback.frame == target
    assert win.viewer.timecode_label.text() == format_timecode(target, rate)
    assert win.canvas.playhead == target
    win.canvas.grab()  # the ruler and the corner paint at this rate

    # Media panel: the file's facts carry its duration as timecode at its own rate.
    win.media_panel.add_files([str(media)])
    qtbot.waitUntil(lambda: win.media_panel.state(str(media)) == "ready", timeout=10_000)
    info = win.media_panel.info(str(media))
    facts = win.media_panel.list.item(0).data(FACTS_ROLE)
    assert format_timecode(round(info.duration * info.video.rate), info.video.rate) in facts


@pytest.mark.parametrize("name", ["12", "120", "29.97DF"])
def test_a_saved_project_at_the_rate_opens(qtbot, tmp_path, open_window, name):
    """A 12 fps project used to open blank: the viewer's timecode raised inside the open."""
    from timeline.project import load_project, save_project

    rate = float(RATES[name])
    path = save_project(Document.new(rate=rate, width=64, height=36), tmp_path / "p.otio")
    win = open_window(None)
    assert win.actions.open_project(str(path))
    assert win.document.rate == pytest.approx(rate)
    assert win.viewer.timecode_label.text() == format_timecode(0, rate)
    assert load_project(path)  # untouched


def test_typing_nonsense_says_what_a_timecode_looks_like(qtbot, open_window):
    win = open_window(Document.new(rate=12, width=64, height=36))
    messages = []
    win.playback.error.connect(messages.append)
    win.playback.seek(5)
    win.viewer.timecode_label.setText("soon")
    win.viewer.timecode_label.returnPressed.emit()
    assert win.playback.frame == 5
    assert messages and "00:01:01+05" in messages[0]
    assert win.viewer.timecode_label.text() == "00:00:00+05"
