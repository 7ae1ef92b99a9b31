"""Every dock: library, highlights, passage, themes, search."""

from __future__ import annotations

from PySide6.QtCore import Qt

from nkreader.ui import commands
from nkreader.ui.annotations_dock import AnnotationsDock
from nkreader.ui.library_dock import LibraryDock
from nkreader.ui.passage_dock import PassageDock
from nkreader.ui.search_dock import SearchDock, compile_query, search_corpus
from nkreader.ui.theme_dock import ThemeDock


def _hl(session, doc_id, word, **kw):
    text = session.document(doc_id).text
    i = text.index(word)
    cmd = commands.AddHighlight(session, doc_id, i, i + len(word), **kw)
    assert session.push(cmd)
    return cmd.ann_id


def test_library_dock_lists_documents_and_asks_to_open(qtbot, session):
    dock = LibraryDock(session)
    qtbot.addWidget(dock)
    assert dock.list.count() == len(session.corpus.entries)
    assert dock.list.item(1).text().startswith("Suh 2002")
    with qtbot.waitSignal(dock.openRequested) as blocker:
        dock.list.setCurrentRow(1)
        dock.open_new.click()
    assert blocker.args == ["suh-2002", "new"]
    dock.filter.setText("bell")
    visible = [dock.list.item(i) for i in range(dock.list.count()) if not dock.list.item(i).isHidden()]
    assert len(visible) == 1 and "Bell" in visible[0].text()
    _hl(session, "bell-fattig", "38th parallel")
    texts = [dock.list.item(i).text() for i in range(dock.list.count())]
    assert any(t.startswith("Bell and Fattig 2014") and "✎ 1" in t for t in texts)


def test_annotations_dock_lists_and_chooses(qtbot, session):
    dock = AnnotationsDock(session)
    qtbot.addWidget(dock)
    dock.set_document("suh-2002")
    assert dock.list.count() == 0
    a = _hl(session, "suh-2002", "defectors", note="first note")
    b = _hl(session, "suh-2002", "reconciliation")
    assert dock.ids() == [a, b]
    assert "✎ first note" in dock.list.item(0).text()
    assert "¶" in dock.list.item(0).text()
    with qtbot.waitSignal(dock.annotationChosen) as blocker:
        dock.list.itemClicked.emit(dock.list.item(1))
    assert blocker.args == [b]
    dock.filter.setText("first")
    assert dock.ids() == [a]
    session.set_current(a)
    assert dock.list.currentItem().data(Qt.ItemDataRole.UserRole) == a


def test_passage_dock_edits_note_colour_themes_with_undo(qtbot, session):
    dock = PassageDock(session)
    qtbot.addWidget(dock)
    dock.show()
    a = _hl(session, "suh-2002", "defectors")
    session.set_current(a)
    assert dock.body.isVisible() and "defectors" in dock.quote.text()
    dock.note.setPlainText("my note")
    assert dock.note_dirty()
    dock.commit_note()
    assert session.library.annotation(a)["note"] == "my note"
    dock.set_color("#a8e6a1")
    assert session.library.annotation(a)["color"] == "#a8e6a1"
    dock.code_with("Identity")
    theme = session.library.theme_by_name("Identity")
    assert theme and session.library.annotation(a)["themes"] == [theme["id"]]
    item = dock.themes.item(0)
    assert item.checkState() == Qt.CheckState.Checked
    item.setCheckState(Qt.CheckState.Unchecked)
    assert session.library.annotation(a)["themes"] == []
    # undo: themes back, then the theme itself (one macro), colour, note
    stack = session.undo_stack
    stack.undo()
    assert session.library.annotation(a)["themes"] == [theme["id"]]
    stack.undo()
    assert session.library.theme_by_name("Identity") is None
    stack.undo()
    assert session.library.annotation(a)["color"] != "#a8e6a1"
    stack.undo()
    assert session.library.annotation(a)["note"] == ""
    stack.redo()
    assert session.library.annotation(a)["note"] == "my note"


def test_passage_dock_lists_links_and_unlinks(qtbot, session):
    dock = PassageDock(session)
    qtbot.addWidget(dock)
    a = _hl(session, "suh-2002", "defectors")
    b = _hl(session, "bell-fattig", "refugees")
    cmd = commands.AddLink(session, a, b, "disputes", "they differ")
    session.push(cmd)
    session.set_current(a)
    assert dock.links.count() == 1
    text = dock.links.item(0).text()
    assert text.startswith("disputes Bell and Fattig 2014") and "they differ" in text
    with qtbot.waitSignal(dock.linkChosen) as blocker:
        dock.links.itemClicked.emit(dock.links.item(0))
    assert blocker.args == [cmd.link_id]
    session.set_current(b)
    assert dock.links.item(0).text().startswith("disputed by Suh 2002")
    dock.links.setCurrentRow(0)
    dock._unlink()
    assert session.library.links() == []
    session.undo_stack.undo()
    assert len(session.library.links()) == 1


def test_passage_dock_suggests_themes_to_accept_or_reject(qtbot, session, ui_library):
    from PySide6.QtWidgets import QToolButton

    lib = ui_library
    lib.add_theme("Forced repatriation", description="China returns North Koreans it finds, by force")
    lib.add_theme("Women and trafficking", description="brokers sell women into marriage")
    session.notify("themes")
    dock = PassageDock(session)
    qtbot.addWidget(dock)
    dock.show()
    a = _hl(session, "bell-fattig", "China continues to forcibly repatriate all North Koreans")
    session.set_current(a)
    qtbot.waitUntil(dock.suggested.isVisible, timeout=2000)

    def offered():
        return [b.text() for b in dock.suggested.findChildren(QToolButton, "acceptTheme") if not b.isHidden()]

    assert offered()[0] == "+ Forced repatriation"
    # accepting codes the passage (undoably) and the theme is no longer offered
    accept = next(b for b in dock.suggested.findChildren(QToolButton, "acceptTheme")
                  if b.text() == "+ Forced repatriation")
    accept.click()
    theme = lib.theme_by_name("Forced repatriation")
    assert lib.annotation(a)["themes"] == [theme["id"]]
    qtbot.waitUntil(lambda: "+ Forced repatriation" not in offered(), timeout=2000)
    session.undo_stack.undo()
    assert lib.annotation(a)["themes"] == []
    qtbot.waitUntil(lambda: "+ Forced repatriation" in offered(), timeout=2000)
    # rejecting is remembered in the store: not offered again for this passage, here or after a restart
    row = next(b for b in dock.suggested.findChildren(QToolButton, "acceptTheme")
               if b.text() == "+ Forced repatriation").parentWidget()
    row.findChild(QToolButton, "rejectTheme").click()
    assert "+ Forced repatriation" not in offered()
    assert [(d["annotation_id"], d["theme_id"]) for d in lib.store.all("dismissals")] == [(a, theme["id"])]
    assert all(sugg.theme_id != theme["id"] for sugg in dock.suggestions())
    # a passage with nothing in common with any theme gets no suggestion row
    b = _hl(session, "suh-2002", "Nautilus")
    session.set_current(b)
    qtbot.wait(400)
    assert not dock.suggested.isVisible() and dock.suggestions() == []

def test_theme_dock_create_rename_recolour_merge_delete_undo(qtbot, session):
    dock = ThemeDock(session)
    qtbot.addWidget(dock)
    lib = session.library
    t1 = dock.create_theme("Repatriation")
    t2 = dock.create_theme("Forced return")
    assert dock.create_theme("repatriation") is None  # taken (case-insensitively): refused, not stacked
    assert dock.tree.topLevelItemCount() == 2
    a = _hl(session, "suh-2002", "China", themes=[t1])
    b = _hl(session, "bell-fattig", "China", themes=[t2])
    item = dock.item_for(t1)
    assert item.text(1) == "1" and item.child(0).text(0) == "Suh 2002"
    assert dock.rename(t1, "Refoulement")
    assert lib.theme(t1)["name"] == "Refoulement"
    assert dock.recolour(t1, "#123456")
    assert lib.theme(t1)["color"] == "#123456"
    assert dock.merge(t2, t1)
    assert lib.theme(t2) is None and lib.annotation(b)["themes"] == [t1]
    assert dock.item_for(t1).text(1) == "2"
    assert dock.delete(t1)
    assert lib.themes() == [] and lib.annotation(a)["themes"] == []
    stack = session.undo_stack
    stack.undo()  # delete
    assert lib.theme(t1)["name"] == "Refoulement" and lib.annotation(a)["themes"] == [t1]
    stack.undo()  # merge
    assert lib.theme(t2) is not None and lib.annotation(b)["themes"] == [t2]
    stack.undo()  # recolour
    assert lib.theme(t1)["color"] != "#123456"
    stack.undo()  # rename
    assert lib.theme(t1)["name"] == "Repatriation"


def test_theme_dock_choosing_a_theme_follows_it(qtbot, session):
    dock = ThemeDock(session)
    qtbot.addWidget(dock)
    t1 = dock.create_theme("Borders")
    with qtbot.waitSignal(session.activeThemeChanged):
        dock._clicked(dock.item_for(t1))
    assert session.active_theme == t1
    assert dock.next_b.isEnabled()
    dock.clear_b.click()
    assert session.active_theme == ""


def test_search_across_the_corpus_off_thread(qtbot, session):
    dock = SearchDock(session)
    qtbot.addWidget(dock)
    dock.query.setText("forcibly repatriate")
    dock.search()
    qtbot.waitUntil(lambda: dock.task is None and bool(dock.hits), timeout=5000)
    docs = {h.doc_id for h in dock.hits}
    assert "bell-fattig" in docs
    hit = next(h for h in dock.hits if h.doc_id == "bell-fattig")
    assert hit.match.lower() == "forcibly repatriate" and hit.before and hit.after
    assert dock.results.topLevelItemCount() == len(docs)
    with qtbot.waitSignal(dock.hitChosen) as blocker:
        dock._chosen(dock.results.topLevelItem(0).child(0))
    assert blocker.args[0] in docs
    assert "match" in dock.status.text()


def test_search_can_be_cancelled(qtbot, session):
    import threading

    from nkreader.ui.workers import start_task

    gate = threading.Event()

    def slow(task):
        gate.wait(2)
        task.check()
        return "never"

    got = []
    task = start_task(slow, on_result=got.append)
    task.cancel()
    gate.set()
    qtbot.waitUntil(lambda: task.done.is_set(), timeout=3000)
    qtbot.wait(20)
    assert got == []
    # and the dock's own cancel
    dock = SearchDock(session)
    qtbot.addWidget(dock)
    dock.search("refugees")
    dock.cancel()
    assert dock.status.text() == "Search cancelled"


def test_search_function_whole_words_and_context():
    from nkreader.core.corpus import Corpus, bundled_corpus_dir

    corpus = Corpus(bundled_corpus_dir())
    hits = search_corpus(corpus, compile_query("NGO", whole_words=True))
    assert hits and all(h.match.lower() == "ngo" for h in hits)
    assert compile_query("   ") is None


def test_annotations_dock_follows_edits_row_by_row(qtbot, session):
    """Rows are inserted, changed and removed in place; the list always matches the session's
    highlights, and the current one far down a long list is scrolled into view."""
    lib = session.library
    dock = AnnotationsDock(session)
    qtbot.addWidget(dock)
    dock.resize(320, 400)
    dock.show()
    dock.set_document("suh-2002")
    text = session.document("suh-2002").text
    made = [lib.highlight("suh-2002", i, i + 30) for i in range(0, min(len(text) - 40, 300 * 40), 40)]
    session.notify("annotations")
    assert dock.ids() == [a["id"] for a in made]
    dock.list.item(10).setData(Qt.ItemDataRole.UserRole + 7, "kept")
    lib.update_annotation(made[3]["id"], note="a second look")
    lib.delete_annotation(made[7]["id"])
    middle = lib.highlight("suh-2002", 81, 85)
    session.notify("annotations")
    assert dock.ids() == [a["id"] for a in session.annotations("suh-2002")]
    row = dock.ids().index(made[10]["id"])
    assert dock.list.item(row).data(Qt.ItemDataRole.UserRole + 7) == "kept"  # unchanged rows stay as they were
    assert "✎ a second look" in dock.list.item(dock.ids().index(made[3]["id"])).text()
    assert middle["id"] in dock.ids() and made[7]["id"] not in dock.ids()
    session.notify("themes")  # e.g. a theme renamed: every row's text is made again
    assert dock.ids() == [a["id"] for a in session.annotations("suh-2002")]
    last = made[-1]["id"]
    session.set_current(last)
    item = dock.list.currentItem()
    assert item.data(Qt.ItemDataRole.UserRole) == last
    qtbot.waitUntil(lambda: dock.list.viewport().rect().intersects(dock.list.visualItemRect(item)))
