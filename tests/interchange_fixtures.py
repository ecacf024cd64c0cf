"""A cut that holds every feature an interchange format may or may not keep, on real media
encoded with PyAV: disabled clips, a hidden and a muted track, a nested stack, a dissolve and a
wipe, a generator, an image sequence, coloured markers, effects, clips without a source or an
available range, reel names with a space and a blank one, a generated clip with two takes and
its full recipe, and a clip not generated yet. Built at any rate (24, 25, 29.97)."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio

from timeline import Document
from timeline.generated import AddTake, make_pending_clip
from timeline.provenance import APP_KEY

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange
W, H = 64, 36
COLOURS = {"red": (200, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 200),
           "yellow": (220, 220, 40)}


def solid(path: Path, rgb, frames: int, rate: Fraction, audio: bool = False) -> Path:
    """An H.264 file of one flat colour (plus a quiet AAC tone when ``audio``)."""
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=rate)
    stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
    astream = container.add_stream("aac", rate=48000) if audio else None
    img = np.zeros((H, W, 3), np.uint8)
    img[:] = rgb
    for _ in range(frames):
        container.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
    container.mux(stream.encode(None))
    if astream is not None:
        n = round(48000 * frames / float(rate))
        wave = (0.1 * np.sin(np.arange(n) * 2 * np.pi * 440 / 48000)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([wave, wave]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = 48000, 0
        container.mux(astream.encode(frame))
        container.mux(astream.encode(None))
    container.close()
    return path


def image_sequence(folder: Path, rgb, frames: int) -> Path:
    """PNG frames ``seq.0001.png`` ... in ``folder``."""
    folder.mkdir(exist_ok=True)
    for i in range(frames):
        with av.open(str(folder / f"seq.{i + 1:04d}.png"), "w", format="image2") as out:
            stream = out.add_stream("png", rate=1)
            stream.width, stream.height, stream.pix_fmt = W, H, "rgb24"
            img = np.zeros((H, W, 3), np.uint8)
            img[:] = rgb
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
            out.mux(stream.encode(None))
    return folder


def _clip(name, path, rate, frames, start=0, length=None):
    ref = otio.schema.ExternalReference(target_url=str(path),
                                        available_range=TR(RT(0, rate), RT(frames, rate)))
    return otio.schema.Clip(name=name, media_reference=ref,
                            source_range=TR(RT(start, rate), RT(length or frames - start, rate)))


def recipe(seed: int) -> dict:
    """Every field a generation records."""
    return {"prompt": "a red ball moving left over a field at sunset, static camera",
            "negative_prompt": "blurry", "seed": seed, "steps": 12, "guidance": 4.5,
            "model": {"name": "previz-v1", "sha256": "ab" * 32}}


def feature_cut(folder: Path, rate=24) -> Document:
    """The everything-cut at ``rate`` (a number or a Fraction), media in ``folder``."""
    rate_f = float(rate)
    frac = Fraction(rate).limit_denominator(1001)
    media = {c: solid(folder / f"{c}.mp4", rgb, 24, frac) for c, rgb in COLOURS.items()}
    music = solid(folder / "music.mp4", (0, 0, 0), 48, frac, audio=True)
    seq = image_sequence(folder / "seq", (200, 200, 200), 12)
    doc = Document.new(rate=rate_f, width=W, height=H, name="features")
    tl = doc.timeline
    tl.tracks.markers.append(otio.schema.Marker(name="reel change", color="BLUE",
                                                marked_range=TR(RT(30, rate_f), RT(0, rate_f))))
    v1 = doc.video_tracks[0]
    v1.name = "Picture"
    red = _clip("red", media["red"], rate_f, 24, start=6, length=12)
    red.metadata["nuke"] = {"node": "Read1"}
    red.metadata["cmx_3600"] = {"reel": "UNC Path"}
    red.markers.append(otio.schema.Marker(name="beat", color="GREEN",
                                          marked_range=TR(RT(8, rate_f), RT(0, rate_f))))
    v1.append(red)
    v1.append(otio.schema.Transition(name="mix", in_offset=RT(3, rate_f), out_offset=RT(3, rate_f),
                                     transition_type=otio.schema.TransitionTypes.SMPTE_Dissolve))
    green = _clip("green", media["green"], rate_f, 24, start=6, length=12)
    green.metadata["cmx_3600"] = {"reel": ""}
    green.effects.append(otio.schema.Effect(name="blur", effect_name="Blur", metadata={"radius": 3}))
    v1.append(green)
    blue = _clip("blue", media["blue"], rate_f, 24, length=12)
    blue.enabled = False
    v1.append(blue)
    v1.append(_clip("yellow", media["yellow"], rate_f, 24, start=6, length=12))
    v1.append(otio.schema.Transition(name="wipe", in_offset=RT(2, rate_f), out_offset=RT(2, rate_f),
                                     transition_type="SMPTE_Wipe"))
    bars = otio.schema.Clip(name="bars", source_range=TR(RT(0, rate_f), RT(12, rate_f)),
                            media_reference=otio.schema.GeneratorReference(
                                name="bars", generator_kind="SMPTEBars", parameters={"level": 75},
                                available_range=TR(RT(0, rate_f), RT(12, rate_f))))
    v1.append(bars)
    seq_ref = otio.schema.ImageSequenceReference(
        target_url_base=str(seq) + "/", name_prefix="seq.", name_suffix=".png", start_frame=1,
        frame_zero_padding=4, rate=rate_f, available_range=TR(RT(0, rate_f), RT(12, rate_f)))
    v1.append(otio.schema.Clip(name="stills", media_reference=seq_ref,
                               source_range=TR(RT(0, rate_f), RT(12, rate_f))))
    whole = _clip("whole", media["red"], rate_f, 24)
    whole.source_range = None  # no source range: the whole file
    v1.append(whole)
    v1.append(otio.schema.Clip(name="offline", media_reference=otio.schema.MissingReference(),
                               source_range=TR(RT(0, rate_f), RT(12, rate_f))))
    gen = make_pending_clip("generate", recipe(5), RT(12, rate_f), "gen")
    v1.append(gen)
    take1, take2 = media["green"], media["yellow"]
    for seed, take in ((5, take1), (6, take2)):
        AddTake(gen, str(take), TR(RT(0, rate_f), RT(24, rate_f)),
                {"seed": seed, "created": "2026-12-01T10:00:00+00:00", "engine_version": "0.1.0",
                 "model": {"name": "previz-v1", "sha256": "ab" * 32}}).do(doc)
    v1.append(make_pending_clip("generate", recipe(7), RT(12, rate_f), "todo"))
    freeze = _clip("freeze", media["blue"], rate_f, 24, start=3, length=6)
    freeze.effects.append(otio.schema.FreezeFrame())
    v1.append(freeze)
    inner_a = otio.schema.Track(name="inner bottom", children=[_clip("nested a", media["red"], rate_f, 24, length=12)])
    inner_b = otio.schema.Track(name="inner top", children=[
        otio.schema.Gap(duration=RT(6, rate_f)), _clip("nested b", media["green"], rate_f, 24, length=6)])
    v1.append(otio.schema.Stack(name="comp", children=[inner_a, inner_b]))
    v2 = otio.schema.Track(name="Titles", kind=otio.schema.TrackKind.Video)
    v2.enabled = False  # hidden
    v2.append(otio.schema.Gap(duration=RT(12, rate_f)))
    v2.append(_clip("title", media["yellow"], rate_f, 24, length=12))
    tl.tracks.insert(1, v2)
    a1 = doc.audio_tracks[0]
    a1.name = "Music"
    a1.metadata[APP_KEY] = {"muted": True}  # muted in the track header
    a1.append(_clip("music", music, rate_f, 48, length=36))
    return doc


def three_clip_cut(folder: Path, rate=25) -> Document:
    """Red, green and blue, 10 frames each: the cut the outside renderers are compared on."""
    frac = Fraction(rate)
    doc = Document.new(rate=float(rate), width=W, height=H, name="three")
    v1 = doc.video_tracks[0]
    for name in ("red", "green", "blue"):
        v1.append(_clip(name, solid(folder / f"{name}.mp4", COLOURS[name], 20, frac), float(rate), 20,
                        start=5, length=10))
    del doc.timeline.tracks[1]  # no audio track
    return doc
