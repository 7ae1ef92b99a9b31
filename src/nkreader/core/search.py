"""Full-text search across the corpus: simple, fast, offsets in code points.

``search(docs, "forced repatriation")`` finds the query as a phrase, ignoring case, runs of
whitespace (hard-wrapped lines) and the style of quote marks and dashes; a query of several words
with no phrase hit (or ``mode="words"``) finds paragraphs holding every word (each word as a word
prefix: "repatriat" finds "repatriation"). Each hit gives the document, the code-point span in
``Document.text``, the paragraph and page, and a one-line snippet around it.

The folded text of each document is cached by fingerprint, so a search over a hundred articles is
a few ``str.find`` calls per document.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Iterable

from nkreader.core.model import Document

_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
    "\u00a0": " ", "\u00ad": "",
}


def fold(text: str) -> tuple[str, list[int]]:
    """Casefold, unify quotes/dashes, collapse whitespace; with a map folded index → original index.

    The map has one entry per folded character plus a final one (the end of the text).
    """
    out: list[str] = []
    idx: list[int] = []
    space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space and out:
                out.append(" ")
                idx.append(i)
            space = True
            continue
        space = False
        ch = _FOLD.get(ch, ch)
        if not ch:
            continue
        low = ch.casefold()
        if len(low) != 1:
            low = ch.lower() if len(ch.lower()) == 1 else ch
        out.append(low)
        idx.append(i)
    idx.append(len(text))
    return "".join(out), idx


def fold_query(query: str) -> str:
    return fold(query.strip())[0].strip()


@dataclass(frozen=True)
class SearchHit:
    doc_id: str
    start: int
    end: int
    snippet: str
    paragraph: int | None = None
    page: int | None = None
    match: str = "phrase"  # phrase | words

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "start": self.start, "end": self.end, "snippet": self.snippet,
                "paragraph": self.paragraph, "page": self.page, "match": self.match}


_CACHE: dict[tuple[str, str], tuple[str, list[int]]] = {}
_LOCK = threading.Lock()


def _folded(doc: Document) -> tuple[str, list[int]]:
    key = (doc.id, doc.fingerprint)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is None:
        hit = fold(doc.text)
        with _LOCK:
            if len(_CACHE) > 512:
                _CACHE.clear()
            _CACHE[key] = hit
    return hit


def snippet(text: str, start: int, end: int, width: int = 60) -> str:
    """One line of context around ``text[start:end]`` (whitespace collapsed, ellipses at cuts)."""
    a = max(0, start - width)
    z = min(len(text), end + width)
    if a > 0:
        sp = text.find(" ", a, start)
        a = sp + 1 if sp != -1 else a
    if z < len(text):
        sp = text.rfind(" ", end, z)
        z = sp if sp != -1 else z
    body = re.sub(r"\s+", " ", text[a:z]).strip()
    return ("…" if a > 0 else "") + body + ("…" if z < len(text) else "")


def _hit(doc: Document, start: int, end: int, match: str) -> SearchHit:
    para = doc.paragraph_at(start)
    page = None
    if doc.paginated:
        pg = doc.page_at(start)
        page = pg.number if pg else None
    return SearchHit(doc.id, start, end, snippet(doc.text, start, end), para.number if para else None,
                     page, match)


def _phrase(doc: Document, needle: str, limit: int, whole_words: bool) -> list[SearchHit]:
    folded, idx = _folded(doc)
    out = []
    pos = folded.find(needle)
    while pos != -1 and len(out) < limit:
        end = pos + len(needle)
        ok = True
        if whole_words:
            ok = (pos == 0 or not folded[pos - 1].isalnum()) and (end >= len(folded) or not folded[end].isalnum())
        if ok:
            out.append(_hit(doc, idx[pos], idx[end - 1] + 1, "phrase"))
        pos = folded.find(needle, pos + 1)
    return out


def _words(doc: Document, words: list[str], limit: int) -> list[SearchHit]:
    folded, idx = _folded(doc)
    pats = [re.compile(r"(?<!\w)" + re.escape(w)) for w in words]
    out = []
    paras = doc.paragraphs or []
    # map original paragraph spans to folded offsets with a moving pointer (idx is increasing)
    import bisect

    for para in paras:
        fa = bisect.bisect_left(idx, para.start)
        fz = bisect.bisect_left(idx, para.end)
        first = None
        for p in pats:
            m = p.search(folded, fa, fz)
            if m is None:
                first = None
                break
            if first is None or m.start() < first[0]:
                first = (m.start(), m.end())
        if first is not None:
            out.append(_hit(doc, idx[first[0]], idx[first[1] - 1] + 1, "words"))
            if len(out) >= limit:
                break
    return out


def search(docs: Iterable[Document], query: str, *, limit: int = 200, mode: str = "auto",
           whole_words: bool = False) -> list[SearchHit]:
    """Hits in reading order (documents in the order given). ``mode``: auto | phrase | words."""
    if mode not in ("auto", "phrase", "words"):
        raise ValueError("mode must be auto, phrase or words")
    needle = fold_query(query)
    if not needle:
        return []
    quoted = len(needle) > 1 and needle[0] == needle[-1] == '"'
    if quoted:
        needle = needle[1:-1].strip()
        mode = "phrase"
    docs = list(docs)
    out: list[SearchHit] = []
    if mode in ("auto", "phrase"):
        for doc in docs:
            out.extend(_phrase(doc, needle, limit - len(out), whole_words))
            if len(out) >= limit:
                return out
    words = [w for w in re.split(r"[\s\"]+", needle) if w]
    if mode == "words" or (mode == "auto" and not out and len(words) > 1):
        for doc in docs:
            out.extend(_words(doc, words, limit - len(out)))
            if len(out) >= limit:
                break
    return out


def search_library(lib, query: str, **kwargs) -> list[SearchHit]:
    return search(lib.corpus.documents(), query, **kwargs)
