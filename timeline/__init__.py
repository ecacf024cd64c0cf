"""LatentCut's timeline document: an OTIO Timeline, undoable edit commands, generated clips,
project files and interchange. Imports OTIO only (no Qt, torch or av)."""
from .commands import Command, CommandStack, CompoundCommand, EditCommand
from .document import Document
from .errors import EditError, ProjectError

__all__ = ["Command", "CommandStack", "CompoundCommand", "Document", "EditCommand",
           "EditError", "ProjectError"]
