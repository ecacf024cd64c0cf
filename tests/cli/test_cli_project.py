"""The media and project commands (probe, new, add, export, render) on real media, and the
bad-usage paths shared by every command."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pytest

REPO = Path(__file__).resolve().parents[2]


def load(path):
    from timeline.project import load_project
    return load_project(path)


@pytest.fixture
def project(cli, tmp_path, clips24):
    path = tmp_path / "cut.otio"
    assert cli("new", path, "--rate", "24", "--size", "64x32").rc == 0
    assert cli("add", path, *clips24).rc == 0
    return path


def test_probe_prints_json(cli, clip):
    res = cli("probe", clip)
    assert res.rc == 0
    info = res.json()
    assert info["video"]["frame_count"] == 12
    assert (info["video"]["width"], info["video"]["height"]) == (64, 32)
    assert info["video"]["rate"] == 8.0


@pytest.mark.parametrize("content", [None, b"", b"plain text, not a video\n" * 20])
def test_probe_of_missing_empty_or_unreadable_file_fails_naming_it(cli, tmp_path, content):
    path = tmp_path / "bad.mp4"
    if content is not None:
        path.write_bytes(content)
    res = cli("probe", path)
    assert res.rc == 1
    assert str(path) in res.err and "Traceback" not in res.err
    assert res.out == ""


def test_new_creates_a_project_and_never_overwrites_one(cli, tmp_path):
    path = tmp_path / "film.otio"
    res = cli("new", path, "--rate", "25", "--size", "1280x720")
    assert res.rc == 0, res.err
    doc = load(path)
    assert (doc.rate, doc.width, doc.height) == (25.0, 1280, 720)
    assert [t.name for t in doc.video_tracks] == ["V1"] and [t.name for t in doc.audio_tracks] == ["A1"]
    before = path.read_bytes()
    res = cli("new", path)
    assert res.rc == 1 and "already exists" in res.err and str(path) in res.err
    assert path.read_bytes() == before
    assert cli("new", path, "--force", "--rate", "30").rc == 0
    assert load(path).rate == 30.0


@pytest.mark.parametrize("args, word", [
    (["--size", "64by32"], "--size"),
    (["--size", "0x10"], "--size"),
    (["--rate", "0"], "--rate"),
    (["--rate", "fast"], "--rate"),
])
def test_new_with_bad_options_is_bad_usage(cli, tmp_path, args, word):
    res = cli("new", tmp_path / "x.otio", *args)
    assert res.rc == 2 and word in res.err
    assert not (tmp_path / "x.otio").exists()


def test_add_appends_clips_and_creates_tracks(cli, tmp_path, project, clip, tone):
    doc = load(project)
    v1 = doc.track_named("V1")
    assert [c.name for c in v1] == ["shot_a.mp4", "shot_b.mp4"]
    assert v1.duration().to_seconds() == pytest.approx(1.0)
    res = cli("add", project, clip, "--track", "V2")
    assert res.rc == 0, res.err
    res = cli("add", project, tone)
    assert res.rc == 0, res.err
    doc = load(project)
    assert [c.name for c in doc.track_named("V2")] == ["clip.mp4"]
    assert doc.track_named("V2").kind == otio.schema.TrackKind.Video
    assert [c.name for c in doc.track_named("A1")] == ["tone.m4a"]
    assert doc.track_named("A1").duration().to_seconds() == pytest.approx(1.0, abs=0.15)


def test_add_of_a_missing_or_unreadable_file_changes_nothing(cli, tmp_path, project, clip):
    before = project.read_bytes()
    res = cli("add", project, clip, tmp_path / "gone.mp4")
    assert res.rc == 1 and "gone.mp4" in res.err
    junk = tmp_path / "junk.mov"
    junk.write_bytes(b"\x00" * 300)
    res = cli("add", project, junk)
    assert res.rc == 1 and "junk.mov" in res.err
    res = cli("add", project, clip, "--track", "A1")
    assert res.rc == 1 and "--track" in res.err and "A1" in res.err
    assert project.read_bytes() == before


def test_commands_on_a_missing_or_broken_project_fail_naming_it(cli, tmp_path, clip):
    gone = tmp_path / "gone.otio"
    for args in (["add", gone, clip], ["export", gone, tmp_path / "x.edl"], ["render", gone, tmp_path / "x.mp4"]):
        res = cli(*args)
        assert res.rc == 1 and "gone.otio" in res.err, args
    broken = tmp_path / "broken.otio"
    broken.write_text('{"OTIO_SCHEMA": "Timeline.1", "tracks": ')
    res = cli("export", broken, tmp_path / "x.otio")
    assert res.rc == 1 and "broken.otio" in res.err and "Traceback" not in res.err


@pytest.mark.parametrize("suffix, adapter", [(".otio", None), (".otiod", None), (".otioz", None),
                                             (".edl", "cmx_3600"), (".xml", "fcp_xml")])
def test_export_writes_each_format(cli, tmp_path, project, suffix, adapter):
    out = tmp_path / f"out{suffix}"
    res = cli("export", project, out)
    assert res.rc == 0, res.err
    assert str(out) in res.out
    assert out.exists()
    if adapter is not None:
        back = otio.adapters.read_from_file(str(out), adapter_name=adapter)
        assert len(list(back.find_clips())) == 2


def test_export_to_edl_says_what_it_dropped(cli, tmp_path, project, clip):
    cli("add", project, clip, "--track", "V2")
    res = cli("export", project, tmp_path / "cut.edl")
    assert res.rc == 0, res.err
    dropped = [line for line in res.out.splitlines() if line.startswith("dropped:")]
    assert any("V2" in line for line in dropped)
    res = cli("export", project, tmp_path / "again.edl", "--json")
    assert res.rc == 0
    report = res.json()
    assert report["path"] == str(tmp_path / "again.edl") and any("V2" in d for d in report["dropped"])


def test_export_to_an_unknown_format_is_bad_usage(cli, tmp_path, project):
    res = cli("export", project, tmp_path / "cut.docx")
    assert res.rc == 2 and ".docx" in res.err
    assert not (tmp_path / "cut.docx").exists()


def test_render_writes_the_cut_with_range_and_size(cli, tmp_path, project):
    from engine.media.probe import probe

    out = tmp_path / "cut.mp4"
    res = cli("render", project, out)
    assert res.rc == 0, res.err
    info = probe(out)
    assert info.video.frame_count == 24 and info.video.rate == 24.0
    assert (info.video.width, info.video.height) == (64, 32)
    assert "render" in res.err  # the progress bar
    part = tmp_path / "part.mp4"
    res = cli("render", project, part, "--range", "0.25-0.75", "--size", "32x16", "--json")
    assert res.rc == 0, res.err
    result = res.json()
    assert result["path"] == str(part)
    info = probe(part)
    assert info.video.frame_count == 12 and (info.video.width, info.video.height) == (32, 16)


@pytest.mark.parametrize("args, word", [
    (["--range", "5"], "--range"),
    (["--range", "3-1"], "--range"),
    (["--range", "a-b"], "--range"),
    (["--size", "big"], "--size"),
])
def test_render_with_bad_options_is_bad_usage(cli, tmp_path, project, args, word):
    res = cli("render", project, tmp_path / "x.mp4", *args)
    assert res.rc == 2 and word in res.err
    assert not (tmp_path / "x.mp4").exists()


def test_render_to_a_non_video_name_is_bad_usage(cli, tmp_path, project):
    res = cli("render", project, tmp_path / "x.txt")
    assert res.rc == 2 and "x.txt" in res.err


def test_no_command_or_an_unknown_one_is_bad_usage(cli):
    assert cli("frobnicate").rc == 2
    assert cli("--help").rc == 0


def _run_cli_subprocess(args, env_extra=None, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "desktop", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_media_and_project_commands_never_import_torch_or_ray(tmp_path, clip):
    project = tmp_path / "p.otio"
    script = f"""
import sys
from desktop.cli import main
calls = [["new", {str(project)!r}, "--rate", "24", "--size", "64x32"],
         ["add", {str(project)!r}, {str(clip)!r}],
         ["probe", {str(clip)!r}],
         ["export", {str(project)!r}, {str(tmp_path / 'p.edl')!r}],
         ["render", {str(project)!r}, {str(tmp_path / 'p.mp4')!r}]]
for args in calls:
    assert main(args) == 0, args
import engine.remote_engine  # the client of a remote engine is as light
heavy = sorted(m for m in ("torch", "diffusers", "transformers", "PySide6", "ray") if m in sys.modules)
print("HEAVY", heavy)
"""
    res = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "HEAVY []" in res.stdout


def test_without_a_display_the_app_says_so(tmp_path):
    res = _run_cli_subprocess([], drop=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    if sys.platform.startswith("linux"):
        assert res.returncode == 1
        assert "no display" in res.stderr and "latentcut demo" in res.stderr
        assert "Traceback" not in res.stderr


@pytest.mark.parametrize("name", ["nowhere.otio", "nowhere.edl", "nowhere.otioz"])
def test_opening_a_missing_project_fails_naming_it(cli, tmp_path, name):
    res = cli(tmp_path / name)
    assert res.rc == 1 and name in res.err and "project not found" in res.err


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_in_place_on_a_terminal_and_in_lines_on_a_pipe():
    from desktop.cli_progress import ProgressBar
    from engine.engine_thread import EngineEvent

    events = [EngineEvent("started", "j")] + [EngineEvent("progress", "j", step=i, total=8) for i in range(1, 9)]
    term, pipe = _Terminal(), io.StringIO()
    for stream in (term, pipe):
        bar = ProgressBar("render", 1, stream=stream)
        for event in events:
            bar.on_event(event)
        bar.close()
    assert term.getvalue().count("\r") == 8 and "[" + "#" * 30 + "] 8/8" in term.getvalue()
    assert term.getvalue().endswith("\n")
    lines = pipe.getvalue().splitlines()
    assert lines[0] == "render started" and lines[-1] == "render 8/8" and len(lines) <= 6


def test_progress_shows_windows_and_steps_with_a_total_eta():
    from desktop.cli_progress import ProgressBar, steps_per_window
    from engine.engine_thread import EngineEvent
    from engine.jobs import GenerateJob, RestyleJob

    job = GenerateJob(prompt="x", seconds=4, steps=10)
    assert steps_per_window(job) == 10
    assert steps_per_window(RestyleJob(prompt="x", source="a.mp4", steps=10, strength=0.5)) == 5
    term, pipe = _Terminal(), io.StringIO()
    for stream in (term, pipe):
        bar = ProgressBar("generate", 1, [steps_per_window(job)], stream=stream)
        bar.on_event(EngineEvent("started", "j"))
        for i in range(1, 31):
            bar.on_event(EngineEvent("progress", "j", step=i, total=30))
        bar.close()
    assert "window 2/3, step 4/10 ETA" in term.getvalue()
    assert "window 3/3, step 10/10" in term.getvalue() and "30/30" not in term.getvalue()
    lines = pipe.getvalue().splitlines()
    assert lines[1].startswith("generate window 1/3, step ") and " ETA " in lines[1]
    assert lines[-1] == "generate window 3/3, step 10/10"
