"""Encrypted PDFs in the window: ask for the password, refuse a wrong one, remember a right one.

``core/pdf.py`` (the text) and ``core/pdf_pages.py`` (the pages) open an encrypted PDF when given
its password and raise ``DocumentError`` otherwise, with "… is encrypted: a password is needed" or
"… is encrypted and the password given is wrong". A ``DocumentPane`` that meets one of these asks
the user (``ask_password``) and opens the file again with the answer; a wrong answer is refused
with a clear message and the user may try again or cancel.

A password that opened a file is kept in memory for this run only (never written anywhere), so
the page view's renderer and other panes showing the same file can open it too.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit, QWidget

from nkreader.core.model import Document

#: core's wording for an encrypted file (core/pdf.py, core/pdf_pages.py)
_NEEDED = " is encrypted"
_WRONG = "password given is wrong"

_known: dict[str, str] = {}


def _key(path: str | Path) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def is_password_error(text: str) -> bool:
    """``text`` (a ``DocumentError`` message) says the file is encrypted (no or a wrong password)."""
    return _NEEDED in str(text)


def is_wrong_password(text: str) -> bool:
    return _WRONG in str(text)


def remember(path: str | Path, password: str) -> None:
    _known[_key(path)] = password


def forget(path: str | Path) -> None:
    _known.pop(_key(path), None)


def known(path: str | Path | None) -> str | None:
    """The password that opened ``path`` in this run, if any."""
    return _known.get(_key(path)) if path is not None else None


def password_for(doc: Document | None) -> str | None:
    return known(getattr(doc, "path", None)) if doc is not None else None


def ask_password(parent: QWidget | None, name: str, *, wrong: bool = False) -> str | None:
    """Ask for the password of the file ``name``; None when the user cancels.

    A ``QInputDialog`` with its echo mode set to Password; its labels show plain text only (a file
    name is never read as HTML)."""
    dialog = QInputDialog(parent)
    dialog.setObjectName("passwordDialog")
    dialog.setWindowTitle("Encrypted document")
    dialog.setInputMode(QInputDialog.InputMode.TextInput)
    dialog.setTextEchoMode(QLineEdit.EchoMode.Password)
    text = f"{name} is encrypted. Enter its password to open it:"
    if wrong:
        text = f"That password is wrong: {name} was not opened.\n\nTry again, or cancel:"
    dialog.setLabelText(text)
    dialog.setOkButtonText("Open")
    for label in dialog.findChildren(QLabel):
        label.setTextFormat(Qt.TextFormat.PlainText)
    try:
        if not dialog.exec():  # 0: rejected
            return None
        return dialog.textValue()
    finally:
        dialog.deleteLater()


def open_with_password(entry, password: str) -> Document:
    """Open a corpus entry with ``password`` (in a worker thread); raises ``DocumentError``."""
    from nkreader.core.documents import open_document

    return open_document(entry.path, doc_id=entry.id, metadata=entry.metadata, password=password)


def keep_opened(session, doc: Document) -> None:
    """Let the rest of the window (``session.document``) find a document opened with its password.

    The corpus has no public way to be handed an opened document yet: this fills its cache the
    way ``Session.is_loaded`` reads it."""
    opened = getattr(session.corpus, "_opened", None)
    if isinstance(opened, dict):
        opened.setdefault(doc.id, doc)
