"""The document pane: text built from plain characters, paragraph margin, selection ↔ code points,
highlights as extra selections, find in pane, the theme bar, font size."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from nkreader.core.library import Library
from nkreader.ui import commands
from nkreader.ui.document_pane import DocumentPane
from nkreader.ui.session import Session


def make_pane(qtbot, session, doc_id):
    pane = DocumentPane(session)
    qtbot.addWidget(pane)
    pane.resize(700, 600)
    pane.show()
    qtbot.waitExposed(pane)
    pane.open_document(doc_id)
    return pane


def test_pane_shows_header_and_text(qtbot, session):
    pane = make_pane(qtbot, session, "suh-2002")
    doc = session.document("suh-2002")
    assert pane.view.toPlainText() == doc.text.replace("\r\n", "\n")
    assert pane.author_label.text() == "Suh Dong-man · 2002"
    assert pane.title_label.text() == doc.metadata.title
    for label in (pane.author_label, pane.title_label, pane.venue_label):
        assert label.textFormat() == Qt.TextFormat.PlainText
    assert pane.view.isReadOnly()
    assert pane.chooser.currentData() == "suh-2002"
    # the margin paints without error and numbers the paragraphs it can see
    pane.view.margin.repaint()
    first, last = pane.view.visible_span()
    assert first == 0 and last > 100


def test_selection_maps_to_code_points_with_emoji_and_hangul(qtbot, small_corpus, tmp_path):
    lib = Library.open(small_corpus, tmp_path / "d")
    session = Session(lib)
    for doc_id, word in (("alpha", "emoji"), ("beta", "combining")):
        pane = make_pane(qtbot, session, doc_id)
        text = session.document(doc_id).text
        start = text.index(word)
        pane.select_span(start, start + len(word))
        assert pane.view.textCursor().selectedText() == word
        assert pane.selection_span() == (start, start + len(word))
    lib.close()


def test_highlights_are_extra_selections_in_theme_colour(qtbot, session):
    pane = make_pane(qtbot, session, "bell-fattig")
    text = session.document("bell-fattig").text
    a = text.index("The biggest challenge")
    theme = session.library.add_theme("Framework", color="#3cb44b")
    session.notify("themes")
    cmd = commands.AddHighlight(session, "bell-fattig", a, a + 21, themes=[theme["id"]])
    session.push(cmd)
    qtbot.waitUntil(lambda: len(pane.marks()) == 1)
    start, end, fill, _under = pane.marks()[0]
    assert pane._cursor(start, end).selectedText() == "The biggest challenge"
    assert fill.name() == "#3cb44b" and fill.alpha() < 255  # translucent: the text stays readable
    assert pane.view.span_rects(start, end)
    assert pane.annotation_at(a + 3)["id"] == cmd.ann_id
    session.undo_stack.undo()
    qtbot.waitUntil(lambda: len(pane.marks()) == 0)


def test_click_on_highlight_makes_it_current(qtbot, session):
    pane = make_pane(qtbot, session, "bell-fattig")
    text = session.document("bell-fattig").text
    a = text.index("38th parallel")
    cmd = commands.AddHighlight(session, "bell-fattig", a, a + 13)
    session.push(cmd)
    qtbot.waitUntil(lambda: len(pane.marks()) == 1)
    pane.scroll_to_span(a, a + 13)
    rect = pane.view.cursorRect(pane._cursor(a + 3, a + 3))
    qtbot.mouseClick(pane.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert session.current_id == cmd.ann_id


def test_find_in_pane_marks_matches_and_steps(qtbot, session):
    pane = make_pane(qtbot, session, "suh-2002")
    pane.open_find()
    assert pane.find_bar.isVisible()
    qtbot.keyClicks(pane.find_bar.edit, "defectors")
    n = len(pane.matches)
    text = session.document("suh-2002").text
    assert n == text.lower().count("defectors") and n > 3
    assert pane.find_bar.count.text().endswith(f"of {n}")
    first = pane._match_index
    pane.find_step(+1)
    assert pane._match_index == (first + 1) % n
    a, b = pane.matches[pane._match_index]
    assert pane.is_span_visible(a, b)
    assert len(pane.marks()) == n
    qtbot.keyClick(pane.find_bar, Qt.Key.Key_Escape)
    assert not pane.find_bar.isVisible() and pane.matches == []


def test_find_spans_hard_line_breaks_and_case(qtbot, session):
    pane = make_pane(qtbot, session, "suh-2002")
    assert pane.find("north   korean", case=False) > 0
    assert pane.find("NORTH KOREAN", case=True) == 0


def test_theme_bar_steps_through_passages(qtbot, session):
    pane = make_pane(qtbot, session, "suh-2002")
    lib = session.library
    text = session.document("suh-2002").text
    theme = lib.add_theme("Repatriation")
    spans = []
    for word in ("defectors", "China", "reconciliation"):
        i = text.index(word)
        spans.append(i)
        lib.highlight("suh-2002", i, i + len(word), themes=[theme["id"]])
    session.notify("annotations", "themes")
    session.set_active_theme(theme["id"])
    assert pane.theme_bar.isVisible()
    assert len(pane.theme_passages) == 3
    assert "3 passages" in pane.theme_bar.label.text() or "of 3" in pane.theme_bar.label.text()
    pane.theme_step(+1)
    assert "passage 2 of 3" in pane.theme_bar.label.text()
    assert session.current_id == pane.theme_passages[1]["id"]
    session.set_active_theme("")
    assert not pane.theme_bar.isVisible()


def test_font_size_and_scheme(qtbot, session):
    from nkreader.ui import style

    pane = make_pane(qtbot, session, "kwon-2023")
    h = pane.view.document().size().height()
    pane.set_font_size(18)
    assert pane.view.document().defaultFont().pointSizeF() == 18
    assert pane.view.document().size().height() > h
    pane.set_font_size(999)
    assert pane.font_size == style.MAX_FONT_SIZE
    pane.apply_scheme(style.DARK)
    assert pane.view.palette().color(pane.view.palette().ColorRole.Base).name() == style.DARK.base


def test_scroll_position_round_trip(qtbot, session):
    pane = make_pane(qtbot, session, "suh-2002")
    text = session.document("suh-2002").text
    target = text.index("reconciliation", len(text) // 2)
    pane.scroll_to_offset(target)
    top = pane.top_offset()
    assert abs(top - target) < 400
    pane.view.verticalScrollBar().setValue(0)
    pane.scroll_to_offset(top)
    assert abs(pane.top_offset() - top) < 5


def test_copy_is_plain_text(qtbot, session):
    pane = make_pane(qtbot, session, "suh-2002")
    pane.select_span(0, 30)
    mime = pane.view.createMimeDataFromSelection()
    assert mime.hasText() and not mime.hasHtml()


def test_highlights_follow_an_edited_document_and_orphans_are_kept(qtbot, tmp_path, corpus_writer):
    folder = corpus_writer(tmp_path / "corpus", {"doc": "First paragraph here.\n\nThe quoted passage is here.\n\nEnd.",
                                                 "other": "x"})
    lib = Library.open(folder, tmp_path / "data")
    kept = lib.highlight_quote("doc", "quoted passage")
    lost = lib.highlight_quote("doc", "First paragraph")
    lib.close()
    (folder / "doc.txt").write_text("A new opening line was added.\n\nThe quoted passage is here.\n\nEnd.", encoding="utf-8")
    lib = Library.open(folder, tmp_path / "data")
    session = Session(lib)
    messages = []
    session.message.connect(messages.append)
    pane = make_pane(qtbot, session, "doc")
    text = lib.document("doc").text
    moved = lib.annotation(kept["id"])
    assert text[moved["target"]["start"]:moved["target"]["end"]] == "quoted passage"
    assert lib.annotation(lost["id"])["status"] == "orphan"  # kept, not dropped
    assert [m[0] for m in pane.marks()] == [moved["target"]["start"]]
    assert messages and "could not be placed" in messages[-1]
    lib.close()


def test_paginated_document_shows_pages(qtbot, session):
    from nkreader.core.model import Document, DocumentMetadata, Page, Paragraph

    text = "Page one text.\n\nPage two text."
    doc = Document(id="suh-2002", path=session.corpus.entry("suh-2002").path, text=text,
                   paragraphs=[Paragraph(1, 0, 14, page=1), Paragraph(2, 16, 30, page=2, page_label="ii")],
                   kind="pdf", pages=[Page(1, 0, 15, "i"), Page(2, 16, 30, "ii")],
                   metadata=DocumentMetadata(title="T", authors=("A",), year=2000))
    pane = DocumentPane(session)
    qtbot.addWidget(pane)
    pane.show()
    pane.set_document(doc)
    assert pane.page_starts == [0, 16]
    assert "2 pages" in pane.venue_label.text()
    pane.view.margin.repaint()


def test_note_marker_in_the_margin_opens_the_note(qtbot, session):
    pane = make_pane(qtbot, session, "bell-fattig")
    text = session.document("bell-fattig").text
    a = text.index("38th parallel")
    cmd = commands.AddHighlight(session, "bell-fattig", a, a + 13, note="a note")
    session.push(cmd)
    pane.refresh_highlights()
    pane.scroll_to_span(a, a + 13)
    pane.view.margin.grab()  # paint it now
    assert pane.view.margin._markers
    rect, ann_id = pane.view.margin._markers[0]
    assert ann_id == cmd.ann_id
    qtbot.mouseClick(pane.view.margin, Qt.MouseButton.LeftButton, pos=rect.center())
    assert session.current_id == cmd.ann_id
