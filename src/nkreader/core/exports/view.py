"""What the reading exports (Markdown, HTML, PDF, CSV) show, gathered once from the library.

Two views of the same passages:

- by document: each document's highlights in reading order, with notes, themes and links;
- by theme (the "debate brief"): for each theme, its memo, then each author's passages in turn,
  then the typed links between passages on that theme.

Every passage carries a citation that leads back to it (author, year, paragraph, page).
Nothing here escapes anything: each writer escapes for its own format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from nkreader.core.model import DocumentError

LINK_PHRASES = {
    "agrees": ("agrees with", "agrees with this"),
    "disputes": ("disputes", "disputes this"),
    "extends": ("extends", "extends this"),
    "same-issue": ("addresses the same issue as", "addresses the same issue"),
}


@dataclass
class LinkView:
    type: str
    outgoing: bool  # True: this passage → other
    other_id: str
    other_citation: str
    other_quote: str
    note: str = ""

    @property
    def phrase(self) -> str:
        out, inc = LINK_PHRASES.get(self.type, (self.type, self.type))
        return out if self.outgoing else inc

    def sentence(self, phrase: str | None = None, other: str | None = None) -> str:
        """"agrees with Kwon 2023, ¶3" or "Kwon 2023, ¶3 agrees with this" (pieces pre-escaped if given)."""
        phrase = self.phrase if phrase is None else phrase
        other = self.other_citation if other is None else other
        return f"{phrase} {other}" if self.outgoing else f"{other} {phrase}"


@dataclass
class Passage:
    id: str
    doc_id: str
    quote: str
    note: str
    themes: list[str]
    citation: str
    author: str
    year: int | None
    title: str
    paragraph: int | None
    page: str | None
    start: int
    end: int
    color: str
    creator: str
    layer: str  # layer id, "" for the reader's own
    layer_name: str  # "" for the reader's own
    status: str
    created: str = ""
    modified: str = ""
    links: list[LinkView] = field(default_factory=list)

    @property
    def orphan(self) -> bool:
        return self.status == "orphan"


@dataclass
class DocSection:
    doc_id: str
    title: str
    author: str
    year: int | None
    venue: str
    citation: str
    passages: list[Passage]


@dataclass
class ThemeGroup:
    """One author's (document's) passages under a theme."""

    doc_id: str
    heading: str  # e.g. "Suh 2002 — North Korean Defectors and …"
    passages: list[Passage]


@dataclass
class ThemeLink:
    source: Passage
    target: Passage
    type: str
    note: str

    @property
    def phrase(self) -> str:
        return LINK_PHRASES.get(self.type, (self.type, self.type))[0]


@dataclass
class ThemeSection:
    id: str
    name: str  # full path for nested themes: "Parent › Child"
    color: str
    description: str
    memo: str
    groups: list[ThemeGroup]
    links: list[ThemeLink]
    depth: int = 0


@dataclass
class Brief:
    title: str
    by: str  # document | theme
    generated: str
    documents: list[DocSection]
    themes: list[ThemeSection]
    filters: dict[str, str]

    @property
    def passages(self) -> list[Passage]:
        if self.by == "theme":
            seen: dict[str, Passage] = {}
            for t in self.themes:
                for g in t.groups:
                    for p in g.passages:
                        seen.setdefault(p.id, p)
            return list(seen.values())
        return [p for d in self.documents for p in d.passages]


UNCODED = "Not yet coded"


def _doc_facts(lib, doc_id: str):
    """(document or None, title, author label, year, venue, short citation)."""
    try:
        doc = lib.document(doc_id)
    except (DocumentError, KeyError, OSError):
        return None, doc_id, "Author not named", None, "", doc_id
    meta = doc.metadata
    return doc, meta.title or doc_id, meta.author_label, meta.year, meta.venue, meta.citation or meta.author_label


def collect(lib, *, by: str = "document", doc: str | None = None, theme: str | None = None,
            all_layers: bool = False, title: str | None = None) -> Brief:
    """Gather passages for the reading exports. ``doc`` is a document ref, ``theme`` a theme name."""
    if by not in ("document", "theme"):
        raise ValueError("--by must be 'document' or 'theme'")
    doc_id = lib.corpus.entry(doc).id if doc else None
    theme_rec = None
    if theme:
        theme_rec = lib.theme_by_name(theme)
        if theme_rec is None:
            names = ", ".join(t["name"] for t in lib.themes()) or "none yet"
            raise ValueError(f"No theme named '{theme}' (themes: {names})")
    layers = {l["id"]: l.get("name") or l["id"] for l in lib.store.all("layers")}
    themes = {t["id"]: t for t in lib.store.all("themes")}
    anns = lib.annotations(doc_id, layer=None if all_layers else "")
    if theme_rec is not None:
        wanted = {theme_rec["id"], *_descendants(themes, theme_rec["id"])}
        anns = [a for a in anns if wanted & set(a.get("themes", []))]

    facts_cache: dict[str, tuple] = {}

    def facts(d: str):
        if d not in facts_cache:
            facts_cache[d] = _doc_facts(lib, d)
        return facts_cache[d]

    passages: dict[str, Passage] = {}
    for ann in anns:
        d, title_, author, year, _venue, short_cite = facts(ann["doc_id"])
        target = ann["target"]
        para = page = None
        citation = short_cite
        if d is not None and ann.get("status") != "orphan":
            p = d.paragraph_at(int(target["start"]))
            if p is not None:
                para = p.number
                if p.page is not None:
                    page = str(p.page_label or p.page)
            try:
                citation = lib.citation(ann)
            except Exception:  # a citation must never stop an export
                citation = short_cite
        layer = ann.get("layer", "") or ""
        passages[ann["id"]] = Passage(
            id=ann["id"], doc_id=ann["doc_id"], quote=str(target.get("exact", "")),
            note=str(ann.get("note", "") or ""),
            themes=[_theme_path(themes, t) for t in ann.get("themes", []) if t in themes],
            citation=citation, author=author, year=year, title=title_, paragraph=para, page=page,
            start=int(target.get("start", -1)), end=int(target.get("end", -1)),
            color=str(ann.get("color") or ""), creator=str(ann.get("creator") or ""),
            layer=layer, layer_name=layers.get(layer, layer) if layer else "",
            status=str(ann.get("status", "anchored")),
            created=str(ann.get("created") or ""), modified=str(ann.get("modified") or ""),
        )

    links = [l for l in lib.links(layer=None if all_layers else "")
             if l["source"] in passages and l["target"] in passages]
    for l in links:
        src, dst = passages[l["source"]], passages[l["target"]]
        note = str(l.get("note", "") or "")
        src.links.append(LinkView(l["type"], True, dst.id, dst.citation, dst.quote, note))
        dst.links.append(LinkView(l["type"], False, src.id, src.citation, src.quote, note))

    filters = {k: v for k, v in (("doc", doc_id), ("theme", theme_rec["name"] if theme_rec else None)) if v}
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")

    # by document, in corpus order, then documents the corpus no longer has
    order = {d: i for i, d in enumerate(lib.corpus.ids)}
    by_doc: dict[str, list[Passage]] = {}
    for p in sorted(passages.values(), key=lambda p: (order.get(p.doc_id, len(order)), p.doc_id, p.start, p.end, p.id)):
        by_doc.setdefault(p.doc_id, []).append(p)
    documents = []
    for d_id, items in by_doc.items():
        _d, title_, author, year, venue, short_cite = facts(d_id)
        documents.append(DocSection(d_id, title_, author, year, venue, short_cite, items))

    sections: list[ThemeSection] = []
    if by == "theme":
        ordered = _theme_tree(themes)
        if theme_rec is not None:
            keep = {theme_rec["id"], *_descendants(themes, theme_rec["id"])}
            ordered = [(t, depth) for t, depth in ordered if t["id"] in keep]
        coded: set[str] = set()
        ann_themes = {a["id"]: set(a.get("themes", [])) for a in anns}
        for t, depth in ordered:
            mine = [p for p in passages.values() if t["id"] in ann_themes[p.id]]
            coded.update(p.id for p in mine)
            sections.append(_theme_section(t, depth, mine, links, passages, themes, facts, order))
        rest = [p for p in passages.values() if p.id not in coded]
        if rest and theme_rec is None:
            fake = {"id": "", "name": UNCODED, "color": "", "description": "", "memo": ""}
            sections.append(_theme_section(fake, 0, rest, links, passages, themes, facts, order))

    if title is None:
        if by == "theme":
            title = f"Debate brief: {theme_rec['name']}" if theme_rec else "Debate brief"
        else:
            title = f"Notes on {documents[0].title}" if doc_id and documents else "Reading notes"
    return Brief(title=title, by=by, generated=generated, documents=documents, themes=sections,
                 filters=filters)


def _theme_section(t, depth, mine, links, passages, themes, facts, order) -> ThemeSection:
    groups: dict[str, list[Passage]] = {}
    for p in sorted(mine, key=lambda p: (order.get(p.doc_id, len(order)), p.doc_id, p.start, p.id)):
        groups.setdefault(p.doc_id, []).append(p)
    out_groups = []
    for d_id, items in groups.items():
        _d, title_, author, year, _venue, short_cite = facts(d_id)
        out_groups.append(ThemeGroup(d_id, f"{short_cite} — {title_}", items))
    ids = {p.id for p in mine}
    tlinks = [ThemeLink(passages[l["source"]], passages[l["target"]], l["type"], str(l.get("note", "") or ""))
              for l in links if l["source"] in ids and l["target"] in ids]
    name = _theme_path(themes, t["id"]) if t["id"] else t["name"]
    return ThemeSection(id=t["id"], name=name, color=str(t.get("color") or ""),
                        description=str(t.get("description") or ""), memo=str(t.get("memo") or ""),
                        groups=out_groups, links=tlinks, depth=depth)


def _theme_path(themes: dict[str, dict], theme_id: str) -> str:
    names, seen, cur = [], set(), themes.get(theme_id)
    while cur is not None and cur["id"] not in seen:
        seen.add(cur["id"])
        names.append(str(cur.get("name", "")))
        cur = themes.get(cur.get("parent") or "")
    return " › ".join(reversed(names))


def _descendants(themes: dict[str, dict], theme_id: str) -> set[str]:
    found: set[str] = set()
    frontier = [theme_id]
    while frontier:
        cur = frontier.pop()
        for t in themes.values():
            if t.get("parent") == cur and t["id"] not in found and t["id"] != theme_id:
                found.add(t["id"])
                frontier.append(t["id"])
    return found


def _theme_tree(themes: dict[str, dict]) -> list[tuple[dict, int]]:
    """Themes depth-first, siblings by name; a theme whose parent is missing (or a cycle) is a root."""
    children: dict[str, list[dict]] = {}
    roots = []
    for t in themes.values():
        parent = t.get("parent")
        if parent and parent in themes and parent != t["id"]:
            children.setdefault(parent, []).append(t)
        else:
            roots.append(t)
    out: list[tuple[dict, int]] = []
    seen: set[str] = set()

    def key(t):
        return str(t.get("name", "")).casefold()

    stack = [(t, 0) for t in sorted(roots, key=key, reverse=True)]
    while stack:
        t, depth = stack.pop()
        if t["id"] in seen:
            continue
        seen.add(t["id"])
        out.append((t, depth))
        for c in sorted(children.get(t["id"], []), key=key, reverse=True):
            stack.append((c, depth + 1))
    # themes caught in a parent cycle never reach a root: show them at the top level
    for t in sorted(themes.values(), key=key):
        if t["id"] not in seen:
            seen.add(t["id"])
            out.append((t, 0))
    return out
