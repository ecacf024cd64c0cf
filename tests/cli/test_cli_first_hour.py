"""What a new user meets on the command line: help for every argument, outputs that are never
replaced without --force, render reading every format export writes and refusing a range past
the end, probe --json showing provenance as an object, and `models` failing on a broken folder."""
import argparse
import json

import pytest

from job_fixtures import encode_clip

FORMATS = (".otio", ".otioz", ".otiod", ".edl", ".xml", ".fcpxml", ".xges")


@pytest.fixture
def project(cli, tmp_path):
    path = tmp_path / "cut.otio"
    assert cli("new", path, "--rate", "24", "--size", "64x32").rc == 0
    assert cli("add", path, encode_clip(tmp_path / "a.mp4", count=24, rate=24)).rc == 0
    return path


def test_every_argument_of_every_command_has_a_help_line():
    from desktop.cli_parser import build_parser

    missing = []
    parser = build_parser()
    for sub in parser._subparsers._group_actions[0].choices.values():
        for action in sub._actions:
            if not isinstance(action, argparse._HelpAction) and not action.help:
                missing.append(f"{sub.prog} {action.dest}")
    assert missing == []


def test_outputs_are_never_replaced_without_force(cli, tmp_path, project, tiny_model):
    taken = tmp_path / "taken.mp4"
    taken.write_bytes(b"keep me")
    edl = tmp_path / "taken.edl"
    edl.write_text("keep me")
    for args in (["render", project, taken], ["export", project, edl],
                 ["generate", "a red ball", "-o", taken, "--model", tiny_model, "--steps", "1"]):
        res = cli(*args)
        assert res.rc == 1 and "already exists" in res.err and "--force" in res.err, args
    assert taken.read_bytes() == b"keep me" and edl.read_text() == "keep me"
    assert cli("render", project, taken, "--force").rc == 0
    assert cli("export", project, edl, "--force").rc == 0
    assert taken.read_bytes() != b"keep me" and edl.read_text() != "keep me"


@pytest.mark.parametrize("suffix", FORMATS)
def test_render_reads_every_format_export_writes(cli, tmp_path, project, suffix):
    from engine.media.probe import probe

    exported = tmp_path / f"handed_on{suffix}"
    assert cli("export", project, exported).rc == 0
    out = tmp_path / f"from{suffix.replace('.', '_')}.mp4"
    res = cli("render", exported, out)
    assert res.rc == 0, res.err
    assert probe(out).video.frame_count == 24


def test_a_render_range_past_the_end_is_an_error_naming_both(cli, tmp_path, project):
    out = tmp_path / "late.mp4"
    res = cli("render", project, out, "--range", "5-10")
    assert res.rc == 1 and "5-10" in res.err and "1.00 s" in res.err
    assert not out.exists()
    assert cli("render", project, out, "--range", "0.5-1").rc == 0


def test_probe_json_shows_provenance_as_an_object(cli, tmp_path):
    import numpy as np

    from engine.jobs import GenerateJob
    from engine.results import build_provenance, write_result

    frames = np.zeros((4, 32, 64, 3), np.uint8)
    provenance = build_provenance(GenerateJob(prompt="night", seed=3), {}, frames, 8.0, "tiny", "00", "0.1")
    path = write_result(frames, 8.0, provenance, tmp_path / "shot.mp4")["path"]
    res = cli("probe", path, "--json")
    assert res.rc == 0
    tag = res.json()["metadata"]["latentcut"]
    assert isinstance(tag, dict) and tag["seed"] == 3 and tag["prompt"] == "night"
    # the take carries its source timecode (the time of day it was made), as a camera file does
    assert tag["timecode"].endswith(":00") and "data" in [s["type"] for s in res.json()["streams"]]


def test_models_on_a_folder_that_cannot_run_exits_1(cli, tmp_path):
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "model_index.json").write_text(json.dumps({"_class_name": "NoSuchPipeline"}))
    res = cli("models", fake)
    assert res.rc == 1 and "cannot run" in res.out
    assert cli("models", fake, "--json").rc == 1


def test_errors_name_the_users_file_or_option_never_an_internal_parameter(cli, tmp_path, project, tiny_model):
    clip = encode_clip(tmp_path / "short.mp4", count=12, rate=24)
    empty = tmp_path / "empty.otio"
    assert cli("new", empty).rc == 0
    cases = [
        ["render", project, tmp_path / "odd.mp4", "--size", "33x17"],
        ["render", empty, tmp_path / "none.mp4"],
        ["animate", clip, "--frame", "50", "-o", tmp_path / "a.mp4", "--model", tiny_model],
        ["extend", clip, "--frames", "4-99", "-o", tmp_path / "e.mp4", "--model", tiny_model],
    ]
    internal = ("size:", "range:", "image:", "source:", "doc_or_timeline", "out_path", "timeline:")
    for args in cases:
        res = cli(*args)
        assert res.rc in (1, 2), args
        line = res.err.strip().splitlines()[-1]
        assert "Traceback" not in res.err and not any(word in line for word in internal), line
