"""Reading W3C Web Annotation JSON-LD: a collection, a page, one annotation, or a list of them.

Accepts what nkreader writes (``exports.w3c``) and what other Web Annotation tools commonly write:
``target`` as an object, a list or an IRI; ``selector`` as one object or a list (TextQuoteSelector,
TextPositionSelector, FragmentSelector ``page=N``); ``body`` as an object, a list or ``bodyValue``;
``creator`` as a string or a Person. Annotations nkreader cannot place on a text (a bookmark of a
web page, an image region) are skipped and listed, not guessed at.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from nkreader.core.imports.guards import ImportRejected, load_json, read_capped
from nkreader.core.imports.merge import InAnnotation, InDoc, Incoming, InLink, InTheme

NKR = "urn:nkreader:ns:"
MAX_PAGES = 10_000
MAX_POSITION = 10**9
_NKR_IRI = re.compile(r"^urn:nkreader:(annotation|link|theme|document|collection):(.+)$")
THEME_PURPOSES = {"tagging", "classifying"}
NOTE_PURPOSES = {"commenting", "describing", "replying", "editing", "questioning", "assessing"}


def _get(obj: dict, key: str) -> Any:
    """A property by its short name, its ``nkr:`` name or its full IRI."""
    if key in obj:
        return obj[key]
    if key.startswith("nkr:"):
        full = NKR + key[4:]
        return obj.get(full)
    return None


def _as_list(v: Any) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _types(obj: dict) -> set[str]:
    return {t for t in _as_list(obj.get("type", obj.get("@type"))) if isinstance(t, str)}


def _str(v: Any, what: str, where: str) -> str:
    if v is None:
        return ""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    if not isinstance(v, str):
        raise ImportRejected(f"{where}: {what} should be text, not {type(v).__name__}.")
    return v


def _int(v: Any, what: str, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise ImportRejected(f"{where}: {what} should be a whole number, not {v!r:.40}.")
    try:
        n = int(v)
    except ValueError:
        raise ImportRejected(f"{where}: {what} should be a whole number, not {v!r:.40}.") from None
    if not 0 <= n <= MAX_POSITION:
        raise ImportRejected(f"{where}: {what} {n} is out of range.")
    return n


def _ident(obj: dict) -> str:
    v = obj.get("id", obj.get("@id"))
    return v if isinstance(v, str) else ""


def _nkr_id(iri: str, kind: str) -> str:
    m = _NKR_IRI.match(iri or "")
    return unquote(m.group(2)) if m and m.group(1) == kind else ""


def _creator_name(v: Any) -> str:
    for c in _as_list(v):
        if isinstance(c, str) and c.strip():
            return c.strip()
        if isinstance(c, dict):
            for key in ("name", "nickname", "foaf:name", "id", "@id"):
                val = c.get(key)
                if isinstance(val, str) and val.strip():
                    return val.strip()
    return ""


def _items(data: Any, name: str) -> tuple[list, dict]:
    """(the annotations, the collection they came in, or {})."""
    if isinstance(data, list):
        return data, {}
    if not isinstance(data, dict):
        raise ImportRejected(f"{name} is not a W3C Web Annotation file (it holds {type(data).__name__}).")
    types = _types(data)
    if "Annotation" in types:
        return [data], {}
    if "AnnotationPage" in types:
        return _as_list(data.get("items")), {}
    if "AnnotationCollection" in types or "first" in data:
        items: list = []
        page = data.get("first")
        pages = 0
        while page is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise ImportRejected(f"{name} has more than {MAX_PAGES} annotation pages.")
            if isinstance(page, str):
                raise ImportRejected(f"{name} only links to its annotations ({page:.80}); nkreader imports "
                                     "collections whose pages are embedded, and never fetches from the network.")
            if not isinstance(page, dict):
                raise ImportRejected(f"{name}: an annotation page is {type(page).__name__}, not an object.")
            items.extend(_as_list(page.get("items")))
            page = page.get("next") if isinstance(page.get("next"), dict) else None
        items.extend(_as_list(data.get("items")))
        return items, data
    raise ImportRejected(f"{name} is not a W3C Web Annotation file: no AnnotationCollection, "
                         "AnnotationPage or Annotation in it.")


def _doc_of(source: Any, where: str) -> InDoc:
    if isinstance(source, str):
        iri, extra = source, {}
    elif isinstance(source, dict):
        iri, extra = _ident(source), source
    else:
        iri, extra = "", {}
    doc_id = _nkr_id(iri, "document")
    file = _str(_get(extra, "nkr:file"), "nkr:file", where) if extra else ""
    if not doc_id and not file and iri:
        path = urlsplit(iri).path or iri
        file = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    return InDoc(key=iri or f"{file}|{_get(extra, 'nkr:title') or ''}", doc_id=doc_id, file=file[:300],
                 title=_str(_get(extra, "nkr:title"), "nkr:title", where)[:1000] if extra else "",
                 fingerprint=_str(_get(extra, "nkr:fingerprint"), "nkr:fingerprint", where)[:64] if extra else "")


def _selectors(target: dict, where: str) -> dict | None:
    """exact/prefix/suffix/start/end/page of a SpecificResource, or None when it has no text selector."""
    found: dict[str, Any] = {}
    for sel in _as_list(target.get("selector")):
        if not isinstance(sel, dict):
            continue
        kind = _types(sel)
        if "TextQuoteSelector" in kind and "exact" not in found:
            found["exact"] = _str(sel.get("exact"), "exact", where)
            found["prefix"] = _str(sel.get("prefix"), "prefix", where)
            found["suffix"] = _str(sel.get("suffix"), "suffix", where)
        elif "TextPositionSelector" in kind and "start" not in found:
            start = _int(sel.get("start"), "start", where)
            end = _int(sel.get("end"), "end", where)
            if end < start:
                raise ImportRejected(f"{where}: TextPositionSelector ends ({end}) before it starts ({start}).")
            found["start"], found["end"] = start, end
        elif "FragmentSelector" in kind and "page" not in found:
            value = _str(sel.get("value"), "value", where)
            m = re.match(r"^page=(\d{1,7})$", value.strip())
            if m:
                found["page"] = int(m.group(1))
    if not found.get("exact") and "start" not in found:
        return None
    return found


def _bodies(ann: dict, where: str) -> tuple[list[str], list[tuple[str, str]], list[str]]:
    """(note parts, [(theme key, theme name)], classifying values)."""
    notes: list[str] = []
    tags: list[tuple[str, str]] = []
    classes: list[str] = []
    if isinstance(ann.get("bodyValue"), str):
        notes.append(ann["bodyValue"])
    for body in _as_list(ann.get("body")):
        if isinstance(body, str):
            continue  # an IRI body (a web page): nothing to import as text
        if not isinstance(body, dict):
            continue
        if "Choice" in _types(body):
            body = next((b for b in _as_list(body.get("items")) if isinstance(b, dict)), {})
        value = body.get("value", body.get("chars"))
        if not isinstance(value, str):
            continue
        purposes = {p for p in _as_list(body.get("purpose")) if isinstance(p, str)}
        if purposes & THEME_PURPOSES:
            if "classifying" in purposes and "tagging" not in purposes:
                classes.append(value)
            key = _ident(body) or f"name:{value.strip().casefold()}"
            tags.append((key, value))
        elif not purposes or purposes & NOTE_PURPOSES:
            notes.append(value)
    return notes, tags, classes


def parse(data: Any, name: str) -> Incoming:
    items, collection = _items(data, name)
    inc = Incoming(format="w3c", source_name=name)
    default_creator = _creator_name(collection.get("creator")) if collection else ""
    default_creator = default_creator or Path(name).stem

    for entry in _as_list(_get(collection, "nkr:themes")) if collection else []:
        if not isinstance(entry, dict):
            continue
        where = f"{name}, theme {_ident(entry)[:60]}"
        key = _ident(entry) or f"name:{_str(entry.get('name'), 'name', where).strip().casefold()}"
        parent = entry.get("parent")
        inc.themes[key] = InTheme(key=key, name=_str(entry.get("name"), "name", where),
                                  color=_str(entry.get("color"), "color", where),
                                  description=_str(entry.get("description"), "description", where),
                                  memo=_str(entry.get("memo"), "memo", where),
                                  parent=parent if isinstance(parent, str) else None)

    keyed: dict[str, InAnnotation] = {}
    link_items: list[tuple[int, dict]] = []
    for i, ann in enumerate(items):
        where = f"{name}, annotation {i + 1}"
        if not isinstance(ann, dict):
            inc.skipped.append(f"item {i + 1}: not an annotation object")
            continue
        if "Annotation" not in _types(ann):
            inc.skipped.append(f"item {i + 1}: type is not Annotation")
            continue
        motivations = {m for m in _as_list(ann.get("motivation")) if isinstance(m, str)}
        key = _ident(ann) or "sha:" + hashlib.sha256(orjson.dumps(ann, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]
        if "linking" in motivations:
            link_items.append((i, ann))
            continue
        made = _annotation(ann, key, where, default_creator, inc)
        if not made:
            inc.skipped.append(f"annotation {i + 1} ({key[:60]}): no text selector nkreader can place")
        for a in made:
            keyed[a.key] = a

    for i, ann in link_items:
        where = f"{name}, annotation {i + 1}"
        key = _ident(ann) or "sha:" + hashlib.sha256(orjson.dumps(ann, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]
        ends: list[str] = []
        for j, target in enumerate(_as_list(ann.get("target"))):
            iri = target if isinstance(target, str) else (_ident(target) if isinstance(target, dict) else "")
            if isinstance(target, dict) and target.get("selector") is not None:
                made = _annotation({**ann, "target": target, "body": None, "motivation": "highlighting",
                                    "id": f"{key}#target{j}"}, f"{key}#target{j}", where, default_creator, inc)
                if made:
                    keyed[made[0].key] = made[0]
                    ends.append(made[0].key)
                    continue
            if iri:
                if iri not in keyed and _nkr_id(iri, "annotation"):
                    # a link to an annotation the file does not carry but this library may have
                    keyed[iri] = InAnnotation(key=iri, creator="", doc=InDoc(key=""), exact="",
                                              existing_id=_nkr_id(iri, "annotation"))
                    inc.annotations.append(keyed[iri])
                ends.append(iri)
        if len(ends) != 2:
            inc.skipped.append(f"linking annotation {i + 1} ({key[:60]}): needs exactly two targets, has {len(ends)}")
            continue
        notes, _tags, classes = _bodies(ann, where)
        tag_values = [v for _k, v in _tags]
        ltype = (classes or tag_values or ["same-issue"])[0]
        inc.links.append(InLink(key=key, creator=_creator_name(ann.get("creator")) or default_creator,
                                source=ends[0], target=ends[1], type=ltype,
                                note="\n\n".join(n for n in notes if n.strip()),
                                created=_str(ann.get("created"), "created", where)[:64]))
    # drop placeholder annotations that nothing in this library matches: the link is then skipped
    inc.annotations = [a for a in inc.annotations if a.exact or a.start >= 0 or a.existing_id]
    return inc


def _annotation(ann: dict, key: str, where: str, default_creator: str, inc: Incoming) -> list[InAnnotation]:
    notes, tags, _classes = _bodies(ann, where)
    for tkey, tname in tags:
        if tkey not in inc.themes:
            inc.themes[tkey] = InTheme(key=tkey, name=tname)
    creator = _creator_name(ann.get("creator")) or default_creator
    made = []
    targets = [t for t in _as_list(ann.get("target")) if isinstance(t, dict)]
    for j, target in enumerate(targets):
        found = _selectors(target, where)
        if found is None:
            continue
        color = _get(ann, "nkr:color")
        existing = _nkr_id(key, "annotation")
        a = InAnnotation(
            key=key if not made else f"{key}#{j}",
            creator=creator,
            doc=_doc_of(target.get("source"), where),
            exact=found.get("exact", ""), prefix=found.get("prefix", ""), suffix=found.get("suffix", ""),
            start=found.get("start", -1), end=found.get("end", -1), page=found.get("page"),
            note="\n\n".join(n for n in notes if n.strip()),
            themes=[k for k, _n in tags],
            color=color if isinstance(color, str) else "",
            created=_str(ann.get("created"), "created", where)[:64],
            modified=_str(ann.get("modified"), "modified", where)[:64],
            existing_id=existing if not made else "",
        )
        made.append(a)
        inc.annotations.append(a)
    return made


def read(path: Path) -> Incoming:
    path = Path(path)
    data = load_json(read_capped(path), path.name)
    return parse(data, path.name)
