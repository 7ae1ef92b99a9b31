"""End to end: a window on a temporary store — highlight with a note and a theme by keyboard, link two
passages in different documents, close; a new window on the same store finds everything again."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from nkreader.core.library import Library
from nkreader.ui.main_window import MainWindow

REPO = Path(__file__).resolve().parents[2]


def _open(qtbot, data):
    lib = Library.open(REPO / "corpus", data)
    w = MainWindow(lib)
    w._closing_ok = True  # never block the test on a dialog
    qtbot.addWidget(w)
    w.resize(1500, 900)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    qtbot.wait(20)
    return lib, w


def _select(pane, word, nth=0):
    text = pane.doc.text
    i = -1
    for _ in range(nth + 1):
        i = text.index(word, i + 1)
    pane.select_span(i, i + len(word))
    pane.view.setFocus()
    return i


def test_highlight_note_theme_link_survive_a_restart(qtbot, tmp_path):
    data = tmp_path / "data"
    lib, w = _open(qtbot, data)
    left, right = w.panes
    assert (left.doc_id, right.doc_id) == ("suh-2002", "bell-fattig")

    # highlight with the H key, then a note and a theme in the passage dock
    start = _select(left, "humanitarian")
    qtbot.keyClick(left.view, Qt.Key.Key_H)
    ann_id = w.session.current_id
    assert ann_id and lib.annotation(ann_id)["target"]["start"] == start
    w.passage_dock.note.setFocus()
    qtbot.keyClicks(w.passage_dock.note, "Suh frames it as aid.")
    qtbot.keyClick(w.passage_dock.note, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    w.passage_dock.code_with("Humanitarian framing")
    theme = lib.theme_by_name("Humanitarian framing")
    assert lib.annotation(ann_id)["note"] == "Suh frames it as aid."
    assert lib.annotation(ann_id)["themes"] == [theme["id"]]

    # link it to a passage in the other pane: L here, then L there, dialog answered "disputes"
    w.ask_link = lambda source, target: ("disputes", "Bell and Fattig say the frame fails.")
    left.view.setFocus()
    w.session.set_current(ann_id)
    left.clear_selection()
    qtbot.keyClick(left.view, Qt.Key.Key_L)
    assert w.pending_link and w.pending_link["ann_id"] == ann_id
    _select(right, "more humane way")
    qtbot.keyClick(right.view, Qt.Key.Key_L)
    links = lib.links()
    assert len(links) == 1 and links[0]["type"] == "disputes"
    target = lib.annotation(links[0]["target"])
    assert target["doc_id"] == "bell-fattig" and target["target"]["exact"] == "more humane way"
    w.show_link(links[0]["id"])
    assert len(w.splitter.handle(1).ribbons()) == 1
    top_right = right.top_offset()
    w.close()
    lib.close()

    # a new window on the same store
    lib2, w2 = _open(qtbot, data)
    try:
        left2, right2 = w2.panes
        assert (left2.doc_id, right2.doc_id) == ("suh-2002", "bell-fattig")
        qtbot.waitUntil(lambda: abs((right2.top_offset() or 0) - (top_right or 0)) < 200, timeout=2000)
        anns = lib2.annotations()
        assert len(anns) == 2
        note = next(a for a in anns if a["doc_id"] == "suh-2002")
        assert note["note"] == "Suh frames it as aid."
        assert [lib2.theme(t)["name"] for t in note["themes"]] == ["Humanitarian framing"]
        qtbot.waitUntil(lambda: len(left2.marks()) == 1 and len(right2.marks()) == 1, timeout=2000)
        item = w2.theme_dock.item_for(note["themes"][0])
        assert item is not None and item.text(1) == "1"
        w2.set_active_pane(left2)
        assert any("Suh frames it as aid." in t for t in
                   (w2.annotations_dock.list.item(i).text() for i in range(w2.annotations_dock.list.count())))
        link = lib2.links()[0]
        w2.show_link(link["id"])
        assert [l["id"] for _p, l in w2.splitter.handle(1).ribbons()] == [link["id"]]
        w2.session.set_current(note["id"])
        assert w2.passage_dock.links.count() == 1
        assert "disputes" in w2.passage_dock.links.item(0).text()
        # and undo still works in the new window's own history (nothing to undo yet)
        assert not w2.session.undo_stack.canUndo()
    finally:
        w2.close()
        lib2.close()
