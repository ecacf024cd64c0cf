"""PyAV media: probe, exact-frame reading, encoding, thumbnails, proxies and timeline render.

Importing this package must not import torch.
"""
from engine.media.probe import MediaInfo, probe
from engine.media.proxy import make_proxy, proxy_path_for
from engine.media.reader import FrameReader, read_audio
from engine.media.render import render_timeline
from engine.media.thumbnails import thumbnail, thumbnail_strip
from engine.media.writer import VideoWriter, write_video

__all__ = [
    "FrameReader", "MediaInfo", "VideoWriter", "make_proxy", "probe", "proxy_path_for",
    "read_audio", "render_timeline", "thumbnail", "thumbnail_strip", "write_video",
]
