"""The session's copy of the highlights: patched with what an edit wrote, re-read after a large one."""

from nkreader.core.library import reading_order
from nkreader.ui import session as session_module


def _doc_ids(lib):
    return [e.id for e in lib.corpus.entries]


def test_edits_are_seen_in_reading_order(session, ui_library):
    lib = ui_library
    first, second = _doc_ids(lib)[:2]
    late = lib.highlight(first, 200, 240, note="late")
    assert session.all_annotations() == [late]  # the copy is made now
    early = lib.highlight(first, 10, 50)
    other = lib.highlight(second, 5, 25)
    session.notify("annotations")
    assert [a["id"] for a in session.annotations(first)] == [early["id"], late["id"]]
    assert [a["id"] for a in session.annotations(second)] == [other["id"]]
    assert session.all_annotations() == sorted(lib.annotations(layer=None), key=reading_order)

    lib.update_annotation(late["id"], note="changed")
    lib.delete_annotation(early["id"])
    session.notify("annotations")
    assert session.annotation(late["id"])["note"] == "changed"
    assert session.annotation(early["id"]) is None
    assert [a["id"] for a in session.annotations(first)] == [late["id"]]
    assert session.all_annotations() == lib.annotations(layer=None)


def test_a_large_edit_reads_the_store_afresh(session, ui_library, monkeypatch):
    lib = ui_library
    doc = _doc_ids(lib)[0]
    session.all_annotations()
    monkeypatch.setattr(session_module, "PATCH_LIMIT", 2)
    patched = []
    monkeypatch.setattr(session, "_patch_annotations", lambda ids: patched.append(ids))
    made = [lib.highlight(doc, 10 * i, 10 * i + 5) for i in range(3)]
    session.notify("annotations")
    assert not patched  # three written, more than the limit: no patching
    assert [a["id"] for a in session.annotations(doc)] == [a["id"] for a in made]


def test_the_store_hands_out_written_ids_once(session, ui_library):
    lib = ui_library
    doc = _doc_ids(lib)[0]
    a = lib.highlight(doc, 0, 5)
    b = lib.highlight(doc, 10, 15)
    lib.delete_annotation(a["id"])
    assert session.store.take_touched("annotations") == {a["id"], b["id"]}
    assert session.store.take_touched("annotations") == set()
    assert session.store.take_touched("links") == set()


def test_a_hidden_layer_is_left_out_of_a_documents_highlights(session, ui_library):
    from nkreader.ui.exchange import set_layer_visible

    lib = ui_library
    doc = _doc_ids(lib)[0]
    mine = lib.highlight(doc, 0, 5)
    theirs = lib.store.put("annotations", {**lib.highlight(doc, 10, 15), "layer": "classmate"})
    session.notify("annotations")
    assert {a["id"] for a in session.annotations(doc)} == {mine["id"], theirs["id"]}
    set_layer_visible(lib, "classmate", False)
    session.notify("annotations")
    assert [a["id"] for a in session.annotations(doc)] == [mine["id"]]
    assert {a["id"] for a in session.all_annotations()} == {mine["id"], theirs["id"]}  # hidden, not gone
