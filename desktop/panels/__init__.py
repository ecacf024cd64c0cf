"""The dockable panels of the main window; MainWindow does all the signal wiring between them.

`from desktop.panels import MediaPanel` works; each panel module is imported on first use.
"""
from importlib import import_module

_MODULES = {
    "GeneratePanel": "desktop.panels.generate_panel",
    "InspectorPanel": "desktop.panels.inspector_panel",
    "JobsPanel": "desktop.panels.jobs_panel",
    "MediaPanel": "desktop.panels.media_panel",
    "StoryboardPanel": "desktop.panels.storyboard_panel",
}
__all__ = sorted(_MODULES)


def __getattr__(name):
    if name in _MODULES:
        return getattr(import_module(_MODULES[name]), name)
    raise AttributeError(f"module 'desktop.panels' has no attribute {name!r}")
