"""The dark LatentCut look: a Fusion palette, resources/style.qss, and the shipped SVG icons."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
ICONS = RESOURCES / "icons"
STYLE_SHEET = RESOURCES / "style.qss"

# Colours shared by the palette, the style sheet and widgets that paint themselves.
COLORS = {
    "window": "#1e2127",
    "base": "#16181d",
    "alt_base": "#1b1e24",
    "panel": "#23272e",
    "text": "#e6e9ef",
    "muted": "#9aa3b2",
    "accent": "#4c8dff",
    "generated": "#e8b04a",
    "ok": "#5ccf8a",
    "error": "#ff6b6b",
    "border": "#363c47",
}


def icon(name: str) -> QIcon:
    """The shipped icon resources/icons/NAME.svg; raises FileNotFoundError naming it if absent."""
    return QIcon(str(_icon_path(name)))


@lru_cache(maxsize=None)
def _icon_path(name: str) -> Path:
    path = ICONS / f"{name}.svg"
    if not path.is_file():
        raise FileNotFoundError(f"icon {name!r} not found: {path}")
    return path


def style_sheet() -> str:
    """The application style sheet with its @icons@ placeholders pointing at resources/icons."""
    try:
        text = STYLE_SHEET.read_text(encoding="utf-8")
    except OSError as exc:
        raise FileNotFoundError(f"style sheet {STYLE_SHEET} cannot be read: {exc}") from exc
    # Qt style sheets want forward slashes, also on Windows.
    return text.replace("@icons@", ICONS.as_posix())


def dark_palette() -> QPalette:
    """A dark palette so widgets the style sheet does not reach still read light-on-dark."""
    c = {k: QColor(v) for k, v in COLORS.items()}
    pal = QPalette()
    pal.setColor(QPalette.Window, c["window"])
    pal.setColor(QPalette.WindowText, c["text"])
    pal.setColor(QPalette.Base, c["base"])
    pal.setColor(QPalette.AlternateBase, c["alt_base"])
    pal.setColor(QPalette.ToolTipBase, c["panel"])
    pal.setColor(QPalette.ToolTipText, c["text"])
    pal.setColor(QPalette.PlaceholderText, c["muted"])
    pal.setColor(QPalette.Text, c["text"])
    pal.setColor(QPalette.Button, c["panel"])
    pal.setColor(QPalette.ButtonText, c["text"])
    pal.setColor(QPalette.BrightText, QColor("#ffffff"))
    pal.setColor(QPalette.Highlight, c["accent"])
    pal.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    pal.setColor(QPalette.Link, c["accent"])
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText):
        pal.setColor(QPalette.Disabled, role, QColor("#6b7280"))
    return pal


def apply_theme(app: QApplication) -> None:
    """Give APP the Fusion style, the dark palette and the LatentCut style sheet."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(style_sheet())
