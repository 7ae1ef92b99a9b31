"""Text from documents and notes is shown, never interpreted.

Qt guesses "rich text" for tool tips and message boxes that look like HTML (``Qt::mightBeRichText``),
so user text never reaches them raw: ``plain_tooltip`` escapes it, ``message`` makes a message box
with a plain-text format, and ``menu_text`` doubles '&' so a title is not read as a mnemonic.
Links are never followed: the reading view has no ``LinksAccessibleByMouse`` and no anchors, and
``safe_url`` refuses everything but http(s) and mailto should a caller ever want to open one.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from nkreader.ui.offsets import qt_safe

ALLOWED_SCHEMES = ("http", "https", "mailto")


def plain_tooltip(text: str, limit: int = 600) -> str:
    """A tool tip that shows ``text`` literally (escaped, line breaks kept)."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    body = html.escape(text, quote=False).replace("\n", "<br>")
    return f"<p style='white-space:pre-wrap'>{body}</p>"


def menu_text(text: str) -> str:
    return qt_safe(text).replace("&", "&&")


def safe_url(url: str | QUrl) -> QUrl | None:
    """``url`` if it is safe to hand to a browser (http, https, mailto), else ``None``."""
    q = QUrl(url) if isinstance(url, str) else QUrl(url)
    if not q.isValid() or q.scheme().lower() not in ALLOWED_SCHEMES:
        return None
    return q


def message(parent: QWidget | None, title: str, text: str, *, icon=QMessageBox.Icon.Warning,
            buttons=QMessageBox.StandardButton.Ok, informative: str = "") -> QMessageBox:
    box = QMessageBox(icon, title, "", buttons, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(qt_safe(text))
    if informative:
        box.setInformativeText(qt_safe(informative))
    for label in box.findChildren(QLabel):
        label.setTextFormat(Qt.TextFormat.PlainText)
    return box
