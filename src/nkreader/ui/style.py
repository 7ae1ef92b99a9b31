"""Colours, fonts and style sheets of the window: light and dark, in one place.

Highlight colours come from the core (``HIGHLIGHT_COLORS`` for plain highlights, each theme's own
colour for coded passages); here they are only made translucent so the text stays readable on
either background.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from string import Template

from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette

LINK_COLORS = {
    "agrees": "#2e9e5b",
    "disputes": "#d64545",
    "extends": "#3b74d6",
    "same-issue": "#b8860b",
}
LINK_LABELS = {
    "agrees": "agrees with",
    "disputes": "disputes",
    "extends": "extends",
    "same-issue": "same issue as",
}

READING_FAMILIES = ("Source Serif 4", "Noto Serif", "Charter", "Georgia", "Cambria", "DejaVu Serif",
                    "Liberation Serif", "Times New Roman", "serif")
UI_FAMILIES = ("Inter", "Noto Sans", "Segoe UI", "Cantarell", "Ubuntu", "DejaVu Sans", "Liberation Sans",
               "sans-serif")

DEFAULT_FONT_SIZE = 12
MIN_FONT_SIZE, MAX_FONT_SIZE = 8, 32


@dataclass(frozen=True)
class Scheme:
    name: str
    window: str
    base: str  # the page the text is on
    text: str
    muted: str
    accent: str
    margin: str  # paragraph-number margin
    border: str
    selection: str
    highlight_alpha: int  # 0..255 applied to highlight colours
    search: str
    gutter: str
    header: str
    banner: str
    banner_text: str

    @property
    def dark(self) -> bool:
        return self.name == "dark"


LIGHT = Scheme(
    name="light", window="#eeebe4", base="#fffdf8", text="#24272c", muted="#7a7f87", accent="#2f6db5",
    margin="#f6f3ec", border="#d8d3c8", selection="#b9d3f5", highlight_alpha=78, search="#ff9f1c",
    gutter="#ebe7de", header="#f8f5ee", banner="#fff1c2", banner_text="#5c4400",
)
DARK = Scheme(
    name="dark", window="#1b1e23", base="#22262c", text="#dde1e6", muted="#8a919b", accent="#6ea8fe",
    margin="#1f2328", border="#353a42", selection="#2f4d74", highlight_alpha=105, search="#ff9f1c",
    gutter="#1d2025", header="#262a31", banner="#4a3b10", banner_text="#ffe9a8",
)


def scheme(dark: bool) -> Scheme:
    return DARK if dark else LIGHT


def translucent(color: str | QColor, alpha: int) -> QColor:
    c = QColor(color)
    if not c.isValid():
        c = QColor("#f6d365")
    c.setAlpha(alpha)
    return c


def palette_for(s: Scheme) -> QPalette:
    pal = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, s.window), (role.WindowText, s.text), (role.Base, s.base),
        (role.AlternateBase, s.margin), (role.Text, s.text), (role.Button, s.header),
        (role.ButtonText, s.text), (role.ToolTipBase, s.header), (role.ToolTipText, s.text),
        (role.Highlight, s.selection), (role.HighlightedText, s.text), (role.PlaceholderText, s.muted),
        (role.Link, s.accent), (role.BrightText, "#ffffff"), (role.Mid, s.border),
    ):
        pal.setColor(r, QColor(value))
    pal.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(s.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.WindowText, QColor(s.muted))
    pal.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(s.muted))
    pal.setColor(QPalette.ColorGroup.Inactive, role.Highlight, QColor(s.selection))
    return pal


def _first_family(candidates: tuple[str, ...]) -> str:
    families = {f.casefold(): f for f in QFontDatabase.families()}
    for name in candidates:
        if name.casefold() in families:
            return families[name.casefold()]
    return candidates[-1]


def reading_font(size: float = DEFAULT_FONT_SIZE) -> QFont:
    font = QFont(_first_family(READING_FAMILIES))
    font.setPointSizeF(size)
    font.setStyleHint(QFont.StyleHint.Serif)
    return font


def ui_font_family() -> str:
    return _first_family(UI_FAMILIES)


def style_sheet(s: Scheme) -> str:
    """The application style sheet: resources/style/nkreader.qss with this scheme's colours."""
    from nkreader.core.corpus import resources_dir

    path = Path(resources_dir()) / "style" / "nkreader.qss"
    try:
        template = Template(path.read_text(encoding="utf-8"))
    except OSError:
        return ""
    return template.safe_substitute({k: v for k, v in s.__dict__.items() if isinstance(v, str)})
