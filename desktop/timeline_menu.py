"""What the timeline says about the item under the pointer: the right-click menu (the operation
registry's actions for what was clicked, then regenerate, takes and delete; each entry reports
(op, item, extra) on the canvas's `action_requested` for the window to carry out) and the
hover text."""
from __future__ import annotations

import opentimelineio as otio
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMenu

from desktop.timeline_items import app_data, is_generated, is_still, take_keys
from engine.operations import ACTIONS, OPERATIONS


def _under(canvas, pos: QPointF):
    """(layout, index, item) under `pos`, or None off the items."""
    hit = canvas.hit(pos)
    if hit is None or hit[1] is None:
        return None
    layout, i, _ = hit
    return layout, i, layout.items[i]


def context_menu_for(canvas, pos: QPointF) -> QMenu | None:
    """The menu a right-click at `pos` opens (built, not shown; tests trigger its actions)."""
    under = _under(canvas, pos)
    if under is None:
        return None
    layout, i, item = under
    if item not in canvas.edits.selection:
        canvas.edits.set_selection([item])
    menu = QMenu(canvas)

    def add(text, op, extra=None, enabled=True):
        action = menu.addAction(text)
        action.setObjectName(f"ctx_{op}" + (f"_{extra}" if extra else ""))
        action.setEnabled(enabled)
        action.triggered.connect(lambda: canvas.action_requested.emit(op, item, extra))
        return action

    video = layout.kind == otio.schema.TrackKind.Video
    # The registry's actions for what was clicked (a still is a clip too); fill also needs
    # a clip on each side of the gap.
    if isinstance(item, otio.schema.Gap):
        kinds = {"gap"}
    elif isinstance(item, otio.schema.Clip):
        kinds = {"clip", "still"} if is_still(item) else {"clip"}
    else:
        return None
    for key, action in ACTIONS.items():
        if action.selections & ({"gap"} if "gap" in kinds else {"clip", "generated_clip", "still"}):
            fits = "before" not in OPERATIONS[action.op].inputs or 0 < i < len(layout.items) - 1
            add(action.menu, key, enabled=video and fits and action.enabled_for(kinds))
    if "gap" in kinds:
        return menu
    generated = is_generated(item)
    menu.addSeparator()
    add("Regenerate (new seed)", "regenerate_new", enabled=generated)
    add("Regenerate (same seed)", "regenerate_same", enabled=generated)
    takes = menu.addMenu("Takes")
    takes.setObjectName("ctx_takes")
    keys = take_keys(item) if generated else []
    takes.setEnabled(bool(keys))
    for key in keys:
        current = "✓ " if key == item.active_media_reference_key else ""
        sw = takes.addAction(f"{current}Switch to {key}")
        sw.setObjectName(f"ctx_switch_take_{key}")
        sw.triggered.connect(lambda _=False, k=key: canvas.action_requested.emit("switch_take", item, k))
    if keys:
        takes.addSeparator()
    for key in keys:
        dr = takes.addAction(f"Delete {key}")
        dr.setObjectName(f"ctx_drop_take_{key}")
        dr.setEnabled(len(keys) > 1)
        dr.triggered.connect(lambda _=False, k=key: canvas.action_requested.emit("drop_take", item, k))
    menu.addSeparator()
    add("Delete", "delete")
    add("Ripple delete", "ripple_delete")
    return menu


def tooltip_for(canvas, pos: QPointF) -> str | None:
    """What hovering shows: a clip's name, length, state and, when it failed, why."""
    under = _under(canvas, pos)
    if under is None:
        return None
    layout, i, item = under
    seconds = (layout.ends[i] - layout.starts[i]) / canvas.document.rate
    if isinstance(item, otio.schema.Gap):
        return f"Gap, {seconds:.2f} s: right-click to generate into it"
    lines = [f"{item.name}  ({seconds:.2f} s on {layout.label})"]
    look = canvas.look(item)
    if look.status is not None:
        data = app_data(item)
        lines.append(f"AI-generated ({data.get('op', 'generate')}), {look.status}, {look.takes} take(s)")
        if data.get("prompt"):
            lines.append(f"Prompt: {data['prompt']}")
        if look.status == "failed" and data.get("error"):
            lines.append(f"Failed: {data['error']}")
    return "\n".join(lines)
