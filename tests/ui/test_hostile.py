"""Markup in documents, titles and notes is shown literally: nothing is loaded, rendered or followed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QTextDocument, QTextFormat
from PySide6.QtWidgets import QLabel

from nkreader.core.library import Library
from nkreader.ui import commands
from nkreader.ui.safety import plain_tooltip, safe_url

HOSTILE = ('<img src="file:///etc/passwd"> <a href="file:///etc/hosts">click</a> <b>bold</b> '
           '<a href="javascript:alert(1)">js</a> <script>alert(2)</script> &amp; [md](file:///x) **star**')


def _no_markup(qdoc: QTextDocument) -> None:
    block = qdoc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt = frag.charFormat()
            assert not fmt.isImageFormat(), frag.text()
            assert not fmt.isAnchor() and not fmt.anchorHref(), frag.text()
            assert fmt.fontWeight() <= 400, frag.text()
            assert fmt.objectType() == QTextFormat.ObjectTypes.NoObject
            it += 1
        block = block.next()


class Spy(QTextDocument):
    requested: list = []

    def loadResource(self, kind, url):  # pragma: no cover - must never be called
        Spy.requested.append(url.toString())
        return super().loadResource(kind, url)


def test_markup_in_documents_and_notes_is_literal(qtbot, tmp_path, make_window, corpus_writer):
    corpus = corpus_writer(tmp_path / "corpus",
                          {"evil": f"Title {HOSTILE}\n\nBody {HOSTILE} end.", "plain": "A plain text.\n\nMore."},
                          titles={"evil": 'Evil <img src="file:///etc/passwd"> <b>title</b>'},
                          authors={"evil": ['<a href="file:///x">Mallory</a>'], "plain": ["Alice"]})
    lib = Library.open(corpus, tmp_path / "data")
    w = make_window(lib)
    pane = w.panes[0]
    pane.open_document("evil")
    text = lib.document("evil").text
    assert HOSTILE in pane.view.toPlainText()
    assert pane.view.toPlainText() == text
    _no_markup(pane.view.document())
    assert not pane.view.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByMouse
    assert not pane.view.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByKeyboard
    assert '<img src="file:///etc/passwd">' in pane.title_label.text()
    assert "Mallory</a>" in pane.author_label.text()
    for label in pane.findChildren(QLabel) + w.findChildren(QLabel):
        if label.text() and "<" in label.text():
            assert label.textFormat() == Qt.TextFormat.PlainText, label.objectName()

    # a note (and a theme name) full of markup
    i = text.index("Body")
    cmd = commands.AddHighlight(w.session, "evil", i, i + 20, note=HOSTILE)
    w.session.push(cmd)
    w.session.set_current(cmd.ann_id)
    # the toolbar's Undo names the edit by its quote; its tool tip shows that quote literally
    undo = next(a for a in w.findChildren(QAction) if a.text() == "Undo" and "Highlight" in a.toolTip())
    shown = QTextDocument()
    shown.setHtml(undo.toolTip())
    assert shown.toPlainText() == "Undo Highlight “Body <img src=\"file:” (Ctrl+Z)"
    w.passage_dock.code_with('<b>theme</b><img src="file:///etc/passwd">')
    assert w.passage_dock.note.toPlainText() == HOSTILE
    _no_markup(w.passage_dock.note.document())
    w.set_active_pane(pane)
    items = [w.annotations_dock.list.item(k).text() for k in range(w.annotations_dock.list.count())]
    assert any("<img src=" in t for t in items)
    assert any("<b>theme</b>" in w.theme_dock.tree.topLevelItem(k).text(0)
               for k in range(w.theme_dock.tree.topLevelItemCount()))
    assert "<img" in w.passage_dock.quote.text() and w.passage_dock.quote.textFormat() == Qt.TextFormat.PlainText
    # tool tips escape what they show
    tip = plain_tooltip(HOSTILE)
    assert "<img" not in tip and "&lt;img" in tip
    rendered = QTextDocument()
    rendered.setHtml(tip)  # our own escaped markup, rendered the way QToolTip would
    assert HOSTILE.replace("&amp;", "&amp;") in rendered.toPlainText()
    _no_markup_images = [f for f in _fragments(rendered) if f.charFormat().isImageFormat() or f.charFormat().isAnchor()]
    assert _no_markup_images == []
    # links are never followed to file:, javascript: or launch targets
    for url in ("file:///etc/passwd", "javascript:alert(1)", "launch:calc", "data:text/html,x", "smb://h/x"):
        assert safe_url(url) is None
    assert safe_url("https://example.org/a") is not None
    # and nothing asked Qt to load a resource
    w.close()
    lib.close()


def _fragments(qdoc):
    block = qdoc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            yield it.fragment()
            it += 1
        block = block.next()


def test_reading_view_never_loads_resources(qtbot, tmp_path, make_window, corpus_writer):
    corpus = corpus_writer(tmp_path / "corpus", {"evil": HOSTILE * 3, "other": "x"})
    lib = Library.open(corpus, tmp_path / "data")
    w = make_window(lib)
    pane = w.panes[0]
    pane.open_document("evil")
    calls = []
    orig = pane.view.loadResource

    def spy(kind, url):
        calls.append(url.toString())
        return orig(kind, url)

    pane.view.loadResource = spy
    pane.view.document().markContentsDirty(0, pane.view.document().characterCount())
    pane.view.viewport().repaint()
    assert calls == []
    assert pane.view.canInsertFromMimeData(None) is False
    w.close()
    lib.close()


def test_a_file_that_cannot_be_read_says_why_in_its_pane_and_loses_nothing(qtbot, tmp_path, make_window):
    import pymupdf

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plain.txt").write_text("A plain text about brokers.\n", encoding="utf-8")
    (corpus / "<b>empty.pdf").write_bytes(b"")
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Text that will be cut off. " * 40)
    data = doc.tobytes()
    doc.close()
    (corpus / "truncated.pdf").write_bytes(data[: len(data) // 2])
    scan = pymupdf.open()
    page = scan.new_page()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 64, 64), 0)
    pix.clear_with(180)
    page.insert_image(page.rect, pixmap=pix)
    scan.save(corpus / "scanned.pdf")
    scan.close()
    w = make_window(Library.open(corpus, tmp_path / "data"), restore=False)
    pane = w.panes[0]
    pane.open_document("plain")
    assert pane.doc.id == "plain" and not pane.notice.isVisible()
    for ref, expected in (("b-empty", "Could not open <b>empty.pdf: it is empty (0 bytes)"),
                          ("truncated", "Could not open truncated.pdf: it is damaged or truncated")):
        pane.open_document(ref)
        qtbot.waitUntil(pane.notice.isVisible, timeout=5000)
        assert pane.notice.label.text().startswith(expected)
        assert pane.notice.label.textFormat() == Qt.TextFormat.PlainText
        assert pane.doc.id == "plain" and pane.view.toPlainText().startswith("A plain text")  # still shown
    pane.notice.close.click()
    assert not pane.notice.isVisible()
    # a scan opens, says there is nothing to annotate, and shows its pages instead of an empty text
    pane.open_document("scanned")
    qtbot.waitUntil(lambda: pane.doc is not None and pane.doc.id == "scanned", timeout=5000)
    assert pane.notice.isVisible() and "no text to annotate" in pane.notice.label.text()
    assert pane.paged and pane.view.placeholderText() == ""
    pane.open_document("plain")  # the next document clears the notice
    assert not pane.notice.isVisible() and not pane.paged
