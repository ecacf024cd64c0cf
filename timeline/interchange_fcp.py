"""FCP 7 XML (Premiere, Resolve, Avid): what OTIO's adapter leaves out, added both ways.

The adapter writes each object's ``metadata["fcp_xml"]`` as XML under its element and reads
unknown elements back into it; that is how the fields below travel:
- ``<enabled>`` of clips and tracks (a disabled clip, a hidden video or muted audio track);
- track ``<name>``; marker ``<color>``;
- the sequence frame size (``<format><samplecharacteristics>``);
- a generated clip's provenance and recipe in its ``<logginginfo><lognote>`` with a readable
  note in ``<comments>``.
Nested stacks stay nested sequences; generators stay generators (bars, slugs, mattes, titles).
"""
from __future__ import annotations

from xml.etree import ElementTree

import opentimelineio as otio

from .interchange_prepare import active_media_only, nesting_as_stacks_of_tracks
from .interchange_recipe import parse_text, provenance_record, record_text, restore
from .provenance import APP_KEY, generated_note, timeline_rate
from .timecode import smpte_rate

NS = "fcp_xml"
WIPE = "SMPTE_Wipe"
_COLOURS = {getattr(otio.schema.MarkerColor, n) for n in dir(otio.schema.MarkerColor) if n.isupper()}


def _fcp(obj) -> dict:
    md = obj.metadata.get(NS)
    return dict(md) if md is not None else {}


def _generator(ref) -> None:
    """A generator that came from no FCP file gets the fields that make the adapter write a
    ``<generatoritem>`` rather than a clip without media (which it cannot write)."""
    md = _fcp(ref)
    if "effecttype" not in md and "mediaSource" not in md:
        md.update(effecttype="generator", mediatype="video", effectcategory="Matte")
        ref.metadata[NS] = md


def _mark_track(track) -> None:
    md = _fcp(track)
    md["enabled"] = "TRUE" if track.enabled else "FALSE"
    if track.name:
        md["name"] = track.name
    track.metadata[NS] = md


def _mark_item(item, number: int) -> None:
    md = _fcp(item)
    md["@id"] = f"clipitem-{number}"  # identical clips would otherwise be written as back-references
    md["enabled"] = "TRUE" if item.enabled else "FALSE"
    record = provenance_record(item) if isinstance(item, otio.schema.Clip) else None
    if record is not None:
        md["comments"] = {"mastercomment1": generated_note(item)}
        logging = dict(md.get("logginginfo") or {})
        logging["lognote"] = record_text(record)
        md["logginginfo"] = logging
    item.metadata[NS] = md
    for marker in item.markers:
        _mark_marker(marker)


def _mark_wipe(transition) -> None:
    md = _fcp(transition)
    md["effect"] = {"name": transition.name or "Edge Wipe", "effectid": "Edge Wipe",
                    "effectcategory": "Wipe", "effecttype": "transition", "mediatype": "video"}
    transition.metadata[NS] = md


def _mark_marker(marker) -> None:
    md = _fcp(marker)
    md["color"] = marker.color
    marker.metadata[NS] = md


def _walk_tracks(stack):
    for track in stack:
        if isinstance(track, otio.schema.Track):
            yield track
            for child in track:
                if isinstance(child, otio.schema.Stack):
                    yield from _walk_tracks(child)


def _media_time_at(clip, rate: float) -> None:
    """Count a clip's media time at ``rate``. FCP XML gives a file a SMPTE timecode at its own
    rate, and a file at a rate without one (the embedded model's 12 fps) is then described at the
    sequence's rate instead; the times in seconds are the same."""
    for owner, attr in ((clip, "source_range"), (clip.media_reference, "available_range")):
        span = getattr(owner, attr, None)
        if span is not None and smpte_rate(span.start_time.rate) is None:
            setattr(owner, attr, otio.opentime.TimeRange(span.start_time.rescaled_to(rate),
                                                         span.duration.rescaled_to(rate)))


def fcp_timeline(tl, width: int | None, height: int | None) -> otio.schema.Timeline:
    """Shape the prepared copy ``tl`` for the FCP XML writer (in place) and return it."""
    nesting_as_stacks_of_tracks(tl)
    rate = timeline_rate(tl)
    for clip in tl.find_clips():
        _media_time_at(clip, rate)
    number = 0
    for track in list(_walk_tracks(tl.tracks)):
        _mark_track(track)
        for item in track:
            if isinstance(item, otio.schema.Transition) and item.transition_type == WIPE:
                _mark_wipe(item)
            if isinstance(item, (otio.schema.Clip, otio.schema.Stack)):
                number += 1
                _mark_item(item, number)
            if isinstance(item, otio.schema.Clip) and isinstance(
                    item.media_reference, otio.schema.GeneratorReference):
                _generator(item.media_reference)
    for marker in tl.tracks.markers:
        _mark_marker(marker)
    if width and height:
        md = _fcp(tl)
        media = dict(md.get("media") or {})
        video = dict(media.get("video") or {})
        fmt = dict(video.get("format") or {})
        fmt["samplecharacteristics"] = {"width": str(width), "height": str(height)}
        video["format"] = fmt
        media["video"] = video
        md["media"] = media
        tl.metadata[NS] = md
    active_media_only(tl)
    return tl


# -- reading ----------------------------------------------------------------------------------
def _parser_class():
    """OTIO's FCP XML parser, reading a nested ``<sequence>``'s tracks from its ``<media>``
    (the stock parser looks for tracks directly under the sequence and finds none, so every
    nested sequence came back empty), and wipes as wipes (it reads every transition as a
    dissolve)."""
    base = otio.adapters.from_name("fcp_xml").module().FCP7XMLParser

    class NestedSequenceParser(base):
        def transition_for_element(self, item_element, context):
            transition = super().transition_for_element(item_element, context)
            if "wipe" in (item_element.findtext("./effect/effectid") or "").lower():
                transition.transition_type = WIPE
            return transition

        def stack_for_element(self, element, context):
            if element.tag == "sequence":
                media = self._derefed_element(element.find("./media"))
                if media is not None:
                    stack = super().stack_for_element(media, context)
                    stack.name = (element.findtext("./name") or "").strip()
                    return stack
            return super().stack_for_element(element, context)

    return NestedSequenceParser


def read_fcp_xml(text: str):
    """Every sequence in FCP XML ``text`` (a Timeline, or a collection of them), nested
    sequences included, with the fields ``fcp_timeline`` writes restored."""
    tree = ElementTree.fromstring(text)
    sequences = _parser_class()(tree).top_level_sequences()
    if not sequences:
        raise ValueError("it holds no sequence")
    for timeline in sequences:
        fcp_restore(timeline)
    if len(sequences) == 1:
        return sequences[0]
    return otio.schema.SerializableCollection(name="Sequences", children=sequences)


def _enabled(md: dict) -> bool | None:
    value = md.pop("enabled", None)
    return None if value is None else str(value).strip().upper() != "FALSE"


def _unmark_item(item) -> None:
    md = _fcp(item)
    enabled = _enabled(md)
    if enabled is not None:
        item.enabled = enabled
    logging = dict(md.get("logginginfo") or {})
    record = parse_text(str(logging.get("lognote") or ""))
    if record is not None and isinstance(item, otio.schema.Clip):
        logging.pop("lognote")
        md["logginginfo"] = logging
        comments = dict(md.get("comments") or {})
        if str(comments.get("mastercomment1") or "").startswith("AI-GENERATED by LatentCut"):
            comments.pop("mastercomment1")
            md["comments"] = comments
        restore(item, record)
    item.metadata[NS] = md
    for marker in item.markers:
        _unmark_marker(marker)


def _unmark_marker(marker) -> None:
    md = _fcp(marker)
    color = md.pop("color", None)
    if color and str(color).upper() in _COLOURS:
        marker.color = str(color).upper()
    marker.metadata[NS] = md


def fcp_restore(tl) -> otio.schema.Timeline:
    """After OTIO's reader: enabled states, track names, marker colours, the frame size and
    generated clips from the fields ``fcp_timeline`` (or Premiere) wrote."""
    for track in _walk_tracks(tl.tracks):
        md = _fcp(track)
        enabled = _enabled(md)
        if enabled is not None:
            track.enabled = enabled
        md.pop("name", None)  # the reader already named the track from it
        track.metadata[NS] = md
        for item in track:
            if isinstance(item, (otio.schema.Clip, otio.schema.Stack)):
                _unmark_item(item)
    for marker in tl.tracks.markers:
        _unmark_marker(marker)
    video = ((_fcp(tl).get("media") or {}).get("video") or {})
    size = ((video.get("format") or {}).get("samplecharacteristics") or {})
    try:
        width, height = int(size.get("width")), int(size.get("height"))
    except (TypeError, ValueError):
        return tl
    settings = dict(tl.metadata.get(APP_KEY) or {})
    settings.update(width=width, height=height)
    tl.metadata[APP_KEY] = settings
    return tl
