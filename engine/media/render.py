"""Render an OTIO timeline to one media file.

Per output frame, the top-most enabled video clip under the playhead wins; where no clip is,
the frame is black. Sources are scaled (swscale) and letterboxed to the output size and
conformed to the output rate by taking the source frame nearest the clip's media time.
Image sequences are decoded image by image. A clip whose active media is neither a file nor
an image sequence (a pending generation recipe, missing media) renders as a title card with
its prompt. Audio tracks are mixed at 48 kHz stereo. The file's
container metadata lists every AI-generated segment it contains.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import threading
from collections import OrderedDict
from pathlib import Path
from urllib.parse import unquote, urlparse

import av
import numpy as np
import opentimelineio as otio

from engine.errors import Cancelled, MissingMedia, NoAudioStream, NoVideoStream
from engine.media.font import draw_text_block
from engine.media.image_sequence import check_images, image_file, read_image
from engine.media.probe import probe
from engine.media.reader import FrameReader, read_audio
from engine.media.writer import VideoWriter
from timeline.provenance import APP_KEY, app_value, is_generated, segment_record, timeline_rate, track_flag

AUDIO_RATE = 48000
AUDIO_CHANNELS = 2
_AUDIO_BLOCK_SECONDS = 10.0  # audio is mixed and written in blocks of this much output time
_OPEN_READERS = 8
_EPS = 1e-6
_SLATE = (22, 24, 34)  # title card background, dark blue-grey
_INK = (235, 235, 235)


@dataclasses.dataclass
class _Segment:
    """`clip` covers [start, end) of output-track seconds; media seconds = media_start + (t - start)."""

    start: float
    end: float
    clip: otio.schema.Clip
    media_start: float
    track: str


# -- media references ----------------------------------------------------------------------
def _media_path(clip: otio.schema.Clip, base_dir: Path) -> Path | None:
    """The file behind the clip's active media reference, or None when it is not a file."""
    ref = clip.media_reference
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
        return None
    url = ref.target_url
    if url.startswith("file://"):
        path = Path(unquote(urlparse(url).path))
    elif "://" in url:
        raise MissingMedia(url, f"clip '{clip.name}' refers to a remote URL, which cannot be rendered")
    else:
        path = Path(unquote(url))
    return path if path.is_absolute() else (base_dir / path)


def _media_offset(clip: otio.schema.Clip, media_time: otio.opentime.RationalTime) -> float:
    """Seconds from the file's first frame for a time in the clip's media frame."""
    avail = clip.media_reference.available_range if clip.media_reference else None
    origin = avail.start_time if avail is not None else otio.opentime.RationalTime(0, media_time.rate)
    return (media_time - origin).to_seconds()


# -- which clip is on top ------------------------------------------------------------------
def track_segments(track: otio.schema.Track, offset: float, clip_lo: float, clip_hi: float,
                    name: str) -> list[_Segment]:
    """Clips of `track` placed in output seconds; `offset` maps track time to output time."""
    out: list[_Segment] = []
    for index, child in enumerate(track):
        if not getattr(child, "enabled", True) or isinstance(child, (otio.schema.Gap, otio.schema.Transition)):
            continue  # transitions render as straight cuts
        rng = track.range_of_child_at_index(index)  # track time
        lo = max(offset + rng.start_time.to_seconds(), clip_lo)
        hi = min(offset + rng.end_time_exclusive().to_seconds(), clip_hi)
        if hi <= lo + _EPS:
            continue
        # Track time `offset + rng.start` is the child's trimmed start in its own frame.
        inner = child.trimmed_range().start_time.to_seconds()
        shift = offset + rng.start_time.to_seconds() - inner
        if isinstance(child, otio.schema.Clip):
            media_start = _media_offset(child, child.trimmed_range().start_time) + (lo - offset - rng.start_time.to_seconds())
            out.append(_Segment(lo, hi, child, media_start, name))
        elif isinstance(child, otio.schema.Stack):
            out.extend(_overlay([track_segments(t, shift, lo, hi, name) for t in child
                                 if isinstance(t, otio.schema.Track) and t.enabled]))
        elif isinstance(child, otio.schema.Track):
            out.extend(track_segments(child, shift, lo, hi, name))
    return out


def _overlay(layers: list[list[_Segment]]) -> list[_Segment]:
    """Merge layers (bottom first) so that a higher layer hides what is under it."""
    result: list[_Segment] = []
    for layer in layers:
        for top in layer:
            kept = []
            for seg in result:
                if seg.end <= top.start + _EPS or seg.start >= top.end - _EPS:
                    kept.append(seg)
                    continue
                if seg.start < top.start - _EPS:
                    kept.append(dataclasses.replace(seg, end=top.start))
                if seg.end > top.end + _EPS:
                    kept.append(dataclasses.replace(
                        seg, start=top.end, media_start=seg.media_start + (top.end - seg.start)))
            result = kept + [top]
        result.sort(key=lambda s: s.start)
    return result


def _video_track_segments(timeline: otio.schema.Timeline, lo: float, hi: float) -> list[_Segment]:
    layers = []
    for i, track in enumerate(timeline.video_tracks()):
        if track.enabled:
            layers.append(track_segments(track, 0.0, lo, hi, track.name or f"V{i + 1}"))
    return _overlay(layers)


def audible_segments(timeline: otio.schema.Timeline, lo: float, hi: float) -> list[_Segment]:
    """Clips of the enabled, unmuted audio tracks sounding in [lo, hi) seconds of track time."""
    segs = []
    for i, track in enumerate(timeline.audio_tracks()):
        if track.enabled and not track_flag(track, "muted"):  # a track muted in its header is left out
            segs.extend(track_segments(track, 0.0, lo, hi, track.name or f"A{i + 1}"))
    return segs


# -- settings ------------------------------------------------------------------------------
def _output_rate(timeline: otio.schema.Timeline, rate: float | None) -> float:
    if rate is not None:
        if rate <= 0:
            raise ValueError(f"rate: must be positive, got {rate}")
        return float(rate)
    return timeline_rate(timeline)


def _output_size(timeline, size, segments, base_dir: Path) -> tuple[int, int]:
    """The size argument, else the timeline's resolution, else the first clip's display size."""
    if size is not None:
        w, h = (int(v) for v in size)
    else:
        width, height = app_value(timeline, "width"), app_value(timeline, "height")
        if width and height:
            w, h = int(width), int(height)
        else:
            w = h = 0
            for seg in segments:
                path = _media_path(seg.clip, base_dir)
                if path is not None:
                    info = probe(path)
                    if info.video is not None:
                        w, h = info.video.display_width, info.video.display_height
                        break
            if not (w and h):
                raise ValueError("the cut names no frame size and has no video clip to take one from; give a size")
    if w <= 0 or h <= 0:
        raise ValueError(f"the frame size must be positive, got {w}x{h}")
    if w % 2 or h % 2:
        raise ValueError(f"the frame size must be even in both directions for H.264 4:2:0 video, got {w}x{h}")
    return w, h


def _fit(src_w: int, src_h: int, dst_w: int, dst_h: int) -> tuple[int, int, int, int]:
    """(w, h, x, y): the source scaled to fit inside the output, centred (letterbox/pillarbox)."""
    scale = min(dst_w / src_w, dst_h / src_h)
    w = min(dst_w, max(2, round(src_w * scale / 2) * 2))
    h = min(dst_h, max(2, round(src_h * scale / 2) * 2))
    return w, h, (dst_w - w) // 2, (dst_h - h) // 2


# -- provenance ----------------------------------------------------------------------------
def generated_in_file(video: list[_Segment], audio: list[_Segment], lo: float, rate: float,
                      base_dir: Path) -> list[dict]:
    """The generated pieces the file shows or plays (``video`` and ``audio`` are what is on
    screen and on air from `lo` seconds), placed in the file: seconds and frames from its start,
    and the take's resolved ``file`` (for the credentials)."""
    found = []
    for kind, segs in (("Video", video), ("Audio", audio)):
        for seg in segs:
            if is_generated(seg.clip):
                record = otio.opentime.TimeRange.range_from_start_end_time(  # the file's time
                    otio.opentime.RationalTime.from_seconds(seg.start - lo, rate),
                    otio.opentime.RationalTime.from_seconds(seg.end - lo, rate))
                found.append(dict(segment_record(seg.clip, seg.track, kind, record, rate),
                                  file=str(_media_path(seg.clip, base_dir) or "")))
    return found


def _container_metadata(timeline, generated: list[dict]) -> dict:
    meta = {"title": timeline.name or "LatentCut render",
            APP_KEY: json.dumps({"generated_segments": generated}, sort_keys=True)}
    if generated:
        meta["comment"] = (f"Rendered by LatentCut; contains AI-generated segments "
                           f"({len(generated)}), listed under the '{APP_KEY}' key")
    else:
        meta["comment"] = "Rendered by LatentCut; no AI-generated segments"
    return meta


# -- frames --------------------------------------------------------------------------------
class _Sources:
    """Open readers (a few at a time) and title cards, by clip."""

    def __init__(self, base_dir: Path, size: tuple[int, int], pix_fmt: str):
        self.base_dir = base_dir
        self.size = size
        self.pix_fmt = pix_fmt
        self.black = np.zeros((size[1], size[0], 3), np.uint8)
        self._readers: OrderedDict[Path, FrameReader] = OrderedDict()
        self._cards: dict[int, np.ndarray] = {}
        self._still: tuple[Path, np.ndarray] | None = None  # the last image-sequence frame
        self.warnings: list[str] = []

    def reader(self, path: Path) -> FrameReader:
        reader = self._readers.pop(path, None)
        if reader is None:
            reader = FrameReader(path, cache_size=2)
        self._readers[path] = reader
        if len(self._readers) > _OPEN_READERS:
            _, old = self._readers.popitem(last=False)
            self.warnings.extend(old.warnings)
            old.close()
        return reader

    def title_card(self, clip) -> np.ndarray:
        card = self._cards.get(id(clip))
        if card is None:
            w, h = self.size
            card = np.empty((h, w, 3), np.uint8)
            card[:] = _SLATE
            prompt = app_value(clip, "prompt")
            if prompt:
                text = str(prompt)
            elif isinstance(clip.media_reference, otio.schema.MissingReference):
                text = f"media offline: {clip.name}"
            else:
                text = clip.name or "untitled"
            draw_text_block(card, text, _INK)
            card.flags.writeable = False
            self._cards[id(clip)] = card
        return card

    def still(self, path: Path) -> np.ndarray:
        """An image-sequence frame fitted to the output size (the last one is kept)."""
        if self._still is None or self._still[0] != path:
            image = read_image(path)
            w, h, x, y = _fit(image.shape[1], image.shape[0], *self.size)
            scaled = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(width=w, height=h)
            canvas = np.zeros((self.size[1], self.size[0], 3), np.uint8)
            canvas[y:y + h, x:x + w] = scaled.to_ndarray(format="rgb24")
            self._still = (path, canvas)
        return self._still[1]

    def frame(self, seg: _Segment, t: float) -> np.ndarray | av.VideoFrame:
        ref = seg.clip.media_reference
        if isinstance(ref, otio.schema.ImageSequenceReference):
            return self.still(image_file(ref, seg.media_start + (t - seg.start), self.base_dir))
        path = _media_path(seg.clip, self.base_dir)
        if path is None:
            return self.title_card(seg.clip)
        reader = self.reader(path)
        media_t = seg.media_start + (t - seg.start)
        # Nearest frame, but never one outside the clip's own source range.
        first = reader.index_at(seg.media_start + _EPS)
        last = reader.index_at(seg.media_start + (seg.end - seg.start) - _EPS)
        index = min(max(reader.nearest_index(media_t), first), last)
        w, h, x, y = _fit(reader.width, reader.height, *self.size)
        if (w, h) == self.size and not reader.rotation:
            # Full frame: one swscale pass straight to the encoder's format, no RGB detour.
            decoded = reader.read_frame(index)
            if decoded is None:
                return self.black
            return decoded.reformat(width=w, height=h, format=self.pix_fmt)
        image = reader.read(index, size=(w, h))
        canvas = np.zeros((self.size[1], self.size[0], 3), np.uint8)
        canvas[y:y + h, x:x + w] = image
        return canvas

    def close(self) -> None:
        for reader in self._readers.values():
            self.warnings.extend(reader.warnings)
            reader.close()
        self._readers.clear()


def _check_sources(segments: list[_Segment], base_dir: Path, need_video: bool) -> None:
    """Fail before anything is written when a file is missing, unreadable or lacks video."""
    seen = set()
    for seg in segments:
        if isinstance(seg.clip.media_reference, otio.schema.ImageSequenceReference):
            check_images(seg.clip, seg.media_start, seg.end - seg.start, base_dir, seg.track)
            continue
        path = _media_path(seg.clip, base_dir)
        if path is None or path in seen:
            continue
        seen.add(path)
        if not path.is_file():
            raise MissingMedia(path, f"clip '{seg.clip.name}' on {seg.track} refers to a file that does not exist")
        info = probe(path)  # raises the typed error for bad media
        if need_video and info.video is None:
            raise NoVideoStream(path, f"clip '{seg.clip.name}' is on video track {seg.track} but the file has no video")


def mix_audio(segments: list[_Segment], base_dir: Path, first: int, last: int) -> np.ndarray:
    """Sum of every audio segment over output samples [first, last) at 48 kHz, float32 [n, 2]."""
    n = last - first
    lo, hi = first / AUDIO_RATE, last / AUDIO_RATE
    mix = np.zeros((n, AUDIO_CHANNELS), np.float32)
    for seg in segments:
        a, b = max(seg.start, lo), min(seg.end, hi)
        if b <= a:
            continue
        path = _media_path(seg.clip, base_dir)
        if path is None:
            continue  # a pending generated clip has no sound yet
        try:
            samples = read_audio(path, AUDIO_RATE, AUDIO_CHANNELS,
                                 start=max(0.0, seg.media_start + (a - seg.start)), duration=b - a)
        except NoAudioStream:
            continue  # a silent file on an audio track adds silence
        at = round((a - lo) * AUDIO_RATE)
        samples = samples[: n - at]
        mix[at:at + len(samples)] += samples
    np.clip(mix, -1.0, 1.0, out=mix)
    return mix


def render_timeline(
    timeline: otio.schema.Timeline,
    out_path: str | os.PathLike,
    base_dir: str | os.PathLike = ".",
    size: tuple[int, int] | None = None,
    range: otio.opentime.TimeRange | None = None,  # noqa: A002 - the documented argument name
    rate: float | None = None,
    codec: str = "h264",
    crf: int = 18,
    preset: str | None = None,
    progress=None,
    cancel: threading.Event | None = None,
) -> Path:
    """Render `timeline` to `out_path` and return the path.

    `range` is in timeline (track) time from the start of the tracks; `size` is (w, h);
    `progress(done, total)` is called per frame; setting `cancel` raises `Cancelled` and leaves
    no output file. Relative media paths resolve against `base_dir`.
    """
    # 1. check inputs
    if not isinstance(timeline, otio.schema.Timeline):
        raise ValueError(f"timeline: expected an otio.schema.Timeline, got {type(timeline).__name__}")
    base_dir = Path(base_dir)
    fps = _output_rate(timeline, rate)
    total_s = timeline.tracks.duration().to_seconds()
    if range is not None:
        lo, hi = range.start_time.to_seconds(), range.end_time_exclusive().to_seconds()
        if lo < 0 or hi <= lo:
            raise ValueError(f"range: must be a non-empty span from 0 or later, got {lo:.3f}-{hi:.3f}s")
    else:
        lo, hi = 0.0, total_s
    frame_count = round((hi - lo) * fps)
    if frame_count <= 0:
        raise ValueError(f"nothing to render: the range {lo:g}-{hi:g} s is shorter than one frame at {fps:g} fps")
    hi = lo + frame_count / fps

    # 2. resolve what is on screen and on air, and check every file before writing
    video = _video_track_segments(timeline, lo, hi)
    audio = audible_segments(timeline, lo, hi)
    _check_sources(video, base_dir, need_video=True)
    _check_sources(audio, base_dir, need_video=False)
    out_w, out_h = _output_size(timeline, size, video, base_dir)
    has_audio = any(_media_path(s.clip, base_dir) is not None for s in audio)
    generated = generated_in_file(video, audio, lo, fps, base_dir)

    # 3. render frame by frame; audio follows in blocks
    block_frames = max(1, math.floor(_AUDIO_BLOCK_SECONDS * fps))
    sources = None
    try:
        with VideoWriter(out_path, fps, out_w, out_h, codec=codec, crf=crf, preset=preset,
                         audio_rate=AUDIO_RATE if has_audio else None, audio_channels=AUDIO_CHANNELS,
                         metadata=_container_metadata(timeline, generated), cancel=cancel) as writer:
            sources = _Sources(base_dir, (out_w, out_h), writer.pix_fmt)
            seg_i = 0
            audio_done = round(lo * AUDIO_RATE)  # output samples written so far, from time 0
            for k in np.arange(frame_count).tolist():  # (`range` is an argument here)
                if cancel is not None and cancel.is_set():
                    raise Cancelled(f"rendering {out_path} was cancelled")
                t = lo + k / fps
                while seg_i < len(video) and video[seg_i].end <= t + _EPS:
                    seg_i += 1
                seg = video[seg_i] if seg_i < len(video) and video[seg_i].start <= t + _EPS else None
                writer.write(sources.frame(seg, t) if seg is not None else sources.black)
                if has_audio and ((k + 1) % block_frames == 0 or k + 1 == frame_count):
                    until = round((lo + (k + 1) / fps) * AUDIO_RATE)
                    writer.write_audio(mix_audio(audio, base_dir, audio_done, until))
                    audio_done = until
                if progress is not None:
                    progress(k + 1, frame_count)
    finally:
        if sources is not None:
            sources.close()
    return Path(out_path)
