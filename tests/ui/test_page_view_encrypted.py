"""An encrypted PDF opened in a pane: the password is asked, a wrong one refused, cancel is fine.

The PDFs are real, encrypted with AES-256 by PyMuPDF; only the dialog's answer is replaced (its
``exec``), the rest — the dialog, the open, the page view's renderer — runs for real.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

pymupdf = pytest.importorskip("pymupdf")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QInputDialog, QLabel, QLineEdit  # noqa: E402

import nkreader.ui  # noqa: E402,F401  (the PySide6 6.12.0 guard first)
from nkreader.ui import passwords  # noqa: E402
from pdf_samples import write_locked_pdf  # noqa: E402

USER_PW, OWNER_PW = "seminar-2026", "owner-secret"
TEXT = "Defectors crossing the Tumen river describe brokers, debts and the long way south."


def make_encrypted_pdf(path, pages=3):
    return write_locked_pdf(path, *(f"{TEXT} Page {n + 1}." for n in range(pages)), user_pw=USER_PW,
                            owner_pw=OWNER_PW)


@pytest.fixture
def secret_library(tmp_path):
    from nkreader.core.library import Library

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_encrypted_pdf(corpus / "secret.pdf")
    (corpus / "notes.txt").write_text("A plain text about border crossings.\n", encoding="utf-8")
    lib = Library.open(corpus, tmp_path / "data")
    yield lib
    lib.close()
    passwords.forget(corpus / "secret.pdf")


@pytest.fixture
def answers(monkeypatch):
    """The user's answers to the password dialog, in turn: a string (typed, then Open) or None (Cancel).
    Each dialog shown is recorded as (label text, echo mode, label text formats)."""
    queue: list[str | None] = []
    shown: list[tuple[str, QLineEdit.EchoMode, set]] = []

    def exec_(dialog):
        formats = {label.textFormat() for label in dialog.findChildren(QLabel)}
        shown.append((dialog.labelText(), dialog.textEchoMode(), formats))
        answer = queue.pop(0)
        if answer is None:
            return 0
        dialog.setTextValue(answer)
        return 1

    monkeypatch.setattr(QInputDialog, "exec", exec_)
    return queue, shown


def make_pane(qtbot, session):
    from nkreader.ui.document_pane import DocumentPane

    pane = DocumentPane(session)
    qtbot.addWidget(pane)
    pane.resize(800, 900)
    pane.show()
    qtbot.waitExposed(pane)
    return pane


def test_pymupdf_really_encrypted_it(tmp_path):
    path = make_encrypted_pdf(tmp_path / "s.pdf")
    doc = pymupdf.open(path)
    assert doc.needs_pass and doc.is_encrypted
    assert not doc.authenticate("nope")
    assert doc.authenticate(USER_PW)
    doc.close()


def test_a_wrong_password_is_refused_then_the_right_one_opens_it(qtbot, secret_library, answers):
    from nkreader.ui.session import Session

    queue, shown = answers
    queue += ["wrong guess", USER_PW]
    session = Session(secret_library)
    messages = []
    session.message.connect(messages.append)
    pane = make_pane(qtbot, session)
    pane.open_document("secret")
    qtbot.waitUntil(lambda: pane.doc is not None, timeout=15000)
    assert len(shown) == 2 and not queue
    first, second = shown
    assert "secret.pdf is encrypted" in first[0] and first[1] == QLineEdit.EchoMode.Password
    assert "password is wrong" in second[0] and second[1] == QLineEdit.EchoMode.Password
    assert first[2] == {Qt.TextFormat.PlainText}  # a file name is never read as HTML
    assert TEXT in pane.doc.text
    assert pane.doc.id == "secret" and pane.chooser.currentData() == "secret"
    # the page view's renderer opens it with the same password
    pane.set_paged(True)
    qtbot.waitUntil(pane.page_view.ready, timeout=10000)
    assert pane.page_view.page_count() == 3 and not pane.page_view.error
    assert pane.page_view.wait_idle(5000)
    assert pane.page_view.cached_pages()  # a page was rendered
    # another pane shows the same file without asking again
    other = make_pane(qtbot, session)
    other.open_document("secret")
    qtbot.waitUntil(lambda: other.doc is not None, timeout=10000)
    assert other.doc is pane.doc and len(shown) == 2
    assert session.document("secret") is pane.doc  # the rest of the window finds it too
    pane.page_view.shutdown()
    other.page_view.shutdown()


def test_cancel_leaves_the_pane_as_it_was(qtbot, secret_library, answers):
    from nkreader.ui.session import Session

    queue, shown = answers
    queue += ["still wrong", None]
    session = Session(secret_library)
    messages = []
    session.message.connect(messages.append)
    pane = make_pane(qtbot, session)
    pane.open_document("notes")
    assert pane.doc is not None and pane.doc.id == "notes"
    pane.open_document("secret")
    qtbot.waitUntil(lambda: len(shown) == 2 and any("not opened" in m for m in messages), timeout=15000)
    assert pane.doc.id == "notes" and pane.chooser.currentData() == "notes"
    assert not pane.loading.isVisible()
    assert any(m == "secret.pdf is encrypted: it was not opened without its password." for m in messages)
    assert passwords.known(secret_library.corpus.entry("secret").path) is None  # nothing wrong is kept
    # and the user may try again later
    queue.append(USER_PW)
    pane.open_document("secret")
    qtbot.waitUntil(lambda: pane.doc.id == "secret", timeout=15000)
    assert len(shown) == 3


def test_an_empty_password_is_refused_too(qtbot, secret_library, answers):
    from nkreader.ui.session import Session

    queue, shown = answers
    queue += ["", None]
    session = Session(secret_library)
    pane = make_pane(qtbot, session)
    pane.open_document("secret")
    qtbot.waitUntil(lambda: len(shown) == 2 and not queue, timeout=15000)
    qtbot.waitUntil(lambda: not pane.loading.isVisible(), timeout=5000)
    assert pane.doc is None
    assert "password is wrong" in shown[1][0]


def test_the_page_view_alone_says_a_password_is_needed(qtbot, tmp_path):
    from nkreader.core.documents import open_document
    from nkreader.ui.page_view import PageView

    path = make_encrypted_pdf(tmp_path / "alone.pdf")
    doc = open_document(path, password=USER_PW)
    view = PageView(None)
    qtbot.addWidget(view)
    view.resize(600, 800)
    view.show()
    view.set_document(doc)  # no password given
    qtbot.waitUntil(lambda: bool(view.error), timeout=10000)
    assert "encrypted" in view.error and "password" in view.error
    view.set_document(doc, password="not it")
    qtbot.waitUntil(lambda: "wrong" in view.error, timeout=10000)
    view.set_document(doc, password=USER_PW)
    qtbot.waitUntil(view.ready, timeout=10000)
    assert view.page_count() == 3 and not view.error
    view.shutdown()


def test_a_pdf_locked_only_by_its_owner_opens_without_asking(qtbot, tmp_path, answers):
    from nkreader.core.library import Library
    from nkreader.ui.session import Session

    queue, shown = answers
    corpus = tmp_path / "owner"
    corpus.mkdir()
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    page.insert_textbox(pymupdf.Rect(72, 80, 523, 200), TEXT, fontsize=11)
    doc.save(corpus / "restricted.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw=OWNER_PW,
             permissions=pymupdf.PDF_PERM_ACCESSIBILITY)  # no user password: anyone may read it
    doc.close()
    check = pymupdf.open(corpus / "restricted.pdf")
    assert "AES" in check.metadata["encryption"] and not check.needs_pass  # encrypted, yet readable
    check.close()
    lib = Library.open(corpus, tmp_path / "data")
    try:
        pane = make_pane(qtbot, Session(lib))
        pane.open_document("restricted")
        qtbot.waitUntil(lambda: pane.doc is not None, timeout=15000)
        assert TEXT in pane.doc.text and shown == []  # never asked
        pane.set_paged(True)
        qtbot.waitUntil(pane.page_view.ready, timeout=10000)
        assert not pane.page_view.error
        pane.page_view.shutdown()
    finally:
        lib.close()
