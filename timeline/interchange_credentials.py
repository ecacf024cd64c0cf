"""Content Credentials as they are at export. A generated take records its credentials' state
when it is made; its file may have been edited or signed again since. An export asks `check`
(the caller's reader of credentials: reading them is the engine's job, not the timeline's)
for each take's file as it is now, writes the current state, and says which changed.
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import opentimelineio as otio

from .interchange_prepare import media_path
from .provenance import app_data, is_generated, write_app_data

# path -> what the file's credentials are now ({"manifest", "state", "signer", ["reason"]}),
# or None when the file cannot be read.
Check = Callable[[Path], "dict | None"]


def with_current_credentials(timeline, base_dir: Path, check: Check) -> tuple[otio.schema.Timeline, list[str]]:
    """``timeline`` itself when every generated take's credentials are as recorded, else a
    copy carrying the current ones; and one line for the export report per take whose
    credentials changed since it was made or could not be checked again."""
    updates, notes = [], []
    for index, clip in enumerate(timeline.find_clips()):
        if not is_generated(clip):
            continue
        md = app_data(clip)
        active = clip.active_media_reference_key
        for key, ref in clip.media_references().items():
            url = getattr(ref, "target_url", None)
            if not isinstance(ref, otio.schema.ExternalReference) or not url:
                continue
            take = (md.get("takes") or {}).get(key)
            recorded = take.get("credentials") if isinstance(take, dict) else md.get("credentials")
            path = Path(media_path(url))
            now = check(path if path.is_absolute() else base_dir / path)
            what = f"clip {clip.name!r} ({key}, {path.name})"
            if now is None:
                if recorded:
                    notes.append(f"{what}: Content Credentials not checked again, the file cannot be read; "
                                 f"the state recorded when the take was made ({_state(recorded)}) is exported")
                continue
            if not _same(recorded, now):
                notes.append(f"{what}: Content Credentials {_change(recorded, now)} since the take was made")
            if not _same(recorded, now) or (key == active and not _same(md.get("credentials"), now)):
                updates.append((index, key, now))
    if not updates:
        return timeline, notes
    current = copy.deepcopy(timeline)  # the export's own copy: the document is not changed
    clips = list(current.find_clips())
    for index, key, now in updates:
        clip = clips[index]
        md = app_data(clip)
        if isinstance((md.get("takes") or {}).get(key), dict):
            md["takes"][key]["credentials"] = now
        if key == clip.active_media_reference_key:
            md["credentials"] = now
        write_app_data(clip, md)
    return current, notes


def _same(recorded: dict | None, now: dict) -> bool:
    if not recorded:
        return now.get("state") == "none"  # never signed, and still not
    return (recorded.get("state"), recorded.get("manifest")) == (now.get("state"), now.get("manifest"))


def _state(record: dict | None) -> str:
    return str((record or {}).get("state") or "none")


def _change(recorded: dict | None, now: dict) -> str:
    why = f" ({now['reason']})" if now.get("state") == "invalid" and now.get("reason") else ""
    if _state(recorded) == _state(now):
        return f"signed again ({_state(now)}, manifest {now.get('manifest')})"
    return f"changed from {_state(recorded)} to {_state(now)}{why}"
