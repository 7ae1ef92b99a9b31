"""Merging a classmate's work into the library as a separate layer.

Each format's reader turns its file into an ``Incoming`` (plain data, not yet checked against the
library); ``plan`` matches documents, re-anchors every highlight to *our* copy of the text
(``anchors.resolve``: position, exact quote, normalised quote, fuzzy; what cannot be placed is kept
with status ``orphan``), maps themes by name onto ours, and works out which records are new,
changed or already present; ``apply`` writes them with ``put_many``. Nothing is written until the
whole file has been read and checked, so a file that fails leaves the store as it was.

Rules:

- every person in the file gets a **layer** (a ``layers`` record: id, name, visible, format,
  sources, created); their annotations and links carry ``layer=<layer id>``;
- record ids are derived from the layer and the file's own ids, so importing the same file again
  finds every record present and adds nothing;
- nothing of ours is ever changed: a theme with the same name as one of ours is *our* theme (the
  import uses it, never edits it); an annotation or link that is already in the library (e.g. our
  own export coming back) is left alone;
- a record imported earlier is replaced only when the classmate's file says something different
  about it than the previous import did (their newer export); edits the reader made to it locally
  since are then kept if the file did not change.

Layer record: ``{id, name, visible, format, sources: [file names], created}``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import orjson

from nkreader.core.anchors import TextAnchor, anchor_span, resolve
from nkreader.core.exports._text import clean, safe_color
from nkreader.core.imports.guards import ImportRejected
from nkreader.core.library import HIGHLIGHT_COLORS, LINK_TYPES, THEME_PALETTE, now_iso
from nkreader.core.model import DocumentError

MAX_RECORDS = 200_000
MAX_QUOTE = 100_000  # code points in one highlighted quote
MAX_NOTE = 1_000_000


@dataclass
class InDoc:
    key: str
    doc_id: str = ""  # nkreader id, when the file says it
    file: str = ""
    title: str = ""
    fingerprint: str = ""
    text: str | None = None  # their copy of the text, when the file has one (REFI-QDA)


@dataclass
class InTheme:
    key: str
    name: str
    color: str = ""
    description: str = ""
    memo: str = ""
    parent: str | None = None  # key of the parent theme


@dataclass
class InAnnotation:
    key: str
    creator: str
    doc: InDoc
    exact: str
    prefix: str = ""
    suffix: str = ""
    start: int = -1
    end: int = -1
    page: int | None = None
    note: str = ""
    themes: list[str] = field(default_factory=list)  # theme keys
    color: str = ""
    created: str = ""
    modified: str = ""
    existing_id: str = ""  # the id it had in nkreader, when it came from nkreader


@dataclass
class InLink:
    key: str
    creator: str
    source: str  # annotation keys
    target: str
    type: str = "same-issue"
    note: str = ""
    created: str = ""


@dataclass
class Incoming:
    format: str
    source_name: str
    themes: dict[str, InTheme] = field(default_factory=dict)
    annotations: list[InAnnotation] = field(default_factory=list)
    links: list[InLink] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    themes_only: bool = False  # a codebook: themes join ours, no layer

    def check_size(self) -> None:
        n = len(self.annotations) + len(self.links) + len(self.themes)
        if n > MAX_RECORDS:
            raise ImportRejected(f"{self.source_name} holds {n} records; the limit for one import is {MAX_RECORDS}.")


@dataclass
class ImportReport:
    format: str
    path: str
    layers: list[dict] = field(default_factory=list)
    added: dict[str, int] = field(default_factory=lambda: {"annotations": 0, "links": 0, "themes": 0, "layers": 0})
    updated: dict[str, int] = field(default_factory=lambda: {"annotations": 0, "links": 0})
    unchanged: int = 0
    already_present: int = 0
    orphans: int = 0
    moved: int = 0
    themes_matched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(self.added.values()) or any(self.updated.values())

    def to_dict(self) -> dict:
        return {"format": self.format, "path": self.path, "layers": self.layers, "added": self.added,
                "updated": self.updated, "unchanged": self.unchanged, "already_present": self.already_present,
                "orphans": self.orphans, "moved": self.moved, "themes_matched": self.themes_matched,
                "skipped": self.skipped, "warnings": self.warnings}

    def summary(self) -> str:
        a = self.added
        lines = []
        if self.layers:
            who = ", ".join(f"{l['name']}" for l in self.layers)
            lines.append(f"Imported {self.path} ({self.format}) as the layer(s) of {who}.")
        else:
            lines.append(f"Imported {self.path} ({self.format}).")
        lines.append(f"Added {a['annotations']} highlight(s), {a['links']} link(s), {a['themes']} theme(s).")
        if any(self.updated.values()):
            lines.append(f"Updated {self.updated['annotations']} highlight(s) and {self.updated['links']} link(s) "
                         "that changed in the file since the last import.")
        if self.unchanged or self.already_present:
            lines.append(f"Already in the library: {self.unchanged + self.already_present} record(s) (left as they are).")
        if self.themes_matched:
            lines.append("Used your existing theme(s): " + ", ".join(self.themes_matched) + ".")
        if self.moved:
            lines.append(f"{self.moved} highlight(s) re-anchored to a different place in your copy of the text.")
        if self.orphans:
            lines.append(f"{self.orphans} highlight(s) could not be placed in your texts: kept as orphans "
                         "(`nkreader check` lists them).")
        for s in self.skipped[:20]:
            lines.append(f"Skipped: {s}")
        if len(self.skipped) > 20:
            lines.append(f"... and {len(self.skipped) - 20} more skipped.")
        for w in self.warnings[:20]:
            lines.append(f"Note: {w}")
        if not self.changed:
            lines.append("Nothing new: the library is unchanged.")
        return "\n".join(lines)


def _hash(*parts: str, n: int = 20) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:n]


def layer_id(name: str) -> str:
    return f"layer-{_hash('layer', name.strip().casefold(), n=16)}"


def _text_fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


class _DocMatcher:
    """Find our document for a document named in the file."""

    def __init__(self, lib):
        self.lib = lib
        self.entries = lib.corpus.entries
        self._by_fp: dict[str, str] | None = None
        self.cache: dict[str, str | None] = {}

    def _fingerprints(self) -> dict[str, str]:
        if self._by_fp is None:
            self._by_fp = {}
            for e in self.entries:
                try:
                    self._by_fp[self.lib.document(e.id).fingerprint] = e.id
                except (DocumentError, OSError):
                    continue
        return self._by_fp

    def match(self, d: InDoc) -> str | None:
        if d.key in self.cache:
            return self.cache[d.key]
        found = self._match(d)
        self.cache[d.key] = found
        return found

    def _match(self, d: InDoc) -> str | None:
        # cheap hints first (the usual case: both readers have the bundled corpus), then the
        # text's fingerprint, which needs every document opened once
        ids = {e.id for e in self.entries}
        if d.doc_id and d.doc_id in ids:
            return d.doc_id
        if d.file:
            for e in self.entries:
                if e.path.name == d.file or e.path.stem == d.file:
                    return e.id
        text_fp = _text_fingerprint(d.text) if d.text else ""
        for fp in (d.fingerprint, text_fp):
            if fp and fp in self._fingerprints():
                return self._fingerprints()[fp]
        if d.title:
            key = " ".join(d.title.split()).casefold()
            hits = [e.id for e in self.entries if " ".join(e.metadata.title.split()).casefold() == key]
            if len(hits) == 1:
                return hits[0]
            hits = [e.id for e in self.entries if e.path.stem.casefold() == key or e.path.name.casefold() == key]
            if len(hits) == 1:
                return hits[0]
        if d.text and len(d.text) >= 200:
            from rapidfuzz import fuzz

            head = d.text[:4000]
            best, best_id = 0.0, None
            for e in self.entries:
                try:
                    ours = self.lib.document(e.id).text[:4000]
                except (DocumentError, OSError):
                    continue
                score = fuzz.ratio(head, ours)
                if score > best:
                    best, best_id = score, e.id
            if best >= 85:
                return best_id
        return None


def _content_hash(record: dict) -> str:
    keep = {k: v for k, v in record.items() if k not in ("origin",)}
    return _hash(orjson.dumps(keep, option=orjson.OPT_SORT_KEYS).decode("utf-8"), n=16)


def _check_len(value: str, limit: int, what: str, source: str) -> str:
    if len(value) > limit:
        raise ImportRejected(f"{source}: a {what} is {len(value)} characters long; the limit is {limit}.")
    return value


@dataclass
class Plan:
    themes: list[dict] = field(default_factory=list)
    annotations: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    layers: list[dict] = field(default_factory=list)
    previous: dict[str, dict[str, dict]] = field(default_factory=dict)  # kind → id → old record
    report: ImportReport | None = None


def plan(lib, incoming: Incoming, path_label: str, *, creator: str | None = None) -> Plan:
    """Work out every record the import would write; raises ImportRejected, writes nothing."""
    incoming.check_size()
    report = ImportReport(format=incoming.format, path=path_label, skipped=list(incoming.skipped),
                          warnings=list(incoming.warnings))
    out = Plan(report=report, previous={"annotations": {}, "links": {}, "themes": {}, "layers": {}})
    store = lib.store
    stamp = now_iso()
    src = incoming.source_name

    # layers: one per person, registered when one of their records is queued -----------------
    layers: dict[str, dict] = {}

    def person(name: str) -> tuple[str, str]:
        name = " ".join(clean(creator or name).split())[:200] or "classmate"
        return layer_id(name), name

    def touch_layer(lid: str, name: str) -> dict:
        if lid in layers:
            return layers[lid]
        existing = store.get("layers", lid)
        if existing is None:
            rec = {"id": lid, "name": name, "visible": True, "format": incoming.format,
                   "sources": [src], "created": stamp}
            out.layers.append(rec)
            report.added["layers"] += 1
        else:
            rec = existing
            if src not in existing.get("sources", []):
                out.previous["layers"][lid] = dict(existing)
                rec = {**existing, "sources": [*existing.get("sources", []), src][-50:]}
                out.layers.append(rec)
        layers[lid] = rec
        report.layers.append({"id": lid, "name": rec.get("name", name)})
        return rec

    # themes: ours by name, else new (ids derived from the name) ---------------------------------
    ours_by_name = {str(t["name"]).casefold(): t for t in store.all("themes")}
    theme_map: dict[str, str] = {}
    new_by_name: dict[str, dict] = {}
    n_themes = len(ours_by_name)
    for key, t in incoming.themes.items():
        name = " ".join(clean(t.name).split())
        if not name:
            report.skipped.append(f"a theme without a name ({key})")
            continue
        _check_len(name, 500, "theme name", src)
        fold = name.casefold()
        if fold in ours_by_name:
            theme_map[key] = ours_by_name[fold]["id"]
            if ours_by_name[fold].get("origin"):  # came in with an earlier import
                report.unchanged += 1
            elif ours_by_name[fold]["name"] not in report.themes_matched:
                report.themes_matched.append(ours_by_name[fold]["name"])
            continue
        if fold in new_by_name:
            theme_map[key] = new_by_name[fold]["id"]
            continue
        tid = f"theme-{_hash('theme', fold, n=16)}"
        if store.get("themes", tid) is not None:  # imported before, perhaps renamed since: ours now
            theme_map[key] = tid
            report.unchanged += 1
            continue
        rec = {"id": tid, "name": name,
               "color": safe_color(t.color) or THEME_PALETTE[n_themes % len(THEME_PALETTE)],
               "description": _check_len(clean(t.description), MAX_NOTE, "theme description", src),
               "memo": _check_len(clean(t.memo), MAX_NOTE, "theme memo", src),
               "parent": None, "created": stamp, "origin": {"format": incoming.format, "id": key}}
        n_themes += 1
        new_by_name[fold] = rec
        theme_map[key] = tid
        out.themes.append(rec)
    by_id = {r["id"]: r for r in out.themes}
    for key, t in incoming.themes.items():
        if t.parent and key in theme_map and t.parent in theme_map:
            rec = by_id.get(theme_map[key])
            if rec is not None and theme_map[t.parent] != rec["id"]:
                rec["parent"] = theme_map[t.parent]
    for r in out.themes:  # a parent chain that loops (a → b → a) is cut where it closes
        seen, cur = {r["id"]}, r.get("parent")
        while cur and cur in by_id:
            if cur in seen:
                r["parent"] = None
                break
            seen.add(cur)
            cur = by_id[cur].get("parent")
    report.added["themes"] = len(out.themes)
    if incoming.themes_only:
        return out

    # annotations: re-anchored to our text -------------------------------------------------------
    matcher = _DocMatcher(lib)
    ann_map: dict[str, str] = {}
    for a in incoming.annotations:
        exact = _check_len(clean(a.exact), MAX_QUOTE, "quote", src)
        note = _check_len(clean(a.note), MAX_NOTE, "note", src)
        prefix, suffix = clean(a.prefix)[-200:], clean(a.suffix)[:200]
        if a.existing_id:  # it came from this library (our own export, or a layer re-exported)
            mine = store.get("annotations", a.existing_id)
            if mine is not None and (not exact or mine["target"].get("exact") == exact):
                ann_map[a.key] = mine["id"]
                report.already_present += 1
                continue
        if not exact and not (0 <= a.start < a.end):
            if not a.existing_id:  # a bare reference (a link's end) this library does not have
                report.skipped.append(f"an annotation ({a.key[:60]}) with neither a quote nor a position")
            continue
        lid, name = person(a.creator)
        rid = f"imp-{_hash(lid, 'annotation', a.key)}"
        if a.key in ann_map:
            report.skipped.append(f"a second annotation with the id {a.key}")
            continue
        doc_id = matcher.match(a.doc)
        fingerprint = clean(a.doc.fingerprint)
        anchor_dict = None
        moved = False
        doc = None
        if doc_id is not None:
            try:
                doc = lib.document(doc_id)
            except (DocumentError, OSError) as exc:  # our copy cannot be opened now: keep as orphan
                msg = f"{doc_id} could not be opened ({exc}); its highlights are orphans"
                if msg not in report.warnings:
                    report.warnings.append(msg)
        if doc is not None:
            fingerprint = doc.fingerprint
            probe = TextAnchor(exact=exact, prefix=prefix, suffix=suffix, start=a.start, end=a.end, page=a.page)
            res = resolve(probe, doc.text)
            if res.found:
                pg = doc.page_at(res.start) if doc.paginated else None
                anchor_dict = anchor_span(doc.text, res.start, res.end, pg.number if pg else None).to_dict()
                moved = res.status != "exact"
        elif doc_id is None:
            doc_id = clean(a.doc.doc_id or f"missing:{a.doc.file or a.doc.title or a.doc.key}")[:300]
        status = "anchored"
        if anchor_dict is None:
            status = "orphan"
            anchor_dict = {"exact": exact, "prefix": prefix, "suffix": suffix,
                           "start": int(a.start), "end": int(a.end), "page": a.page}
        record = {
            "id": rid, "doc_id": doc_id, "fingerprint": fingerprint, "target": anchor_dict,
            "note": note, "themes": list(dict.fromkeys(theme_map[k] for k in a.themes if k in theme_map)),
            "color": safe_color(a.color) or HIGHLIGHT_COLORS[0],
            "created": clean(a.created), "modified": clean(a.modified) or clean(a.created),
            "creator": name, "layer": lid, "status": status,
        }
        if _queue(store, "annotations", record, {"format": incoming.format, "id": a.key}, out, report, stamp):
            touch_layer(lid, name)
            report.orphans += status == "orphan"
            report.moved += moved
        ann_map[a.key] = rid

    # links ------------------------------------------------------------------------------------
    existing_links = {(l["source"], l["target"], l["type"]) for l in store.all("links")}
    for l in incoming.links:
        s, t = ann_map.get(l.source), ann_map.get(l.target)
        if s is None or t is None:
            report.skipped.append(f"a link ({l.key}) to a passage the file does not contain")
            continue
        if s == t:
            report.skipped.append(f"a link ({l.key}) from a passage to itself")
            continue
        ltype = clean(l.type).strip().lower().replace(" ", "-").replace("_", "-")
        if ltype not in LINK_TYPES:
            report.warnings.append(f"link type '{clean(l.type)}' is not one of {', '.join(LINK_TYPES)}; "
                                   "imported as same-issue")
            ltype = "same-issue"
        lid, name = person(l.creator)
        rid = f"imp-{_hash(lid, 'link', l.key)}"
        if store.get("links", rid) is None and (s, t, ltype) in existing_links:
            report.already_present += 1  # we (or someone) made this very link already
            continue
        record = {"id": rid, "source": s, "target": t, "type": ltype,
                  "note": _check_len(clean(l.note), MAX_NOTE, "link note", src),
                  "created": clean(l.created), "layer": lid}
        if _queue(store, "links", record, {"format": incoming.format, "id": l.key}, out, report, stamp):
            touch_layer(lid, name)
        existing_links.add((s, t, ltype))
    return out


def _queue(store, kind: str, record: dict, origin: dict, out: Plan, report: ImportReport, stamp: str) -> bool:
    """Add, update or leave a record, by what the previous import of it said. False: not ours to touch."""
    digest = _content_hash(record)
    record["origin"] = {**origin, "hash": digest}
    for key in ("created", "modified"):
        if key in record and not record[key]:
            record[key] = stamp
    existing = store.get(kind, record["id"])
    if existing is None:
        getattr(out, kind).append(record)
        report.added[kind] += 1
        return True
    if existing.get("layer") != record.get("layer"):
        report.already_present += 1  # not ours to change (cannot happen with derived ids; be sure)
        return False
    if (existing.get("origin") or {}).get("hash") == digest:
        report.unchanged += 1
        return True
    out.previous[kind][record["id"]] = existing
    getattr(out, kind).append(record)
    report.updated[kind] += 1
    return True


def apply(lib, p: Plan) -> None:
    """Write the plan. On a failure part way, what was written is undone (best effort)."""
    store = lib.store
    written: list[tuple[str, list[dict]]] = []
    try:
        for kind in ("themes", "annotations", "links", "layers"):
            records = getattr(p, kind)
            if records:
                written.append((kind, records))
                store.put_many(kind, records)
    except BaseException:
        for kind, records in reversed(written):
            try:
                old = p.previous.get(kind, {})
                new_ids = [r["id"] for r in records if r["id"] not in old]
                if new_ids:
                    store.delete_many(kind, new_ids)
                if old:
                    store.put_many(kind, list(old.values()))
            except Exception:  # pragma: no cover - the store is failing; its own error propagates
                pass
        raise
