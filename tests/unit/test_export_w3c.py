"""W3C Web Annotation export: the JSON-LD an annotation tool expects."""

import json

from nkreader.core.exports import export
from nkreader.core.exports.w3c import ANNO_CONTEXT, build


def _items(data):
    assert data["type"] == "AnnotationCollection"
    assert data["first"]["type"] == "AnnotationPage"
    return data["first"]["items"]


def test_collection_annotations_selectors_and_bodies(library, tmp_path):
    lib = library
    plain = lib.highlight_quote("suh", "refugee status")
    noted = lib.highlight_quote("bell", "forcibly repatriate", note="why?", themes=["China"])
    coded = lib.highlight_quote("kwon", "human security", themes=["Human security", "China"])
    link = lib.link(noted["id"], coded["id"], "extends", "builds on")
    out = tmp_path / "a.jsonld"
    summary = export(lib, "w3c", out)
    assert summary == {"format": "w3c", "path": str(out), "by": "document", "annotations": 3, "links": 1, "themes": 2}
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["@context"][0] == ANNO_CONTEXT and data["total"] == 4
    items = {i["id"].rsplit(":", 1)[-1]: i for i in _items(data)}
    assert {i["motivation"] for i in items.values()} == {"highlighting", "commenting", "classifying", "linking"}
    assert items[plain["id"]]["motivation"] == "highlighting" and "body" not in items[plain["id"]]
    assert items[coded["id"]]["motivation"] == "classifying"

    n = items[noted["id"]]
    assert n["motivation"] == "commenting" and n["type"] == "Annotation"
    bodies = n["body"]
    assert {"type": "TextualBody", "purpose": "commenting", "value": "why?", "format": "text/plain"} in bodies
    assert [b["value"] for b in bodies if b["purpose"] == "tagging"] == ["China"]
    target = n["target"]
    assert target["type"] == "SpecificResource"
    assert target["source"]["id"] == "urn:nkreader:document:bell-fattig"
    doc = lib.document("bell")
    assert target["source"]["nkr:fingerprint"] == doc.fingerprint
    sels = {s["type"]: s for s in target["selector"]}
    quote, pos = sels["TextQuoteSelector"], sels["TextPositionSelector"]
    assert quote["exact"] == "forcibly repatriate"
    assert doc.text[pos["start"]:pos["end"]] == quote["exact"]
    assert doc.text[:pos["start"]].endswith(quote["prefix"]) and doc.text[pos["end"]:].startswith(quote["suffix"])
    assert n["creator"]["type"] == "Person" and n["created"]

    l = items[link["id"]]
    assert l["motivation"] == "linking"
    assert l["target"] == [f"urn:nkreader:annotation:{noted['id']}", f"urn:nkreader:annotation:{coded['id']}"]
    assert {"type": "TextualBody", "purpose": "classifying", "value": "extends"} in l["body"]
    assert any(b["purpose"] == "commenting" and b["value"] == "builds on" for b in l["body"])
    names = sorted(t["name"] for t in data["nkr:themes"])
    assert names == ["China", "Human security"]


def test_positions_are_code_points(tmp_path):
    from nkreader.core.library import Library

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = "Emoji 😀😀 then 탈북자 and e\u0301 combining, then the quoted words here.\n"
    (corpus / "u.txt").write_text(text, encoding="utf-8")
    with Library.open(corpus, tmp_path / "data") as lib:
        ann = lib.highlight_quote("u", "the quoted words")
        data = build(lib)
        doc = lib.document("u")
    pos = next(s for s in _items(data)[0]["target"]["selector"] if s["type"] == "TextPositionSelector")
    assert doc.text[pos["start"]:pos["end"]] == "the quoted words"
    assert pos["start"] == ann["target"]["start"]
    # a UTF-16 count would be larger by the two emoji's surrogate halves
    assert pos["start"] == doc.text.index("the quoted")


def test_page_selector_for_paginated_sources(library, monkeypatch):
    ann = library.highlight_quote("suh", "refugee status")
    library.store.put("annotations", {**library.annotation(ann["id"]),
                                      "target": {**ann["target"], "page": 3}})
    item = _items(build(library))[0]
    frag = [s for s in item["target"]["selector"] if s["type"] == "FragmentSelector"]
    assert frag == [{"type": "FragmentSelector", "conformsTo": "http://tools.ietf.org/rfc/rfc3778", "value": "page=3"}]


def test_filters_and_layers(library):
    lib = library
    a = lib.highlight_quote("suh", "refugee status", themes=["Law"])
    b = lib.highlight_quote("bell", "forcibly repatriate")
    lib.link(a["id"], b["id"], "agrees")
    assert len(_items(build(lib, doc="suh"))) == 1  # the link needs both ends
    assert len(_items(build(lib, theme="law"))) == 1
    lib.store.put("layers", {"id": "layer-k", "name": "Kim", "visible": True})
    lib.update_annotation(b["id"], layer="layer-k")
    assert len(_items(build(lib))) == 1
    assert len(_items(build(lib, all_layers=True))) == 3
