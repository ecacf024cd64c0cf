"""Encode numpy RGB frames (and optional float32 audio) to H.264, ProRes or VP9.

The file is written under a temporary name in the destination folder and renamed over the
destination only when the encoder has been flushed and the container closed, so an exception
or a cancel leaves no partial output and never clobbers an earlier good file.
"""
from __future__ import annotations

import os
import threading
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from engine.errors import Cancelled, MediaError

# codec name -> (FFmpeg encoder, pixel format, containers it may go in)
_VIDEO_CODECS = {
    "h264": ("libx264", "yuv420p", {".mp4", ".mov", ".mkv"}),
    "prores": ("prores_ks", "yuv422p10le", {".mov", ".mkv"}),
    "vp9": ("libvpx-vp9", "yuv420p", {".webm", ".mkv", ".mp4"}),
}
_CONTAINER_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}
_AUDIO_CODEC = {".webm": "libopus"}  # everything else gets AAC
_CHANNEL_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


def _rate_fraction(rate: float | Fraction) -> Fraction:
    if isinstance(rate, Fraction):
        return rate
    # 23.976 -> 24000/1001, 12.5 -> 25/2
    return Fraction(rate).limit_denominator(1001)


def _encoder_options(codec: str, crf: int, gop: int | None, preset: str | None) -> dict[str, str]:
    if codec == "h264":
        opts = {"crf": str(crf), "preset": preset or "medium"}
    elif codec == "vp9":
        # b=0 makes crf a constant-quality target; row-mt keeps both cores busy.
        opts = {"crf": str(crf), "b": "0", "row-mt": "1", "deadline": "good",
                "cpu-used": preset or "4"}
    else:  # ProRes 422 standard profile; quality comes from the profile, not crf
        opts = {"profile": "2"}
    if gop is not None:
        opts["g"] = str(gop)
        if codec == "h264" and gop == 1:
            opts["x264-params"] = "keyint=1:min-keyint=1:scenecut=0"
    return opts


class VideoWriter:
    """Write frames one at a time; use as a context manager.

    `metadata` becomes container tags (title, comment, and any other key such as `latentcut`).
    `audio_rate`/`audio_channels` open an audio track fed by `write_audio(samples)`
    (float32 [n, channels] in -1..1). `rotation` stores a display rotation (counter-clockwise
    degrees). `timecode` ("HH:MM:SS:FF") is the first frame's source timecode. `cancel`, when set,
    makes the next write raise `Cancelled` and removes the output.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        rate: float | Fraction,
        width: int | None = None,
        height: int | None = None,
        codec: str = "h264",
        crf: int = 18,
        audio_rate: int | None = None,
        audio_channels: int = 2,
        metadata: dict | None = None,
        gop: int | None = None,
        preset: str | None = None,
        rotation: int = 0,
        cancel: threading.Event | None = None,
        timecode: str | None = None,
    ):
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if codec not in _VIDEO_CODECS:
            raise ValueError(f"codec: {codec!r} is not one of {sorted(_VIDEO_CODECS)}")
        encoder, self.pix_fmt, containers = _VIDEO_CODECS[codec]
        if ext not in containers:
            raise ValueError(f"path: {codec} cannot go in a '{ext}' file ({self.path}); use one of {sorted(containers)}")
        if not rate or float(rate) <= 0:
            raise ValueError(f"rate: must be a positive frame rate, got {rate!r}")
        if audio_rate is not None and audio_channels not in _CHANNEL_LAYOUTS:
            raise ValueError(f"audio_channels: {audio_channels} is not one of {sorted(_CHANNEL_LAYOUTS)}")
        if not self.path.parent.is_dir():
            raise MediaError(self.path, f"the folder {self.path.parent} does not exist")
        self.rate = _rate_fraction(rate)
        self.codec = codec
        self._encoder = encoder
        self._options = _encoder_options(codec, crf, gop, preset)
        self._rotation = rotation
        self._timecode = timecode
        self._cancel = cancel
        self._audio_rate = audio_rate
        self._audio_channels = audio_channels
        self.width = width
        self.height = height
        self.frames_written = 0
        self.samples_written = 0
        self._tmp = self.path.with_name(f".{self.path.stem}.partial-{os.getpid()}-{id(self):x}{ext}")
        container_opts = {}
        if ext in (".mp4", ".mov"):
            container_opts["movflags"] = "use_metadata_tags"  # keeps custom keys such as latentcut
        try:
            self._container = av.open(str(self._tmp), "w", format=_CONTAINER_FORMATS[ext],
                                      options=container_opts)
        except av.error.FFmpegError as exc:
            raise MediaError(self.path, f"cannot create the file ({exc})") from exc
        self._container.metadata.update({str(k): str(v) for k, v in (metadata or {}).items()})
        self._video = None
        self._audio = None
        if width is not None and height is not None:
            self._open_video(width, height)

    # -- streams ---------------------------------------------------------------------------
    def _open_video(self, width: int, height: int) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"width/height: frame size {width}x{height} is empty")
        if self.pix_fmt.startswith(("yuv420", "yuv422")) and width % 2:
            raise ValueError(f"width: {self.codec} needs an even width, got {width}")
        if self.pix_fmt.startswith("yuv420") and height % 2:
            raise ValueError(f"height: {self.codec} needs an even height, got {height}")
        self.width, self.height = width, height
        stream = self._container.add_stream(self._encoder, rate=self.rate)
        stream.width = width
        stream.height = height
        stream.pix_fmt = self.pix_fmt
        self._video_tb = Fraction(1) / self.rate
        stream.time_base = self._video_tb
        stream.codec_context.thread_type = "AUTO"
        stream.options = self._options
        if self._rotation:
            stream.set_display_rotation(self._rotation)
        if self._timecode:  # the start timecode (MP4/MOV write it as a tmcd track)
            stream.metadata["timecode"] = self._timecode
        self._video = stream
        if self._audio_rate is not None:
            audio = self._container.add_stream(_AUDIO_CODEC.get(self.path.suffix.lower(), "aac"),
                                               rate=self._audio_rate)
            audio.layout = _CHANNEL_LAYOUTS[self._audio_channels]
            # FFmpeg's AAC default (128k total) smears pure tones audibly; 128k per channel does not.
            audio.bit_rate = 128000 * self._audio_channels
            self._audio = audio

    # -- writing ---------------------------------------------------------------------------
    def _check_cancel(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise Cancelled(f"writing {self.path} was cancelled")

    def write(self, frame) -> None:
        """Append one frame: an HxWx3 uint8 RGB array or an `av.VideoFrame`."""
        self._check_cancel()
        if isinstance(frame, av.VideoFrame):
            vf = frame
            w, h = frame.width, frame.height
        else:
            arr = np.asarray(frame)
            if arr.ndim != 3 or arr.shape[2] != 3 or arr.dtype != np.uint8:
                raise ValueError(
                    f"frames: each frame must be an HxWx3 uint8 RGB array, got {arr.dtype} {arr.shape}"
                )
            h, w = arr.shape[:2]
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format="rgb24")
        if self._video is None:
            self._open_video(w, h)
        elif (w, h) != (self.width, self.height):
            raise ValueError(f"frames: frame {self.frames_written} is {w}x{h}, the video is {self.width}x{self.height}")
        if vf.format.name != self.pix_fmt:
            vf = vf.reformat(format=self.pix_fmt)
        # Frame times are in 1/rate; the muxer may change the stream's time base on its header.
        vf.pts = self.frames_written
        vf.time_base = self._video_tb
        self._mux(self._video.encode(vf))
        self.frames_written += 1

    def write_audio(self, samples: np.ndarray) -> None:
        """Append float32 samples shaped [n, channels], in -1..1."""
        self._check_cancel()
        if self._audio is None:
            if self._audio_rate is None:
                raise ValueError("samples: this writer was opened without audio_rate")
            raise ValueError("samples: write the first video frame before audio")
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 2 or samples.shape[1] != self._audio_channels:
            raise ValueError(f"samples: expected [n, {self._audio_channels}] float32, got {samples.shape}")
        if not len(samples):
            return
        af = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples.reshape(1, -1)), format="flt",
            layout=_CHANNEL_LAYOUTS[self._audio_channels],
        )
        af.sample_rate = self._audio_rate
        af.pts = self.samples_written
        af.time_base = Fraction(1, self._audio_rate)
        self._mux(self._audio.encode(af))
        self.samples_written += len(samples)

    def _mux(self, packets) -> None:
        try:
            self._container.mux(packets)
        except av.error.FFmpegError as exc:
            raise MediaError(self.path, f"writing failed ({exc})") from exc

    # -- finishing -------------------------------------------------------------------------
    def close(self) -> Path:
        """Flush the encoders, close the container and move it into place. Returns the path."""
        if self._container is None:
            return self.path
        try:
            if self._video is None or self.frames_written == 0:
                raise ValueError(f"frames: no frames were written to {self.path}")
            self._mux(self._video.encode(None))
            if self._audio is not None:
                self._mux(self._audio.encode(None))
            self._container.close()
            self._container = None
            os.replace(self._tmp, self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        """Drop everything written so far; the destination is left as it was."""
        if self._container is not None:
            try:
                self._container.close()
            except av.error.FFmpegError:
                pass  # the file is being thrown away
            self._container = None
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_video(
    path: str | os.PathLike,
    frames,
    rate: float | Fraction,
    codec: str = "h264",
    crf: int = 18,
    audio: tuple[np.ndarray, int] | None = None,
    metadata: dict | None = None,
    cancel: threading.Event | None = None,
    **writer_options,
) -> Path:
    """Encode `frames` (iterable of HxWx3 uint8 RGB, or a [T,H,W,3] array) to `path`.

    `audio` is `(samples float32 [n, channels], sample_rate)`; it is interleaved with the video
    frame by frame. Returns the final path.
    """
    samples = audio_rate = None
    channels = 2
    if audio is not None:
        samples, audio_rate = audio
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[:, None]
        if samples.ndim != 2:
            raise ValueError(f"audio: samples must be [n, channels], got shape {samples.shape}")
        channels = samples.shape[1]
    with VideoWriter(path, rate, codec=codec, crf=crf, audio_rate=audio_rate,
                     audio_channels=channels, metadata=metadata, cancel=cancel,
                     **writer_options) as writer:
        sent = 0
        for frame in frames:
            writer.write(frame)
            if samples is not None:
                until = min(len(samples), round(writer.frames_written / float(writer.rate) * audio_rate))
                writer.write_audio(samples[sent:until])
                sent = max(sent, until)
        if samples is not None and sent < len(samples):
            writer.write_audio(samples[sent:])
    return Path(path)
