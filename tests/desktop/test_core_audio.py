"""Viewer audio: the mix of a window, mute, feeding a sink off the UI thread, and the audio clock."""
from fractions import Fraction

import numpy as np
import opentimelineio as otio
import pytest

import media_fixtures as mf
from desktop.audio_playback import (AUDIO_ON, BYTES_PER_FRAME, MUTED_NO_DEVICE, MUTED_SHUTTLE,
                                    AudioPlayback, QtAudioOutputs, mix_window, to_pcm16)
from desktop.playback import PlaybackController
from engine.media.reader import read_audio
from timeline import CommandStack, Document
from timeline.edits import AddTrack, Overwrite, SetAppMetadata, SetEnabled

SR = 48000
RATE = 24


def rt(seconds):
    return otio.opentime.RationalTime(round(seconds * RATE), RATE)


@pytest.fixture
def toned(tmp_path):
    """Two seconds of 64x36 video with a 440 Hz AAC tone."""
    return str(mf.encode(tmp_path / "tone.mp4", 2 * RATE, Fraction(RATE), audio=True))


def tone_clip(path, start_s, seconds):
    available = otio.opentime.TimeRange(rt(0), rt(2))
    ref = otio.schema.ExternalReference(target_url=path, available_range=available)
    return otio.schema.Clip(name="tone", media_reference=ref,
                            source_range=otio.opentime.TimeRange(rt(start_s), rt(seconds)))


@pytest.fixture
def doc(toned):
    """V1 holds the toned file from 0 s; A1 holds its source 0.5-1.5 s placed at 1 s."""
    d = Document.new(rate=RATE, width=64, height=36)
    stack = CommandStack(d)
    stack.push(Overwrite(d.video_tracks[0], rt(0), tone_clip(toned, 0, 2)))
    stack.push(Overwrite(d.audio_tracks[0], rt(1), tone_clip(toned, 0.5, 1)))
    d.stack = stack
    return d


class FakeSink:
    """A push-mode sink as Qt 6.11 behaves: what it holds is unheard, processedUSecs is the rest."""

    def __init__(self, capacity_bytes):
        self.capacity = capacity_bytes
        self.data = bytearray()   # everything written
        self.held = 0             # bytes taken in but not played yet
        self.stopped = False

    def bufferSize(self):
        return self.capacity

    def bytesFree(self):
        return self.capacity - self.held

    def processedUSecs(self):
        return round((len(self.data) - self.held) / BYTES_PER_FRAME / SR * 1e6)

    def write(self, data):
        n = min(len(data), self.bytesFree())
        self.data += data[:n]
        self.held += n
        return n

    def play(self, seconds):
        """The device plays `seconds` of what it holds."""
        self.held = max(0, self.held - round(seconds * SR) * BYTES_PER_FRAME)

    def stop(self):
        self.stopped = True


class FakeOutputs:
    """One output device that can be unplugged and plugged in again (`set_device`)."""

    def __init__(self, device=True):
        self.device = device
        self.sinks = []

    def status(self):
        return None if self.device else MUTED_NO_DEVICE

    def open(self, sample_rate, channels, buffer_bytes):
        assert (sample_rate, channels) == (SR, 2)
        if not self.device:
            return None
        self.sinks.append(FakeSink(buffer_bytes))
        return self.sinks[-1]

    def on_change(self, slot):
        self._changed = slot

    def set_device(self, present):
        self.device = present
        self._changed()   # as QMediaDevices.audioOutputsChanged would


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(bytes(pcm), "<i2").reshape(-1, 2).astype(np.int32)


def assert_pcm_equal(got, expected):
    """Equal to one step of 16 bits (blocks and one long window round alike but not bit-exact)."""
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() <= 1


# -- the mix -------------------------------------------------------------------------------
def test_mix_is_silent_before_the_clip_and_the_source_after(doc, toned):
    mix = mix_window(doc.timeline, round(0.75 * SR), SR // 2)   # 0.75-1.25 s of the timeline
    assert mix.shape == (SR // 2, 2) and mix.dtype == np.float32
    assert not mix[: SR // 4].any()                             # before 1 s: the gap is silent
    source = read_audio(toned, SR, 2, start=0.5, duration=0.25)  # the clip's source starts at 0.5 s
    np.testing.assert_array_equal(mix[SR // 4:], source)
    assert np.abs(source).max() > 0.3                           # the tone, not silence


def test_mix_follows_the_source_past_the_clip_start_and_stops_at_its_end(doc, toned):
    mix = mix_window(doc.timeline, round(1.75 * SR), SR // 2)   # 1.75-2.25 s; the clip ends at 2 s
    whole = read_audio(toned, SR, 2)                            # the source decoded without a seek
    np.testing.assert_allclose(mix[: SR // 4], whole[round(1.25 * SR): round(1.5 * SR)], atol=1e-4)
    assert not mix[SR // 4:].any()


def test_blocks_join_without_a_click(doc):
    """A window that starts mid-clip comes out as a continuous decode would (no seek transient)."""
    whole = mix_window(doc.timeline, SR, SR)                    # 1-2 s in one go
    blocks = np.concatenate([mix_window(doc.timeline, SR + k * 4000, 4000) for k in range(12)])
    np.testing.assert_allclose(blocks, whole, atol=1e-4)


def test_muted_or_disabled_tracks_are_silent_and_others_still_sound(doc, toned):
    a1 = doc.audio_tracks[0]
    window = (round(1.0 * SR), SR // 2)
    loud = mix_window(doc.timeline, *window)
    doc.stack.push(SetAppMetadata(a1, {"muted": True}))
    assert not mix_window(doc.timeline, *window).any()
    add = AddTrack(otio.schema.TrackKind.Audio, name="A2")
    doc.stack.push(add)
    doc.stack.push(Overwrite(add.track, rt(1), tone_clip(toned, 0.5, 1)))
    np.testing.assert_array_equal(mix_window(doc.timeline, *window), loud)   # A2 alone
    doc.stack.push(SetEnabled(add.track, False))
    assert not mix_window(doc.timeline, *window).any()


def test_mix_rejects_a_negative_window(doc):
    with pytest.raises(ValueError, match="first/count"):
        mix_window(doc.timeline, -1, 10)


# -- feeding a sink ------------------------------------------------------------------------
def test_the_sink_gets_the_mix_from_the_start_point(qtbot, doc):
    audio = AudioPlayback(doc, outputs=FakeOutputs())
    try:
        assert audio.start(0.75)
        sink = audio.outputs.sinks[0]
        qtbot.waitUntil(lambda: sink.bytesFree() == 0, timeout=20_000)
        got = samples(sink.data)
        expected = samples(to_pcm16(mix_window(doc.timeline, round(0.75 * SR), len(got))))
        assert_pcm_equal(got, expected)
        # The device plays on; the sink is topped up with what follows, in order.
        sink.play(0.2)
        qtbot.waitUntil(lambda: sink.bytesFree() == 0, timeout=20_000)
        got = samples(sink.data)
        assert_pcm_equal(got, samples(to_pcm16(mix_window(doc.timeline, round(0.75 * SR), len(got)))))
        assert np.abs(got[SR // 4:]).max() > 8000   # the tone from 1 s on
    finally:
        audio.shutdown()


def test_a_mute_is_heard_right_after_what_the_sink_already_holds(qtbot, doc):
    pb = PlaybackController(doc, audio_outputs=FakeOutputs())
    try:
        pb.seek(RATE)   # 1 s, where the tone starts
        pb.play()
        sink = pb.audio.outputs.sinks[0]
        qtbot.waitUntil(lambda: sink.bytesFree() == 0, timeout=20_000)
        before = len(sink.data)
        assert np.abs(samples(sink.data)).max() > 8000
        doc.stack.push(SetAppMetadata(doc.audio_tracks[0], {"muted": True}))
        sink.play(0.2)
        qtbot.waitUntil(lambda: sink.bytesFree() == 0, timeout=20_000)
        assert len(sink.data) > before
        assert not samples(sink.data[before:]).any()
    finally:
        pb.shutdown()


def test_blocks_asked_for_before_a_seek_are_not_mixed(qtbot, doc):
    from desktop.audio_playback import _Mixer, audible_segments

    mixer = _Mixer()
    try:
        segments = audible_segments(doc.timeline, 1.0, 1.5)
        mixer.generation = 2
        mixer.request(1, SR, SR // 2, segments, ".")   # from before the seek
        mixer.request(2, SR, SR // 2, segments, ".")
        qtbot.waitUntil(lambda: len(mixer.ready) == 1, timeout=20_000)
        assert [generation for generation, _pcm, _error in mixer.ready] == [2]
    finally:
        mixer.stop()


# -- the clock -----------------------------------------------------------------------------
def test_the_picture_follows_the_audio_clock(qtbot, doc):
    pb = PlaybackController(doc, audio_outputs=FakeOutputs())
    try:
        pb.seek(6)
        pb.play()
        sink = pb.audio.outputs.sinks[0]
        t0, f0 = pb._clock_origin
        pb._clock_origin = (t0 - 1.0, f0)       # the wall clock says a second has passed...
        pb._tick()
        assert pb.frame == 6                    # ...but nothing has been heard yet
        qtbot.waitUntil(lambda: sink.bytesFree() == 0, timeout=20_000)
        sink.play(0.125)                        # three frames of sound heard
        pb._tick()
        assert pb.frame == 9
        assert pb.audio.position() == pytest.approx(9 / RATE)
        # A seek while playing starts the sound again from there.
        pb.seek(30)
        assert len(pb.audio.outputs.sinks) == 2 and sink.stopped
        pb._tick()
        assert pb.frame == 30
    finally:
        pb.shutdown()


def test_shuttle_speeds_are_silent_and_normal_speed_resyncs(qtbot, doc):
    pb = PlaybackController(doc, audio_outputs=FakeOutputs())
    try:
        pb.play()
        assert pb.audio.playing and pb.audio.status == AUDIO_ON
        pb.shuttle_forward()                    # 2x
        assert not pb.audio.playing and pb.audio.status == MUTED_SHUTTLE
        assert pb.audio.outputs.sinks[0].stopped
        t0, f0 = pb._clock_origin
        pb._clock_origin = (t0 - 0.25, f0)      # the wall clock drives 2x
        pb._tick()
        assert pb.frame == f0 + 12
        pb.stop()
        pb.play()                               # back to 1x: sound from the playhead
        assert pb.audio.playing and pb.audio.position() == pytest.approx(pb.frame / RATE)
    finally:
        pb.shutdown()


def test_the_wall_clock_takes_over_when_the_output_goes(qtbot, doc):
    outputs = FakeOutputs()
    pb = PlaybackController(doc, audio_outputs=outputs)
    try:
        pb.play()
        sink = outputs.sinks[0]
        qtbot.waitUntil(lambda: sink.bytesFree() == 0, timeout=20_000)
        sink.play(0.125)
        pb._tick()
        assert pb.frame == 3
        outputs.set_device(False)               # the device was unplugged
        assert not pb.audio.playing and pb.audio.status == MUTED_NO_DEVICE
        assert sink.stopped
        pb._tick()
        t0, f0 = pb._clock_origin
        assert pb.playing and f0 == 3           # the wall clock goes on from where the sound was
        pb._clock_origin = (t0 - 0.5, f0)
        pb._tick()
        assert pb.frame == 15
    finally:
        pb.shutdown()


def test_after_shutdown_a_device_change_opens_nothing(doc):
    outputs = FakeOutputs(device=False)
    pb = PlaybackController(doc, audio_outputs=outputs)
    pb.play()
    pb.shutdown()
    outputs.set_device(True)
    assert not outputs.sinks and not pb.audio.start(0.0)


def test_sound_starts_at_the_playhead_when_a_device_is_plugged_in(qtbot, doc):
    outputs = FakeOutputs(device=False)
    pb = PlaybackController(doc, audio_outputs=outputs)
    try:
        assert pb.audio.status == MUTED_NO_DEVICE
        pb.play()
        assert pb.playing and not pb.audio.playing
        t0, f0 = pb._clock_origin
        pb._clock_origin = (t0 - 0.5, f0)
        pb._tick()
        assert pb.frame == 12
        outputs.set_device(True)
        assert pb.audio.playing and pb.audio.status == AUDIO_ON
        assert pb.audio.position() == pytest.approx(12 / RATE)
        sink = outputs.sinks[0]
        qtbot.waitUntil(lambda: sink.bytesFree() == 0, timeout=20_000)
        got = samples(sink.data)
        assert_pcm_equal(got, samples(to_pcm16(mix_window(doc.timeline, SR // 2, len(got)))))
    finally:
        pb.shutdown()


# -- a real output (on a machine with one) --------------------------------------------------
def test_with_a_real_output_the_picture_follows_the_sound(qtbot, doc):
    pb = PlaybackController(doc)
    try:
        if pb.audio.status != AUDIO_ON:
            pytest.skip(f"no audio output here ({pb.audio.status})")
        pb.play()
        assert pb.audio.playing
        qtbot.waitUntil(lambda: pb.audio.position() > 0.3, timeout=10_000)
        before = pb.audio.position()
        pb._tick()
        after = pb.audio.position()
        assert int(before * RATE) <= pb.frame <= int(after * RATE + 1e-3)
    finally:
        pb.shutdown()


# -- no device -----------------------------------------------------------------------------
def test_with_no_device_the_viewer_says_muted_and_playback_runs(qtbot, window, media):
    outputs = QtAudioOutputs()
    if outputs.status() is None:
        pytest.skip("this machine has an audio output device")
    assert outputs.status() == MUTED_NO_DEVICE
    assert outputs.open(SR, 2, 4 * SR) is None
    pb = window.playback
    assert window.viewer.audio_label.text() == MUTED_NO_DEVICE
    assert "device" in window.viewer.audio_label.toolTip()
    window.edits.place_media(media, window.document.video_tracks[0], 0)
    pb.play()
    assert pb.playing and not pb.audio.playing
    t0, f0 = pb._clock_origin
    pb._clock_origin = (t0 - 0.5, f0)
    pb._tick()
    assert pb.frame == 12
    qtbot.waitUntil(lambda: window.viewer.timecode_label.text() == "00:00:00:12", timeout=5_000)
    pb.pause()
    assert window.viewer.audio_label.text() == MUTED_NO_DEVICE
