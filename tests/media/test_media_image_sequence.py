"""Image sequences render image by image (not as a title card), and a missing image is missing
media, named, before anything is written."""
from __future__ import annotations

import av
import numpy as np
import opentimelineio as otio
import pytest
from opentimelineio.opentime import RationalTime as RT
from opentimelineio.opentime import TimeRange as TR

from engine.errors import MissingMedia
from engine.media.render import render_timeline
from interchange_fixtures import H, W
from timeline.provenance import APP_KEY


def write_sequence(folder, count):
    """PNG images whose grey level is 20 * their index: shot.0001.png ..."""
    folder.mkdir()
    for i in range(count):
        with av.open(str(folder / f"shot.{i + 1:04d}.png"), "w", format="image2") as out:
            stream = out.add_stream("png", rate=1)
            stream.width, stream.height, stream.pix_fmt = W, H, "rgb24"
            img = np.full((H, W, 3), 20 * i, np.uint8)
            out.mux(stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")))
            out.mux(stream.encode(None))
    return folder


def cut(folder, start, frames):
    ref = otio.schema.ImageSequenceReference(
        target_url_base=str(folder) + "/", name_prefix="shot.", name_suffix=".png", start_frame=1,
        frame_zero_padding=4, rate=24, available_range=TR(RT(0, 24), RT(10, 24)))
    tl = otio.schema.Timeline(name="stills")
    tl.metadata[APP_KEY] = {"rate": 24, "width": W, "height": H}
    track = otio.schema.Track(name="V1")
    track.append(otio.schema.Clip(name="stills", media_reference=ref, source_range=TR(RT(start, 24), RT(frames, 24))))
    tl.tracks.append(track)
    return tl


def test_image_sequence_renders_its_images(tmp_path):
    folder = write_sequence(tmp_path / "seq", 10)
    out = render_timeline(cut(folder, 2, 6), tmp_path / "out.mp4", base_dir=tmp_path)
    with av.open(str(out)) as container:
        levels = [f.to_ndarray(format="rgb24").mean() for f in container.decode(video=0)]
    assert len(levels) == 6
    assert np.abs(np.array(levels) - 20 * np.arange(2, 8)).max() < 6


def test_missing_image_is_missing_media(tmp_path):
    folder = write_sequence(tmp_path / "seq", 10)
    (folder / "shot.0005.png").unlink()
    with pytest.raises(MissingMedia, match="shot.0005.png"):
        render_timeline(cut(folder, 2, 6), tmp_path / "out.mp4", base_dir=tmp_path)
    assert not (tmp_path / "out.mp4").exists()
