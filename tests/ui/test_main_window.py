"""The main window: actions and shortcuts, panes, themes across panes, linking, saving, state."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QMenu

from nkreader.core.library import Library
from nkreader.core.store import StoreWriteError
from nkreader.ui import commands
from nkreader.ui.main_window import ACTIONS, STATE_KEY


def _select(pane, word, nth=0):
    text = pane.doc.text
    i = -1
    for _ in range(nth + 1):
        i = text.index(word, i + 1)
    pane.select_span(i, i + len(word))
    pane.view.setFocus()
    return i


def test_action_table_has_unique_names_and_shortcuts(window):
    names = [a.name for a in ACTIONS]
    assert len(names) == len(set(names))
    keys = Counter(k for a in ACTIONS for k in a.shortcuts)
    assert [k for k, n in keys.items() if n > 1] == []
    for spec in ACTIONS:
        action = window.actions_by_name[spec.name]
        assert action.shortcuts() == [QKeySequence(k) for k in spec.shortcuts]
    rows = window.shortcut_rows()
    assert ("Passage", "Highlight selection", "H") in rows
    assert any(r[1] == "Find in pane…" and r[2] == "Ctrl+F" for r in rows)


def test_two_panes_side_by_side_on_start(window):
    panes = window.panes
    assert len(panes) == 2
    assert panes[0].doc_id == "suh-2002" and panes[1].doc_id == "bell-fattig"
    assert panes[0].geometry().right() < panes[1].geometry().left()
    assert window.windowTitle() == "nkreader — Suh 2002 | Bell and Fattig 2014"


def test_highlight_by_key_and_undo_by_key(qtbot, window):
    pane = window.panes[0]
    _select(pane, "humanitarian")
    qtbot.keyClick(pane.view, Qt.Key.Key_3)  # colour 3
    anns = window.library.annotations("suh-2002")
    assert len(anns) == 1 and anns[0]["color"] == "#9ad0f5"
    pane.view.setFocus()
    qtbot.keyClick(pane.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.library.annotations("suh-2002") == []
    qtbot.keyClick(pane.view, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert len(window.library.annotations("suh-2002")) == 1
    window.session.set_current(window.library.annotations("suh-2002")[0]["id"])
    pane.view.setFocus()
    qtbot.keyClick(pane.view, Qt.Key.Key_Delete)
    assert window.library.annotations("suh-2002") == []


def test_pane_keys_do_not_fire_while_typing_a_note(qtbot, window):
    pane = window.panes[0]
    _select(pane, "humanitarian")
    qtbot.keyClick(pane.view, Qt.Key.Key_N)
    assert window.passage_dock.note.hasFocus() or QApplication.focusWidget() is window.passage_dock.note
    qtbot.keyClicks(window.passage_dock.note, "hln 123")
    assert window.passage_dock.note.toPlainText() == "hln 123"
    assert len(window.library.annotations("suh-2002")) == 1


def test_add_close_swap_panes(qtbot, window):
    window.add_pane_action()
    assert len(window.panes) == 3
    assert {p.doc_id for p in window.panes} >= {"suh-2002", "bell-fattig"}
    a, b = window.panes[0], window.panes[1]
    da, db = a.doc_id, b.doc_id
    window.set_active_pane(a)
    window.swap_panes()
    assert (a.doc_id, b.doc_id) == (db, da)
    window.close_pane(window.panes[-1])
    assert len(window.panes) == 2
    window.close_pane(window.panes[0])
    window.close_pane(window.panes[0])
    assert len(window.panes) == 1 and window.panes[0].doc is None
    window.open_in("kwon-2023", "active")
    assert window.panes[0].doc_id == "kwon-2023"


def test_choosing_a_theme_brings_every_pane_to_its_passages(qtbot, window):
    lib = window.library
    theme = lib.add_theme("Border crossing")
    left, right = window.panes
    tl, tr = lib.document("suh-2002").text, lib.document("bell-fattig").text
    far_left = tl.rindex("defectors")
    far_right = tr.rindex("refugees")
    lib.highlight("suh-2002", far_left, far_left + 9, themes=[theme["id"]])
    lib.highlight("bell-fattig", far_right, far_right + 8, themes=[theme["id"]])
    window.session.notify("annotations", "themes")
    assert not left.is_span_visible(far_left, far_left + 9)
    window.theme_dock.choose(theme["id"])
    assert left.is_span_visible(far_left, far_left + 9)
    assert right.is_span_visible(far_right, far_right + 8)
    assert left.theme_bar.isVisible() and right.theme_bar.isVisible()
    # highlighting while a theme is followed codes the new passage with it
    _select(left, "Nautilus")
    ann_id = window.highlight_selection()
    assert lib.annotation(ann_id)["themes"] == [theme["id"]]
    window.theme_step_all(+1)
    left.view.setFocus()
    qtbot.keyClick(left.view, Qt.Key.Key_Escape)
    assert window.session.active_theme == ""


def test_link_two_selections_at_once_and_cancel_pending(qtbot, window):
    left, right = window.panes
    window.ask_link = lambda s, t: ("agrees", "")
    _select(right, "refugees")
    _select(left, "defectors")
    qtbot.keyClick(left.view, Qt.Key.Key_L)
    links = window.library.links()
    assert len(links) == 1 and links[0]["type"] == "agrees"
    # one undo step removes the link and both highlights it made
    window.undo()
    assert window.library.links() == [] and window.library.annotations() == []
    # pending link, then Escape
    _select(left, "defectors")
    qtbot.keyClick(left.view, Qt.Key.Key_L)
    assert window.pending_link is not None and "Linking from Suh 2002" in window.link_state.text()
    qtbot.keyClick(left.view, Qt.Key.Key_Escape)
    assert window.pending_link is None and window.link_state.text() == ""


def test_search_hit_opens_the_document_and_selects_the_match(qtbot, window):
    window.search_corpus()
    window.search_dock.search("Yonsei")
    qtbot.waitUntil(lambda: window.search_dock.task is None and bool(window.search_dock.hits), timeout=5000)
    hit = window.search_dock.hits[0]
    window.show_hit(hit.doc_id, hit.start, hit.end)
    pane = window.pane_showing(hit.doc_id)
    assert pane is not None and pane.selection_span() == (hit.start, hit.end)
    assert pane.is_span_visible(hit.start, hit.end)


def test_failing_save_shows_a_banner_and_keeps_the_edit(qtbot, window, monkeypatch):
    inner = window.store.inner

    def broken(kind, records):
        raise StoreWriteError(inner.path / kind, "Disk full.")

    monkeypatch.setattr(inner, "put_many", broken)
    pane = window.panes[0]
    _select(pane, "humanitarian")
    ann_id = window.highlight_selection()
    assert ann_id
    assert window.banner.isVisible() and "Disk full." in window.banner.label.text()
    assert window.save_state.text() == "⚠ 1 unsaved"
    qtbot.waitUntil(lambda: len(pane.marks()) == 1)  # still shown
    path = window.save_pending_copy(window.store.path / "copy.json")
    assert "humanitarian" in path.read_text(encoding="utf-8")
    monkeypatch.undo()
    assert window.retry_save()
    assert not window.banner.isVisible() and window.save_state.text() == "Saved"
    assert inner.get("annotations", ann_id) is not None


def test_state_survives_a_restart(qtbot, tmp_path, make_window):
    data = tmp_path / "data"
    lib = Library.open(None, data)
    w = make_window(lib)
    w.add_pane("kwon-2023")
    w.toggle_dark(True)
    w.set_font_size(14)
    text = lib.document("kwon-2023").text
    w.panes[2].scroll_to_offset(text.index("anniversary"))
    top = w.panes[2].top_offset()
    w.close()
    saved = lib.store.get_setting(STATE_KEY)
    assert [p["doc"] for p in saved["panes"]] == ["suh-2002", "bell-fattig", "kwon-2023"]
    lib.close()
    lib2 = Library.open(None, data)
    w2 = make_window(lib2)
    assert [p.doc_id for p in w2.panes] == ["suh-2002", "bell-fattig", "kwon-2023"]
    assert w2.dark and w2.font_size == 14 and w2.panes[0].font_size == 14
    qtbot.waitUntil(lambda: abs((w2.panes[2].top_offset() or 0) - top) < 300, timeout=2000)
    w2.close()
    lib2.close()


def test_store_messages_are_shown(qtbot, tmp_path):
    from nkreader.ui.app import open_window

    first = Library.open(None, tmp_path / "d")
    second = Library.open(None, tmp_path / "d")
    w = open_window(second)
    qtbot.addWidget(w)
    w._closing_ok = True
    assert "read-only" in w.statusBar().currentMessage()
    assert w.banner.isVisible() and "read-only" in w.banner.label.text()
    qtbot.waitUntil(lambda: w._store_message_box.isVisible(), timeout=2000)
    w._store_message_box.close()
    w.close()
    second.close()
    first.close()


def test_dark_sync_presentation_and_shortcuts_dialog(qtbot, window, monkeypatch):
    window.toggle_dark(True)
    assert QApplication.instance().palette().color(QApplication.instance().palette().ColorRole.Window).name() == "#1b1e23"
    window.toggle_dark(False)
    window.toggle_sync(True)
    left, right = window.panes
    left.view.verticalScrollBar().setValue(left.view.verticalScrollBar().maximum())
    assert right.view.verticalScrollBar().value() == right.view.verticalScrollBar().maximum()
    window.toggle_sync(False)
    size = window.font_size
    window.toggle_presentation(True)
    assert window.font_size == size + 6 and not window.docks["library"].isVisible()
    window.toggle_presentation(False)
    assert window.font_size == size
    shown = []
    from nkreader.ui import dialogs

    monkeypatch.setattr(dialogs.ShortcutsDialog, "exec", lambda self: shown.append(self.table.rowCount()))
    window.show_shortcuts()
    assert shown and shown[0] > 30


def test_copy_with_citation(qtbot, window):
    pane = window.panes[1]
    _select(pane, "38th parallel")
    window.copy_with_citation()
    assert QGuiApplication.clipboard().text() == "“38th parallel” (Bell and Fattig 2014, ¶4)"


def test_related_dock_is_made_when_first_shown_and_follows_the_passage(qtbot, window, monkeypatch):
    assert window.related_dock is None  # not on the start-up path
    window.docks["related"].show()
    window.docks["related"].raise_()
    qtbot.waitUntil(lambda: window.related_dock is not None, timeout=5000)
    fed = []
    monkeypatch.setattr(window.related_dock, "set_selection", lambda *a: fed.append(a))
    pane = window.panes[0]
    start = _select(pane, "humanitarian")
    window.highlight_selection()
    qtbot.waitUntil(lambda: bool(fed), timeout=3000)
    assert fed[-1] == ("suh-2002", start, start + len("humanitarian"))
    # a suggestion clicked in the dock opens beside the active pane
    window.set_active_pane(pane)
    text = window.library.document("kwon-2023").text
    i = text.index("human security") if "human security" in text else 0
    window.related_dock.openRequested.emit("kwon-2023", i, i + 5)
    other = window.pane_showing("kwon-2023")
    assert other is not None and other is not pane


def test_matrix_view_is_made_when_shown_with_room_for_its_rows(qtbot, window):
    from nkreader.ui.main_window import MATRIX_MIN_HEIGHT

    assert window.matrix_view is None
    window.docks["matrix"].show()
    qtbot.waitUntil(lambda: window.matrix_view is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.docks["matrix"].height() >= MATRIX_MIN_HEIGHT, timeout=2000)
    theme = window.library.add_theme("Borders")
    window.library.highlight_quote("suh-2002", "humanitarian", themes=[theme["id"]])
    window.session.notify("annotations", "themes")
    assert window.matrix_view.matrix.themes


def test_clicking_a_highlight_in_the_dock_scrolls_its_pane_to_it(qtbot, window):
    lib = window.library
    text = lib.document("suh-2002").text
    far = text.rindex("reconciliation")
    ann = lib.highlight("suh-2002", far, far + 14, note="far away")
    window.session.notify("annotations")
    left = window.panes[0]
    window.set_active_pane(left)
    assert not left.is_span_visible(far, far + 14)
    dock = window.annotations_dock
    item = next(dock.list.item(i) for i in range(dock.list.count())
                if dock.list.item(i).data(Qt.ItemDataRole.UserRole) == ann["id"])
    dock.list.itemClicked.emit(item)
    assert left.is_span_visible(far, far + 14)
    assert window.session.current_id == ann["id"]
    assert window.passage_dock.note.toPlainText() == "far away"


def test_a_highlight_in_a_document_not_shown_opens_it(qtbot, window):
    ann = window.library.highlight_quote("kwon-2023", "human security")
    window.session.notify("annotations")
    window.show_annotation(ann["id"])
    pane = window.pane_showing("kwon-2023")
    assert pane is not None and pane.is_span_visible(ann["target"]["start"], ann["target"]["end"])


def _write_pdf(path, pages, *, user_pw=None):
    import pymupdf

    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_textbox(pymupdf.Rect(72, 80, 523, 760),
                            f"Page {n + 1}. Brokers along the Tumen river ask for a debt to be paid "
                            f"in the south; marker{n + 1} closes this page.", fontsize=11)
    if user_pw:
        doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=user_pw, owner_pw="owner")
    else:
        doc.save(path)
    doc.close()
    return path


def test_the_page_view_and_its_zoom_survive_a_restart(qtbot, tmp_path, make_window):
    import pytest

    pytest.importorskip("pymupdf")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_pdf(corpus / "pages.pdf", 6)
    (corpus / "notes.txt").write_text("A plain text about border crossings.\n", encoding="utf-8")
    data = tmp_path / "data"
    lib = Library.open(corpus, data)
    w = make_window(lib)
    pdf_pane = w.panes[1]
    qtbot.waitUntil(lambda: pdf_pane.doc is not None, timeout=15000)  # a PDF opens off the GUI thread
    assert [p.doc_id for p in w.panes] == ["notes", "pages"]  # the first two documents, by name
    assert not pdf_pane.paged  # the text view first
    qtbot.wait(20)  # the place the pane was opened at (the top) is applied on the next pass of the event loop
    pdf_pane.set_paged(True)
    pdf_pane.page_view.set_zoom(150)
    marker = pdf_pane.doc.text.index("marker4")
    pdf_pane.scroll_to_offset(marker)
    assert not pdf_pane.page_view.ready()  # the renderer's answer comes through the event loop
    # state saved while the pages are still being opened keeps the place they go to
    assert pdf_pane.top_offset() == marker and w.window_state()["panes"][1]["top"] == marker
    qtbot.waitUntil(pdf_pane.page_view.ready, timeout=10000)
    qtbot.waitUntil(lambda: (pdf_pane.top_offset() or 0) > pdf_pane.doc.text.index("marker3"), timeout=5000)
    top = pdf_pane.top_offset()
    w.close()
    saved = lib.store.get_setting(STATE_KEY)["panes"]
    assert [(p["doc"], p["paged"], p.get("zoom")) for p in saved] == [("notes", False, None), ("pages", True, 150.0)]
    pdf_pane.page_view.shutdown()
    lib.close()

    lib2 = Library.open(corpus, data)  # a new run: nothing opened yet
    from nkreader.ui.main_window import MainWindow

    w2 = MainWindow(lib2)
    w2._closing_ok = True
    qtbot.addWidget(w2)
    again = w2.panes[1]
    # the PDF opens off the GUI thread: state saved before it is shown keeps what was restored
    assert again.doc is None and again.opening() == ("pages", top)
    assert w2.window_state()["panes"][1] == {"doc": "pages", "top": top, "paged": True, "zoom": 150.0}
    w2.resize(1500, 900)
    w2.show()
    qtbot.waitExposed(w2)
    qtbot.waitUntil(lambda: again.doc is not None and again.paged, timeout=15000)
    assert again.doc_id == "pages" and again.views.currentWidget() is again.page_panel
    assert again.page_view.zoom == 150.0 and again.page_action.isChecked()
    qtbot.waitUntil(again.page_view.ready, timeout=10000)
    qtbot.waitUntil(lambda: abs((again.top_offset() or 0) - top) < 200, timeout=5000)  # at the same place
    assert not w2.panes[0].paged and w2.panes[0].doc_id == "notes"  # a text stays a text
    again.set_paged(False)  # and back to the text, which was read all along
    assert "marker4" in again.doc.text and again.views.currentWidget() is again.view
    again.page_view.shutdown()
    w2.close()
    lib2.close()


def test_an_encrypted_pdf_is_not_reopened_at_start_up(qtbot, tmp_path, make_window, monkeypatch):
    import pytest

    pytest.importorskip("pymupdf")
    from PySide6.QtWidgets import QInputDialog

    from nkreader.ui import passwords

    asked = []

    def exec_(dialog):  # the user's answer to the password dialog: the password, each time asked
        asked.append(dialog.labelText())
        dialog.setTextValue("u")
        return 1

    monkeypatch.setattr(QInputDialog, "exec", exec_)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    secret = _write_pdf(corpus / "secret.pdf", 2, user_pw="u")
    (corpus / "notes.txt").write_text("A plain text about border crossings.\n", encoding="utf-8")
    data = tmp_path / "data"
    try:
        lib = Library.open(corpus, data)
        w = make_window(lib)
        pane = w.panes[1]
        # even the first start, with no saved state, asks nothing: the pane says why it is empty
        qtbot.waitUntil(lambda: pane.locked_doc_id == "secret", timeout=15000)
        assert pane.doc is None and asked == []
        pane.open_document("secret")  # the user chooses it
        qtbot.waitUntil(lambda: pane.doc is not None, timeout=15000)
        assert pane.doc_id == "secret" and len(asked) == 1  # asked once
        pane.set_paged(True)
        qtbot.waitUntil(pane.page_view.ready, timeout=10000)
        w.close()
        pane.page_view.shutdown()
        lib.close()
        passwords.forget(secret)  # a new run knows no password

        lib2 = Library.open(corpus, data)
        messages = []
        lib2_window = make_window(lib2)
        lib2_window.session.message.connect(messages.append)
        locked = lib2_window.panes[1]
        qtbot.waitUntil(lambda: locked.locked_doc_id == "secret", timeout=15000)
        assert len(asked) == 1  # not asked at start-up
        assert locked.doc is None and not locked.paged and not locked.loading.isVisible()
        assert "secret.pdf is encrypted: it was not reopened at start-up" in lib2_window.statusBar().currentMessage()
        assert lib2_window.panes[0].doc_id == "notes"
        # the state still names it, in the text view, until the user opens it
        assert lib2_window.window_state()["panes"][1] == {"doc": "secret", "top": 0, "paged": False}
        locked.open_document("secret")  # the user chooses it: now the password is asked
        qtbot.waitUntil(lambda: locked.doc is not None, timeout=15000)
        assert len(asked) == 2 and locked.doc_id == "secret" and locked.locked_doc_id is None
        lib2_window.close()
        lib2.close()
    finally:
        passwords.forget(secret)


def test_documents_added_from_the_file_menu_are_listed_and_open(qtbot, make_window, corpus_dir, tmp_path,
                                                                answer_dialog):
    lib = Library.open(corpus_dir, tmp_path / "data")
    w = make_window(lib)
    action = w.actions_by_name["add_documents"]
    assert action.shortcut() == QKeySequence("Ctrl+O")
    assert action in next(m for m in w.menuBar().findChildren(QMenu) if m.title() == "&File").actions()
    essay = tmp_path / "essay.md"
    essay.write_text("# Brokers on the Tumen\n\nWho guides defectors across the river.\n", encoding="utf-8")
    (tmp_path / "broken.epub").write_bytes(b"PK\x03\x04 not a book")
    seen = []
    answer_dialog(seen)
    added = w.library_dock.add_documents([str(essay), str(tmp_path / "broken.epub")])
    assert [e.id for e in added] == ["essay"]
    assert seen and seen[0][0] == "Not added" and "broken.epub" in seen[0][2]
    dock = w.library_dock.list
    assert dock.currentItem().data(Qt.ItemDataRole.UserRole) == "essay"
    assert "Brokers on the Tumen" in dock.currentItem().text()  # the title the file gives itself
    assert w.panes[0].chooser.findData("essay") >= 0  # the panes offer it too
    pane = w.open_in("essay", "new")
    qtbot.waitUntil(lambda: pane.doc is not None and "Who guides defectors" in pane.doc.text)
    assert lib.corpus.entry("essay").path.parent == tmp_path / "data" / "documents"


def test_a_read_only_library_says_no_document_was_added(qtbot, make_window, corpus_dir, tmp_path, answer_dialog):
    Library.open(corpus_dir, tmp_path / "data").close()
    lib = Library.open(corpus_dir, tmp_path / "data", readonly=True)
    w = make_window(lib)
    essay = tmp_path / "essay.md"
    essay.write_text("# Brokers\n\nWho guides defectors across the river.\n", encoding="utf-8")
    seen = []
    answer_dialog(seen)
    assert w.library_dock.add_documents([str(essay)]) == []
    assert seen[0][:2] == ("Not added", "No document was added.") and "read-only" in seen[0][2]
    assert "essay" not in lib.corpus.ids and QGuiApplication.overrideCursor() is None
