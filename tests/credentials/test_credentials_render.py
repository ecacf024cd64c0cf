"""A render carries a composite manifest: one ingredient per generated take it shows, placed
at the time ranges where it shows; camera footage is not listed as generated."""
import c2pa
import opentimelineio as otio
from credentials_fixtures import write_take

from engine.credentials.manifests import COMPOSITE, COMPOSITE_WITH_TRAINED
from engine.credentials.reading import read_credentials
from engine.engine_thread import Engine
from engine.jobs import GenerateJob, RenderJob
from timeline import Document
from timeline.edits import Append
from timeline.generated import AddTake, PlacePendingClip, make_pending_clip

RATE = 8


def _camera(path, frames):
    rng = otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(frames, RATE))
    return otio.schema.Clip(name=path.name, media_reference=otio.schema.ExternalReference(
        target_url=str(path), available_range=rng), source_range=rng)


def _generated(doc, track, at_frame, take_path, name, shift):
    result = write_take(take_path, job=GenerateJob(prompt=name, seed=shift, output=str(take_path)), shift=shift)
    clip = make_pending_clip(op="generate", params={"prompt": name}, duration=otio.opentime.RationalTime(8, RATE),
                             name=name)
    PlacePendingClip(clip, track, otio.opentime.RationalTime(at_frame, RATE)).do(doc)
    available = otio.opentime.TimeRange(otio.opentime.RationalTime(0, RATE), otio.opentime.RationalTime(8, RATE))
    AddTake(clip, result["path"], available, result["provenance"]).do(doc)


def _render(doc, out, tmp_path):
    engine = Engine()
    try:
        job_id = engine.submit(RenderJob(output=str(out), timeline_json=doc.timeline.to_json_string(),
                                         base_dir=str(tmp_path)))
        final = engine.wait(job_id, timeout=120)
    finally:
        engine.shutdown()
    assert final.kind == "done", final.message
    return final.result


def test_a_cut_with_two_generated_takes_lists_exactly_those_takes_and_when(tmp_path, clip):
    doc = Document.new(rate=RATE, width=64, height=32)
    track = doc.video_tracks[0]
    Append(track, _camera(clip, 12)).do(doc)                      # 0-1.5 s camera footage
    _generated(doc, track, 12, tmp_path / "take_a.mp4", "shot a", 1)  # 1.5-2.5 s
    _generated(doc, track, 20, tmp_path / "take_b.mp4", "shot b", 9)  # 2.5-3.5 s
    result = _render(doc, tmp_path / "cut.mp4", tmp_path)

    with c2pa.Reader(str(tmp_path / "cut.mp4")) as reader:
        manifest = reader.get_active_manifest()
        assert reader.get_validation_state() == "Valid"
    titles = sorted(i["title"] for i in manifest["ingredients"])
    assert titles == ["take_a.mp4", "take_b.mp4"]  # the camera clip is not an ingredient
    assert all(i["relationship"] == "componentOf" and i.get("active_manifest") for i in manifest["ingredients"])
    actions = [a for s in manifest["assertions"] if s["label"] == "c2pa.actions.v2" for a in s["data"]["actions"]]
    assert actions[0]["action"] == "c2pa.created" and actions[0]["digitalSourceType"] == COMPOSITE_WITH_TRAINED
    assert actions[-1]["action"] == "c2pa.edited"
    placed = [a for a in actions if a["action"] == "c2pa.placed"]
    times = sorted((float(r["time"]["start"]), float(r["time"]["end"]))
                   for a in placed for c in a["changes"] for r in c["region"])
    assert times == [(1.5, 2.5), (2.5, 3.5)]
    segments = next(s["data"]["segments"] for s in manifest["assertions"] if s["label"] == "org.latentcut.segments")
    assert sorted((s["clip"], s["start"], s["end"]) for s in segments) == [("shot a", 1.5, 2.5), ("shot b", 2.5, 3.5)]

    creds = read_credentials(tmp_path / "cut.mp4")
    assert creds.state == "untrusted" and creds.contains_generated and not creds.generated
    assert result["credentials"]["manifest"] == creds.manifest_id
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no unsigned leftovers


def test_a_cut_of_camera_footage_only_is_a_plain_composite(tmp_path, clip):
    doc = Document.new(rate=RATE, width=64, height=32)
    Append(doc.video_tracks[0], _camera(clip, 12)).do(doc)
    _render(doc, tmp_path / "cut.mp4", tmp_path)
    creds = read_credentials(tmp_path / "cut.mp4")
    assert creds.ingredients == [] and not creds.contains_generated
    assert creds.actions[0]["digitalSourceType"] == COMPOSITE


def test_a_render_with_a_bad_key_fails_before_rendering_and_leaves_nothing(tmp_path, clip):
    doc = Document.new(rate=RATE, width=64, height=32)
    Append(doc.video_tracks[0], _camera(clip, 12)).do(doc)
    (tmp_path / "key.pem").write_text("not a key")
    from engine.credentials import SigningSettings
    from engine.credentials.local_ca import local_signer

    engine = Engine(signing=SigningSettings(cert=str(local_signer()[0]), key=str(tmp_path / "key.pem")))
    out = tmp_path / "renders" / "cut.mp4"
    try:
        final = engine.wait(engine.submit(RenderJob(output=str(out), timeline_json=doc.timeline.to_json_string(),
                                                    base_dir=str(tmp_path))), timeout=60)
    finally:
        engine.shutdown()
    assert final.kind == "failed" and "not a PEM private key" in final.message
    assert list(out.parent.iterdir()) == []


def test_a_render_to_a_container_without_credentials_says_so(tmp_path, clip):
    doc = Document.new(rate=RATE, width=64, height=32)
    Append(doc.video_tracks[0], _camera(clip, 12)).do(doc)
    engine = Engine()
    try:
        final = engine.wait(engine.submit(RenderJob(output=str(tmp_path / "cut.mkv"),
                                                    timeline_json=doc.timeline.to_json_string())), timeout=60)
    finally:
        engine.shutdown()
    assert final.kind == "failed" and "cannot carry Content Credentials" in final.message and "--no-sign" in final.message
    assert not (tmp_path / "cut.mkv").exists()
