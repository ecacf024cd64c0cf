"""What an export lost, found by reading the written file back and comparing it with the cut:
tracks (name, muted or hidden), clips (name, place, length, in point, enabled, media, effects,
markers and their colours, takes, AI-generated provenance, other applications' data),
transitions (kind and length), nested stacks, timeline markers and the frame size.

Every difference becomes one line in an editor's words; the same loss on many clips is one
line that counts them.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass, field

import opentimelineio as otio

from .interchange_prepare import media_path
from .generated import RECIPE
from .provenance import APP_KEY

TimeRange = otio.opentime.TimeRange

_SOURCES = {"cmx_3600": "its EDL (reel name, comments)", "fcp_xml": "its FCP XML",
            "fcpx_xml": "its FCPXML", "xges": "its xges", "AAF": "its AAF"}
_TRANSITION_WORDS = {otio.schema.TransitionTypes.SMPTE_Dissolve: "dissolve",
                     "SMPTE_Wipe": "wipe", "Custom_Transition": "custom transition"}


@dataclass
class _Clip:
    name: str
    track: str
    start: int  # record frame, timeline rate
    facts: dict


@dataclass
class Inventory:
    """What an editor sees of a cut, in frames at one rate."""

    rate: float
    tracks: dict = field(default_factory=dict)  # (kind, index) -> facts
    clips: dict = field(default_factory=lambda: defaultdict(list))  # (kind, index, start) -> [_Clip]
    transitions: dict = field(default_factory=dict)  # (kind, index, cut) -> (kind, frames)
    stacks: list = field(default_factory=list)
    markers: list = field(default_factory=list)
    size: tuple | None = None


def _frames(t: otio.opentime.RationalTime, rate: float) -> int:
    return round(t.rescaled_to(rate).value)


def _media(clip) -> tuple:
    ref = clip.media_reference
    if isinstance(ref, otio.schema.ExternalReference) and ref.target_url:
        return ("file", media_path(ref.target_url).replace("\\", "/"))
    if isinstance(ref, otio.schema.ImageSequenceReference):
        base = media_path(ref.target_url_base or "").rstrip("/")
        return ("image sequence", f"{base}/{ref.name_prefix or ''}")
    if isinstance(ref, otio.schema.GeneratorReference):
        return ("generator", ref.generator_kind)
    return ("offline",)


def _markers(item, rate) -> tuple:
    # EDL locators are upper case, so names compare without case
    return tuple(sorted(((m.name or "").casefold(), m.color or "", _frames(m.marked_range.start_time, rate))
                        for m in item.markers))


def _clip_facts(clip, rate) -> dict:
    refs = clip.media_references()
    source = clip.source_range
    md = clip.metadata.get(APP_KEY)
    return {
        "enabled": clip.enabled,
        "media": _media(clip),
        "in": _frames(source.start_time, rate) if source is not None else None,
        "effects": tuple(sorted(e.effect_name or e.schema_name() for e in clip.effects)),
        "markers": _markers(clip, rate),
        "takes": tuple(sorted(k for k in refs.keys() if k not in (clip.active_media_reference_key, RECIPE))),
        "generated": otio.core.serialize_json_to_string(md, indent=-1)
        if md is not None and md.get("generated") else None,
        "apps": tuple(sorted(k for k in clip.metadata.keys() if k != APP_KEY)),
    }


def _walk(inv, track, key, offset, rate, window=None):
    """Record ``track``'s children under top-level track ``key``; ``offset`` maps the
    track's time to the timeline's, ``window`` (timeline time) is the part a nesting item
    shows."""
    ranges = track.range_of_all_children()  # track time; one pass, not one per child
    for child in track:
        rng = ranges[child]
        start = offset + rng.start_time
        lo, hi = start, start + rng.duration
        if window is not None:
            lo, hi = max(lo, window.start_time), min(hi, window.end_time_exclusive())
            if hi <= lo and not isinstance(child, otio.schema.Transition):
                continue
        shown = TimeRange.range_from_start_end_time(lo, hi)
        if isinstance(child, otio.schema.Transition):
            cut = _frames(start + child.in_offset, rate)
            inv.transitions[(*key, cut)] = (
                _TRANSITION_WORDS.get(child.transition_type, child.transition_type or "transition"),
                _frames(child.in_offset + child.out_offset, rate))
        elif isinstance(child, otio.schema.Track):  # a track nested in a track
            inv.stacks.append(child.name or "(unnamed)")
            _walk(inv, child, key, start - child.trimmed_range().start_time, rate, shown)
        elif isinstance(child, otio.schema.Stack):
            inv.stacks.append(child.name or "(unnamed)")
            inner = child.trimmed_range()  # the stack's own time
            for sub in child:
                if isinstance(sub, otio.schema.Track):
                    _walk(inv, sub, key, start - inner.start_time, rate, shown)
                elif isinstance(sub, otio.schema.Clip):
                    _add_clip(inv, sub, key, start - inner.start_time, shown, rate)
        elif isinstance(child, otio.schema.Clip):
            _add_clip(inv, child, key, start, shown, rate)


def _add_clip(inv, clip, key, start, shown, rate):
    """``start``: where the whole clip would begin (timeline time); ``shown``: the part seen."""
    facts = _clip_facts(clip, rate)
    try:
        length = _frames(clip.duration(), rate)
    except otio.exceptions.OTIOError:  # neither a source nor a media range
        length = None
    else:
        length = min(length, _frames(shown.duration, rate))
        if facts["in"] is not None:
            facts["in"] += _frames(shown.start_time - start, rate)
    facts["length"] = length
    frame = _frames(shown.start_time, rate)
    inv.clips[(*key, frame)].append(_Clip(clip.name or "", inv.tracks[key]["label"], frame, facts))


def _transitions_from_cut(composition) -> None:
    """Move each transition's cut to where it starts, as an EDL dissolve does: the incoming
    clip starts earlier by the in offset and the outgoing one ends there. The picture is the
    same, so cuts written either way compare equal."""
    for child in composition:
        if isinstance(child, otio.core.Composition):
            _transitions_from_cut(child)
    if not isinstance(composition, otio.schema.Track):
        return
    for i, child in enumerate(composition):
        if not isinstance(child, otio.schema.Transition) or child.in_offset.value == 0:
            continue
        shift = child.in_offset
        before = composition[i - 1] if i > 0 else None
        after = composition[i + 1] if i + 1 < len(composition) else None
        if not isinstance(before, otio.core.Item) or not isinstance(after, otio.core.Item) \
                or before.source_range is None or after.source_range is None:
            continue
        b, a = before.source_range, after.source_range
        before.source_range = TimeRange(b.start_time, b.duration - shift)
        after.source_range = TimeRange(a.start_time - shift, a.duration + shift)
        child.out_offset = child.out_offset + shift
        child.in_offset = shift - shift


def inventory(timeline, rate: float) -> Inventory:
    """What ``timeline`` shows an editor, with record times in frames at ``rate``."""
    timeline = copy.deepcopy(timeline)
    _transitions_from_cut(timeline.tracks)
    inv = Inventory(rate=rate)
    counts = defaultdict(int)
    for track in timeline.tracks:
        if not isinstance(track, otio.schema.Track):
            continue
        kind = track.kind
        counts[kind] += 1
        key = (kind, counts[kind])
        letter = "V" if kind == otio.schema.TrackKind.Video else "A"
        label = f"{kind.lower()} track {track.name or f'{letter}{counts[kind]}'}"
        inv.tracks[key] = {"label": label, "name": track.name or "", "enabled": track.enabled,
                           "markers": _markers(track, rate)}
        _walk(inv, track, key, otio.opentime.RationalTime(0, rate), rate)
    inv.markers = list(_markers(timeline.tracks, rate))
    md = timeline.metadata.get(APP_KEY)
    if md is not None and md.get("width") and md.get("height"):
        inv.size = (int(md["width"]), int(md["height"]))
    return inv


def _tc(frame: int, rate: float) -> str:
    try:
        return otio.opentime.to_timecode(otio.opentime.RationalTime(frame, rate), rate)
    except (ValueError, otio.exceptions.OTIOError):
        return f"frame {frame}"


def _state(kind: str, enabled: bool) -> str:
    if kind == otio.schema.TrackKind.Audio:
        return "audible" if enabled else "muted"
    return "visible" if enabled else "hidden"


def _clip_losses(a: _Clip, b: _Clip, fmt: str) -> list[str]:
    fa, fb = a.facts, b.facts
    out = []
    if a.name and a.name != b.name:
        out.append(f"its name became {b.name!r}")
    if fa["length"] != fb["length"]:
        out.append(f"its length changed from {fa['length']} to {fb['length']} frames")
    if fa["in"] is not None and fa["media"][0] != "offline" and fa["in"] != fb["in"]:
        out.append(f"its in point moved from frame {fa['in']} to {fb['in']}")
    if fa["enabled"] != fb["enabled"]:
        out.append("it is disabled, but the " + fmt + " shows it enabled" if not fa["enabled"]
                   else "it comes back disabled")
    if fa["media"] != fb["media"]:
        if fa["media"][0] != fb["media"][0]:
            out.append(f"its {fa['media'][0]} media became {fb['media'][0]} media")
        else:
            out.append(f"its media {fa['media'][1]} became {fb['media'][1]}")
    for name in sorted(set(fa["effects"]) - set(fb["effects"])):
        out.append(f"effect {name} is left out")
    out += _marker_losses(fa["markers"], fb["markers"])
    lost_takes = sorted(set(fa["takes"]) - set(fb["takes"]))
    if lost_takes:
        many = len(lost_takes) > 1
        out.append(f"the other take{'s' * many} ({', '.join(lost_takes)}) {'are' if many else 'is'} "
                   f"not kept in the {fmt}")
    if fa["generated"] and not fb["generated"]:
        out.append("it is no longer marked AI-generated, and its generation settings are lost")
    elif fa["generated"] and fa["generated"] != fb["generated"]:
        out.append("some of its generation settings are lost")
    for app in sorted(set(fa["apps"]) - set(fb["apps"])):
        out.append(f"data from {_SOURCES.get(app, app)} is left out")
    return out


def _marker_losses(ma: tuple, mb: tuple) -> list[str]:
    out = []
    left = list(mb)
    for name, color, frame in ma:
        same = next((m for m in left if m[0] == name and abs(m[2] - frame) <= 1), None)
        if same is None:
            out.append(f"marker {name or '(unnamed)'!r} is left out")
            continue
        left.remove(same)
        if color and same[1] != color:
            out.append(f"marker {name or '(unnamed)'!r} changed colour from {color} to {same[1] or 'none'}")
    return out


def _pairs(ca: list, cb: list):
    """Pair clips that start on the same frame of the same track, by name where it can."""
    left = list(cb)
    for a in ca:
        b = next((x for x in left if x.name == a.name), left[0] if left else None)
        if b is not None:
            left.remove(b)
        yield a, b


def losses(before: Inventory, after: Inventory, fmt: str) -> list[str]:
    """Every difference between the cut and the file read back, in an editor's words."""
    found: list[tuple[str, str]] = []  # (what was lost, where)
    rate = before.rate
    for key, ta in before.tracks.items():
        tb = after.tracks.get(key)
        clips = sum(len(v) for k, v in before.clips.items() if k[:2] == key)
        if tb is None:
            found.append((f"not in the {fmt}" + (f" ({clips} clip{'s' * (clips != 1)})" if clips else ""),
                          ta["label"]))
            continue
        if ta["name"] and ta["name"] != tb["name"]:
            found.append((f"its name {ta['name']!r} is not kept", ta["label"]))
        if ta["enabled"] != tb["enabled"]:
            found.append((f"it is {_state(key[0], ta['enabled'])} in LatentCut but "
                          f"{_state(key[0], tb['enabled'])} in the {fmt}", ta["label"]))
        for loss in _marker_losses(ta["markers"], tb["markers"]):
            found.append((loss, ta["label"]))
    gone_tracks = {k for k in before.tracks if k not in after.tracks}
    for key, ca in before.clips.items():
        if key[:2] in gone_tracks:
            continue
        for a, b in _pairs(ca, after.clips.get(key, [])):
            where = f"clip {a.name!r} at {_tc(a.start, rate)} on {a.track}"
            if b is None:
                why = " (it is disabled)" if not a.facts["enabled"] else ""
                found.append((f"not in the {fmt}{why}", where))
                continue
            found += [(loss, where) for loss in _clip_losses(a, b, fmt)]
    for key, (kind, length) in before.transitions.items():
        got = after.transitions.get(key)
        if got is None:
            near = [v for k, v in after.transitions.items()
                    if k[:2] == key[:2] and abs(k[2] - key[2]) <= length]
            got = near[0] if near else None
        where = f"{kind} at {_tc(key[2], rate)} on {before.tracks[key[:2]]['label']}"
        if got is None:
            found.append(("left out (a cut instead)", where))
        elif got[0] != kind:
            found.append((f"became a {got[0]}", where))
        elif got[1] != length:
            found.append((f"its length changed from {length} to {got[1]} frames", where))
    flattened = list(before.stacks)
    for name in after.stacks:
        if name in flattened:
            flattened.remove(name)
    for name in flattened:
        found.append(("flattened to the clips it shows", f"nested stack {name!r}"))
    for loss in _marker_losses(tuple(before.markers), tuple(after.markers)):
        found.append((loss, "timeline"))
    if before.size and before.size != after.size:
        found.append((f"is not kept ({before.size[0]}x{before.size[1]})", "the frame size"))
    return _grouped(found)


def _grouped(found: list[tuple[str, str]]) -> list[str]:
    """One line per loss; a loss shared by more than three places counts them."""
    by_loss = defaultdict(list)
    for loss, where in found:
        by_loss[loss].append(where)
    out = []
    for loss, places in by_loss.items():
        if len(places) <= 3:
            out += [f"{where}: {loss}" for where in places]
        else:
            shown = "; ".join(places[:3])
            out.append(f"{len(places)} places: {loss} ({shown}; and {len(places) - 3} more)")
    return out
