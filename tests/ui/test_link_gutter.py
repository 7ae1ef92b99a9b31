"""Ribbons between neighbouring panes: drawn for links with both ends on screen, follow scrolling,
clicking one brings both ends into view."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt

from nkreader.ui.link_gutter import LinkGutter, ribbon_path


def _link(window, a_doc, a_word, b_doc, b_word, link_type="agrees"):
    lib = window.library
    ta, tb = lib.document(a_doc).text, lib.document(b_doc).text
    ia, ib = ta.index(a_word), tb.index(b_word)
    return window.link_ends({"doc_id": a_doc, "start": ia, "end": ia + len(a_word)},
                            {"doc_id": b_doc, "start": ib, "end": ib + len(b_word)}, link_type, "note")


def test_ribbon_path_joins_both_spans():
    path = ribbon_path(50, 10, 30, 100, 140)
    assert path.contains(QPointF(1, 20)) and path.contains(QPointF(49, 120))
    assert not path.contains(QPointF(25, 300))


def test_gutter_is_the_splitter_handle_and_draws_visible_links(qtbot, window):
    left, right = window.panes
    assert (left.doc_id, right.doc_id) == ("suh-2002", "bell-fattig")
    gutter = window.splitter.handle(1)
    assert isinstance(gutter, LinkGutter)
    assert gutter.neighbours() == (left, right)
    link_id = _link(window, "suh-2002", "North Korean Defectors", "bell-fattig", "North Korean refugees")
    assert link_id
    gutter.repaint()
    ribbons = gutter.ribbons()
    assert [l["id"] for _p, l in ribbons] == [link_id]
    # scroll the left pane far away: its end leaves the screen, so the ribbon goes
    left.view.verticalScrollBar().setValue(left.view.verticalScrollBar().maximum())
    assert gutter.ribbons() == []


def test_clicking_a_ribbon_brings_both_ends_into_view(qtbot, window):
    left, right = window.panes
    lib = window.library
    link_id = _link(window, "suh-2002", "reconciliation", "bell-fattig", "humane")
    link = lib.store.get("links", link_id)
    s, t = lib.annotation(link["source"]), lib.annotation(link["target"])
    # the right end is far down; both come into view when the link is shown
    window.show_link(link_id)
    assert left.is_span_visible(s["target"]["start"], s["target"]["end"])
    assert right.is_span_visible(t["target"]["start"], t["target"]["end"])
    gutter = window.splitter.handle(1)
    ribbons = gutter.ribbons()
    assert len(ribbons) == 1
    path, _ = ribbons[0]
    # clicking inside the ribbon emits ribbonClicked with the link
    hit = None
    for x in range(2, gutter.width() - 2, 3):
        for y in range(0, gutter.height(), 3):
            if path.contains(QPointF(x, y)):
                hit = (x, y)
                break
        if hit:
            break
    assert hit
    with qtbot.waitSignal(window.splitter.ribbonClicked, timeout=1000) as blocker:
        gutter.repaint()
        qtbot.mousePress(gutter, Qt.MouseButton.LeftButton, pos=QPoint(*hit))
        qtbot.mouseRelease(gutter, Qt.MouseButton.LeftButton, pos=QPoint(*hit))
    assert blocker.args == [link_id]


def test_many_links_paint_quickly_enough_to_count(qtbot, window):
    left, right = window.panes
    lib = window.library
    ta, tb = lib.document("suh-2002").text, lib.document("bell-fattig").text
    srcs, dsts = [], []
    for i in range(40):
        a = (i * 97) % (len(ta) - 20)
        b = (i * 53) % (len(tb) - 20)
        srcs.append(lib.highlight("suh-2002", a, a + 10))
        dsts.append(lib.highlight("bell-fattig", b, b + 10))
    for s, d in zip(srcs, dsts):
        lib.link(s["id"], d["id"], "extends")
    window.session.notify("annotations", "links")
    gutter = window.splitter.handle(1)
    gutter.repaint()
    assert len(gutter.ribbons()) >= 1
    for v in range(0, left.view.verticalScrollBar().maximum(), 200):
        left.view.verticalScrollBar().setValue(v)
        gutter.repaint()
