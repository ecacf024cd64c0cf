"""Builders for the timeline tests: clips with media ranges, layouts and JSON snapshots."""
import opentimelineio as otio

RT = otio.opentime.RationalTime
TR = otio.opentime.TimeRange


def frames(n, rate=24):
    return RT(n, rate)


def make_clip(name, frames_long=24, start=0, media_frames=240, rate=24, url=None):
    """A clip showing ``frames_long`` frames of a ``media_frames``-long file from ``start``."""
    ref = otio.schema.ExternalReference(
        target_url=url or f"/media/{name}.mp4",
        available_range=TR(RT(0, rate), RT(media_frames, rate)))
    return otio.schema.Clip(name=name, media_reference=ref,
                            source_range=TR(RT(start, rate), RT(frames_long, rate)))


def snapshot(doc):
    return otio.adapters.write_to_string(doc.timeline, "otio_json")


def layout(track):
    """(kind, name, record start, duration) per item, in frames at 24 fps."""
    out = []
    for i, item in enumerate(track):
        rng = track.range_of_child_at_index(i)
        out.append((type(item).__name__, item.name, round(rng.start_time.rescaled_to(24).value),
                    round(rng.duration.rescaled_to(24).value)))
    return out


def assert_roundtrip(stack, cmd):
    """Push ``cmd``; undo must give back the exact JSON before it, redo the exact JSON after."""
    doc = stack.doc
    before = snapshot(doc)
    stack.push(cmd)
    after = snapshot(doc)
    assert after != before, "the command changed nothing"
    stack.undo()
    assert snapshot(doc) == before
    stack.redo()
    assert snapshot(doc) == after
    stack.undo()
    stack.redo()
    assert snapshot(doc) == after
    return after
