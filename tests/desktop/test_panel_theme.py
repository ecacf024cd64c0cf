"""The style sheet loads, its icon URLs exist, and the palette keeps text legible."""
import re
from pathlib import Path

import pytest
from PySide6.QtGui import QPalette

from desktop.theme import COLORS, ICONS, apply_theme, icon, style_sheet


def luminance(hex_color: str) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_style_sheet_icon_urls_resolve():
    text = style_sheet()
    assert "@icons@" not in text
    urls = re.findall(r"url\(([^)]+)\)", text)
    assert urls
    for url in urls:
        assert Path(url).is_file(), url


def test_text_contrast_meets_wcag_aa():
    # 4.5:1 is WCAG AA for body text; muted text is used for secondary lines only.
    assert contrast(COLORS["text"], COLORS["window"]) >= 7
    assert contrast(COLORS["text"], COLORS["base"]) >= 7
    assert contrast(COLORS["muted"], COLORS["window"]) >= 4.5
    assert contrast(COLORS["muted"], COLORS["panel"]) >= 4.5


def test_apply_theme_sets_palette_and_sheet(qapp):
    old_sheet, old_palette, old_style = qapp.styleSheet(), qapp.palette(), qapp.style().name()
    try:
        apply_theme(qapp)
        assert qapp.palette().color(QPalette.Window).name() == COLORS["window"]
        assert "QDockWidget::title" in qapp.styleSheet()
    finally:
        qapp.setStyleSheet(old_sheet)
        qapp.setPalette(old_palette)
        qapp.setStyle(old_style)  # the QApplication is shared by the whole test session


def test_icons_load_and_a_missing_one_is_named():
    assert not icon("generate").isNull()
    assert all(not icon(p.stem).pixmap(16, 16).isNull() for p in ICONS.glob("*.svg"))
    with pytest.raises(FileNotFoundError, match="no-such-icon"):
        icon("no-such-icon")
