"""The library: a corpus of documents plus the reader's store of highlights, themes and links.

This is the one service that the command line and the window share, so that an edit means the
same thing wherever it is made. Records are plain dicts as the store keeps them:

- annotation: id, doc_id, fingerprint, target (TextAnchor dict), note, themes [theme ids],
  color, created, modified, creator, layer ("" for the reader's own), status (anchored | orphan)
- theme: id, name, color, description, memo, parent
- link: id, source, target (annotation ids), type (LINK_TYPES), note, created, layer
- layer: id, name (the classmate's name), visible, format, sources [file names], created; made by
  ``core.imports`` (imported records also carry ``origin``: format, id in the file, hash)
"""

from __future__ import annotations

import getpass
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nkreader.core.anchors import TextAnchor, anchor_span, find_quote, resolve
from nkreader.core.corpus import ADDED_FOLDER, Corpus, default_corpus_dir
from nkreader.core.model import Document, DocumentError
from nkreader.core.store import Store
from nkreader.core.text import clean

USER_TEXT_FIELDS = ("note", "name", "description", "memo")

LINK_TYPES = ("agrees", "disputes", "extends", "same-issue")
HIGHLIGHT_COLORS = ("#f6d365", "#a8e6a1", "#9ad0f5", "#f5a3b5", "#c9b6f2")
THEME_PALETTE = (
    "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4",
    "#46a0a0", "#c8388c", "#8a9a1b", "#9a6324", "#5a6d8c",
)


class QuoteNotFound(DocumentError):
    """The quote given does not occur in the document."""


def _cleaned(fields: dict) -> dict:
    """Typed text fields made safe to store (see ``core.text.clean``)."""
    return {k: clean(v) if k in USER_TEXT_FIELDS and isinstance(v, str) else v for k, v in fields.items()}


def reading_order(ann: dict) -> tuple[str, int, int]:
    """Sort key of annotations: by document, then where they start and end."""
    return ann["doc_id"], ann["target"]["start"], ann["target"]["end"]


def theme_counts(annotations: Iterable[dict]) -> dict[str, dict[str, int]]:
    """theme id → doc id → how many of ``annotations`` are coded with the theme there."""
    counts: dict[str, dict[str, int]] = {}
    for ann in annotations:
        for t in ann.get("themes", []):
            per_doc = counts.setdefault(t, {})
            per_doc[ann["doc_id"]] = per_doc.get(ann["doc_id"], 0) + 1
    return counts


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def default_creator() -> str:
    try:
        return getpass.getuser()
    except Exception:  # pragma: no cover - no user name on some platforms
        return "reader"


@dataclass
class CheckReport:
    """What ``nkreader check`` found: annotations that moved, and orphans that could not be placed."""

    checked: int = 0
    moved: list[dict] = field(default_factory=list)
    orphans: list[dict] = field(default_factory=list)
    missing_documents: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.orphans and not self.missing_documents


class Library:
    def __init__(self, corpus: Corpus, store: Store):
        self.corpus = corpus
        self.store = store

    @classmethod
    def open(cls, corpus_dir: Path | str | None = None, data: Path | str | None = None,
             *, readonly: bool = False) -> "Library":
        store = Store.open(data, readonly=readonly)
        corpus = Corpus(corpus_dir or default_corpus_dir(), added_folder=store.path / ADDED_FOLDER)
        return cls(corpus, store)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # documents ---------------------------------------------------------------------------
    def document(self, ref: str, password: str | None = None) -> Document:
        """See :meth:`Corpus.open`: ``password`` opens an encrypted PDF (kept in memory only)."""
        return self.corpus.open(ref, password)

    def add_documents(self, paths, problems: dict[str, str] | None = None) -> list:
        """Copy files into the library (see :meth:`Corpus.add`); the refused ones, and why, go
        into ``problems``. Returns the new corpus entries."""
        if self.store.readonly:
            raise DocumentError("This library is open read-only, so no document can be added to it.")
        return self.corpus.add(paths, problems)

    # themes --------------------------------------------------------------------------------
    def themes(self) -> list[dict]:
        return sorted(self.store.all("themes"), key=lambda t: t["name"].casefold())

    def theme(self, theme_id: str) -> dict | None:
        return self.store.get("themes", theme_id)

    def theme_by_name(self, name: str) -> dict | None:
        key = name.strip().casefold()
        return next((t for t in self.store.all("themes") if t["name"].casefold() == key), None)

    def add_theme(self, name: str, *, color: str | None = None, description: str = "",
                  memo: str = "", parent: str | None = None, theme_id: str | None = None) -> dict:
        name, description, memo = clean(name).strip(), clean(description), clean(memo)
        if not name:
            raise ValueError("a theme needs a name")
        if self.theme_by_name(name):
            raise ValueError(f"a theme named '{name}' exists already")
        color = color or THEME_PALETTE[len(self.store.all("themes")) % len(THEME_PALETTE)]
        record = {"name": name, "color": color, "description": description, "memo": memo,
                  "parent": parent, "created": now_iso()}
        if theme_id:
            record["id"] = theme_id
        return self.store.put("themes", record)

    def ensure_theme(self, name: str) -> dict:
        return self.theme_by_name(name) or self.add_theme(name)

    def update_theme(self, theme_id: str, **fields) -> dict:
        theme = self.store.get("themes", theme_id)
        if theme is None:
            raise KeyError(theme_id)
        fields = _cleaned(fields)
        if "name" in fields:
            other = self.theme_by_name(fields["name"])
            if other and other["id"] != theme_id:
                raise ValueError(f"a theme named '{fields['name']}' exists already")
        theme.update(fields)
        return self.store.put("themes", theme)

    def delete_theme(self, theme_id: str) -> None:
        """Delete a theme and take it off every annotation (the annotations stay)."""
        changed = []
        for ann in self.store.all("annotations"):
            if theme_id in ann.get("themes", []):
                ann["themes"] = [t for t in ann["themes"] if t != theme_id]
                changed.append(ann)
        if changed:
            self.store.put_many("annotations", changed)
        self.store.delete("themes", theme_id)

    def merge_themes(self, source_id: str, into_id: str) -> None:
        """Recode every passage of ``source_id`` as ``into_id`` and remove ``source_id``."""
        changed = []
        for ann in self.store.all("annotations"):
            themes = ann.get("themes", [])
            if source_id in themes:
                merged = [into_id if t == source_id else t for t in themes]
                ann["themes"] = list(dict.fromkeys(merged))
                changed.append(ann)
        if changed:
            self.store.put_many("annotations", changed)
        self.store.delete("themes", source_id)

    def theme_counts(self) -> dict[str, dict[str, int]]:
        """theme id → doc id → number of coded passages (of every layer)."""
        return theme_counts(self.store.all("annotations"))

    # annotations ---------------------------------------------------------------------------
    def highlight(self, doc_ref: str, start: int, end: int, *, note: str = "",
                  themes: list[str] | tuple[str, ...] = (), color: str | None = None,
                  creator: str | None = None) -> dict:
        """Highlight ``text[start:end]`` of a document; ``themes`` are theme names or ids."""
        doc = self.document(doc_ref)
        page = None
        if doc.paginated:
            pg = doc.page_at(start)
            page = pg.number if pg else None
        anchor = anchor_span(doc.text, start, end, page)
        theme_ids = [self._theme_id(t) for t in themes]
        record = {
            "doc_id": doc.id,
            "fingerprint": doc.fingerprint,
            "target": anchor.to_dict(),
            "note": clean(note),
            "themes": theme_ids,
            "color": color or HIGHLIGHT_COLORS[0],
            "created": now_iso(),
            "modified": now_iso(),
            "creator": creator or default_creator(),
            "layer": "",
            "status": "anchored",
        }
        return self.store.put("annotations", record)

    def highlight_quote(self, doc_ref: str, quote: str, **kwargs) -> dict:
        doc = self.document(doc_ref)
        span = find_quote(doc.text, quote)
        if span is None:
            short = quote if len(quote) <= 60 else quote[:57] + "..."
            raise QuoteNotFound(f"The quote \"{short}\" was not found in {doc.id} ({doc.metadata.title}).")
        return self.highlight(doc.id, span[0], span[1], **kwargs)

    def _theme_id(self, ref: str) -> str:
        if self.store.get("themes", ref):
            return ref
        return self.ensure_theme(ref)["id"]

    def annotation(self, ann_id: str) -> dict | None:
        return self.store.get("annotations", ann_id)

    def annotations(self, doc_id: str | None = None, *, layer: str | None = "") -> list[dict]:
        """Annotations in reading order; ``layer=None`` gives every layer, "" the reader's own."""
        filters = {}
        if doc_id is not None:
            filters["doc_id"] = doc_id
        if layer is not None:
            filters["layer"] = layer
        anns = self.store.all("annotations", **filters)
        return sorted(anns, key=reading_order)

    def update_annotation(self, ann_id: str, **fields) -> dict:
        ann = self.store.get("annotations", ann_id)
        if ann is None:
            raise KeyError(ann_id)
        ann.update(_cleaned(fields))
        ann["modified"] = now_iso()
        return self.store.put("annotations", ann)

    def delete_annotation(self, ann_id: str) -> None:
        """Delete an annotation and the links that join it."""
        links = [l["id"] for l in self.store.all("links") if ann_id in (l["source"], l["target"])]
        if links:
            self.store.delete_many("links", links)
        self.store.delete("annotations", ann_id)

    def quote_of(self, ann: dict) -> str:
        return ann["target"]["exact"]

    # links ------------------------------------------------------------------------------------
    def link(self, source_id: str, target_id: str, link_type: str = "same-issue", note: str = "") -> dict:
        if link_type not in LINK_TYPES:
            raise ValueError(f"link type must be one of {', '.join(LINK_TYPES)}")
        for ann_id in (source_id, target_id):
            if self.store.get("annotations", ann_id) is None:
                raise KeyError(f"no annotation {ann_id}")
        if source_id == target_id:
            raise ValueError("a passage cannot be linked to itself")
        return self.store.put("links", {"source": source_id, "target": target_id, "type": link_type,
                                        "note": clean(note), "created": now_iso(), "layer": ""})

    def links(self, *, layer: str | None = "") -> list[dict]:
        return self.store.all("links") if layer is None else self.store.all("links", layer=layer)

    def update_link(self, link_id: str, **fields) -> dict:
        link = self.store.get("links", link_id)
        if link is None:
            raise KeyError(link_id)
        link.update(_cleaned(fields))
        return self.store.put("links", link)

    def delete_link(self, link_id: str) -> None:
        self.store.delete("links", link_id)

    # checking -----------------------------------------------------------------------------------
    def check(self, *, fix: bool = True) -> CheckReport:
        """Re-anchor every annotation against the current text; report what moved and what is orphaned."""
        report = CheckReport(messages=list(self.store.messages))
        changed = []
        known = set(self.corpus.ids)
        for ann in self.store.all("annotations"):
            report.checked += 1
            if ann["doc_id"] not in known:
                if ann["doc_id"] not in report.missing_documents:
                    report.missing_documents.append(ann["doc_id"])
                report.orphans.append(ann)
                continue
            doc = self.document(ann["doc_id"])
            anchor = TextAnchor.from_dict(ann["target"])
            res = resolve(anchor, doc.text)
            if not res.found:
                report.orphans.append(ann)
                if ann.get("status") != "orphan":
                    ann["status"] = "orphan"
                    changed.append(ann)
                continue
            if res.status != "exact" or ann.get("status") == "orphan" or ann.get("fingerprint") != doc.fingerprint:
                page = doc.page_at(res.start).number if doc.paginated else None
                new = anchor_span(doc.text, res.start, res.end, page)
                if res.status != "exact":
                    report.moved.append({**ann, "resolution": res.status, "score": res.score})
                ann["target"] = new.to_dict()
                ann["fingerprint"] = doc.fingerprint
                ann["status"] = "anchored"
                changed.append(ann)
        if fix and changed and not self.store.readonly:
            self.store.put_many("annotations", changed)
        return report

    def citation(self, ann: dict) -> str:
        """"Suh 2002, ¶4" or "Bell and Fattig 2014, ¶3, p. 45": leads a reader back to the passage."""
        doc = self.document(ann["doc_id"])
        start, end = ann["target"]["start"], max(ann["target"]["start"], ann["target"]["end"] - 1)
        parts = [doc.metadata.citation or doc.metadata.author_label]
        first, last = doc.paragraph_at(start), doc.paragraph_at(end)
        if first:
            span = f"¶{first.number}"
            if last and last.number != first.number:
                span += f"\u2013{last.number}"
            parts.append(span)
        p0, p1 = doc.page_at(start), doc.page_at(end)
        if p0 is not None:
            label0, label1 = p0.label or str(p0.number), p1.label or str(p1.number)
            parts.append(f"p. {label0}" if label0 == label1 else f"pp. {label0}\u2013{label1}")
        return ", ".join(parts)
