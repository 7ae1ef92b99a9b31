"""REFI-QDA export: a project ``.qdpx`` and a codebook ``.qdc`` (QDA-XML 1.0, https://www.qdasoftware.org).

``.qdpx`` is a zip holding ``project.qde`` (namespace ``urn:QDA-XML:project:1.0``) and
``sources/<guid>.txt``, one plain-text file per document, referenced as ``internal://<guid>.txt``.
Each highlight is a ``PlainTextSelection`` of its ``TextSource`` with ``startPosition`` /
``endPosition`` in code points of that text file (end exclusive); each theme it carries is a
``Coding`` with a ``CodeRef`` to the ``Code``; its note is a ``Note`` in ``Notes`` referenced by a
``NoteRef``; a link between two passages is a ``Link`` in ``Links`` (``originGUID`` →
``targetGUID``, ``name`` the link type, ``direction="OneWay"``), its note a ``NoteRef``. A theme's
description is the code's ``Description``; its memo a ``Note`` referenced from the code.

``.qdc`` is the codebook alone: root ``CodeBook`` (namespace ``urn:QDA-XML:codebook:1.0``) with
``Codes/Code`` (guid, name, isCodable, color), ``Description`` and nested ``Code`` for sub-themes.

GUIDs are UUIDv5 of nkreader's ids, so exporting twice gives the same GUIDs (and an import of the
file is idempotent). Orphaned highlights and highlights on documents the corpus no longer has have
no valid position in the exported text: they are left out and counted in the summary.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

import nkreader
from nkreader.core.anchors import TextAnchor, resolve
from nkreader.core.exports._text import atomic_write, clean, clean_same_length, safe_color, short
from nkreader.core.exports.selection import select
from nkreader.core.library import default_creator, now_iso
from nkreader.core.model import DocumentError

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
NAMESPACE = uuid.UUID("6f1c2a44-7d3e-5b8a-9c61-2f0e4d9b7a15")  # nkreader's UUIDv5 namespace
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def guid(kind: str, ident: str) -> str:
    """A stable REFI-QDA GUID for one of nkreader's records."""
    return str(uuid.uuid5(NAMESPACE, f"{kind}:{ident}"))


def _dt(value) -> str | None:
    return value if isinstance(value, str) and _DATETIME.match(value) else None


def _sub(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items() if v is not None})


def _code_elements(parent: ET.Element, themes: list[dict], *, memo_notes: dict | None = None) -> None:
    """Nested ``Code`` elements for the themes (children under their parent)."""
    by_id = {t["id"]: t for t in themes}
    children: dict[str, list[dict]] = {}
    roots = []
    for t in themes:
        p = t.get("parent")
        (children.setdefault(p, []) if p in by_id and p != t["id"] else roots).append(t)

    done: set[str] = set()

    def add(into: ET.Element, t: dict) -> None:
        if t["id"] in done:  # a parent cycle: each theme once
            return
        done.add(t["id"])
        el = _sub(into, "Code", guid=guid("theme", t["id"]), name=t["name"], isCodable="true",
                  color=safe_color(t.get("color")))
        if str(t.get("description") or "").strip():
            ET.SubElement(el, "Description").text = clean(t["description"])
        if memo_notes is not None and t["id"] in memo_notes:
            _sub(el, "NoteRef", targetGUID=memo_notes[t["id"]])
        for c in sorted(children.get(t["id"], []), key=lambda x: str(x["name"]).casefold()):
            add(el, c)

    for t in sorted(roots, key=lambda x: str(x["name"]).casefold()):
        add(parent, t)
    for t in themes:  # themes only reachable through a cycle
        if t["id"] not in done:
            add(parent, t)


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


def build_codebook(themes: list[dict]) -> bytes:
    if not themes:
        raise ValueError("There are no themes to export yet: a REFI-QDA codebook needs at least one code.")
    root = ET.Element("CodeBook", {"xmlns": CODEBOOK_NS, "origin": f"nkreader {nkreader.__version__}"})
    _code_elements(ET.SubElement(root, "Codes"), themes)
    return _xml_bytes(root)


def build_project(lib, *, doc: str | None = None, theme: str | None = None, all_layers: bool = False) -> tuple[bytes, dict]:
    """(the .qdpx bytes, a summary)."""
    sel = select(lib, doc=doc, theme=theme, all_layers=all_layers)
    me = default_creator()
    stamp = now_iso()
    users: dict[str, str] = {}

    def user(name: str) -> str:
        name = name or "unknown"
        if name not in users:
            users[name] = guid("user", name)
        return users[name]

    me_guid = user(me)
    root = ET.Element("Project", {"xmlns": PROJECT_NS, "name": "nkreader export",
                                  "origin": f"nkreader {nkreader.__version__}",
                                  "creatingUserGUID": me_guid, "creationDateTime": stamp,
                                  "modifiedDateTime": stamp})
    users_el = ET.SubElement(root, "Users")
    notes: list[tuple[str, str, str, str | None, str]] = []  # guid, name, text, created, user guid
    memo_notes = {}
    for t in sel.themes:
        if str(t.get("memo") or "").strip():
            g = guid("memo", t["id"])
            memo_notes[t["id"]] = g
            notes.append((g, f"Memo: {t['name']}", t["memo"], _dt(t.get("created")), me_guid))
    if sel.themes:
        _code_elements(ET.SubElement(ET.SubElement(root, "CodeBook"), "Codes"), sel.themes, memo_notes=memo_notes)
    theme_ids = {t["id"] for t in sel.themes}

    sources_el = ET.SubElement(root, "Sources")
    files: dict[str, bytes] = {}
    by_doc: dict[str, list[dict]] = {}
    for a in sel.annotations:
        by_doc.setdefault(a["doc_id"], []).append(a)
    exported: set[str] = set()
    skipped = {"orphans": 0, "missing_documents": 0}
    order = {d: i for i, d in enumerate(lib.corpus.ids)}
    for doc_id in sorted(by_doc, key=lambda d: (order.get(d, len(order)), d)):
        try:
            document = lib.document(doc_id)
        except (DocumentError, KeyError, OSError):
            skipped["missing_documents"] += len(by_doc[doc_id])
            continue
        text = clean_same_length(document.text)
        src_guid = guid("document", doc_id)
        meta = document.metadata
        src = _sub(sources_el, "TextSource", guid=src_guid, name=meta.title or doc_id,
                   plainTextPath=f"internal://{src_guid}.txt", creatingUser=me_guid, creationDateTime=stamp)
        facts = meta.author_label + (f" ({meta.year})" if meta.year else "") + f". {meta.title}."
        if meta.venue:
            facts += f" {meta.venue}."
        ET.SubElement(src, "Description").text = clean(f"{facts} [nkreader id: {doc_id}; file: {document.path.name}]")
        files[f"sources/{src_guid}.txt"] = text.encode("utf-8")
        for a in sorted(by_doc[doc_id], key=lambda a: (a["target"]["start"], a["target"]["end"], a["id"])):
            if a.get("status") == "orphan":
                skipped["orphans"] += 1
                continue
            anchor = TextAnchor.from_dict(a["target"])
            res = resolve(anchor, document.text)
            if not res.found:
                skipped["orphans"] += 1
                continue
            creator = user(str(a.get("creator") or ""))
            sel_el = _sub(src, "PlainTextSelection", guid=guid("annotation", a["id"]),
                          name=short(text[res.start:res.end], 60), startPosition=str(res.start),
                          endPosition=str(res.end), creatingUser=creator,
                          creationDateTime=_dt(a.get("created")), modifyingUser=creator,
                          modifiedDateTime=_dt(a.get("modified")))
            for tid in a.get("themes", []):
                if tid in theme_ids:
                    coding = _sub(sel_el, "Coding", guid=guid("coding", f"{a['id']}:{tid}"), creatingUser=creator,
                                  creationDateTime=_dt(a.get("created")))
                    _sub(coding, "CodeRef", targetGUID=guid("theme", tid))
            if str(a.get("note") or "").strip():
                g = guid("note", a["id"])
                notes.append((g, f"Note on {short(text[res.start:res.end], 40)}", a["note"],
                              _dt(a.get("modified") or a.get("created")), creator))
                _sub(sel_el, "NoteRef", targetGUID=g)
            exported.add(a["id"])
    if not len(sources_el):
        root.remove(sources_el)

    link_els = []
    for l in sel.links:
        if l["source"] in exported and l["target"] in exported:
            layer = sel.layers.get(l.get("layer") or "")
            g = guid("link", l["id"])
            note_guid = None
            if str(l.get("note") or "").strip():
                note_guid = guid("linknote", l["id"])
                notes.append((note_guid, f"Link note ({l['type']})", l["note"], _dt(l.get("created")),
                              user((layer or {}).get("name") or me)))
            link_els.append((g, l, note_guid))
    if notes:
        notes_el = ET.SubElement(root, "Notes")
        for g, name, text_, created, creator in notes:
            n = _sub(notes_el, "Note", guid=g, name=short(name, 80), creatingUser=creator, creationDateTime=created)
            ET.SubElement(n, "PlainTextContent").text = clean(text_)
    if link_els:
        links_el = ET.SubElement(root, "Links")
        for g, l, note_guid in link_els:
            el = _sub(links_el, "Link", guid=g, name=l["type"], direction="OneWay",
                      originGUID=guid("annotation", l["source"]), targetGUID=guid("annotation", l["target"]))
            if note_guid:
                _sub(el, "NoteRef", targetGUID=note_guid)
    for name, g in users.items():
        _sub(users_el, "User", guid=g, name=name)

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", _xml_bytes(root))
        for name, data in files.items():
            zf.writestr(name, data)
    summary = {"annotations": len(exported), "links": len(link_els), "themes": len(sel.themes),
               "sources": len(files), "skipped": skipped}
    return buf.getvalue(), summary


def export_project(lib, out: Path, *, by: str = "document", doc: str | None = None, theme: str | None = None,
                   all_layers: bool = False) -> dict:
    data, summary = build_project(lib, doc=doc, theme=theme, all_layers=all_layers)
    atomic_write(out, data)
    return summary


def export_codebook(lib, out: Path, *, by: str = "document", doc: str | None = None, theme: str | None = None,
                    all_layers: bool = False) -> dict:
    sel = select(lib, doc=doc, theme=theme, all_layers=all_layers)
    atomic_write(out, build_codebook(sel.themes))
    return {"themes": len(sel.themes)}
