"""Encrypted PDFs in the window: ask for the password, refuse a wrong one, remember a right one.

``core/pdf.py`` (the text) and ``core/pdf_pages.py`` (the pages) open an encrypted PDF when given
its password and raise ``PasswordRequired`` (a ``DocumentError``; ``refused`` is True when a
password was given and did not fit) otherwise. A ``DocumentPane`` that meets one asks the user
(``ask_password``) and opens the file again through ``Session.document(doc_id, password)``; a wrong
answer is refused with a clear message and the user may try again or cancel. The type decides,
never the wording of the message.

Opening runs in a worker thread whose errors reach the window as text only, so the pane's open
function is wrapped in ``returning_password_error``: a ``PasswordRequired`` comes back as the
task's result, its type intact.

A password that opened a file is kept in memory for this run only (never written anywhere), so
the page view's renderer and other panes showing the same file can open it too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit, QWidget

from nkreader.core.model import Document, PasswordRequired

T = TypeVar("T")

_known: dict[str, str] = {}


def _key(path: str | Path) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def returning_password_error(fn: Callable[..., T]) -> Callable[..., T | PasswordRequired]:
    """``fn`` with a ``PasswordRequired`` it raises returned instead (for a worker thread, whose
    errors reach the GUI thread as text only)."""

    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PasswordRequired as exc:
            return exc

    return wrapped


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
