"""Themes as a codebook: import/export (TOML, JSON; REFI-QDA .qdc via core.imports/exports.qdc),
and theme suggestions for passages.

A codebook travels as a list of themes, each with ``name``, ``color``, ``description``, ``memo``
and optional nested ``children`` (JSON) or ``parent`` by name (TOML: ``[[theme]]`` tables).
Importing merges by name (case-insensitive): a new name adds a theme, a known one fills in what is
empty (description, memo, colour) and keeps what the reader wrote; nothing is deleted.

Suggestions rank the codebook's themes for a passage by tf-idf cosine similarity between the
passage and each theme's *profile*: its name and description (weighted up: the codebook says what
the theme is about) plus the passages the reader has already coded with it (the reader's usage
says it better as the coding grows). The reader accepts a suggestion (the theme is added to the
annotation) or rejects it (remembered in the store's ``dismissals`` with ``kind: "theme"`` and
never suggested again for that passage).
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from nkreader.core.related import terms

CODEBOOK_FORMAT = "nkreader-codebook"
CODEBOOK_VERSION = 1
NAME_WEIGHT = 3.0  # a theme's name counts this many times in its profile
DESCRIPTION_WEIGHT = 1.5
MIN_SCORE = 0.05

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")


class CodebookError(ValueError):
    """A codebook file could not be read; the message is meant for the user."""


# --------------------------------------------------------------------------------------------
# the codebook as data


def codebook_tree(lib) -> list[dict]:
    """The library's themes as a tree of plain dicts (children nested, sorted by name)."""
    themes = lib.themes()
    by_parent: dict[str | None, list[dict]] = {}
    ids = {t["id"] for t in themes}
    for t in themes:
        parent = t.get("parent") if t.get("parent") in ids else None
        by_parent.setdefault(parent, []).append(t)

    def node(t: dict, seen: set[str]) -> dict:
        out = {"name": t["name"], "color": t.get("color") or "", "description": t.get("description") or "",
               "memo": t.get("memo") or "", "guid": t.get("guid") or t["id"]}
        kids = [node(c, seen | {t["id"]}) for c in by_parent.get(t["id"], []) if c["id"] not in seen]
        if kids:
            out["children"] = kids
        return out

    return [node(t, set()) for t in by_parent.get(None, [])]


def _flatten(nodes: list[dict], parent: str | None = None) -> list[dict]:
    out = []
    for n in nodes:
        if not isinstance(n, dict):
            raise CodebookError("each theme must be a table/object with a name")
        name = str(n.get("name", "")).strip()
        if not name:
            raise CodebookError("a theme in the codebook has no name")
        color = str(n.get("color") or n.get("colour") or "").strip()
        if color and not _HEX.match(color):
            color = ""  # an unreadable colour is dropped, not an error: the library picks one
        item = {"name": name, "color": color, "description": str(n.get("description") or ""),
                "memo": str(n.get("memo") or ""), "parent": n.get("parent") or parent,
                "guid": str(n.get("guid") or "")}
        out.append(item)
        out.extend(_flatten(list(n.get("children") or []), name))
    return out


def read_codebook(path: Path | str) -> list[dict]:
    """Themes of a codebook file as a flat list (``parent`` by name), in file order."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CodebookError(f"Cannot read {path}: {exc}") from exc
    if suffix == ".qdc":
        return _qdc_read(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodebookError(f"{path} is not UTF-8 text") from exc
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CodebookError(f"{path} is not valid TOML: {exc}") from exc
        nodes = data.get("theme") or data.get("themes") or []
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CodebookError(f"{path} is not valid JSON: {exc}") from exc
        nodes = data if isinstance(data, list) else (data.get("themes") or data.get("codes") or [])
    else:
        raise CodebookError(f"Unknown codebook format '{suffix}': use .toml, .json or .qdc")
    if not isinstance(nodes, list):
        raise CodebookError(f"{path}: 'themes' must be a list")
    return _flatten(nodes)


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def codebook_toml(lib) -> str:
    lines = [f"# nkreader codebook (format {CODEBOOK_FORMAT} {CODEBOOK_VERSION})", ""]
    for item in _flatten(codebook_tree(lib)):
        lines.append("[[theme]]")
        for key in ("name", "color", "description", "memo", "parent", "guid"):
            value = item.get(key)
            if value:
                lines.append(f"{key} = {_toml_str(str(value))}")
        lines.append("")
    return "\n".join(lines)


def codebook_json(lib) -> str:
    data = {"format": CODEBOOK_FORMAT, "version": CODEBOOK_VERSION, "themes": codebook_tree(lib)}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def export_codebook(lib, path: Path | str) -> Path:
    """Write the codebook; the format follows the suffix (.toml, .json, .qdc)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".qdc":
        _qdc_write(lib, path)
        return path
    if suffix == ".toml":
        text = codebook_toml(lib)
    elif suffix == ".json":
        text = codebook_json(lib)
    else:
        raise CodebookError(f"Unknown codebook format '{suffix}': use .toml, .json or .qdc")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


@dataclass
class ImportReport:
    added: list[str]
    updated: list[str]
    unchanged: list[str]

    def to_dict(self) -> dict:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged}


def import_codebook(lib, path: Path | str) -> ImportReport:
    """Merge a codebook file into the library's themes (by name; nothing is deleted)."""
    return merge_codebook(lib, read_codebook(path))


def merge_codebook(lib, items: list[dict]) -> ImportReport:
    report = ImportReport([], [], [])
    for item in items:
        theme = lib.theme_by_name(item["name"])
        if theme is None:
            lib.add_theme(item["name"], color=item["color"] or None, description=item["description"],
                          memo=item["memo"])
            report.added.append(item["name"])
            continue
        changes = {}
        for key in ("description", "memo", "color"):
            if item.get(key) and not theme.get(key):
                changes[key] = item[key]
        if changes:
            lib.update_theme(theme["id"], **changes)
            report.updated.append(item["name"])
        else:
            report.unchanged.append(item["name"])
    # parents second, once every theme exists
    for item in items:
        if not item.get("parent"):
            continue
        theme, parent = lib.theme_by_name(item["name"]), lib.theme_by_name(str(item["parent"]))
        if theme and parent and parent["id"] != theme["id"] and not theme.get("parent"):
            lib.update_theme(theme["id"], parent=parent["id"])
    return report


def _qdc_read(path: Path) -> list[dict]:
    try:
        from nkreader.core.imports import qdc  # written by the exchange formats' owner
    except ImportError as exc:
        raise CodebookError("REFI-QDA .qdc import is not available in this build") from exc
    for name in ("read_codebook", "read_qdc", "parse_codebook", "load"):
        fn = getattr(qdc, name, None)
        if callable(fn):
            try:
                data = fn(path)
            except CodebookError:
                raise
            except (ValueError, OSError) as exc:
                raise CodebookError(str(exc)) from exc
            nodes = data if isinstance(data, list) else data.get("themes") or data.get("codes") or []
            return _flatten([_qdc_node(n) for n in nodes])
    raise CodebookError("REFI-QDA .qdc import is not available in this build")


def _qdc_node(n) -> dict:
    if isinstance(n, dict):
        out = dict(n)
        out["children"] = [_qdc_node(c) for c in (n.get("children") or n.get("codes") or [])]
        return out
    return {"name": getattr(n, "name", ""), "color": getattr(n, "color", ""),
            "description": getattr(n, "description", ""), "guid": getattr(n, "guid", ""),
            "children": [_qdc_node(c) for c in getattr(n, "children", [])]}


def _qdc_write(lib, path: Path) -> None:
    try:
        from nkreader.core.exports import qdc
    except ImportError as exc:
        raise CodebookError("REFI-QDA .qdc export is not available in this build") from exc
    for name in ("export_codebook", "write_codebook", "write_qdc", "export"):
        fn = getattr(qdc, name, None)
        if callable(fn):
            fn(lib, path)
            return
    raise CodebookError("REFI-QDA .qdc export is not available in this build")


# --------------------------------------------------------------------------------------------
# suggestions


@dataclass
class ThemeSuggestion:
    theme_id: str
    theme: str
    score: float
    reason: str  # "codebook" | "coded passages" | "codebook and coded passages"
    annotation_id: str | None = None
    doc_id: str | None = None
    quote: str = ""

    def to_dict(self) -> dict:
        return {"annotation_id": self.annotation_id, "doc_id": self.doc_id, "quote": self.quote,
                "theme_id": self.theme_id, "theme": self.theme, "score": round(self.score, 4),
                "reason": self.reason}


class ThemeProfiles:
    """tf-idf profiles of every theme, from the codebook text and the passages coded with it."""

    def __init__(self, lib, *, exclude_annotation: str | None = None):
        self._build(lib.themes(), lib.annotations(layer=None), exclude_annotation)

    @classmethod
    def from_records(cls, themes: list[dict], annotations: list[dict],
                     terms_cache: dict[str, Counter] | None = None) -> "ThemeProfiles":
        """Profiles of theme and annotation records read beforehand (e.g. in the GUI thread, so
        that the building, which walks every annotation, can run in another).

        ``terms_cache`` (passage text → its terms, kept by the caller from one build to the next)
        spares re-reading the passages that did not change: stemming every passage is most of the
        cost (1.7 s at 50k passages, 0.3 s with the cache). It is left holding just this build's.
        """
        profiles = cls.__new__(cls)
        profiles._build(themes, annotations, None, terms_cache)
        return profiles

    def _build(self, themes: list[dict], annotations: list[dict], exclude_annotation: str | None,
               terms_cache: dict[str, Counter] | None = None) -> None:
        self.themes = {t["id"]: t for t in themes}
        coded: dict[str, Counter] = {t: Counter() for t in self.themes}
        described: dict[str, Counter] = {t: Counter() for t in self.themes}
        docs_terms: list[set[str]] = []
        for t in self.themes.values():
            c = Counter()
            for w in terms(t["name"]):
                c[w] += NAME_WEIGHT
            for w in terms(t.get("description") or ""):
                c[w] += DESCRIPTION_WEIGHT
            described[t["id"]] = c
            docs_terms.append(set(c))
        seen: dict[str, Counter] = {}
        for ann in annotations:
            if ann["id"] == exclude_annotation:
                continue
            text = ann["target"].get("exact", "") + " " + (ann.get("note") or "")
            ts = seen.get(text)
            if ts is None:
                ts = (terms_cache or {}).get(text)
                if ts is None:
                    ts = Counter(terms(text))
                seen[text] = ts
            if not ts:
                continue
            docs_terms.append(set(ts))
            for tid in ann.get("themes", []):
                if tid in coded:
                    coded[tid].update(ts)
        if terms_cache is not None:
            terms_cache.clear()
            terms_cache.update(seen)
        n = max(len(docs_terms), 1)
        df = Counter(w for s in docs_terms for w in s)
        self.idf = lambda w: math.log(1.0 + n / (1.0 + df.get(w, 0)))  # noqa: E731
        self.vectors: dict[str, dict[str, float]] = {}
        self.sources: dict[str, str] = {}
        for tid in self.themes:
            vec: dict[str, float] = {}
            for w, c in described[tid].items():
                vec[w] = vec.get(w, 0.0) + c
            total = sum(coded[tid].values())
            for w, c in coded[tid].items():
                # coded passages as a whole weigh like a few name mentions, however many there are
                vec[w] = vec.get(w, 0.0) + 6.0 * c / total
            self.vectors[tid] = self._weigh(vec)
            has_book = bool(described[tid])
            has_coded = bool(coded[tid])
            self.sources[tid] = ("codebook and coded passages" if has_book and has_coded
                                 else "coded passages" if has_coded else "codebook")

    def _weigh(self, counts: dict[str, float]) -> dict[str, float]:
        vec = {w: (1.0 + math.log(c) if c >= 1 else c) * self.idf(w) for w, c in counts.items() if c > 0}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {w: v / norm for w, v in vec.items()}

    def rank(self, text: str, *, skip: set[str] = frozenset(), top: int = 3) -> list[ThemeSuggestion]:
        q = self._weigh(dict(Counter(terms(text))))
        out = []
        for tid, vec in self.vectors.items():
            if tid in skip or not vec:
                continue
            score = sum(v * vec.get(w, 0.0) for w, v in q.items())
            if score >= MIN_SCORE:
                out.append(ThemeSuggestion(tid, self.themes[tid]["name"], score, self.sources[tid]))
        out.sort(key=lambda s: (-s.score, s.theme.casefold()))
        return out[:top]


def rejected_pairs(lib) -> set[tuple[str, str]]:
    return {(d.get("annotation_id"), d.get("theme_id")) for d in lib.store.all("dismissals")
            if d.get("kind") == "theme"}


def suggest_for_text(lib, text: str, *, top: int = 3) -> list[ThemeSuggestion]:
    """Themes for an arbitrary passage (e.g. the current selection)."""
    return ThemeProfiles(lib).rank(text, top=top)


def suggest_themes(lib, *, doc_id: str | None = None, top: int = 3,
                   include_coded: bool = False) -> list[ThemeSuggestion]:
    """Suggestions for the reader's highlights (those without a theme unless ``include_coded``)."""
    rejected = rejected_pairs(lib)
    anns = lib.annotations(doc_id)
    profiles = None
    out = []
    for ann in anns:
        if ann.get("themes") and not include_coded:
            continue
        if profiles is None or include_coded:
            # a coded passage must not vote for its own themes
            profiles = ThemeProfiles(lib, exclude_annotation=ann["id"] if include_coded else None)
        skip = set(ann.get("themes", [])) | {t for a, t in rejected if a == ann["id"]}
        quote = ann["target"].get("exact", "")
        for s in profiles.rank(quote + " " + (ann.get("note") or ""), skip=skip, top=top):
            s.annotation_id, s.doc_id, s.quote = ann["id"], ann["doc_id"], quote
            out.append(s)
    return out


def accept_suggestion(lib, annotation_id: str, theme_ref: str) -> dict:
    """Code the annotation with the theme (by id or name)."""
    ann = lib.annotation(annotation_id)
    if ann is None:
        raise KeyError(f"no annotation {annotation_id}")
    theme = lib.theme(theme_ref) or lib.theme_by_name(theme_ref)
    if theme is None:
        raise KeyError(f"no theme {theme_ref}")
    themes = list(ann.get("themes", []))
    if theme["id"] not in themes:
        themes.append(theme["id"])
        ann = lib.update_annotation(annotation_id, themes=themes)
    return ann


def reject_suggestion(lib, annotation_id: str, theme_ref: str) -> dict:
    """Remember that this theme does not fit this passage."""
    theme = lib.theme(theme_ref) or lib.theme_by_name(theme_ref)
    if theme is None:
        raise KeyError(f"no theme {theme_ref}")
    if lib.annotation(annotation_id) is None:
        raise KeyError(f"no annotation {annotation_id}")
    for d in lib.store.all("dismissals"):
        if d.get("kind") == "theme" and d.get("annotation_id") == annotation_id and d.get("theme_id") == theme["id"]:
            return d
    from nkreader.core.library import now_iso

    return lib.store.put("dismissals", {"kind": "theme", "annotation_id": annotation_id,
                                        "theme_id": theme["id"], "created": now_iso()})


# --------------------------------------------------------------------------------------------
# the theme × author matrix


@dataclass
class Matrix:
    themes: list[dict]  # rows
    columns: list[dict]  # {"key", "label", "doc_ids"}: one per author (documents of one author together)
    counts: list[list[int]]

    def cell_annotations(self, lib, row: int, col: int) -> list[dict]:
        theme_id = self.themes[row]["id"]
        docs = set(self.columns[col]["doc_ids"])
        return [a for a in lib.annotations() if a["doc_id"] in docs and theme_id in a.get("themes", [])]

    def to_dict(self) -> dict:
        return {"themes": [t["name"] for t in self.themes], "authors": [c["label"] for c in self.columns],
                "counts": self.counts}


def author_columns(lib) -> list[dict]:
    cols: dict[str, dict] = {}
    for entry in lib.corpus.entries:
        meta = entry.metadata
        label = meta.author_label if meta.authors else (meta.citation or meta.title or entry.id)
        key = "|".join(meta.authors) if meta.authors else f"doc:{entry.id}"
        col = cols.setdefault(key, {"key": key, "label": label, "doc_ids": []})
        col["doc_ids"].append(entry.id)
    return list(cols.values())


def theme_author_matrix(lib) -> Matrix:
    """How many passages each author has on each theme (the reader's own coding)."""
    themes = lib.themes()
    columns = author_columns(lib)
    col_of = {d: i for i, c in enumerate(columns) for d in c["doc_ids"]}
    row_of = {t["id"]: i for i, t in enumerate(themes)}
    counts = [[0] * len(columns) for _ in themes]
    for ann in lib.annotations():
        c = col_of.get(ann["doc_id"])
        if c is None:
            continue
        for tid in ann.get("themes", []):
            r = row_of.get(tid)
            if r is not None:
                counts[r][c] += 1
    return Matrix(themes, columns, counts)
