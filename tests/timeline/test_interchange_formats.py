"""Interchange with real editors' files: other editors' samples never end in a traceback, each
defect of issue 13 stays fixed, and every feature of the everything-cut is either kept (checked
by reading the file back) or reported dropped, in every format."""
import io
from pathlib import Path

import opentimelineio as otio
import pycmx
import pytest

from interchange_fixtures import RT, TR, feature_cut, recipe

from desktop.cli import main
from timeline import Document, ProjectError
from timeline.generated import RECIPE
from timeline.interchange import export_timeline, import_timeline
from timeline.interchange_prepare import track_is_on
from timeline.provenance import APP_KEY, is_generated

SAMPLES = Path(__file__).parents[1] / "interchange_samples"
WRITTEN = ["edl", "xml", "fcpxml", "xges", "mlt"]


def clip(timeline, name):
    return next(c for c in timeline.find_clips() if c.name == name)


@pytest.fixture(scope="module")
def cut24(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cut24")
    return feature_cut(folder, 24), folder


# -- 1, 2: no traceback for anything OTIO reads ----------------------------------------------
@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir()
                                          if p.suffix in (".otio", ".edl", ".xml", ".fcpxml")))
def test_export_of_every_sample_writes_or_says_why(sample, tmp_path, capsys):
    for ext in WRITTEN:
        code = main(["export", str(SAMPLES / sample), str(tmp_path / f"out.{ext}")])
        err = capsys.readouterr().err
        assert code in (0, 1) and "Traceback" not in err, (ext, err)
        assert code == 0 or err.splitlines()[-1].startswith("latentcut export: error: "), (ext, err)


@pytest.mark.parametrize("sample", ["simple_cut.otio", "transition.otio", "nested_example.otio",
                                    "avid_example.edl", "nucoda_example.edl"])
def test_clips_without_ranges_and_nested_stacks_export_to_edl_and_xml(sample, tmp_path):
    timeline = import_timeline(SAMPLES / sample)
    for ext in ("edl", "xml"):
        report = export_timeline(timeline, tmp_path / f"out.{ext}")
        assert (tmp_path / f"out.{ext}").stat().st_size > 0, report


def test_nested_stack_stays_a_nested_sequence_in_fcp_xml(tmp_path):
    timeline = import_timeline(SAMPLES / "nested_example.otio")
    export_timeline(timeline, tmp_path / "nested.xml")
    back = import_timeline(tmp_path / "nested.xml")
    stacks = list(back.find_children(descended_from_type=otio.schema.Stack))
    assert stacks and any(s.find_clips() for s in stacks)
    assert {c.name for c in back.find_clips()} == {c.name for c in timeline.find_clips()}


# -- 3: EDL rates ---------------------------------------------------------------------------
def test_25fps_edl_is_read_at_25():
    timeline = import_timeline(SAMPLES / "25fps.edl")
    assert Document(timeline).rate == 25
    assert all(c.source_range.duration.rate == 25 for c in timeline.find_clips())


def test_own_30fps_edl_reopens_at_its_length(tmp_path):
    doc = Document.new(rate=30)
    ref = otio.schema.ExternalReference(target_url="/media/a.mp4", available_range=TR(RT(0, 30), RT(300, 30)))
    doc.video_tracks[0].append(otio.schema.Clip(name="a", media_reference=ref, source_range=TR(RT(10, 30), RT(45, 30))))
    export_timeline(doc, tmp_path / "a.edl")
    back = import_timeline(tmp_path / "a.edl")
    assert back.duration().to_seconds() == 1.5


def test_edl_without_a_rate_is_read_at_24_with_a_note_or_at_the_rate_given(tmp_path):
    edl = tmp_path / "plain.edl"
    edl.write_text("TITLE: plain\n\n001  A001 V C 01:00:00:00 01:00:01:00 01:00:00:00 01:00:01:00\n")
    notes = []
    assert import_timeline(edl, notes=notes).duration() == RT(24, 24)
    assert notes and "24 fps" in notes[0]
    notes = []
    assert import_timeline(edl, rate=30, notes=notes).duration() == RT(30, 30) and not notes


def test_impossible_timecodes_rule_out_24fps(tmp_path):
    edl = tmp_path / "pal.edl"
    edl.write_text("TITLE: pal\n\n001  A001 V C 01:00:00:00 01:00:00:24 01:00:00:00 01:00:00:24\n")
    assert Document(import_timeline(edl)).rate == 25


def test_a_dissolves_incoming_clip_keeps_its_own_media(cut24, tmp_path):
    doc, folder = cut24
    report = export_timeline(doc, tmp_path / "cut.edl")
    assert not any("became" in d and "media" in d for d in report.dropped)
    assert clip(import_timeline(tmp_path / "cut.edl"), "green").media_reference.target_url == f"{folder}/green.mp4"


# -- 4, 5: FCP XML ----------------------------------------------------------------------------
def test_fcp_xml_keeps_enabled_track_names_colours_size_generators_and_nesting(cut24, tmp_path):
    doc, _ = cut24
    export_timeline(doc, tmp_path / "cut.xml")
    back = import_timeline(tmp_path / "cut.xml")
    assert clip(back, "blue").enabled is False and clip(back, "red").enabled is True
    tracks = {t.name: t for t in back.tracks}
    assert tracks["Titles"].enabled is False
    assert tracks["Music"].enabled is False  # muted in LatentCut's header: disabled in FCP XML
    assert tracks["Picture"].enabled is True
    assert [m.color for m in clip(back, "red").markers] == ["GREEN"]
    assert [m.color for m in back.tracks.markers] == ["BLUE"]
    assert (Document(back).width, Document(back).height) == (64, 36)
    bars = clip(back, "bars").media_reference
    assert isinstance(bars, otio.schema.GeneratorReference) and bars.generator_kind == "SMPTEBars"
    assert any(isinstance(c, otio.schema.Stack) for c in tracks["Picture"])


def test_premiere_disabled_clips_and_track_come_back_disabled(tmp_path):
    timeline = import_timeline(SAMPLES / "premiere_enable_property.xml")
    assert sum(not c.enabled for c in timeline.find_clips()) == 4
    assert [t.enabled for t in timeline.tracks].count(False) == 1
    export_timeline(timeline, tmp_path / "again.xml")
    back = import_timeline(tmp_path / "again.xml")
    assert sum(not c.enabled for c in back.find_clips()) == 4
    assert [t.enabled for t in back.tracks].count(False) == 1


@pytest.mark.parametrize("sample", ["premiere_generators.xml", "premiere_example.xml"])
def test_premiere_generators_and_nested_sequences_round_trip_as_plain_otio_does(sample, tmp_path):
    plain = otio.adapters.read_from_file(str(SAMPLES / sample))
    report = export_timeline(import_timeline(SAMPLES / sample), tmp_path / "again.xml")
    back = import_timeline(tmp_path / "again.xml")

    def kinds(t):
        return [(c.name, type(c.media_reference).__name__, getattr(c.media_reference, "generator_kind", None))
                for c in t.find_clips()]

    # plain OTIO reads nested sequences empty; LatentCut reads their clips too
    assert [k for k in kinds(back) if k[2]] == [k for k in kinds(plain) if k[2]]
    assert set(kinds(plain)) <= set(kinds(back))
    assert not any("Slug" in d or "not generated" in d for d in report.dropped)


# -- 6: file URLs ---------------------------------------------------------------------------
@pytest.mark.parametrize("ext", ["edl", "xml", "fcpxml", "xges"])
def test_media_are_written_as_file_urls_and_read_back_as_paths(cut24, tmp_path, ext):
    doc, folder = cut24
    export_timeline(doc, tmp_path / f"cut.{ext}")
    text = (tmp_path / f"cut.{ext}").read_text()
    assert f"file://{folder}/red.mp4" in text
    assert f">{folder}/red.mp4<" not in text and f'"{folder}/red.mp4"' not in text
    assert clip(import_timeline(tmp_path / f"cut.{ext}"), "red").media_reference.target_url == f"{folder}/red.mp4"


def test_localhost_file_urls_are_read(tmp_path):
    text = (SAMPLES / "premiere_example.xml").read_text()
    assert "file://localhost/" in text
    timeline = import_timeline(SAMPLES / "premiere_example.xml")
    urls = [c.media_reference.target_url for c in timeline.find_clips()
            if isinstance(c.media_reference, otio.schema.ExternalReference)]
    assert urls and all(u.startswith("D:/media/") for u in urls)  # file://localhost/D:/media/...


@pytest.mark.parametrize("path,url", [("/m/my shot#1.mov", "file:///m/my%20shot%231.mov"),
                                      ("C:\\cuts\\a b.mov", "file:///C:/cuts/a%20b.mov")])
def test_paths_with_spaces_and_other_systems_paths_become_proper_urls(tmp_path, path, url):
    doc = Document.new(rate=25)
    ref = otio.schema.ExternalReference(target_url=path, available_range=TR(RT(0, 25), RT(50, 25)))
    doc.video_tracks[0].append(otio.schema.Clip(name="a", media_reference=ref, source_range=TR(RT(0, 25), RT(25, 25))))
    report = export_timeline(doc, tmp_path / "cut.xml")
    assert f"<pathurl>{url}</pathurl>" in (tmp_path / "cut.xml").read_text()
    assert clip(import_timeline(tmp_path / "cut.xml"), "a").media_reference.target_url == path.replace("\\", "/")
    assert not any("media" in d for d in report.dropped)


# -- 7: FCPXML --------------------------------------------------------------------------------
def test_fcpxml_is_read_and_written(cut24, tmp_path):
    timeline = import_timeline(SAMPLES / "fcpx_example.fcpxml")
    assert len(list(timeline.find_clips())) > 10
    doc, _ = cut24
    export_timeline(doc, tmp_path / "cut.fcpxml")
    back = import_timeline(tmp_path / "cut.fcpxml")
    assert clip(back, "red").source_range == doc.timeline.tracks[0][0].source_range


# -- 8: provenance both ways ----------------------------------------------------------------
@pytest.mark.parametrize("ext", ["edl", "xml"])
def test_generated_clips_come_back_generated_with_their_full_recipe(cut24, tmp_path, ext):
    doc, _ = cut24
    export_timeline(doc, tmp_path / f"cut.{ext}")
    back = import_timeline(tmp_path / f"cut.{ext}")
    gen, before = clip(back, "gen"), clip(doc.timeline, "gen")
    assert is_generated(gen)
    assert otio.core.serialize_json_to_string(gen.metadata[APP_KEY]) == \
        otio.core.serialize_json_to_string(before.metadata[APP_KEY])
    md = gen.metadata[APP_KEY]
    assert (md["negative_prompt"], md["steps"], md["guidance"]) == ("blurry", 12, 4.5)
    assert md["model"]["sha256"] == "ab" * 32 and md["engine_version"] == "0.1.0" and md["created"]
    assert gen.active_media_reference_key == "take-2"
    assert gen.media_references()[RECIPE].parameters["prompt"] == recipe(5)["prompt"]
    todo = clip(back, "todo")
    assert todo.active_media_reference_key == RECIPE and todo.metadata[APP_KEY]["status"] == "pending"
    assert todo.media_reference.parameters["seed"] == 7


# -- 9: valid EDLs ----------------------------------------------------------------------------
def test_edl_reel_names_are_valid_and_say_what_changed(cut24, tmp_path):
    doc, _ = cut24
    report = export_timeline(doc, tmp_path / "cut.edl")
    assert any("'UNC Path' written as 'UNC_Path'" in d for d in report.dropped)
    edits = [e for ev in pycmx.parse_cmx3600(io.StringIO((tmp_path / "cut.edl").read_text())).events
             for e in ev.edits]
    assert edits and all(e.source and " " not in e.source.strip() for e in edits)
    otio.adapters.read_from_file(str(tmp_path / "cut.edl"), rate=24)


@pytest.mark.parametrize("rate", [25, 30000 / 1001])
def test_edl_without_start_time_is_written_at_the_cuts_rate(tmp_path, rate):
    timeline = otio.schema.Timeline()
    track = otio.schema.Track()
    timeline.tracks.append(track)
    for name in "ab":
        track.append(otio.schema.Clip(name=name, source_range=TR(RT(0, rate), RT(100, rate)),
                                      media_reference=otio.schema.ExternalReference(target_url=f"/m/{name}.mov")))
    export_timeline(timeline, tmp_path / "cut.edl")
    back = import_timeline(tmp_path / "cut.edl")
    assert [c.source_range.duration.value for c in back.find_clips()] == [100, 100]
    assert abs(Document(back).rate - rate) < 1e-6


# -- 11 and the table: every feature kept or reported, in every format ------------------------
MLT_KEPT = {  # MLT has no reader: what its XML shows it kept
    "nested stack": lambda text: text.count("<tractor") > 1,
    "image sequence": lambda text: "seq.%04d.png" in text,
    "freeze frame": lambda text: "freeze" in text,
    "no source range": lambda text: 'producer="whole' in text or ">whole<" in text or "whole.mp4" in text
    or "red.mp4" in text,
    "frame size": lambda text: 'width="64"' in text and 'height="36"' in text,
    "dissolve": lambda text: ">luma<" in text,
}


def _kept(feature, back, text):
    """Whether ``feature`` of the everything-cut is in ``back`` (or MLT ``text``) as it was."""
    if back is None:
        return feature in MLT_KEPT and MLT_KEPT[feature](text)
    tracks = {t.name: t for t in back.tracks}
    names = {c.name: c for c in back.find_clips()}
    checks = {
        "disabled clip": lambda: "blue" in names and not names["blue"].enabled,
        "hidden track": lambda: "Titles" in tracks and not tracks["Titles"].enabled,
        "muted track": lambda: "Music" in tracks and not track_is_on(tracks["Music"]),
        "track names": lambda: {"Picture", "Titles", "Music"} <= set(tracks),
        "nested stack": lambda: any(isinstance(c, otio.schema.Stack) for t in back.tracks for c in t),
        "dissolve": lambda: any(getattr(c, "transition_type", "") == "SMPTE_Dissolve" for t in back.tracks for c in t),
        "wipe": lambda: any(getattr(c, "transition_type", "") == "SMPTE_Wipe" for t in back.tracks for c in t),
        "generator": lambda: "bars" in names and isinstance(names["bars"].media_reference, otio.schema.GeneratorReference),
        "image sequence": lambda: "stills" in names and isinstance(names["stills"].media_reference, otio.schema.ImageSequenceReference),
        "marker colours": lambda: "red" in names and [m.color for m in names["red"].markers] == ["GREEN"],
        "timeline marker": lambda: ("reel change", "BLUE") in [(m.name, m.color) for m in back.tracks.markers],
        "effects": lambda: "green" in names and [e.effect_name for e in names["green"].effects] == ["Blur"],
        "freeze frame": lambda: "freeze" in names and any(e.effect_name == "FreezeFrame" for e in names["freeze"].effects),
        "no source range": lambda: "whole" in names and names["whole"].trimmed_range().duration.value == 24,
        "no available range": lambda: "offline" in names,
        "generated clip": lambda: "gen" in names and is_generated(names["gen"]),
        "other takes": lambda: "gen" in names and "take-1" in names["gen"].media_references(),
        "clip not generated yet": lambda: "todo" in names and names["todo"].active_media_reference_key == RECIPE,
        "frame size": lambda: Document(back).width == 64,
        "other apps' data": lambda: "red" in names and "nuke" in names["red"].metadata,
    }
    return checks[feature]()


REPORTED = {  # what the report says when the feature is not kept
    "disabled clip": "'blue'", "hidden track": "Titles", "muted track": "Music",
    "track names": ("name 'Picture'", "Picture: its name"), "nested stack": "nested stack 'comp'", "dissolve": ("dissolve at", "'mix'"),
    "wipe": "wipe", "generator": "'bars'", "image sequence": "'stills'", "marker colours": "marker",
    "timeline marker": ("timeline marker", "reel change"), "effects": ("Blur", "'green'"), "freeze frame": "FreezeFrame",
    "no source range": "'whole'", "no available range": "'offline'", "generated clip": "AI-generated",
    "other takes": "take-1", "clip not generated yet": "'todo'", "frame size": "frame size",
    "other apps' data": "nuke",
}
FORMATS = ["otio", "otioz", "edl", "xml", "fcpxml", "xges", "mlt"]


def feature_table(doc, folder, out_dir, formats=FORMATS):
    """{format: {feature: "kept" | "reported" | "LOST SILENTLY"}} for the everything-cut."""
    table = {}
    for ext in formats:
        try:
            report = export_timeline(doc, out_dir / f"cut.{ext}", base_dir=folder)
        except ProjectError:  # the writer refuses the whole cut, and says why (FCPXML at 29.97)
            table[ext] = {feature: "refused" for feature in REPORTED}
            continue
        dropped = "\n".join(report.dropped)
        back = None if ext == "mlt" else import_timeline(out_dir / f"cut.{ext}")
        text = (out_dir / f"cut.{ext}").read_text() if ext == "mlt" else ""
        table[ext] = {}
        for feature, words in REPORTED.items():
            words = (words,) if isinstance(words, str) else words
            if _kept(feature, back, text):
                table[ext][feature] = "kept"
            else:
                table[ext][feature] = "reported" if any(w in dropped for w in words) else "LOST SILENTLY"
    return table


@pytest.mark.parametrize("rate", [25, 30000 / 1001])
def test_no_feature_is_lost_silently_in_any_format(tmp_path, rate):
    folder = tmp_path / "media"
    folder.mkdir()
    doc = feature_cut(folder, rate)
    table = feature_table(doc, folder, tmp_path)
    silent = [(fmt, f) for fmt, row in table.items() for f, state in row.items() if state == "LOST SILENTLY"]
    assert silent == []
    assert set(table["otio"].values()) == {"kept"}
    assert table["xml"]["disabled clip"] == table["xml"]["marker colours"] == table["xml"]["wipe"] == "kept"
    assert table["edl"]["generated clip"] == table["xml"]["generated clip"] == "kept"


def test_report_names_vanished_effects_wipes_and_colours_in_editor_words(cut24, tmp_path):
    doc, _ = cut24
    dropped = "\n".join(export_timeline(doc, tmp_path / "cut.xml").dropped)
    assert "effect Blur is left out" in dropped and "effect FreezeFrame is left out" in dropped
    assert "wipe" not in dropped  # FCP XML keeps it as an Edge Wipe
    dropped = "\n".join(export_timeline(doc, tmp_path / "cut.mlt").dropped)
    assert "wipe 'wipe' on video track Picture: became a dissolve" in dropped
    dropped = "\n".join(export_timeline(doc, tmp_path / "cut.xges").dropped)
    assert "hidden in LatentCut but visible in the xges" in dropped
    assert "muted in LatentCut but audible in the xges" in dropped
    assert "its name 'Picture' is not kept" in dropped


def test_one_loss_on_many_clips_is_one_line_that_counts_them(tmp_path):
    doc = Document.new(rate=25)
    for i in range(16):
        ref = otio.schema.ExternalReference(target_url=f"/m/{i}.mov", available_range=TR(RT(0, 25), RT(50, 25)))
        c = otio.schema.Clip(name=f"shot {i}", media_reference=ref, source_range=TR(RT(0, 25), RT(10, 25)))
        c.effects.append(otio.schema.FreezeFrame())
        doc.video_tracks[0].append(c)
    lines = [d for d in export_timeline(doc, tmp_path / "cut.xml").dropped if "FreezeFrame" in d]
    assert len(lines) == 1 and lines[0].startswith("16 places: effect FreezeFrame is left out")


def test_bad_input_to_import(tmp_path):
    with pytest.raises(ProjectError, match="holds no timeline|cannot read"):
        bad = tmp_path / "clips.fcpxml"
        bad.write_text("<fcpxml version='1.8'><resources/></fcpxml>")
        import_timeline(bad)
