"""Undoable commands and the command stack (no Qt; desktop/undo.py wraps these)."""
from __future__ import annotations

from typing import Callable


class Command:
    """One undoable change. ``do`` applies it, ``undo`` restores the exact prior state."""

    text = "Edit"

    def do(self, doc) -> None:
        """Apply the change to ``doc``."""
        raise NotImplementedError

    def undo(self, doc) -> None:
        """Revert exactly what ``do`` changed."""
        raise NotImplementedError


class CompoundCommand(Command):
    """Runs its children in order and undoes them in reverse.

    If a child fails, the children already done are undone before the error propagates,
    so the document is never left half-changed.
    """

    def __init__(self, commands=(), text: str = "Edit"):
        self.commands: list[Command] = list(commands)
        self.text = text

    def do(self, doc) -> None:
        """Do every child in order (rolling back on failure)."""
        done: list[Command] = []
        try:
            for cmd in self.commands:
                cmd.do(doc)
                done.append(cmd)
        except BaseException:
            for cmd in reversed(done):
                cmd.undo(doc)
            raise

    def undo(self, doc) -> None:
        """Undo every child in reverse order."""
        for cmd in reversed(self.commands):
            cmd.undo(doc)


class EditCommand(CompoundCommand):
    """A compound edit whose steps depend on the document at the time it is first done.

    Subclasses implement ``build(doc)`` and call ``self.step(doc, cmd)`` for each smaller
    command; each step runs at once, so the next one sees its effect. Redo replays the
    recorded steps, reusing the same OTIO objects, so later commands that hold references
    to them stay valid and the JSON is identical.
    """

    def __init__(self, text: str):
        super().__init__((), text)
        self._built = False

    def build(self, doc) -> None:
        """Plan and run the steps of this edit (first ``do`` only)."""
        raise NotImplementedError

    def step(self, doc, cmd: Command) -> Command:
        """Run ``cmd`` now and record it as part of this edit."""
        cmd.do(doc)
        self.commands.append(cmd)
        return cmd

    def do(self, doc) -> None:
        """First time: build (rolling back on failure); afterwards: replay the steps."""
        if self._built:
            super().do(doc)
            return
        try:
            self.build(doc)
        except BaseException:
            for cmd in reversed(self.commands):
                cmd.undo(doc)
            self.commands.clear()
            raise
        self._built = True


class CommandStack:
    """Undo/redo history of commands on one document, with a clean (saved) mark."""

    def __init__(self, doc, on_change: Callable[[], None] | None = None):
        self.doc = doc
        self._done: list[Command] = []
        self._undone: list[Command] = []
        self._clean: int | None = 0  # len(_done) when last saved; None: unreachable
        self._on_change = on_change

    def push(self, cmd: Command) -> None:
        """Do ``cmd`` and put it on the stack (drops the redo history)."""
        cmd.do(self.doc)
        if self._clean is not None and self._clean > len(self._done):
            self._clean = None
        self._done.append(cmd)
        self._undone.clear()
        self._changed()

    def undo(self) -> Command | None:
        """Undo the last command; returns it, or None when there is nothing to undo."""
        if not self._done:
            return None
        cmd = self._done[-1]
        cmd.undo(self.doc)
        self._undone.append(self._done.pop())
        self._changed()
        return cmd

    def redo(self) -> Command | None:
        """Redo the last undone command; returns it, or None when there is nothing to redo."""
        if not self._undone:
            return None
        cmd = self._undone[-1]
        cmd.do(self.doc)
        self._done.append(self._undone.pop())
        self._changed()
        return cmd

    @property
    def can_undo(self) -> bool:
        """True when there is a command to undo."""
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        """True when there is a command to redo."""
        return bool(self._undone)

    @property
    def undo_text(self) -> str:
        """Label of the command ``undo`` would revert ('' when none)."""
        return self._done[-1].text if self._done else ""

    @property
    def redo_text(self) -> str:
        """Label of the command ``redo`` would apply ('' when none)."""
        return self._undone[-1].text if self._undone else ""

    def set_clean(self) -> None:
        """Mark the current state as saved."""
        self._clean = len(self._done)
        self._changed()

    @property
    def is_clean(self) -> bool:
        """True when the document is as it was at the last ``set_clean`` (no unsaved changes)."""
        return self._clean == len(self._done)

    def clear(self) -> None:
        """Forget the history (the current state becomes clean)."""
        self._done.clear()
        self._undone.clear()
        self._clean = 0
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()
