"""W3C Web Annotation (JSON-LD) export: one AnnotationCollection with every annotation embedded.

Mapping (https://www.w3.org/TR/annotation-model/):

- a highlight is an ``Annotation`` whose ``target`` is a ``SpecificResource`` on the document with
  a ``TextQuoteSelector`` (exact, prefix, suffix), a ``TextPositionSelector`` (start, end in code
  points, end exclusive) and, for paginated sources, a ``FragmentSelector`` ``page=N`` (RFC 3778);
- its note is a ``TextualBody`` with purpose ``commenting``; each theme a ``TextualBody`` with
  purpose ``tagging`` whose value is the theme's name;
- ``motivation`` is ``commenting`` when there is a note, else ``classifying`` when there are
  themes, else ``highlighting``;
- a link is one ``Annotation`` with motivation ``linking``, two targets (the IRIs of the two
  annotations, source first) and a ``classifying`` body naming the link type
  (agrees / disputes / extends / same-issue), plus a ``commenting`` body for its note.

What the model has no term for (theme colours, memos and hierarchy, highlight colour, orphan
status, the document's fingerprint) travels under the ``nkr:`` prefix declared in the context,
so other tools ignore it and nkreader can round-trip it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import quote

import orjson

import nkreader
from nkreader.core.anchors import TextAnchor
from nkreader.core.exports._text import atomic_write, clean_deep
from nkreader.core.exports.selection import select
from nkreader.core.library import default_creator, now_iso
from nkreader.core.model import DocumentError

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
NKR = "urn:nkreader:ns:"
CONTEXT = [ANNO_CONTEXT, {"nkr": NKR}]
FORMATS = {"pdf": "application/pdf", "epub": "application/epub+zip", "markdown": "text/markdown"}


def iri(kind: str, ident: str) -> str:
    return f"urn:nkreader:{kind}:{quote(str(ident), safe='-._~')}"


def _source(lib, doc_id: str, cache: dict) -> dict:
    if doc_id not in cache:
        src = {"id": iri("document", doc_id), "type": "Text", "format": "text/plain"}
        try:
            doc = lib.document(doc_id)
        except (DocumentError, KeyError, OSError):
            doc = None
        if doc is not None:
            src["format"] = FORMATS.get(doc.kind, "text/plain")
            if doc.metadata.language:
                src["language"] = doc.metadata.language
            src["nkr:title"] = doc.metadata.title
            src["nkr:citation"] = doc.metadata.citation or doc.metadata.author_label
            src["nkr:file"] = doc.path.name
            src["nkr:fingerprint"] = doc.fingerprint
        cache[doc_id] = src
    return dict(cache[doc_id])


def _person(name: str) -> dict:
    return {"type": "Person", "name": name or "unknown"}


def annotation_json(lib, ann: dict, themes: dict, cache: dict) -> dict:
    anchor = TextAnchor.from_dict(ann["target"])
    body = []
    note = str(ann.get("note", "") or "")
    if note.strip():
        body.append({"type": "TextualBody", "purpose": "commenting", "value": note, "format": "text/plain"})
    for tid in ann.get("themes", []):
        t = themes.get(tid)
        if t is not None:
            body.append({"type": "TextualBody", "purpose": "tagging", "value": t["name"],
                         "id": iri("theme", tid)})
    motivation = "commenting" if note.strip() else ("classifying" if body else "highlighting")
    out = {
        "id": iri("annotation", ann["id"]),
        "type": "Annotation",
        "motivation": motivation,
        "creator": _person(str(ann.get("creator") or "")),
    }
    if ann.get("created"):
        out["created"] = ann["created"]
    if ann.get("modified"):
        out["modified"] = ann["modified"]
    if body:
        out["body"] = body
    out["target"] = {"type": "SpecificResource", "source": _source(lib, ann["doc_id"], cache),
                     "selector": anchor.selectors()}
    if ann.get("color"):
        out["nkr:color"] = ann["color"]
    if ann.get("status", "anchored") != "anchored":
        out["nkr:status"] = ann["status"]
    return out


def link_json(link: dict, creator: str) -> dict:
    body = [{"type": "TextualBody", "purpose": "classifying", "value": link["type"]}]
    if str(link.get("note", "") or "").strip():
        body.append({"type": "TextualBody", "purpose": "commenting", "value": link["note"], "format": "text/plain"})
    out = {"id": iri("link", link["id"]), "type": "Annotation", "motivation": "linking",
           "creator": _person(creator), "body": body,
           "target": [iri("annotation", link["source"]), iri("annotation", link["target"])]}
    if link.get("created"):
        out["created"] = link["created"]
    return out


def build(lib, *, doc: str | None = None, theme: str | None = None, all_layers: bool = False) -> dict:
    """The AnnotationCollection as a JSON-able dict."""
    sel = select(lib, doc=doc, theme=theme, all_layers=all_layers)
    themes = {t["id"]: t for t in lib.store.all("themes")}
    me = default_creator()
    cache: dict = {}
    items = [annotation_json(lib, a, themes, cache) for a in sel.annotations]
    for l in sel.links:
        layer = sel.layers.get(l.get("layer") or "")
        items.append(link_json(l, (layer or {}).get("name") or me))
    codebook = []
    for t in sel.themes:
        entry = {"id": iri("theme", t["id"]), "name": t["name"], "color": t.get("color") or "",
                 "description": t.get("description") or "", "memo": t.get("memo") or ""}
        if t.get("parent"):
            entry["parent"] = iri("theme", t["parent"])
        codebook.append(entry)
    digest = hashlib.sha256(orjson.dumps([i["id"] for i in items])).hexdigest()[:16]
    collection = {
        "@context": CONTEXT,
        "id": iri("collection", digest),
        "type": "AnnotationCollection",
        "label": "nkreader annotations",
        "creator": _person(me),
        "generator": {"id": "urn:nkreader:app", "type": "Software", "name": f"nkreader {nkreader.__version__}"},
        "generated": now_iso(),
        "total": len(items),
        "nkr:themes": codebook,
        "first": {"type": "AnnotationPage", "startIndex": 0, "items": items},
    }
    return clean_deep(collection)


def export(lib, out: Path, *, by: str = "document", doc: str | None = None, theme: str | None = None,
           all_layers: bool = False) -> dict:
    data = build(lib, doc=doc, theme=theme, all_layers=all_layers)
    atomic_write(out, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    items = data["first"]["items"]
    links = sum(1 for i in items if i["motivation"] == "linking")
    return {"annotations": len(items) - links, "links": links, "themes": len(data["nkr:themes"])}
