"""Importing W3C Web Annotation JSON-LD: round trip, layers, re-anchoring, idempotence, hostile files."""

import json

import orjson
import pytest

from nkreader.core.exports import export
from nkreader.core.imports import ImportRejected, import_file
from nkreader.core.library import Library
from nkreader.core.store import KINDS

TEXT_A = ("Refugees and the law\n\n"
          "The first paragraph says that brokers and trafficking shape every crossing of the border.\n\n"
          "The second paragraph says China treats the crossers as economic migrants, not refugees.\n\n"
          "The third paragraph asks what the international community could do about it.\n")


def snapshot(lib) -> dict:
    return {k: sorted(lib.store.all(k), key=lambda r: r["id"]) for k in KINDS if k != "meta"}


def make_corpus(folder, text=TEXT_A, name="a.txt"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def populate(lib):
    a = lib.highlight_quote("suh", "refugee status", note="Suh's key term\nsecond line", themes=["Refugee status"])
    b = lib.highlight_quote("bell", "forcibly repatriate", themes=["Refugee status", "China"], color="#9ad0f5")
    c = lib.highlight_quote("kwon", "human security", themes=["Human security"])
    d = lib.highlight_quote("civil", "北朝鮮問題における市民社会の役割と課題")
    t = lib.theme_by_name("Refugee status")
    lib.update_theme(t["id"], memo="who counts", description="legal category", color="#112233")
    lib.add_theme("Non-refoulement", parent=t["id"])
    lib.link(b["id"], a["id"], "disputes", "China's view")
    lib.link(c["id"], d["id"], "same-issue")
    return a, b, c, d


def comparable(lib, layer=None):
    """Highlights, notes, themes, links and anchors, keyed by position (ids differ after import)."""
    themes = {t["id"]: t for t in lib.store.all("themes")}
    anns = lib.annotations(layer=layer)
    key = {a["id"]: (a["doc_id"], a["target"]["start"], a["target"]["end"]) for a in anns}
    out_anns = {key[a["id"]]: (a["target"], a["note"], sorted(themes[t]["name"] for t in a["themes"]),
                               a["color"], a["status"], a["fingerprint"]) for a in anns}
    links = sorted((key[l["source"]], key[l["target"]], l["type"], l["note"]) for l in lib.links(layer=layer))
    tdata = sorted((t["name"], t["color"], t.get("description", ""), t.get("memo", ""),
                    themes[t["parent"]]["name"] if t.get("parent") else None) for t in themes.values())
    return out_anns, links, tdata


def test_round_trip_into_an_empty_store(library, corpus_dir, tmp_path):
    populate(library)
    out = tmp_path / "mine.jsonld"
    export(library, "w3c", out)
    with Library.open(corpus_dir, tmp_path / "other") as other:
        report = import_file(other, out)
        assert report.added == {"annotations": 4, "links": 2, "themes": 4, "layers": 1}
        assert report.orphans == 0 and not report.skipped
        layer = other.store.all("layers")[0]
        assert layer["name"] == library.annotations()[0]["creator"] and layer["visible"] is True
        assert comparable(other, layer=layer["id"]) == comparable(library)
        assert all(a["layer"] == layer["id"] for a in other.annotations(layer=None))
        assert all(l["layer"] == layer["id"] for l in other.links(layer=None))
        assert other.annotations() == []  # nothing became the reader's own


def test_importing_twice_adds_nothing(library, corpus_dir, tmp_path):
    populate(library)
    out = tmp_path / "mine.jsonld"
    export(library, "w3c", out)
    with Library.open(corpus_dir, tmp_path / "other") as other:
        import_file(other, out)
        before = snapshot(other)
        again = import_file(other, out)
        assert not again.changed and again.added["annotations"] == 0 and again.unchanged >= 6
        assert snapshot(other) == before


def test_our_own_export_coming_back_changes_nothing(library, tmp_path):
    populate(library)
    out = tmp_path / "mine.jsonld"
    export(library, "w3c", out)
    before = snapshot(library)
    report = import_file(library, out)
    assert not report.changed and report.already_present == 6
    assert snapshot(library) == before


def test_classmate_layer_never_overwrites_ours(library, corpus_dir, tmp_path):
    mine = library.highlight_quote("suh", "refugee status", note="my note", themes=["Refugee status"])
    mine_theme = library.theme_by_name("Refugee status")
    with Library.open(corpus_dir, tmp_path / "kim") as kim:
        kim.highlight_quote("suh", "refugee status", note="Kim's note", themes=["refugee STATUS", "Kim's theme"],
                            creator="Kim")
        kt = kim.theme_by_name("refugee status")
        kim.update_theme(kt["id"], color="#000000", memo="Kim's memo")
        export(kim, "w3c", tmp_path / "kim.jsonld")
    report = import_file(library, tmp_path / "kim.jsonld")
    assert report.layers[0]["name"] == "Kim"
    assert library.annotation(mine["id"])["note"] == "my note"
    assert library.theme(mine_theme["id"]) == mine_theme  # same name: our theme, untouched
    assert report.themes_matched == ["Refugee status"]
    theirs = library.annotations(layer=report.layers[0]["id"])
    assert len(theirs) == 1 and theirs[0]["note"] == "Kim's note"
    assert {library.theme(t)["name"] for t in theirs[0]["themes"]} == {"Refugee status", "Kim's theme"}
    assert library.annotations() == [library.annotation(mine["id"])]


def test_reanchored_to_our_copy_and_orphans_kept(tmp_path):
    theirs = make_corpus(tmp_path / "theirs")
    ours = make_corpus(tmp_path / "ours", "A new preface paragraph that the classmate's copy does not have.\n\n" +
                       TEXT_A.replace("brokers and trafficking", "brokers and human trafficking")
                       .replace("what the international community could do", "what the world could do"))
    with Library.open(theirs, tmp_path / "d1") as lib:
        lib.highlight_quote("a", "China treats the crossers as economic migrants")
        lib.highlight_quote("a", "brokers and trafficking shape every crossing", note="hm")
        lib.highlight_quote("a", "international community could do about it")
        export(lib, "w3c", tmp_path / "x.jsonld")
    with Library.open(ours, tmp_path / "d2") as lib:
        report = import_file(lib, tmp_path / "x.jsonld", creator="Lee")
        doc = lib.document("a")
        anns = {a["target"]["exact"]: a for a in lib.annotations(layer=None)}
        moved = anns["China treats the crossers as economic migrants"]
        assert moved["status"] == "anchored" and moved["fingerprint"] == doc.fingerprint
        t = moved["target"]
        assert doc.text[t["start"]:t["end"]] == t["exact"]
        fuzzy = next(a for q, a in anns.items() if "trafficking" in q)
        assert fuzzy["status"] == "anchored" and "human trafficking shape every" in fuzzy["target"]["exact"]
        assert fuzzy["note"] == "hm"
        orphan = next(a for a in anns.values() if a["status"] == "orphan")
        assert orphan["target"]["exact"] == "international community could do about it"
        assert report.orphans == 1 and report.moved >= 2
        assert report.layers[0]["name"] == "Lee"


def test_missing_document_gives_orphans_not_errors(library, tmp_path):
    data = {"type": "Annotation", "id": "urn:x:1", "motivation": "highlighting", "creator": "Park",
            "target": {"source": "https://example.org/elsewhere.html",
                       "selector": {"type": "TextQuoteSelector", "exact": "words from another text"}}}
    path = tmp_path / "one.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    report = import_file(library, path)
    assert report.orphans == 1
    ann = library.annotations(layer=None)[0]
    assert ann["status"] == "orphan" and ann["doc_id"].startswith("missing:") and ann["creator"] == "Park"


def test_other_tools_shapes_are_read(library, tmp_path):
    doc = library.document("suh")
    start = doc.text.index("refugee status")
    items = [
        {"@context": "http://www.w3.org/ns/anno.jsonld", "id": "http://h.example/a1", "type": "Annotation",
         "bodyValue": "a plain comment", "creator": {"id": "acct:park@h.example", "nickname": "park"},
         "target": {"source": "urn:nkreader:document:suh-2002",
                    "selector": [{"type": "TextPositionSelector", "start": start, "end": start + 14}]}},
        {"id": "http://h.example/a2", "type": ["Annotation"], "motivation": "bookmarking",
         "target": "http://example.org/page"},
        {"id": "http://h.example/a3", "type": "Annotation", "motivation": "tagging",
         "body": [{"type": "TextualBody", "purpose": "tagging", "value": "China"}, "http://example.org/iri-body"],
         "target": [{"source": "urn:nkreader:document:bell-fattig",
                     "selector": {"type": "TextQuoteSelector", "exact": "forcibly repatriate"}}]},
    ]
    path = tmp_path / "list.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    report = import_file(library, path)
    assert report.added["annotations"] == 2 and len(report.skipped) == 1
    anns = {a["target"]["exact"]: a for a in library.annotations(layer=None)}
    assert anns["refugee status"]["note"] == "a plain comment"
    assert [library.theme(t)["name"] for t in anns["forcibly repatriate"]["themes"]] == ["China"]
    assert {l["name"] for l in library.store.all("layers")} == {"park", "list"}


def test_a_changed_classmate_file_updates_their_layer_only(library, corpus_dir, tmp_path):
    with Library.open(corpus_dir, tmp_path / "kim") as kim:
        ann = kim.highlight_quote("suh", "refugee status", note="first", creator="Kim")
        export(kim, "w3c", tmp_path / "v1.jsonld")
        kim.update_annotation(ann["id"], note="second thoughts")
        export(kim, "w3c", tmp_path / "v2.jsonld")
    import_file(library, tmp_path / "v1.jsonld")
    r2 = import_file(library, tmp_path / "v2.jsonld")
    assert r2.updated["annotations"] == 1 and r2.added["annotations"] == 0
    assert [a["note"] for a in library.annotations(layer=None)] == ["second thoughts"]


# hostile files: each a clear ImportRejected, the store unchanged -----------------------------------

def _rejects(lib, path, match):
    before = snapshot(lib)
    with pytest.raises(ImportRejected, match=match):
        import_file(lib, path)
    assert snapshot(lib) == before


def test_deeply_nested_json(library, tmp_path):
    library.highlight_quote("suh", "refugee status")
    path = tmp_path / "deep.json"
    path.write_bytes(b'{"type": "AnnotationCollection", "first": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    _rejects(library, path, "nested too deeply")
    path.write_bytes(b"[" * 100 + b"]" * 100)
    _rejects(library, path, "nested too deeply")


def test_deeply_nested_json_with_a_lone_surrogate(library, tmp_path):
    path = tmp_path / "deep2.json"
    path.write_bytes(b'["\\ud800", ' + b"[" * 50_000 + b"]" * 50_000 + b"]")
    _rejects(library, path, "nested too deeply")


def test_not_json_and_not_annotations(library, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json", encoding="utf-8")
    _rejects(library, path, "not valid JSON")
    path.write_text('{"hello": "world"}', encoding="utf-8")
    _rejects(library, path, "not a W3C Web Annotation file")
    path.write_text('"just a string"', encoding="utf-8")
    _rejects(library, path, "not a W3C Web Annotation file")
    path.write_text('{"type": "AnnotationCollection", "first": "http://example.org/page1"}', encoding="utf-8")
    _rejects(library, path, "never fetches")


def test_wrong_types_fail_before_anything_is_written(library, tmp_path):
    good = {"type": "Annotation", "id": "g", "target": {"source": "urn:nkreader:document:suh-2002",
                                                         "selector": {"type": "TextQuoteSelector", "exact": "refugee status"}}}
    bad = {"type": "Annotation", "id": "b", "target": {"source": "urn:nkreader:document:suh-2002",
                                                        "selector": {"type": "TextPositionSelector", "start": "x", "end": 3}}}
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([good, bad]), encoding="utf-8")
    _rejects(library, path, "whole number")
    bad["target"]["selector"] = {"type": "TextPositionSelector", "start": 10, "end": 2}
    path.write_text(json.dumps([good, bad]), encoding="utf-8")
    _rejects(library, path, "before it starts")
    bad["target"]["selector"] = {"type": "TextQuoteSelector", "exact": {"nested": "object"}}
    path.write_text(json.dumps([good, bad]), encoding="utf-8")
    _rejects(library, path, "should be text")


def test_oversized_file(library, tmp_path, monkeypatch):
    from nkreader.core.imports import guards

    monkeypatch.setattr(guards, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"type": "Annotation", "bodyValue": "x" * 2000}]), encoding="utf-8")
    with pytest.raises(ImportRejected, match="limit"):
        guards.read_capped(path, guards.MAX_FILE_BYTES)


def test_lone_surrogates_in_notes_become_replacement_characters(library, tmp_path):
    path = tmp_path / "sur.json"
    path.write_bytes(b'[{"type": "Annotation", "id": "s1", "bodyValue": "note \\ud800 end", "creator": "Kim \\udc00",'
                     b' "target": {"source": "urn:nkreader:document:suh-2002",'
                     b' "selector": {"type": "TextQuoteSelector", "exact": "refugee status"}}}]')
    report = import_file(library, path)
    assert report.added["annotations"] == 1
    ann = library.annotations(layer=None)[0]
    assert ann["note"] == "note \ufffd end" and ann["creator"] == "Kim \ufffd"
    orjson.dumps(snapshot(library))


def test_hostile_note_text_is_kept_as_text(library, tmp_path):
    note = "<script>alert(1)</script> =HYPERLINK(\"x\") # heading"
    path = tmp_path / "h.json"
    path.write_text(json.dumps({"type": "Annotation", "id": "h1", "bodyValue": note,
                                "target": {"source": "urn:nkreader:document:suh-2002",
                                           "selector": {"type": "TextQuoteSelector", "exact": "refugee status"}}}),
                    encoding="utf-8")
    import_file(library, path)
    assert library.annotations(layer=None)[0]["note"] == note


def test_a_failed_write_is_undone(library, corpus_dir, tmp_path, monkeypatch):
    populate(library)
    export(library, "w3c", tmp_path / "mine.jsonld")
    with Library.open(corpus_dir, tmp_path / "other") as other:
        other.highlight_quote("suh", "Spanish Embassy")
        before = snapshot(other)
        real = other.store.put_many

        def failing(kind, records):
            if kind == "links":
                raise OSError("disk full")
            return real(kind, records)

        monkeypatch.setattr(other.store, "put_many", failing)
        with pytest.raises(OSError):
            import_file(other, tmp_path / "mine.jsonld")
        monkeypatch.setattr(other.store, "put_many", real)
        assert snapshot(other) == before


def test_pdf_pages_travel_and_come_back(tmp_path):
    import pymupdf

    corpus = tmp_path / "pdfs"
    corpus.mkdir()
    pdf = pymupdf.open()
    for line in ("First page paragraph about brokers and the border crossing at night.",
                 "Second page paragraph about China and forced repatriation of refugees."):
        pdf.new_page().insert_text((72, 72), line, fontsize=11)
    pdf.save(corpus / "two.pdf")
    pdf.close()
    with Library.open(corpus, tmp_path / "d1") as lib:
        ann = lib.highlight_quote("two", "forced repatriation", note="p2")
        assert ann["target"]["page"] == 2
        export(lib, "w3c", tmp_path / "p.jsonld")
        export(lib, "md", tmp_path / "p.md")
        data = json.loads((tmp_path / "p.jsonld").read_text(encoding="utf-8"))
        sel = data["first"]["items"][0]["target"]["selector"]
        assert {"type": "FragmentSelector", "conformsTo": "http://tools.ietf.org/rfc/rfc3778", "value": "page=2"} in sel
        assert data["first"]["items"][0]["target"]["source"]["format"] == "application/pdf"
        assert "two, ¶2, p. 2" in (tmp_path / "p.md").read_text(encoding="utf-8")
    with Library.open(corpus, tmp_path / "d2") as lib:
        import_file(lib, tmp_path / "p.jsonld")
        back = lib.annotations(layer=None)[0]
        assert back["target"] == ann["target"] and back["status"] == "anchored"
