"""Exact-frame random access and fast sequential decode to RGB numpy; audio to float32 numpy.

Frame `i` is the i-th presentation time of the video stream, taken from a scan of the packet
timestamps when the reader opens; this holds for variable frame rates and B-frames alike.
A frame whose packet cannot be decoded is reported in `bad_frames`/`warnings` and replaced by
the last good frame (black if there is none), so timing stays aligned and nothing crashes.
"""
from __future__ import annotations

import bisect
import os
from collections import OrderedDict

import av
import numpy as np

from engine.errors import CorruptMedia, NoAudioStream, NoVideoStream, ZeroDuration
from engine.media.probe import open_media, video_info

_LAYOUTS = {1: "mono", 2: "stereo", 6: "5.1"}


def _scan_timestamps(path: str, container, stream) -> tuple[list[int], list[int]]:
    """Sorted presentation times of every frame, and those of the keyframes."""
    pts, keys = [], []
    for packet in container.demux(stream):
        if not packet.size or packet.is_discard:
            continue  # flush packets, and frames an edit list hides (never output)
        t = packet.pts if packet.pts is not None else packet.dts
        if t is None:
            raise CorruptMedia(path, "video packets carry no timestamps")
        pts.append(t)
        if packet.is_keyframe:
            keys.append(t)
    pts.sort()
    keys.sort()
    return pts, keys


class FrameReader:
    """`FrameReader(path)`: `read(i)` -> HxWx3 uint8 RGB (display orientation), `iter_frames()`.

    `size=(w, h)` on `read`/`iter_frames` scales in swscale while converting to RGB.
    Returned arrays are read-only because they may be shared with the LRU cache.
    A reader serves one thread at a time; give each thread its own.
    """

    def __init__(self, path: str | os.PathLike, cache_size: int = 16, threads: int = 0):
        self.path = os.fspath(path)
        self._container = open_media(self.path)
        try:
            if not self._container.streams.video:
                raise NoVideoStream(self.path, "the file holds only audio" if self._container.streams.audio
                                    else "the file holds no video")
            self._stream = self._container.streams.video[0]
            self._threads = threads
            self._configure(self._stream)  # before the first decode opens the codec
            self.info = video_info(self.path, self._container, self._stream)
            self._container.seek(0)
            self._pts, self._keys = _scan_timestamps(self.path, self._container, self._stream)
            if not self._pts:
                raise ZeroDuration(self.path, "the video stream has no frames")
            if not self._keys:
                raise CorruptMedia(self.path, "the video stream has no keyframe")
        except BaseException:
            self._container.close()
            raise
        self.time_base = self._stream.time_base
        self.frame_count = len(self._pts)
        self.rate = self.info.rate
        self.rotation = self.info.rotation
        self.width = self.info.display_width
        self.height = self.info.display_height
        self.bad_frames: set[int] = set()
        self.warnings: list[str] = []
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        self._frames = None  # live decode generator of the shared container, or None
        self._last = None  # last av.VideoFrame decoded by that generator
        self._last_pts = None  # and its presentation time

    def _configure(self, stream) -> None:
        stream.codec_context.thread_type = "AUTO"
        stream.codec_context.thread_count = self._threads

    @property
    def _sws_threads(self) -> int:
        """Threads for the RGB conversion: the decoder's, or the cores this process may use
        (libswscale's own "auto" counts every core of the machine, not those it may run on)."""
        if self._threads:
            return self._threads
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1

    # -- timing ----------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        return self.frame_count / self.rate

    @property
    def keyframe_count(self) -> int:
        return len(self._keys)

    def frame_time(self, index: int) -> float:
        """Presentation time of frame `index` in seconds from the first frame."""
        return float((self._pts[index] - self._pts[0]) * self.time_base)

    def index_at(self, seconds: float) -> int:
        """The frame on screen at `seconds` (from the first frame), clamped to the stream."""
        t = self._pts[0] + seconds / self.time_base
        return max(0, min(self.frame_count - 1, bisect.bisect_right(self._pts, t + 1e-6) - 1))

    def nearest_index(self, seconds: float) -> int:
        """The frame whose presentation time is nearest `seconds` (from the first frame)."""
        t = self._pts[0] + seconds / self.time_base
        i = bisect.bisect_left(self._pts, t)
        if i >= self.frame_count:
            return self.frame_count - 1
        if i > 0 and t - self._pts[i - 1] <= self._pts[i] - t:
            return i - 1
        return i

    def _index_of(self, pts: int) -> int:
        return max(0, bisect.bisect_right(self._pts, pts) - 1)

    # -- decoding --------------------------------------------------------------------------
    def _decode(self, container, stream):
        """Decoded frames in order; a packet that fails to decode becomes a warning."""
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError as exc:
                if packet.pts is not None:
                    at = f"{float((packet.pts - self._pts[0]) * self.time_base):.3f}s"
                else:
                    at = f"byte {packet.pos}"
                self.warnings.append(f"{self.path}: packet at {at} could not be decoded ({exc.strerror or exc})")
                continue
            yield from frames

    def _rgb(self, frame: av.VideoFrame, size: tuple[int, int] | None) -> np.ndarray:
        # libswscale converts in slices on as many threads as the decoder has (to_ndarray's own
        # conversion is much slower); the array is a view of the converted frame, not a copy.
        w, h = size or (None, None)
        if size is not None and self.rotation in (90, 270):
            w, h = h, w  # scale before turning, in the coded orientation
        arr = frame.reformat(width=w, height=h, format="rgb24", threads=self._sws_threads).to_ndarray()
        if self.rotation:
            arr = np.ascontiguousarray(np.rot90(arr, k=self.rotation // 90))
        arr.flags.writeable = False
        return arr

    def _black(self, size: tuple[int, int] | None) -> np.ndarray:
        w, h = size or (self.width, self.height)
        arr = np.zeros((h, w, 3), np.uint8)
        arr.flags.writeable = False
        return arr

    def _mark_bad(self, index: int) -> None:
        if index not in self.bad_frames:
            self.bad_frames.add(index)
            self.warnings.append(f"{self.path}: frame {index} could not be decoded; showing the previous frame")

    def _check_index(self, index) -> int:
        if not isinstance(index, (int, np.integer)) or not 0 <= index < self.frame_count:
            raise IndexError(f"index: frame {index} is outside 0..{self.frame_count - 1} of {self.path}")
        return int(index)

    def read(self, index: int, size: tuple[int, int] | None = None) -> np.ndarray:
        """Frame `index` as HxWx3 uint8 RGB, exact by presentation time."""
        index = self._check_index(index)
        key = (index, size)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        frame = self._decoded(index)
        arr = self._rgb(frame, size) if frame is not None else self._black(size)
        self._cache[key] = arr
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return arr

    def read_frame(self, index: int) -> av.VideoFrame | None:
        """Frame `index` as decoded (coded orientation and pixel format, not cached), for
        callers that convert it themselves; None when nothing up to it could be decoded."""
        return self._decoded(self._check_index(index))

    def _decoded(self, index: int) -> av.VideoFrame | None:
        target = self._pts[index]
        if self._last is not None and self._last_pts == target:
            return self._last
        keyframe = self._keys[max(0, bisect.bisect_right(self._keys, target) - 1)]
        # Decode on from where we are when no keyframe lies between here and the target.
        if self._frames is None or self._last is None or not keyframe <= self._last_pts < target:
            self._container.seek(keyframe, stream=self._stream, backward=True, any_frame=False)
            self._frames = self._decode(self._container, self._stream)
            self._last = self._last_pts = None
        previous = self._last
        for frame in self._frames:
            if frame.pts is None:
                continue
            # Our own copy of the time: callers may restamp the frame they are given.
            self._last, self._last_pts = frame, frame.pts
            if frame.pts == target:
                return frame
            if frame.pts > target:
                break
            previous = frame
        else:
            self._frames = None  # end of stream: the next read seeks again
        self._mark_bad(index)
        return previous

    def iter_frames(self, start: int = 0, stop: int | None = None, size: tuple[int, int] | None = None):
        """Yield frames `start`..`stop-1` in order, decoding sequentially (fast path)."""
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        if not 0 <= start <= self.frame_count:
            raise IndexError(f"start: frame {start} is outside 0..{self.frame_count} of {self.path}")
        if start >= stop:
            return
        # A container of its own, so random reads in between do not disturb the iteration.
        container = open_media(self.path)
        try:
            stream = container.streams.video[0]
            self._configure(stream)
            target = self._pts[start]
            keyframe = self._keys[max(0, bisect.bisect_right(self._keys, target) - 1)]
            if keyframe != self._pts[0]:
                container.seek(keyframe, stream=stream, backward=True, any_frame=False)
            wanted = start
            held = None
            for frame in self._decode(container, stream):
                if frame.pts is None or frame.pts < target:
                    continue
                index = self._index_of(frame.pts)
                if index < wanted:
                    continue
                while wanted < min(index, stop):  # frames whose packets were lost
                    self._mark_bad(wanted)
                    yield held if held is not None else self._black(size)
                    wanted += 1
                if wanted >= stop:
                    return
                held = self._rgb(frame, size)
                yield held
                wanted += 1
                if wanted >= stop:
                    return
            while wanted < stop:
                self._mark_bad(wanted)
                yield held if held is not None else self._black(size)
                wanted += 1
        finally:
            container.close()

    # -- lifetime --------------------------------------------------------------------------
    def close(self) -> None:
        self._frames = None
        self._last = None
        self._cache.clear()
        self._container.close()

    def __enter__(self) -> "FrameReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_audio(
    path: str | os.PathLike,
    sample_rate: int = 48000,
    channels: int = 2,
    start: float = 0.0,
    duration: float | None = None,
) -> np.ndarray:
    """Decode the first audio stream to float32 [n, channels] at `sample_rate`.

    `start`/`duration` (seconds) select a span; a span past the end comes back short or empty.
    """
    path = os.fspath(path)
    if channels not in _LAYOUTS:
        raise ValueError(f"channels: {channels} is not one of {sorted(_LAYOUTS)}")
    if sample_rate <= 0:
        raise ValueError(f"sample_rate: must be positive, got {sample_rate}")
    if start < 0 or (duration is not None and duration < 0):
        raise ValueError(f"start/duration: must not be negative, got {start}, {duration}")
    container = open_media(path)
    try:
        if not container.streams.audio:
            raise NoAudioStream(path, "the file holds no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout=_LAYOUTS[channels], rate=sample_rate)
        if start > 0:
            container.seek(int(start / stream.time_base), stream=stream, backward=True)
        first = round(start * sample_rate)
        last = None if duration is None else first + round(duration * sample_rate)
        chunks: list[np.ndarray] = []
        cursor = None  # sample index (at sample_rate) of the next resampled sample

        def take(frames) -> bool:
            nonlocal cursor
            for rf in frames:
                data = rf.to_ndarray().reshape(-1, channels)
                if cursor is None:
                    cursor = round(float(rf.pts * rf.time_base) * sample_rate) if rf.pts is not None else 0
                lo, hi = cursor, cursor + len(data)
                cursor = hi
                a = max(lo, first)
                b = hi if last is None else min(hi, last)
                if b > a:
                    chunks.append(data[a - lo:b - lo])
                if last is not None and hi >= last:
                    return True
            return False

        done = False
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                continue  # skip a damaged audio packet; the rest still decodes
            for frame in frames:
                if take(resampler.resample(frame)):
                    done = True
                    break
            if done:
                break
        if not done:
            take(resampler.resample(None))
    finally:
        container.close()
    if not chunks:
        return np.zeros((0, channels), np.float32)
    return np.ascontiguousarray(np.concatenate(chunks), dtype=np.float32)
