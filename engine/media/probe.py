"""Probe a media file: streams, duration, frame rate, size, rotation, audio layout.

`open_media(path)` is also the one place that turns PyAV's open failures into typed
`MediaError`s, so the reader, thumbnails, proxies and render all report bad input the same way.
"""
from __future__ import annotations

import dataclasses
import json
import os
import struct
from fractions import Fraction
from pathlib import Path

import av

from engine.errors import (
    CorruptMedia,
    EmptyMedia,
    MediaError,
    MissingMedia,
    NotAVideo,
    TruncatedMedia,
    ZeroDuration,
)

# ISO base media (mp4/mov) is checked atom by atom, because FFmpeg opens a file whose
# index atom was cut off and merely reports no streams.
_ISOBMFF_FORMATS = ("mov", "mp4")
# Demuxers that accept any bytes at all (e.g. a text file shown as ANSI art).
_TEXT_DEMUXERS = {"tty", "txt"}
# Packets scanned to tell constant from variable frame rate (a few seconds of video).
_VFR_SCAN_PACKETS = 600
# Packets arrive in decode order, so a scan cut off part-way misses a few frames shown just
# before its last ones (B-frames); that many of the latest times are left out of the spacing.
_REORDER_SLACK = 16


@dataclasses.dataclass
class StreamInfo:
    index: int
    type: str  # "video" | "audio" | "subtitle" | "data" | ...
    codec: str | None


@dataclasses.dataclass
class VideoInfo:
    codec: str
    width: int
    height: int  # coded size; the displayed size swaps them when rotation is 90 or 270
    rate: float  # frames per second (average for a variable rate)
    rate_fraction: str  # exact, e.g. "24000/1001"
    frame_count: int
    variable_rate: bool
    rotation: int  # counter-clockwise degrees to apply for display: 0, 90, 180 or 270
    pix_fmt: str | None
    display_width: int
    display_height: int


@dataclasses.dataclass
class AudioInfo:
    codec: str
    sample_rate: int
    channels: int
    layout: str


@dataclasses.dataclass
class MediaInfo:
    path: str
    format: str
    duration: float  # seconds
    size_bytes: int
    bit_rate: int | None
    streams: list[StreamInfo]
    video: VideoInfo | None
    audio: AudioInfo | None
    metadata: dict[str, str]  # container tags, keys lower-cased

    @property
    def has_video(self) -> bool:
        return self.video is not None

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _check_isobmff_complete(path: str, size: int) -> None:
    """Raise TruncatedMedia when a top-level atom claims more bytes than the file has."""
    with open(path, "rb") as f:
        offset = 0
        while offset < size:
            f.seek(offset)
            head = f.read(16)
            if len(head) < 8:
                raise TruncatedMedia(path, f"atom header cut off at byte {offset}")
            atom_size, atom_type = struct.unpack(">I4s", head[:8])
            if atom_size == 1:  # 64-bit size follows the type
                if len(head) < 16:
                    raise TruncatedMedia(path, f"atom header cut off at byte {offset}")
                atom_size = struct.unpack(">Q", head[8:16])[0]
            elif atom_size == 0:  # atom runs to the end of the file
                return
            if atom_size < 8:
                raise TruncatedMedia(path, f"invalid atom size {atom_size} at byte {offset}")
            if offset + atom_size > size:
                name = atom_type.decode("latin-1")
                raise TruncatedMedia(
                    path, f"'{name}' atom needs {atom_size} bytes at byte {offset}, file has {size}"
                )
            offset += atom_size


def _looks_isobmff(path: str) -> bool:
    with open(path, "rb") as f:
        head = f.read(8)
    return len(head) == 8 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip")


def open_media(path: str | os.PathLike) -> av.container.InputContainer:
    """Open `path` for reading, raising a typed MediaError that names the file and the cause."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MissingMedia(path, "no such file")
    if os.path.isdir(path):
        raise NotAVideo(path, "is a folder")
    size = os.path.getsize(path)
    if size == 0:
        raise EmptyMedia(path, "the file has 0 bytes")
    try:
        container = av.open(path, "r")
    except av.error.FileNotFoundError as exc:
        raise MissingMedia(path, "no such file") from exc
    except av.error.PermissionError as exc:
        raise MediaError(path, "permission denied") from exc
    except av.error.EOFError as exc:
        raise TruncatedMedia(path, "the file ends before its header is complete") from exc
    except (av.error.InvalidDataError, av.error.FFmpegError) as exc:
        if _looks_isobmff(path):
            # An MP4/MOV that FFmpeg cannot open is usually one cut off before its index.
            _check_isobmff_complete(path, size)
            raise CorruptMedia(path, f"the MP4/MOV structure is damaged ({exc.strerror or exc})") from exc
        raise NotAVideo(path, f"FFmpeg cannot read it ({exc.strerror or exc})") from exc
    try:
        fmt = container.format.name
        if any(part in _TEXT_DEMUXERS for part in fmt.split(",")):
            raise NotAVideo(path, f"recognised only as '{fmt}' text")
        if any(part in _ISOBMFF_FORMATS for part in fmt.split(",")):
            _check_isobmff_complete(path, size)
        if not any(s.type in ("video", "audio") for s in container.streams):
            raise ZeroDuration(path, "the container holds no audio or video stream")
    except BaseException:
        container.close()
        raise
    return container


def _fraction_str(rate: Fraction) -> str:
    return f"{rate.numerator}/{rate.denominator}"


def _scan_video(container, stream) -> tuple[list[int], bool]:
    """Sorted presentation times of the first frames of `stream`, and whether that is all of
    them. A scan that stops early leaves out its latest times: frames still to come in decode
    order would leave gaps there."""
    pts = []
    for packet in container.demux(stream):
        if packet.pts is not None and packet.size:
            pts.append(packet.pts)
            if len(pts) >= _VFR_SCAN_PACKETS:
                pts.sort()
                return pts[:-_REORDER_SLACK], False
    pts.sort()
    return pts, True


def video_info(path: str, container, stream) -> VideoInfo:
    """Describe the video `stream` of an open container (scans its first packets, decodes one frame)."""
    ctx = stream.codec_context
    tb = stream.time_base
    pts, complete = _scan_video(container, stream)
    deltas = {b - a for a, b in zip(pts, pts[1:])}
    # Variable when the frame spacing differs by more than one tick of rounding.
    variable = bool(deltas) and (max(deltas) - min(deltas)) > 1
    if len(pts) < 2:
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    elif variable:
        # Frames per second over the scanned span; containers often declare a nominal rate.
        rate = (Fraction(len(pts) - 1) / (Fraction(pts[-1] - pts[0]) * tb)).limit_denominator(1001)
    else:
        # Mean spacing is exact to one tick over the scanned span; keep the stream's declared
        # rate when it agrees (containers with 1 ms ticks round each timestamp).
        spacing = Fraction(pts[-1] - pts[0], len(pts) - 1) * tb
        tolerance = Fraction(tb) / (len(pts) - 1) + Fraction(1, 10**6)
        declared = [stream.guessed_rate, stream.average_rate, stream.base_rate]
        rate = next(
            (Fraction(r) for r in declared if r and abs(1 / Fraction(r) - spacing) <= tolerance),
            None,
        )
        if rate is None:
            rate = (1 / spacing).limit_denominator(1001)
    if rate is None or rate <= 0:
        raise ZeroDuration(path, "the video stream has no frame rate")
    rate = Fraction(rate)

    frame_count = stream.frames
    duration_s = None
    if stream.duration is not None and tb:
        duration_s = float(stream.duration * tb)
    elif container.duration is not None:
        duration_s = container.duration / av.time_base
    if not frame_count:
        if complete:
            frame_count = len(pts)
        elif duration_s:
            frame_count = round(duration_s * float(rate))
    if not frame_count:
        raise ZeroDuration(path, "the video stream has no frames")

    # The display matrix arrives with the first decoded frame.
    rotation = 0
    container.seek(0)
    try:
        for frame in container.decode(stream):
            rotation = int(round(frame.rotation or 0)) % 360
            break
    except av.error.FFmpegError:
        pass  # an undecodable first frame is the reader's to report, frame by frame
    if rotation % 90:
        rotation = 0  # only quarter turns are meaningful for display
    swap = rotation in (90, 270)
    return VideoInfo(
        codec=ctx.name,
        width=ctx.width,
        height=ctx.height,
        rate=float(rate),
        rate_fraction=_fraction_str(rate),
        frame_count=int(frame_count),
        variable_rate=variable,
        rotation=rotation,
        pix_fmt=ctx.pix_fmt,
        display_width=ctx.height if swap else ctx.width,
        display_height=ctx.width if swap else ctx.height,
    )


def probe(path: str | os.PathLike) -> MediaInfo:
    """Describe `path`. Raises a typed MediaError for missing, empty, truncated or unreadable files."""
    path = os.fspath(path)
    container = open_media(path)
    try:
        streams = [
            StreamInfo(s.index, s.type, s.codec_context.name if s.codec_context else None)
            for s in container.streams
        ]
        video = None
        if container.streams.video:
            video = video_info(path, container, container.streams.video[0])
        audio = None
        if container.streams.audio:
            a = container.streams.audio[0]
            audio = AudioInfo(
                codec=a.codec_context.name,
                sample_rate=int(a.rate or 0),
                channels=int(a.channels or 0),
                layout=a.layout.name if a.layout else "",
            )
        duration = _duration_seconds(container, video)
        if duration <= 0:
            raise ZeroDuration(path, "no stream has any duration")
        return MediaInfo(
            path=str(Path(path).resolve()),
            format=container.format.name,
            duration=duration,
            size_bytes=os.path.getsize(path),
            bit_rate=container.bit_rate or None,
            streams=streams,
            video=video,
            audio=audio,
            metadata={k.lower(): v for k, v in container.metadata.items()},
        )
    finally:
        container.close()


def _duration_seconds(container, video: VideoInfo | None) -> float:
    if container.duration is not None and container.duration > 0:
        return container.duration / av.time_base
    best = 0.0
    for s in container.streams:
        if s.duration and s.time_base:
            best = max(best, float(s.duration * s.time_base))
    if not best and video is not None:
        best = video.frame_count / video.rate
    return best
