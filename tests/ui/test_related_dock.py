"""The related-passages dock with a real library: background ranking, open, link, dismiss."""

import pytest

from nkreader.core.anchors import find_quote

pytest.importorskip("pytestqt")

from nkreader.ui.related_dock import HIT_ROLE, RelatedDock  # noqa: E402

QUOTE = "China continues to forcibly repatriate all North Koreans found within its borders"


@pytest.fixture
def dock(qtbot, library):
    w = RelatedDock(library)
    qtbot.addWidget(w)
    yield w
    w.shutdown()


def _select(qtbot, dock, library, doc_id="bell-fattig", quote=QUOTE):
    doc = library.document(doc_id)
    s, e = find_quote(doc.text, quote)
    with qtbot.waitSignal(dock.resultsReady, timeout=90000):
        dock.set_selection(doc.id, s, e)
    return s, e


def test_selection_fills_the_list_with_other_authors(qtbot, dock, library):
    _select(qtbot, dock, library)
    assert dock.list.count() > 0
    for i in range(dock.list.count()):
        item = dock.list.item(i)
        hit = item.data(HIT_ROLE)
        assert hit.doc_id != "bell-fattig"
        meta = library.corpus.entry(hit.doc_id).metadata
        assert item.text().startswith(meta.citation)  # author first, then the snippet


def test_click_opens_in_the_neighbouring_pane(qtbot, dock, library):
    _select(qtbot, dock, library)
    item = dock.list.item(0)
    hit = item.data(HIT_ROLE)
    with qtbot.waitSignal(dock.openRequested) as blocker:
        rect = dock.list.visualItemRect(item)
        from PySide6.QtCore import Qt

        qtbot.mouseClick(dock.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert blocker.args == [hit.doc_id, hit.start, hit.end]


def test_accept_as_typed_link(qtbot, dock, library):
    s, e = _select(qtbot, dock, library)
    dock.list.setCurrentRow(1)
    dock.link_type.setCurrentIndex(dock.link_type.findData("disputes"))
    with qtbot.waitSignal(dock.linkAccepted):
        link = dock.accept_current()
    assert link["type"] == "disputes"
    src, tgt = library.annotation(link["source"]), library.annotation(link["target"])
    assert (src["doc_id"], src["target"]["start"], src["target"]["end"]) == ("bell-fattig", s, e)
    hit = dock.list.item(1).data(HIT_ROLE)
    assert (tgt["doc_id"], tgt["target"]["start"]) == (hit.doc_id, hit.start)


def test_dismiss_is_remembered_and_reranks(qtbot, dock, library):
    _select(qtbot, dock, library)
    first = dock.list.item(0).data(HIT_ROLE)
    dock.list.setCurrentRow(0)
    with qtbot.waitSignal(dock.resultsReady, timeout=90000):
        dock.dismiss_current()
    assert len(library.store.all("dismissals")) == 1
    now_first = dock.list.item(0).data(HIT_ROLE)
    assert (now_first.doc_id, now_first.start) != (first.doc_id, first.start)


def test_labels_are_plain_text(qtbot, dock, library):
    from PySide6.QtCore import Qt

    assert dock.status.textFormat() == Qt.TextFormat.PlainText
    dock.show_hits([])
    assert "No related passages" in dock.status.text()


def test_the_title_says_which_passage_the_list_follows(qtbot, dock, library):
    _select(qtbot, dock, library)
    assert dock.title.text() == f"Other authors on “{QUOTE}” (Bell and Fattig 2014)"
    dock.clear()
    assert dock.title.text() == "Related passages by other authors" and dock.list.count() == 0
