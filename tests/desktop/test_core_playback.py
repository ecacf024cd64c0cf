"""Playback and the viewer: what is on screen at a frame, decoding off the UI thread, the clock."""
import opentimelineio as otio
import pytest
from PySide6.QtGui import QImage

from desktop.audio_playback import MUTED_NO_DEVICE
from desktop.playback import MediaFrame, TitleCard, resolve_frame
from timeline.edits import AddTrack, SetEnabled
from timeline.generated import PlacePendingClip, make_pending_clip


@pytest.fixture
def cut(window, media):
    window.edits.place_media(media, window.document.video_tracks[0], 0)
    return window


class NoAudioOutput:
    """Outputs with no device, so the wall clock is the master even where the machine has sound."""

    def status(self):
        return MUTED_NO_DEVICE

    def open(self, *args):
        return None

    def on_change(self, slot):
        pass


def _bar_x(image: QImage) -> int:
    """Column of the white bar the fixture media draws at x = 4 * frame."""
    row = [image.pixelColor(x, image.height() // 2) for x in range(image.width())]
    return next(x for x, c in enumerate(row) if c.red() > 230 and c.green() > 230 and c.blue() > 230)


def test_top_most_enabled_clip_is_shown(cut, media):
    pb = cut.playback
    src = resolve_frame(pb.index, 15)
    assert src == MediaFrame(media[1], pytest.approx(3 / 24))
    add = AddTrack()
    cut.undo_stack.push_command(add)
    pending = make_pending_clip("generate", {"prompt": "a red ball at sunset"}, otio.opentime.RationalTime(24, 24), "shot")
    cut.undo_stack.push_command(PlacePendingClip(pending, add.track, otio.opentime.RationalTime(0, 24)))
    assert resolve_frame(pb.index, 15) == TitleCard("a red ball at sunset", "pending")
    cut.undo_stack.push_command(SetEnabled(add.track, False))
    assert isinstance(resolve_frame(pb.index, 15), MediaFrame)
    assert resolve_frame(pb.index, 30) is None


def test_proxy_is_used_when_there_is_one(cut, media):
    src = resolve_frame(cut.playback.index, 2, proxy_for=lambda p: p + ".proxy.mov")
    assert src.path == media[0] + ".proxy.mov"


def test_viewer_shows_the_decoded_frame_at_the_playhead(qtbot, cut):
    pb = cut.playback
    with qtbot.waitSignal(pb.picture_changed, timeout=20_000,
                          check_params_cb=lambda pic: isinstance(pic, QImage)) as shown:
        pb.seek(17)
    image = shown.args[0]
    assert (image.width(), image.height()) == (64, 36)
    assert _bar_x(image) == 4 * 5   # frame 17 is frame 5 of the second clip
    qtbot.waitUntil(lambda: cut.viewer.frame_view.picture is not None)
    assert cut.viewer.timecode_label.text() == "00:00:00:17"


def test_viewer_draws_a_title_card_for_a_pending_clip(qtbot, cut):
    add = AddTrack()
    cut.undo_stack.push_command(add)
    pending = make_pending_clip("generate", {"prompt": "night city"}, otio.opentime.RationalTime(12, 24), "shot")
    cut.undo_stack.push_command(PlacePendingClip(pending, add.track, otio.opentime.RationalTime(0, 24)))
    cut.playback.seek(3)
    qtbot.waitUntil(lambda: isinstance(cut.viewer.frame_view.picture, TitleCard))
    image = cut.viewer.frame_view.grab().toImage()
    centre = image.pixelColor(image.width() // 2, image.height() // 4)
    assert centre.blue() > centre.red()   # the card's blue background, not black


def test_a_pending_clip_landing_under_the_playhead_shows_its_title_card_at_once(qtbot, cut):
    """The decode asked for just before the clip landed must not cover the card when it arrives."""
    pb = cut.playback
    with qtbot.waitSignal(pb.picture_changed, timeout=20_000, check_params_cb=lambda pic: isinstance(pic, QImage)):
        pb.seek(2)
    pb.seek(3)  # a decode of frame 3 is now in flight
    pending = make_pending_clip("generate", {"prompt": "night city"}, otio.opentime.RationalTime(12, 24), "shot")
    cut.undo_stack.push_command(PlacePendingClip(pending, cut.document.video_tracks[0], otio.opentime.RationalTime(0, 24)))
    assert cut.viewer.frame_view.picture == TitleCard("night city", "pending")
    qtbot.waitUntil(lambda: pb._decoder._pending is None, timeout=10_000)
    qtbot.wait(200)  # the stale decode's queued signal is delivered by now
    assert cut.viewer.frame_view.picture == TitleCard("night city", "pending")


def test_the_clock_drops_late_frames_instead_of_drifting(cut):
    pb = cut.playback
    pb.audio.outputs = NoAudioOutput()
    pb.play()
    t0, f0 = pb._clock_origin
    pb._clock_origin = (t0 - 0.5, f0)   # the UI thread was busy for half a second
    pb._tick()
    assert pb.frame == 12               # where the clock says we are, not one frame later
    assert pb.dropped_frames >= 11
    pb.pause()
    assert cut.viewer.dropped_label.text().startswith("dropped")


def test_playback_stops_at_the_end(cut):
    pb = cut.playback
    pb.audio.outputs = NoAudioOutput()
    pb.seek(23)
    pb.play()
    t0, f0 = pb._clock_origin
    pb._clock_origin = (t0 - 1.0, f0)
    pb._tick()
    assert not pb.playing and pb.frame == 24


def test_double_click_in_the_media_panel_shows_the_source(qtbot, window, media):
    with qtbot.waitSignal(window.playback.picture_changed, timeout=20_000,
                          check_params_cb=lambda pic: isinstance(pic, QImage)) as shown:
        window.media_panel.media_activated.emit(media[1])
    image = shown.args[0]
    assert _bar_x(image) == 0 and image.pixelColor(40, 18).blue() > 150   # the blue clip's first frame
