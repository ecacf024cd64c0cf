"""Exports rendered by other programs: a 3-clip cut exported to .xges and rendered by GStreamer's
``ges-launch-1.0``, and to MLT XML rendered by ``melt`` (Shotcut's and Kdenlive's engine), give
the same frame count and the same colours as LatentCut's own render. ``.ci/run`` installs both."""
from __future__ import annotations

import shutil
import subprocess

import av
import numpy as np
import pytest

from engine.media.render import render_timeline
from interchange_fixtures import COLOURS, three_clip_cut
from timeline.interchange import export_timeline


def frames(path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def run(*command, cwd):
    if shutil.which(command[0]) is None:
        pytest.fail(f"{command[0]} is not installed (.ci/run installs it with apt)")
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def cut(tmp_path_factory):
    folder = tmp_path_factory.mktemp("outside")
    doc = three_clip_cut(folder, rate=25)
    ours = render_timeline(doc.timeline, folder / "ours.mp4", base_dir=folder)
    return doc, folder, frames(ours)


def assert_same_picture(theirs, ours):
    assert len(theirs) == len(ours) == 30
    for index, colour in ((4, "red"), (15, "green"), (25, "blue")):
        mean_theirs = theirs[index].reshape(-1, 3).mean(0)
        mean_ours = ours[index].reshape(-1, 3).mean(0)
        assert np.abs(mean_theirs - mean_ours).max() < 12, (index, mean_theirs, mean_ours)
        assert np.abs(mean_theirs - np.array(COLOURS[colour])).max() < 12


def test_ges_launch_renders_the_xges_export(cut):
    doc, folder, ours = cut
    export_timeline(doc, folder / "cut.xges")
    assert "file://" in (folder / "cut.xges").read_text()
    run("ges-launch-1.0", "--load", str(folder / "cut.xges"), "-o", str(folder / "ges.mkv"),
        "--format", "video/x-matroska:video/x-raw", cwd=folder)
    assert_same_picture(frames(folder / "ges.mkv"), ours)


def test_melt_renders_the_mlt_export(cut):
    doc, folder, ours = cut
    export_timeline(doc, folder / "cut.mlt")
    run("melt", str(folder / "cut.mlt"), "-consumer", f"avformat:{folder / 'melt.mp4'}", "vcodec=libx264",
        "crf=10", cwd=folder)
    assert_same_picture(frames(folder / "melt.mp4"), ours)
