"""render_timeline: top-most clip wins, gaps black, letterbox, conform, title cards, audio mix,
provenance in the container, progress, cancel and bad media."""
from __future__ import annotations

import json
import threading
from fractions import Fraction

import numpy as np
import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime as RT
from opentimelineio.opentime import TimeRange as TR

import media_fixtures as mf
from engine.errors import Cancelled, MissingMedia
from engine.media.probe import probe
from engine.media.reader import FrameReader, read_audio
from engine.media.render import render_timeline
from engine.media.writer import write_video


def _clip(name, url, rate, start, duration, available):
    ref = otio.schema.ExternalReference(target_url=url, available_range=TR(RT(0, rate), RT(available, rate)))
    return otio.schema.Clip(name=name, media_reference=ref, source_range=TR(RT(start, rate), RT(duration, rate)))


def _gap(frames, rate=24):
    return otio.schema.Gap(source_range=TR(RT(0, rate), RT(frames, rate)))


def _pending(name, prompt, frames, rate=24):
    clip = otio.schema.Clip(name=name, source_range=TR(RT(0, rate), RT(frames, rate)))
    recipe = otio.schema.GeneratorReference(generator_kind="latentcut.generate", parameters={"prompt": prompt})
    clip.set_media_references({"recipe": recipe}, "recipe")
    clip.metadata["latentcut"] = {"generated": True, "op": "generate", "prompt": prompt, "seed": 3,
                                  "status": "pending"}
    return clip


def _timeline(tracks, width=64, height=36, rate=24):
    tl = otio.schema.Timeline(name="cut")
    tl.metadata["latentcut"] = {"rate": rate, "width": width, "height": height}
    for t in tracks:
        tl.tracks.append(t)
    return tl


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    folder = tmp_path_factory.mktemp("render_media")
    mf.encode(folder / "a.mp4", 48, Fraction(24), gop=12)
    mf.encode(folder / "slow.mkv", 20, Fraction(25, 2), gop=5)
    write_video(folder / "square.mp4", [mf.coded_frame(i, 48, 36) for i in range(24)], 24)
    write_video(folder / "low.mp4", [mf.coded_frame(i) for i in range(24)], 24,
                audio=(mf.tone(1.0, 44100, 1, freq=300.0), 44100))
    write_video(folder / "high.mp4", [mf.coded_frame(i) for i in range(24)], 24,
                audio=(mf.tone(1.0, 48000, 2, freq=1000.0), 48000))
    return folder


def _indices(path):
    with FrameReader(path) as reader:
        return [mf.decode_index(f) for f in reader.iter_frames()], reader


def test_layers_gaps_conform_and_title_card(sources, tmp_path):
    v1 = otio.schema.Track("V1")
    v1.append(_clip("a", "a.mp4", 24, 10, 12, 48))  # output 0-11 = a[10..21]
    v1.append(_gap(6))  # output 12-17 black
    v1.append(_clip("slow", "slow.mkv", 12.5, 0, 10, 20))  # 0.75-1.55 s: output frames 18-37
    v1.append(_pending("shot 2", "a red ball", 6))  # 1.55-1.8 s: output frames 38-42, title card
    v2 = otio.schema.Track("V2")
    v2.append(_gap(4))
    v2.append(_clip("top", "a.mp4", 24, 40, 3, 48))  # output 4-6 = a[40..42] over V1
    v3 = otio.schema.Track("V3")
    hidden = _clip("off", "a.mp4", 24, 0, 40, 48)
    hidden.enabled = False
    v3.append(hidden)
    tl = _timeline([v1, v2, v3])
    progress = []
    out = render_timeline(tl, tmp_path / "cut.mp4", sources, progress=lambda d, t: progress.append((d, t)))

    info = probe(out)
    assert (info.video.width, info.video.height, info.video.rate) == (64, 36, 24.0)
    assert info.video.frame_count == 43 and info.audio is None
    assert progress[-1] == (43, 43) and len(progress) == 43
    with FrameReader(out) as reader:
        frames = list(reader.iter_frames())
    got = [mf.decode_index(f) for f in frames]
    assert got[0:4] == [10, 11, 12, 13]
    assert got[4:7] == [40, 41, 42]  # V2 wins over V1
    assert got[7:12] == [17, 18, 19, 20, 21]
    assert all(frames[k].max() < 20 for k in range(12, 18))  # the gap is black
    # 12.5 fps conformed to 24: nearest source frame to each output time, within the clip.
    assert got[18:38] == [min(9, round(k * 12.5 / 24)) for k in range(20)]
    card = frames[40]
    assert np.abs(card[0, 0].astype(int) - (22, 24, 34)).max() < 12  # the slate
    assert (card > 200).all(axis=2).any()  # with light text drawn on it

    meta = probe(out).metadata
    assert "contains AI-generated segments" in meta["comment"]
    segments = json.loads(meta["latentcut"])["generated_segments"]
    assert len(segments) == 1
    seg = segments[0]
    assert (seg["clip"], seg["track"], seg["kind"], seg["take"]) == ("shot 2", "V1", "Video", "recipe")
    assert seg["start"] == pytest.approx(1.55) and seg["end"] == pytest.approx(43 / 24)
    assert (seg["start_frame"], seg["end_frame"], seg["rate"]) == (37, 43, 24)
    assert (seg["op"], seg["prompt"], seg["seed"], seg["status"]) == ("generate", "a red ball", 3, "pending")
    assert seg["provenance"]["generated"] is True


def test_letterbox_size_and_range(sources, tmp_path):
    v1 = otio.schema.Track("V1")
    v1.append(_clip("sq", str(sources / "square.mp4"), 24, 0, 24, 24))  # absolute path
    tl = _timeline([v1], width=64, height=36)
    # 4:3 in 16:9 is pillarboxed
    out = render_timeline(tl, tmp_path / "box.mp4", tmp_path)
    with FrameReader(out) as reader:
        frame = reader.read(5)
    assert frame[:, :5].max() < 20 and frame[:, -5:].max() < 20
    assert mf.decode_index(frame[:, 8:56]) == 5

    # size and range arguments: frames 6..17 of the timeline at 32x18
    out = render_timeline(tl, tmp_path / "part.mp4", tmp_path, size=(32, 18),
                          range=TR(RT(6, 24), RT(12, 24)))
    info = probe(out)
    assert (info.video.width, info.video.height, info.video.frame_count) == (32, 18, 12)


def test_audio_tracks_are_mixed_and_resampled(sources, tmp_path):
    v1 = otio.schema.Track("V1")
    v1.append(_clip("pic", "a.mp4", 24, 0, 36, 48))
    a1 = otio.schema.Track("A1", kind=otio.schema.TrackKind.Audio)
    a1.append(_clip("low", "low.mp4", 24, 0, 24, 24))  # 44.1 kHz mono, output 0-1 s
    a2 = otio.schema.Track("A2", kind=otio.schema.TrackKind.Audio)
    a2.append(_gap(12))
    a2.append(_clip("high", "high.mp4", 24, 0, 12, 24))  # output 0.5-1.0 s
    out = render_timeline(_timeline([v1, a1, a2]), tmp_path / "mix.mp4", sources)
    info = probe(out)
    assert (info.audio.sample_rate, info.audio.channels) == (48000, 2)
    mix = read_audio(out)
    assert mix.shape[0] == pytest.approx(72000, abs=2048)

    def level(lo, hi, freq):
        seg = mix[round(lo * 48000):round(hi * 48000), 0]
        t = np.arange(len(seg)) / 48000
        return abs(np.dot(seg, np.exp(-2j * np.pi * freq * t))) * 2 / len(seg)

    mono_in_stereo = 0.4 / np.sqrt(2)  # a mono source is panned centre at constant power (-3 dB)
    assert level(0.1, 0.4, 300) == pytest.approx(mono_in_stereo, abs=0.03)
    assert level(0.1, 0.4, 1000) < 0.02
    assert level(0.6, 0.9, 300) == pytest.approx(mono_in_stereo, abs=0.03)
    assert level(0.6, 0.9, 1000) == pytest.approx(0.4, abs=0.05)
    assert np.abs(mix[round(1.1 * 48000):round(1.4 * 48000)]).max() < 0.01  # silence after


def test_a_track_muted_in_its_header_is_left_out_of_the_mix(sources, tmp_path):
    v1 = otio.schema.Track("V1")
    v1.append(_clip("pic", "a.mp4", 24, 0, 24, 48))
    a1 = otio.schema.Track("A1", kind=otio.schema.TrackKind.Audio)
    a1.append(_clip("low", "low.mp4", 24, 0, 24, 24))
    a2 = otio.schema.Track("A2", kind=otio.schema.TrackKind.Audio, metadata={"latentcut": {"muted": True}})
    a2.append(_clip("high", "high.mp4", 24, 0, 24, 24))
    mix = read_audio(render_timeline(_timeline([v1, a1, a2]), tmp_path / "muted.mp4", sources))
    seg = mix[round(0.1 * 48000):round(0.9 * 48000), 0]
    t = np.arange(len(seg)) / 48000
    level = abs(np.dot(seg, np.exp(-2j * np.pi * 1000 * t))) * 2 / len(seg)
    assert level < 0.02  # A2's 1 kHz tone is absent
    assert np.abs(seg).max() > 0.1  # A1 still sounds


def test_cancel_and_missing_media_leave_no_file(sources, tmp_path):
    v1 = otio.schema.Track("V1")
    v1.append(_clip("a", "a.mp4", 24, 0, 48, 48))
    cancel = threading.Event()

    def progress(done, total):
        if done == 5:
            cancel.set()

    with pytest.raises(Cancelled):
        render_timeline(_timeline([v1]), tmp_path / "c.mp4", sources, progress=progress, cancel=cancel)
    assert list(tmp_path.iterdir()) == []

    v1.append(_clip("lost", "lost.mp4", 24, 0, 12, 12))
    with pytest.raises(MissingMedia) as info:
        render_timeline(_timeline([v1]), tmp_path / "m.mp4", sources)
    assert "lost.mp4" in str(info.value) and "'lost'" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_bad_arguments(sources, tmp_path):
    v1 = otio.schema.Track("V1")
    v1.append(_clip("a", "a.mp4", 24, 0, 12, 48))
    tl = _timeline([v1])
    with pytest.raises(ValueError, match="timeline"):
        render_timeline(v1, tmp_path / "x.mp4", sources)
    with pytest.raises(ValueError, match="size"):
        render_timeline(tl, tmp_path / "x.mp4", sources, size=(63, 36))
    with pytest.raises(ValueError, match="range"):
        render_timeline(tl, tmp_path / "x.mp4", sources, range=TR(RT(20, 24), RT(0, 24)))
    with pytest.raises(ValueError, match="codec"):
        render_timeline(tl, tmp_path / "x.mp4", sources, codec="gif")


def test_only_visible_generated_segments_are_listed(sources, tmp_path):
    def generated_take(name, start, frames):
        clip = _clip(name, "a.mp4", 24, start, frames, 48)
        refs = {"recipe": otio.schema.GeneratorReference(generator_kind="latentcut.generate"),
                "take-1": clip.media_reference}
        clip.set_media_references(refs, "take-1")
        clip.metadata["latentcut"] = {"generated": True, "op": "generate", "prompt": name, "status": "done"}
        return clip

    v1 = otio.schema.Track("V1")
    v1.append(generated_take("seen", 0, 12))
    v1.append(generated_take("covered", 12, 12))
    v2 = otio.schema.Track("V2")
    v2.append(_gap(6))
    v2.append(_clip("camera", "a.mp4", 24, 30, 18, 48))  # hides the second half of "seen" and all of "covered"
    out = render_timeline(_timeline([v1, v2]), tmp_path / "g.mp4", sources)
    segments = json.loads(probe(out).metadata["latentcut"])["generated_segments"]
    assert [(s["clip"], s["start_frame"], s["end_frame"], s["take"]) for s in segments] == [("seen", 0, 6, "take-1")]
    assert segments[0]["path"] == "a.mp4"
    with FrameReader(out) as reader:
        assert [mf.decode_index(reader.read(i)) for i in (0, 5, 6)] == [0, 5, 30]

    plain = otio.schema.Track("V1")
    plain.append(_clip("camera", "a.mp4", 24, 0, 6, 48))
    out = render_timeline(_timeline([plain]), tmp_path / "p.mp4", sources)
    meta = probe(out).metadata
    assert "contains AI-generated" not in meta["comment"]
    assert json.loads(meta["latentcut"]) == {"generated_segments": []}
