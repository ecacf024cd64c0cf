"""The operation registry: each model operation (generate, animate, extend, fill, restyle) in one
entry, read by the Generate panel, the timeline's context menu, the jobs panel, the engine
thread and the CLI. Nothing else compares operation names.

An ``Operation`` names its job class (which holds the defaults), its request class (what the
backend method takes), the job fields it reads media from, and its actions: what the user
asks for (extend has two, head and tail), each with the selections that enable it. Adding an
operation means one entry here plus the backend method of the same name.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.jobs import AnimateJob, ExtendJob, FillJob, GenerateJob, ModelJob, RestyleJob
from engine.requests import (AnimateRequest, ExtendRequest, FillRequest, GenerateRequest, Request,
                             RestyleRequest)

# What can be selected on the timeline, as the Generate panel and the context menu name it.
SELECTION_KINDS = ("none", "gap", "clip", "generated_clip", "still", "range")


@dataclass(frozen=True)
class Action:
    """One thing the user can ask for: ``key`` names it in the UI ("extend_tail"), ``fields``
    are job fields it fixes ({"direction": "tail"}), ``selections`` the selection kinds that
    enable it, ``label`` the button and undo text, ``menu`` the context-menu text."""

    key: str
    op: str
    label: str
    menu: str
    selections: frozenset[str]
    fields: tuple[tuple[str, Any], ...] = ()

    def enabled_for(self, kinds) -> bool:
        """True when any of the selection ``kinds`` enables this action."""
        return not self.selections.isdisjoint(kinds)


@dataclass(frozen=True)
class Operation:
    name: str
    job: type[ModelJob]
    request: type[Request]
    inputs: tuple[str, ...]    # job fields holding the MediaInputs it reads
    # Per input, which edge of it is read: "head" or "tail" (about one model window of it, or
    # one frame for a still), "direction" (the job's own), or None (all of it).
    edges: tuple[str | None, ...]
    # Footage in: frames in and out share one rate (the job's, else the footage's). Otherwise
    # an input is a still (its one frame) and the output is at the job's rate.
    footage: bool
    needs_prompt: bool
    over_source: bool          # the result goes over its source (the track above), which stays
    actions: tuple[Action, ...]

    def defaults(self) -> dict[str, Any]:
        """The job dataclass's defaults (``seed`` None: the engine draws one and records it)."""
        return {f.name: f.default for f in dataclasses.fields(self.job)
                if f.default is not dataclasses.MISSING}

    def request_for(self, job: ModelJob, media: dict[str, np.ndarray], rate: float | None, seed: int,
                    callback=None, cancel=None) -> Request:
        """The backend request for ``job``: ``media`` holds the decoded frames of each input field
        (conformed to ``rate``), ``seed`` the seed to use."""
        fields = {f.name for f in dataclasses.fields(self.request)}
        values = {k: getattr(job, k) for k in ("prompt", "negative_prompt", "size", "steps", "guidance",
                                                 "seconds", "direction", "strength", "structure_weight")
                  if k in fields and hasattr(job, k)}
        names = dict(zip(self.inputs, _REQUEST_INPUTS[self.name]))
        values.update({names[k]: frames for k, frames in media.items()})
        return self.request(rate=rate, seed=seed, callback=callback, cancel=cancel, **values)


def _action(key: str, op: str, label: str, selections: set[str], menu: str | None = None, **fields) -> Action:
    return Action(key, op, label, menu or label, frozenset(selections), tuple(fields.items()))


# The request field each input becomes (the job's MediaInput → the backend's frames).
_REQUEST_INPUTS = {"generate": (), "animate": ("image",), "extend": ("frames",),
                   "fill": ("before_frames", "after_frames"), "restyle": ("frames",)}

OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    Operation("generate", GenerateJob, GenerateRequest, inputs=(), edges=(), footage=False,
              needs_prompt=True, over_source=False,
              actions=(_action("generate", "generate", "Generate", {"none", "gap", "range"}, menu="Generate here"),)),
    Operation("fill", FillJob, FillRequest, inputs=("before", "after"), edges=("tail", "head"), footage=True,
              needs_prompt=False, over_source=False,
              actions=(_action("fill", "fill", "Fill gap", {"gap"}),)),
    Operation("extend", ExtendJob, ExtendRequest, inputs=("source",), edges=("direction",), footage=True,
              needs_prompt=False, over_source=False,
              actions=(_action("extend_head", "extend", "Extend head", {"clip", "generated_clip"}, direction="head"),
                       _action("extend_tail", "extend", "Extend tail", {"clip", "generated_clip"}, direction="tail"))),
    Operation("restyle", RestyleJob, RestyleRequest, inputs=("source",), edges=(None,), footage=True,
              needs_prompt=True, over_source=True,
              actions=(_action("restyle", "restyle", "Restyle", {"clip", "generated_clip", "still", "range"}),)),
    Operation("animate", AnimateJob, AnimateRequest, inputs=("image",), edges=("head",), footage=False,
              needs_prompt=True, over_source=True,
              actions=(_action("animate", "animate", "Animate", {"still"}),)),
)}

# Every action, in the order the panel and the menus show them.
ACTIONS: dict[str, Action] = {a.key: a for op in OPERATIONS.values() for a in op.actions}


def action_of(job: ModelJob) -> Action:
    """The action that asks for ``job`` (an extend's by its direction), for titles and undo text."""
    actions = operation_of(job).actions
    return next((a for a in actions if all(getattr(job, k, None) == v for k, v in a.fields)), actions[0])


def operation_of(job_or_action) -> Operation:
    """The registry entry for a job, a job class, an action or an operation/action name."""
    name = job_or_action
    if isinstance(job_or_action, Action):
        name = job_or_action.op
    elif isinstance(job_or_action, ModelJob) or isinstance(job_or_action, type):
        name = job_or_action.op
    elif name in ACTIONS:
        name = ACTIONS[name].op
    if name not in OPERATIONS:
        raise ValueError(f"op: unknown operation {name!r} (expected one of {', '.join(OPERATIONS)})")
    return OPERATIONS[name]
