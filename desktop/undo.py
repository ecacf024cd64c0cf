"""UndoStack: a QUndoStack over a timeline Document whose entries are timeline Commands."""
from __future__ import annotations

from PySide6.QtGui import QUndoCommand, QUndoStack


class _TimelineUndoCommand(QUndoCommand):
    """One timeline Command on the Qt stack: redo = do, undo = undo."""

    def __init__(self, document, command):
        text = getattr(command, "text", "") or type(command).__name__
        super().__init__(str(text))
        self.document = document
        self.command = command
        self._already_done = True  # push_command ran do() so that a failing edit is never pushed

    def redo(self):
        if self._already_done:
            self._already_done = False
            return
        self.command.do(self.document)

    def undo(self):
        self.command.undo(self.document)


class UndoStack(QUndoStack):
    """Undo/redo for the timeline document; the clean state is "saved"."""

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document

    def push_command(self, command):
        """Apply a timeline Command to the document and push it; an edit that raises is not pushed."""
        command.do(self.document)
        self.push(_TimelineUndoCommand(self.document, command))
        return command
