"""Related passages: paragraphs in *other* documents that address the same issue as a selection.

Offline and light: no model download, no PyTorch. The ranking fuses several lexical views of the
same evidence, each cheap with numpy over an inverted index:

* **passage BM25** over stemmed content words (Snowball English stemmer, stop words removed);
* **sentence BM25**: every candidate sentence scored on its own, a paragraph taking its best
  sentence plus a share of its second best; long multi-topic paragraphs are not drowned by length
  normalisation and a one-sentence selection meets the one sentence that answers it;
* **phrase BM25** over adjacent content-word pairs ("human trafficking", "refugee status");
* **query context**: a short selection is read together with the rest of its paragraph, at a
  lower weight, since the paragraph tells what the selection is about;
* **pseudo-relevance feedback**: terms that the first-pass best passages share are added at a low
  weight (query expansion drawn from the corpus itself, so it follows the user's corpus);
* **reader feedback**: a dismissed suggestion is pushed down for the passage it was dismissed
  for, and (by similarity) for passages like it; an accepted link lifts its target likewise.

When the embedding model is installed (``core/embeddings.py``), each candidate sentence also has
a MiniLM vector: a paragraph's dense score is its cosine with the query (paragraph = mean of its
sentences) plus a share of its best sentence's, min-max scaled and added to the lexical total.
A selection made of indexed sentences (the usual case) takes their cached vectors, so a query
runs the model only for a few words or part of a sentence. Above ``Params.dense_pool``
paragraphs the vectors rerank the lexical best only.

Signals are scaled to their best candidate and summed with fixed weights (chosen on
``tests/data/related_dev.json`` and checked leave-one-document-out and on a synthetic corpus;
see ``bench/bench_related.py``).

The index is built per document (analysis is the costly part) and cached on disk keyed by the
document's fingerprint, so a changed document is re-analysed alone; the global arrays are then
assembled in seconds. ``build_index(..., progress=cb)`` reports progress for the window. The
index holds contiguous arrays only (postings in CSR form, phrase pairs as int64 keys of term
ids, float16 vectors), about 7.5 MiB per 1k paragraphs with vectors.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import sys
import tempfile
import threading
import unicodedata
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

from nkreader.core.model import Document

ANALYSIS_VERSION = "5"  # bump when tokenising, stemming or unit selection changes
DIM_FALLBACK = 384
QUERY_TOKENS = 128  # a selection the model embeds is cut to this many word pieces (cost grows with length)

# --------------------------------------------------------------------------------------------
# text analysis

STOPWORDS = frozenset("""
a about above across after afterwards again against all almost alone along already also although
always am among amongst an and another any anyhow anyone anything anyway anywhere are around as at
be became because become becomes becoming been before beforehand behind being below beside besides
between beyond both but by can cannot could couldn did do does doing done down during each eg e.g
either else elsewhere enough etc even ever every everyone everything everywhere except few for
former formerly from further furthermore had has hasn have haven having he hence her here hereby
herein hers herself him himself his how however i ie if in indeed instead into is isn it its itself
just least less ll me meanwhile might mine more moreover most mostly much must my myself namely
neither never nevertheless next no nobody none nonetheless noone nor not nothing now nowhere of off
often on once one only onto or other others otherwise our ours ourselves out over own per perhaps
rather re really s same seem seemed seeming seems several she should shouldn since so some somehow
someone something sometime sometimes somewhat somewhere still such t than that the their theirs them
themselves then thence there thereafter thereby therefore therein thereupon these they this those
though through throughout thru thus to together too toward towards under until up upon us ve very
via was wasn we well were weren what whatever when whence whenever where whereafter whereas whereby
wherein whereupon wherever whether which while whither who whoever whole whom whose why will with
within without won would wouldn yet you your yours yourself yourselves d m o y ain aren didn doesn
don hadn mightn mustn needn shan also said say says
""".split())

_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’][^\W\d_]+)*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


class _Stemmer:
    """Snowball English (Porter2) when installed, else a small suffix stripper; memoised."""

    def __init__(self) -> None:
        try:
            import snowballstemmer

            self._stem = snowballstemmer.stemmer("english").stemWord
            self.name = "snowball-english"
        except Exception:  # pragma: no cover - the dependency is declared; this is a safety net
            self._stem = _light_stem
            self.name = "light"
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, word: str) -> str:
        s = self._cache.get(word)
        if s is None:
            s = self._stem(word)
            with self._lock:
                if len(self._cache) > 500_000:
                    self._cache.clear()
                self._cache[word] = s
        return s


def _light_stem(w: str) -> str:  # pragma: no cover - fallback only
    for suf in ("ations", "ation", "ings", "ing", "edly", "ed", "ies", "es", "s", "ly"):
        if w.endswith(suf) and len(w) - len(suf) >= 3:
            return w[: -len(suf)] + ("y" if suf == "ies" else "")
    return w


STEM = _Stemmer()


def words(text: str) -> list[tuple[str, int, int]]:
    """Tokens as (casefolded word, start, end) code-point spans; CJK runs become character bigrams."""
    out = []
    for m in _TOKEN.finditer(text):
        w = m.group().casefold()
        if _CJK.search(w):
            s = m.start()
            if len(w) == 1:
                out.append((w, s, s + 1))
            for i in range(len(w) - 1):
                out.append((w[i : i + 2], s + i, s + i + 2))
            continue
        w = w.replace("’", "'")
        if w.endswith("'s"):
            w = w[:-2]
        elif "'" in w:
            w = w.split("'", 1)[0]
        out.append((w, m.start(), m.end()))
    return out


def terms(text: str) -> list[str]:
    """Content terms: casefolded, stemmed, stop words and one-letter words dropped."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for w, _, _ in words(text):
        if w in STOPWORDS or (len(w) < 2 and not w.isdigit()):
            continue
        out.append(w if _CJK.search(w) else STEM(w))
    return out


_ABBREV = re.compile(r"(?:\b(?:[A-Z]|Mr|Mrs|Ms|Dr|Prof|St|No|Vol|vs|etc|e\.g|i\.e|U\.S|U\.N|Jr|Sr|Inc|Co|Oct|Nov|Dec|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept))$")
_SENT_END = re.compile(r"[.!?。！？]+[\"'”’)\]]*(?=\s+|$)|\n\s*\n|<br\s*/?>", re.I)


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of ``text[start:end]`` as absolute (start, end) spans, whitespace trimmed."""
    end = len(text) if end is None else end
    spans = []
    pos = start
    for m in _SENT_END.finditer(text, start, end):
        head = text[pos : m.start()]
        if m.group().startswith(".") and _ABBREV.search(head):
            continue
        cut = m.end()
        spans.append((pos, cut))
        pos = cut
    if pos < end:
        spans.append((pos, end))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    # merge fragments too short to be sentences into their neighbour
    merged: list[tuple[int, int]] = []
    for s, e in out:
        if merged and len(text[s:e].split()) < 4:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


# --------------------------------------------------------------------------------------------
# units: the paragraphs that may be suggested


@dataclass(frozen=True)
class Unit:
    doc_id: str
    number: int  # paragraph number (1-based)
    start: int
    end: int
    page: int | None = None
    page_label: str | None = None


MIN_WORDS = 8  # shorter paragraphs (headings, bylines, captions) are never suggested


def _is_candidate(text: str) -> bool:
    n = len(text.split())
    if n >= 20:
        return True
    stripped = text.rstrip()
    ends_like_prose = stripped.endswith((".", "?", "!", '"', "”", "’", ":", ";", ")"))
    return n >= MIN_WORDS and ends_like_prose


def _is_heading(text: str) -> bool:
    n = len(text.split())
    stripped = text.rstrip()
    if stripped.endswith("?"):
        return 2 <= n <= 40
    return 2 <= n <= 14 and not stripped.endswith((".", ",", ";", ":", "!", "”", '"')) and not _is_candidate(text)


def analyse_document(doc: Document) -> dict:
    """Per-document analysis: candidate units and their sentences as term lists (cacheable JSON)."""
    units = []
    heading: list[str] = []
    for para in doc.paragraphs:
        text = doc.text[para.start : para.end]
        if _is_heading(text):
            # a heading or an interviewer's question says what the paragraphs after it are about
            heading = terms(text)
        if not _is_candidate(text):
            continue
        sents = []
        spans = []
        for s, e in sentence_spans(doc.text, para.start, para.end):
            ts = terms(doc.text[s:e])
            if ts:
                sents.append(ts)
                spans.append([s, e])
        if sum(len(s) for s in sents) < 3:
            continue
        units.append({"n": para.number, "s": para.start, "e": para.end, "p": para.page,
                      "pl": para.page_label, "sents": sents, "spans": spans,
                      "h": [] if _is_heading(text) else heading})
    return {"doc_id": doc.id, "fingerprint": doc.fingerprint, "version": ANALYSIS_VERSION,
            "units": units}


# --------------------------------------------------------------------------------------------
# the index


def _trim_heap() -> None:
    """Give the memory that building freed back to the system (glibc keeps it otherwise).

    Building an index allocates and frees several times its final size in temporaries, and
    glibc's allocator keeps freed heap memory for reuse: measured at 10k paragraphs, the process
    stayed 165 MiB larger for a 77 MiB index, 39 MiB after ``malloc_trim``. Elsewhere a no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl) or no libc: nothing to do
        pass


def _matvec(m: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``m @ v`` on one thread. BLAS splits a matrix-vector product over both cores and then
    waits for the busier one: measured here, with the other core busy (the index being built in
    the background, the window painting), 0.8 ms became 5 ms; numpy's own loop stays at 0.8 ms."""
    return np.einsum("ij,j->i", m.astype(np.float32, copy=False), v.astype(np.float32, copy=False))


class _Postings:
    """A term → (unit, weight) inverted index in CSR form, weights precomputed (BM25)."""

    def __init__(self, n_items: int, term_ids: np.ndarray, item_ids: np.ndarray, tf: np.ndarray,
                 lengths: np.ndarray, n_terms: int, k1: float, b: float, idf: np.ndarray | None = None):
        self.n_items = n_items
        order = np.lexsort((item_ids, term_ids))
        term_ids, item_ids, tf = term_ids[order], item_ids[order], tf[order]
        self.ptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.add.at(self.ptr, term_ids + 1, 1)
        self.ptr = np.cumsum(self.ptr)
        df = np.diff(self.ptr).astype(np.float64)
        if idf is None:
            idf = np.log(1.0 + (n_items - df + 0.5) / (df + 0.5))
        self.idf = idf
        avg = float(lengths.mean()) if len(lengths) else 1.0
        norm = k1 * (1.0 - b + b * lengths / max(avg, 1e-9))
        tf = tf.astype(np.float32)
        self.items = item_ids.astype(np.int32)
        self.weights = (idf[term_ids] * tf * (k1 + 1.0) / (tf + norm[item_ids])).astype(np.float32)
        # a large library has millions of phrase types: 4-byte pointers and idfs halve their cost
        self.idf = np.asarray(idf, dtype=np.float32)
        if self.ptr[-1] < 2**31:
            self.ptr = self.ptr.astype(np.int32)

    def score(self, qterms: dict[int, float], min_idf: float = 0.0) -> np.ndarray:
        if not qterms:
            return np.zeros(self.n_items, dtype=np.float32)
        idx = []
        wts = []
        for t, qw in qterms.items():
            if self.idf[t] < min_idf:
                continue  # a word in most passages tells nothing and costs the most
            a, z = self.ptr[t], self.ptr[t + 1]
            if z > a:
                idx.append(self.items[a:z])
                wts.append(self.weights[a:z] * np.float32(qw))
        if not idx:
            return np.zeros(self.n_items, dtype=np.float32)
        return np.bincount(np.concatenate(idx), weights=np.concatenate(wts),
                           minlength=self.n_items).astype(np.float32)


@dataclass
class Params:
    k1: float = 1.2
    b: float = 0.75
    w_para: float = 1.0
    w_sent: float = 1.0
    w_bigram: float = 0.5
    second_sentence: float = 0.5
    context_weight: float = 0.35  # weight of the rest of the selection's paragraph
    context_terms: int = 24  # the context's best terms (by weight × idf) that join the query
    context_max_ratio: float = 0.9  # a selection covering this much of its paragraph has no context
    prf_docs: int = 3
    prf_terms: int = 12
    prf_weight: float = 0.25
    dismiss_factor: float = 0.15  # score multiplier for a suggestion dismissed for this passage
    dismiss_similar: float = 0.5  # how far a dismissal for a similar passage lowers a score
    accept_boost: float = 0.5
    # the best of n sentences is high by chance when n is large: the sentence signal may be divided
    # by 1 + this * ln(n). Measured: 0.1 gives dev R@5 0.597 against 0.587 with the other defaults,
    # but tuned together with them (bench grid, leave-one-document-out) every fold picks 0 and the
    # held-out R@5 is 0.578 with 0 against 0.558 with 0.1: not robust, so off
    sentence_count_norm: float = 0.0
    heading: bool = False  # (measured neutral on the dev set) a paragraph's section heading (or preceding question) counts with it
    min_idf: float = 0.15  # terms in more than ~85% of passages are skipped (speed; no signal)
    w_dense: float = 2.0  # sentence embeddings (MiniLM), when available, against the lexical total 1.0
    dense_sentence: float = 0.5  # share of the best sentence's similarity in the dense signal
    dense_context: float = 0.0  # weight of the selection's paragraph vector in the query vector
    dense_candidates: int = 300  # sentence-level similarity only for this many best candidates
    dense_pool: int = 4000  # above this many paragraphs, embeddings rerank the lexical best only
    reuse_cover: float = 0.8  # a selection whose sentences are each at least this much selected
    #                           takes their cached vectors instead of running the model (> 1: never)


@dataclass
class RelatedHit:
    doc_id: str
    start: int
    end: int
    page: int | None
    paragraph: int
    text: str
    score: float
    page_label: str | None = None
    signals: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "start": self.start, "end": self.end, "page": self.page,
                "paragraph": self.paragraph, "text": self.text, "score": round(float(self.score), 4)}


class RelatedIndex:
    """An index of candidate paragraphs over a set of documents."""

    def __init__(self, analyses: Iterable[dict], texts: dict[str, str], params: Params | None = None,
                 vectors: list[tuple[np.ndarray, np.ndarray]] | None = None, embedder=None):
        """``analyses`` (one per document, from :func:`analyse_document`) are read once, in order,
        and may be a generator: a large library's analyses need not all be in memory at once.
        ``vectors`` (each document's sentence vectors and row pointer) is read after them."""
        self.params = params or Params()
        self.embedder = embedder
        self.texts = texts
        self.fingerprints: dict[str, str] = {}
        self.units: list[Unit] = []
        self.vocab: dict[str, int] = {}
        doc_index: dict[str, int] = {}
        # growing C arrays, not lists: no Python object per token or sentence (at 50k paragraphs
        # those were millions, and the memory they freed stayed with the process)
        unit_doc = array("q")
        flat = array("q")  # every sentence's term ids, one after the other
        sent_len = array("q")  # terms per sentence
        s_unit = array("q")
        s_span = array("q")  # each sentence's code-point span in its document, (start, end) flat
        h_ids: list[int] = []  # section-heading terms (``Params.heading``) and their units
        h_unit: list[int] = []
        vocab = self.vocab
        p = self.params
        for a in analyses:
            self.fingerprints[a["doc_id"]] = a["fingerprint"]
            di = doc_index.setdefault(a["doc_id"], len(doc_index))
            for u in a["units"]:
                ui = len(self.units)
                self.units.append(Unit(a["doc_id"], u["n"], u["s"], u["e"], u.get("p"), u.get("pl")))
                unit_doc.append(di)
                spans = u.get("spans") or []
                if len(spans) == len(u["sents"]):
                    for x, y in spans:
                        s_span.append(x)
                        s_span.append(y)
                else:  # pragma: no cover - analyses always carry one span per sentence
                    s_span.extend([u["s"], u["e"]] * len(u["sents"]))
                for sent in u["sents"]:
                    flat.extend([vocab.setdefault(t, len(vocab)) for t in sent])
                    sent_len.append(len(sent))
                    s_unit.append(ui)
                if p.heading and u.get("h"):
                    ids = [vocab.setdefault(t, len(vocab)) for t in u["h"]]
                    h_ids.extend(ids)
                    h_unit.extend([ui] * len(ids))
        self.doc_ids = list(doc_index)
        self.unit_doc = np.frombuffer(unit_doc, dtype=np.int64).astype(np.int32)
        self.sent_unit = np.frombuffer(s_unit, dtype=np.int64).astype(np.int32)
        spans_arr = np.frombuffer(s_span, dtype=np.int64).reshape(-1, 2)
        del unit_doc, s_unit, s_span
        self.sent_start, self.sent_end = spans_arr[:, 0].copy(), spans_arr[:, 1].copy()
        # each document's sentences are one run of rows, in text order
        self._doc_sents: dict[str, tuple[int, int]] = {}
        if len(self.sent_unit):
            sent_doc = self.unit_doc[self.sent_unit]
            cuts = np.flatnonzero(np.diff(sent_doc)) + 1
            los = np.concatenate([[0], cuts])
            his = np.concatenate([cuts, [len(sent_doc)]])
            for lo, hi in zip(los.tolist(), his.tolist()):
                self._doc_sents[self.doc_ids[int(sent_doc[lo])]] = (lo, hi)
        n_units = len(self.units)
        n_sents = len(self.sent_unit)
        n_terms = len(vocab)
        tok = np.frombuffer(flat, dtype=np.int64).copy()
        del flat
        tok_sent = np.repeat(np.arange(n_sents, dtype=np.int64), np.frombuffer(sent_len, dtype=np.int64))
        tok_unit = self.sent_unit[tok_sent].astype(np.int64)
        # adjacent content-word pairs inside a sentence ("human trafficking"), as one int64 key
        # per pair (no strings: a library's pair vocabulary runs to millions)
        pair = np.flatnonzero((tok_sent[1:] == tok_sent[:-1]) & (tok[1:] != tok[:-1])) if len(tok) else \
            np.zeros(0, dtype=np.int64)
        bikeys = (tok[pair] << 32) | tok[pair + 1]
        self.bikeys, bi_tok = np.unique(bikeys, return_inverse=True)
        bi_unit = tok_unit[pair]
        del bikeys, pair
        if p.heading and h_ids:
            para_tok = np.concatenate([tok, np.asarray(h_ids, dtype=np.int64)])
            para_unit = np.concatenate([tok_unit, np.asarray(h_unit, dtype=np.int64)])
        else:
            para_tok, para_unit = tok, tok_unit

        def csr(term_ids: np.ndarray, item_ids: np.ndarray, n_items: int, n_t: int, idf=None) -> _Postings:
            lengths = np.bincount(item_ids, minlength=n_items).astype(np.float64)
            if len(term_ids):
                uk, tf = np.unique(term_ids * n_items + item_ids, return_counts=True)
                tids, iids = uk // n_items, uk % n_items
            else:
                tids = iids = tf = np.zeros(0, dtype=np.int64)
            return _Postings(n_items, tids, iids, tf, lengths, max(n_t, 1), p.k1, p.b, idf)

        self.para = csr(para_tok, para_unit, n_units, n_terms)
        # sentences share the paragraph idf: a sentence is not a document of its own
        self.sent = csr(tok, tok_sent, n_sents, n_terms, idf=self.para.idf)
        self.bigram = csr(bi_tok.astype(np.int64).ravel(), bi_unit, n_units, len(self.bikeys))
        # each unit's distinct terms and their counts (feedback, PRF), as one CSR table
        if len(tok):
            uk, cnt = np.unique(tok_unit * max(n_terms, 1) + tok, return_counts=True)
            ut_unit = uk // max(n_terms, 1)
            self._ut_terms = (uk % max(n_terms, 1)).astype(np.int32)
            self._ut_tf = cnt.astype(np.float32)
        else:
            ut_unit = np.zeros(0, dtype=np.int64)
            self._ut_terms = np.zeros(0, dtype=np.int32)
            self._ut_tf = np.zeros(0, dtype=np.float32)
        self._ut_ptr = np.zeros(n_units + 1, dtype=np.int64)
        np.cumsum(np.bincount(ut_unit, minlength=n_units), out=self._ut_ptr[1:])
        del tok, tok_sent, tok_unit, para_tok, para_unit, bi_tok, bi_unit
        self.n_units = n_units
        self._log_sents = np.log(np.maximum(np.bincount(self.sent_unit, minlength=n_units), 1)).astype(np.float32)
        sq = (self._ut_tf * self.para.idf[self._ut_terms]) ** 2
        norms = np.sqrt(np.bincount(ut_unit, weights=sq, minlength=n_units)).astype(np.float32)
        norms[norms == 0] = 1.0
        self._norms = norms
        self._unit_starts: dict[str, list[tuple[int, int, int]]] = {}
        for i, u in enumerate(self.units):
            self._unit_starts.setdefault(u.doc_id, []).append((u.start, u.end, i))
        self.dense_para = self.dense_sent = self.dense_ptr = None
        self._dense_rows_are_sentences = False
        if vectors is not None and embedder is not None and n_units:
            self._set_vectors(vectors, n_units)
        _trim_heap()

    def _set_vectors(self, vectors: list[tuple[np.ndarray, np.ndarray]], n_units: int) -> None:
        """Sentence vectors (float16, one contiguous array) and unit-normalised paragraph means."""
        live = [(v, ptr) for v, ptr in vectors if len(ptr) > 1]
        n_rows = sum(len(v) for v, _ in live)
        if sum(len(ptr) - 1 for _, ptr in live) != n_units:
            return
        dim = next((v.shape[1] for v, _ in live if v.ndim == 2 and len(v)), DIM_FALLBACK)
        # filled in place, document by document: no second copy of the library's vectors
        sent = np.empty((n_rows, dim), dtype=np.float16)  # half the memory; candidates' rows are read
        para = np.zeros((n_units, dim), dtype=np.float32)
        dptr = np.empty(n_units + 1, dtype=np.int64)
        row = unit = 0
        for v, ptr in live:
            n = len(ptr) - 1
            sent[row:row + len(v)] = v
            counts = np.diff(ptr)
            has = counts > 0
            if has.any():
                para[unit:unit + n][has] = np.add.reduceat(v, ptr[:-1][has], axis=0, dtype=np.float32)
            dptr[unit:unit + n] = ptr[:-1] + row
            row += len(v)
            unit += n
        dptr[n_units] = row
        para /= np.maximum(np.linalg.norm(para, axis=1, keepdims=True), 1e-9)
        self.dense_para = para.astype(np.float16)  # like the sentences: half the memory
        self.dense_sent = sent
        self.dense_ptr = dptr
        self.dense_owner = np.repeat(np.arange(n_units, dtype=np.int32), np.diff(dptr))
        # the dense rows are the lexical sentences (same spans, same order): a selection
        # made of indexed sentences can reuse their vectors instead of running the model
        self._dense_rows_are_sentences = bool(
            len(self.dense_owner) == len(self.sent_unit)
            and np.array_equal(self.dense_owner, self.sent_unit))

    # -------------------------------------------------------------------------------- helpers
    def unit_at(self, doc_id: str, start: int, end: int | None = None) -> int | None:
        """The candidate unit of ``doc_id`` overlapping [start, end) the most, if any."""
        end = start + 1 if end is None or end <= start else end
        best, best_ov = None, 0
        for s, e, i in self._unit_starts.get(doc_id, []):
            ov = min(e, end) - max(s, start)
            if ov > best_ov:
                best, best_ov = i, ov
        return best

    def unit_terms(self, u: int) -> tuple[np.ndarray, np.ndarray]:
        """A unit's distinct term ids and their counts."""
        a, z = self._ut_ptr[u], self._ut_ptr[u + 1]
        return self._ut_terms[a:z], self._ut_tf[a:z]

    def _bigram_qvec(self, text: str, weight: float, out: dict[int, float]) -> None:
        """Adjacent content-word pairs of each sentence of ``text``, as bigram ids of the index."""
        keys = []
        for s, e in sentence_spans(text):
            ids = [self.vocab.get(t) for t in terms(text[s:e])]
            keys.extend((x << 32) | y for x, y in zip(ids, ids[1:])
                        if x is not None and y is not None and x != y)
        if not keys or not len(self.bikeys):
            return
        for k, c in Counter(keys).items():
            i = int(np.searchsorted(self.bikeys, k))
            if i < len(self.bikeys) and int(self.bikeys[i]) == k:
                out[i] = out.get(i, 0.0) + weight * (1.0 + math.log(c))

    def _qvec(self, bag: Counter, vocab: dict[str, int], weight: float, out: dict[int, float]) -> None:
        for t, c in bag.items():
            i = vocab.get(t)
            if i is not None:
                out[i] = out.get(i, 0.0) + weight * (1.0 + math.log(c))

    def _tfidf(self, qterms: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        ids = np.fromiter(qterms.keys(), dtype=np.int64, count=len(qterms))
        w = np.fromiter(qterms.values(), dtype=np.float64, count=len(qterms)) * self.para.idf[ids]
        return ids, w

    def cosine_to_units(self, qterms: dict[int, float], units: Sequence[int]) -> np.ndarray:
        """tf-idf cosine between a query vector and some units (for feedback by similarity)."""
        if not qterms or not units:
            return np.zeros(len(units), dtype=np.float32)
        ids, w = self._tfidf(qterms)
        qn = float(np.sqrt((w ** 2).sum())) or 1.0
        qmap = dict(zip(ids.tolist(), w.tolist()))
        out = np.zeros(len(units), dtype=np.float32)
        for k, u in enumerate(units):
            t, tf = self.unit_terms(u)
            dot = sum(qmap.get(int(x), 0.0) * float(f) * float(self.para.idf[x]) for x, f in zip(t, tf)
                      if int(x) in qmap)
            out[k] = dot / (qn * self._norms[u])
        return out

    def unit_query(self, u: int) -> dict[int, float]:
        t, tf = self.unit_terms(u)
        return {int(x): 1.0 + math.log(float(f)) for x, f in zip(t, tf)}

    # -------------------------------------------------------------------------------- ranking
    def query_terms(self, text: str, context: str = "") -> tuple[dict[int, float], dict[int, float], dict[int, float]]:
        """Weighted term ids of the query: all (selection + context), the selection's, bigrams."""
        p = self.params
        q: dict[int, float] = {}
        qb: dict[int, float] = {}
        self._qvec(Counter(terms(text)), self.vocab, 1.0, q)
        self._bigram_qvec(text, 1.0, qb)
        qs = dict(q)
        if context and p.context_weight > 0:
            ctx: dict[int, float] = {}
            self._qvec(Counter(terms(context)), self.vocab, p.context_weight, ctx)
            # the context's most telling words only: it says what the selection is about
            ranked = sorted(ctx, key=lambda t: -ctx[t] * self.para.idf[t])[: p.context_terms]
            for t in ranked:
                q[t] = q.get(t, 0.0) + ctx[t]
            self._bigram_qvec(context, p.context_weight, qb)
        return q, qs, qb

    def _raw(self, q: dict[int, float], qs: dict[int, float], qb: dict[int, float]) -> dict:
        p = self.params
        return {"para": self.para.score(q, p.min_idf), "sent": self.sent.score(qs, p.min_idf),
                "bigram": self.bigram.score(qb, p.min_idf)}

    def _sentence_signal(self, sent_scores: np.ndarray) -> np.ndarray:
        p = self.params
        best = np.zeros(self.n_units, dtype=np.float32)
        second = np.zeros(self.n_units, dtype=np.float32)
        nz = np.flatnonzero(sent_scores)
        if len(nz):
            # best and second-best sentence of each unit (only sentences that match at all)
            su = self.sent_unit[nz]
            ss = sent_scores[nz]
            np.maximum.at(best, su, ss)
            below = ss < best[su]
            np.maximum.at(second, su[below], ss[below])
        sent = best + p.second_sentence * second
        if p.sentence_count_norm > 0:
            # the best of many sentences is high by chance: long paragraphs must not win on length
            sent = sent / (1.0 + np.float32(p.sentence_count_norm) * self._log_sents)
        return sent

    def _combine(self, raw: dict, mask: np.ndarray, qvec: np.ndarray | None,
                 dense: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        p = self.params
        if "sent_signal" not in raw:
            raw["sent_signal"] = self._sentence_signal(raw["sent"])
        signals = {"para": raw["para"], "sent": raw["sent_signal"], "bigram": raw["bigram"]}
        total = np.zeros(self.n_units, dtype=np.float32)
        for name, w in (("para", p.w_para), ("sent", p.w_sent), ("bigram", p.w_bigram)):
            sig = signals[name]
            m = float(sig[mask].max()) if mask.any() else 0.0
            if m > 0 and w:
                total += np.float32(w / m) * sig
        if qvec is not None and p.w_dense > 0:
            m = float(total[mask].max()) if mask.any() else 0.0
            if m > 0:
                total /= np.float32(m)
            if dense is None:
                dense = self._dense(qvec, mask, total)
            dm = dense[mask]
            lo, hi = float(dm.min()), float(dm.max())
            if hi > lo:
                total += np.float32(p.w_dense) * (dense - np.float32(lo)) / np.float32(hi - lo)
        total[~mask] = -np.inf
        return total, dense

    def _dense(self, qvec: np.ndarray, mask: np.ndarray, lexical: np.ndarray) -> np.ndarray:
        """Cosine of the query vector with each paragraph, plus a share of its best sentence's."""
        p = self.params
        if self.n_units > p.dense_pool:
            # a large library: the vectors of every paragraph do not fit in cache, and one pass
            # over them costs more than the whole lexical ranking; compare the query with the
            # paragraphs the lexical signals rank best (``dense_pool`` of them), as a reranker
            cand = np.flatnonzero(mask)
            if len(cand) > p.dense_pool:
                cand = cand[np.argpartition(-lexical[cand], p.dense_pool - 1)[: p.dense_pool]]
            para = np.full(self.n_units, -1.0, dtype=np.float32)
            para[cand] = _matvec(self.dense_para[cand], qvec)
            mask = np.zeros(self.n_units, dtype=bool)
            mask[cand] = True
        else:
            para = _matvec(self.dense_para, qvec)
        out = para.copy()
        if p.dense_sentence > 0 and self.dense_sent is not None and len(self.dense_sent):
            cand = np.flatnonzero(mask)
            if len(cand) > p.dense_candidates:
                pre = lexical[cand] + para[cand]
                cand = cand[np.argpartition(-pre, p.dense_candidates - 1)[: p.dense_candidates]]
            best = np.full(self.n_units, -1.0, dtype=np.float32)
            starts, ends = self.dense_ptr[cand], self.dense_ptr[cand + 1]
            counts = ends - starts
            rows = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) \
                + np.arange(int(counts.sum()))
            if len(rows):
                sims = _matvec(self.dense_sent[rows], qvec)
                np.maximum.at(best, self.dense_owner[rows], sims.astype(np.float32))
            has = best > -1.0
            out[has] = para[has] + p.dense_sentence * best[has]
            out[~has] = para[~has] * (1.0 + p.dense_sentence)
        return out

    def cached_query_vector(self, doc_id: str, start: int, end: int) -> np.ndarray | None:
        """The selection's vector from the index's own sentence vectors, when it is made of them.

        A selection in an indexed document usually is one or more of its sentences, whose vectors
        the index already holds: their mean (weighted by how much of each is selected) stands for
        the selection and the model need not run. ``None`` when the selection is not made of
        indexed sentences (a few words, a part of a sentence, a heading), so the model embeds it.
        """
        p = self.params
        rng = self._doc_sents.get(doc_id)
        if rng is None or not self._dense_rows_are_sentences or p.reuse_cover > 1.0 or end <= start:
            return None
        lo, hi = rng
        starts, ends = self.sent_start[lo:hi], self.sent_end[lo:hi]
        a = lo + int(np.searchsorted(ends, start, side="right"))
        z = lo + int(np.searchsorted(starts, end, side="left"))
        if z <= a:
            return None
        ss, se = self.sent_start[a:z], self.sent_end[a:z]
        overlap = np.minimum(se, end) - np.maximum(ss, start)
        keep = overlap > 0
        if not keep.any():
            return None
        overlap, ss, se = overlap[keep], ss[keep], se[keep]
        rows = np.arange(a, z)[keep]
        # every sentence touched must be mostly selected, and together they must hold the selection
        if float((overlap / np.maximum(se - ss, 1)).min()) < p.reuse_cover:
            return None
        if float(overlap.sum()) < 0.8 * (end - start):
            return None
        q = (self.dense_sent[rows].astype(np.float32) * overlap[:, None].astype(np.float32)).sum(axis=0)
        n = float(np.linalg.norm(q))
        return (q / n).astype(np.float32) if n > 0 else None

    def query_vector(self, text: str, source_unit: int | None = None, context: str = "",
                     doc_id: str | None = None, start: int | None = None,
                     end: int | None = None) -> np.ndarray | None:
        if self.embedder is None or self.dense_para is None:
            return None
        q = None
        if doc_id is not None and start is not None and end is not None:
            q = self.cached_query_vector(doc_id, start, end)
        if q is None:
            if hasattr(self.embedder, "encode_one"):
                q = self.embedder.encode_one(text, max_tokens=QUERY_TOKENS)
            else:
                q = self.embedder.encode([text])[0]
        p = self.params
        if p.dense_context > 0:
            ctx = None
            if source_unit is not None:
                ctx = self.dense_para[source_unit]
            elif context.strip():
                ctx = self.embedder.encode([context])[0]  # pragma: no cover - dense_context is 0 by default
            if ctx is not None:
                q = q + np.float32(p.dense_context) * ctx
        n = float(np.linalg.norm(q))
        return (q / n).astype(np.float32, copy=False) if n > 0 else None

    def _prf(self, q: dict[int, float], total: np.ndarray, mask: np.ndarray) -> dict[int, float]:
        p = self.params
        if p.prf_docs <= 0 or p.prf_terms <= 0 or p.prf_weight <= 0:
            return {}
        k = min(p.prf_docs, int(mask.sum()))
        if k <= 0:
            return {}
        top = np.argpartition(-total, k - 1)[:k]
        acc: dict[int, float] = {}
        for u in top:
            t, tf = self.unit_terms(u)
            w = tf / tf.sum() * self.para.idf[t]
            for x, y in zip(t.tolist(), w.tolist()):
                acc[x] = acc.get(x, 0.0) + y
        # only terms shared by at least two of the feedback passages, so one passage cannot steer
        counts = Counter(x for u in top for x in self.unit_terms(u)[0].tolist())
        cand = [(v, x) for x, v in acc.items() if x not in q and (counts[x] >= 2 or k == 1)]
        cand.sort(reverse=True)
        out: dict[int, float] = {}
        if cand:
            top_v = cand[0][0]
            for v, x in cand[: p.prf_terms]:
                out[x] = p.prf_weight * v / top_v
        return out

    def rank(self, text: str, *, exclude_doc: str | None = None, context: str = "",
             feedback: "Feedback | None" = None, source_unit: int | None = None,
             allowed_docs: Iterable[str] | None = None, limit: int | None = None,
             span: tuple[str, int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Scores for every unit (``-inf`` where excluded) and the ranked unit indices.

        ``span`` (document id, start, end) says where ``text`` lies in an indexed document, so
        its cached sentence vectors can stand for it.
        """
        mask = np.ones(self.n_units, dtype=bool)
        if exclude_doc is not None and exclude_doc in self.doc_ids:
            mask &= self.unit_doc != self.doc_ids.index(exclude_doc)
        if allowed_docs is not None:
            allowed = {self.doc_ids.index(d) for d in allowed_docs if d in self.doc_ids}
            mask &= np.isin(self.unit_doc, list(allowed))
        q, qs, qb = self.query_terms(text, context)
        if not mask.any() or not q:
            return np.full(self.n_units, -np.inf, dtype=np.float32), np.zeros(0, dtype=np.int64)
        raw = self._raw(q, qs, qb)
        # (embedding the query in a second thread while the lexical signals run was measured:
        # no gain on two cores, so it stays simple)
        qvec = (self.query_vector(text, source_unit, context, *(span or (None, None, None)))
                if self.params.w_dense > 0 else None)
        total, dense = self._combine(raw, mask, qvec)
        extra = self._prf(q, total, mask)
        if extra:
            raw["para"] = raw["para"] + self.para.score(extra, self.params.min_idf)
            total, _ = self._combine(raw, mask, qvec, dense)
        if feedback is not None:
            total = feedback.apply(self, total, q, source_unit)
        n = int(mask.sum())
        if limit is not None and limit < n:
            top = np.argpartition(-total, limit - 1)[:limit]
            order = top[np.argsort(-total[top], kind="stable")]
        else:
            order = np.argsort(-total, kind="stable")[:n]
        return total, order

    def related(self, doc: Document, start: int, end: int, top: int = 10,
                feedback: "Feedback | None" = None, allowed_docs: Iterable[str] | None = None) -> list[RelatedHit]:
        """Ranked paragraphs of other documents related to ``doc.text[start:end]``."""
        text = doc.text[start:end]
        context = ""
        para = doc.paragraph_at(start)
        if para is not None:
            ps, pe = para.start, max(para.end, end)
            if (end - start) < self.params.context_max_ratio * (pe - ps):
                context = doc.text[ps:start] + " " + doc.text[end:pe]
        source_unit = self.unit_at(doc.id, start, end)
        scores, order = self.rank(text, exclude_doc=doc.id, context=context, feedback=feedback,
                                  source_unit=source_unit, allowed_docs=allowed_docs, limit=top,
                                  span=(doc.id, start, end))
        hits = []
        best = None
        for u in order[:top]:
            s = float(scores[u])
            if not math.isfinite(s) or s <= 0:
                break
            best = best or s
            unit = self.units[int(u)]
            body = self.texts[unit.doc_id][unit.start : unit.end]
            hits.append(RelatedHit(unit.doc_id, unit.start, unit.end, unit.page, unit.number, body,
                                   s / best, unit.page_label))
        return hits


# --------------------------------------------------------------------------------------------
# reader feedback: dismissals and accepted links


@dataclass
class FeedbackItem:
    source_doc: str
    source_start: int
    source_end: int
    target_doc: str
    target_start: int
    target_end: int
    positive: bool


class Feedback:
    """Dismissed suggestions and accepted links, applied to a ranking."""

    def __init__(self, items: Iterable[FeedbackItem] = ()):
        self.items = list(items)

    def apply(self, index: RelatedIndex, total: np.ndarray, q: dict[int, float],
              source_unit: int | None) -> np.ndarray:
        if not self.items:
            return total
        p = index.params
        total = total.copy()
        finite = np.isfinite(total)
        if not finite.any():
            return total
        top = float(total[finite].max())
        # how similar each feedback item's source passage is to the current selection
        src_units = []
        tgt_units = []
        for it in self.items:
            su = index.unit_at(it.source_doc, it.source_start, it.source_end)
            tu = index.unit_at(it.target_doc, it.target_start, it.target_end)
            src_units.append(su)
            tgt_units.append(tu)
        known = [u for u in src_units if u is not None]
        sims = dict(zip(known, index.cosine_to_units(q, known).tolist())) if known else {}
        for it, su, tu in zip(self.items, src_units, tgt_units):
            if tu is None or not finite[tu]:
                continue
            same = su is not None and su == source_unit
            sim = 1.0 if same else float(sims.get(su, 0.0)) if su is not None else 0.0
            if it.positive:
                total[tu] += np.float32(p.accept_boost * top * sim)
            elif same:
                total[tu] *= np.float32(p.dismiss_factor)
            elif sim > 0.2:
                total[tu] *= np.float32(1.0 - p.dismiss_similar * min(1.0, sim))
        return total


def dismissal_record(source_doc: str, source_start: int, source_end: int, hit: RelatedHit | dict,
                     *, quote: str = "", note: str = "") -> dict:
    """A ``dismissals`` store record: this suggestion is not related to that passage."""
    h = hit.to_dict() if isinstance(hit, RelatedHit) else dict(hit)
    return {"kind": "related",
            "source": {"doc_id": source_doc, "start": int(source_start), "end": int(source_end),
                       "exact": quote},
            "target": {"doc_id": h["doc_id"], "start": int(h["start"]), "end": int(h["end"]),
                       "exact": (h.get("text") or "")[:200]},
            "note": note, "created": _now()}


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def dismiss(lib, source_doc: str, source_start: int, source_end: int, hit: RelatedHit | dict,
            *, quote: str = "", note: str = "") -> dict:
    """Remember that ``hit`` is not related to the passage; later rankings push it down."""
    return lib.store.put("dismissals", dismissal_record(source_doc, source_start, source_end, hit,
                                                        quote=quote, note=note))


def feedback_from_library(lib) -> Feedback:
    """Dismissals (store kind ``dismissals``) and the reader's links between annotations."""
    items = []
    try:
        for d in lib.store.all("dismissals"):
            if d.get("kind", "related") != "related":
                continue
            s, t = d.get("source") or {}, d.get("target") or {}
            if {"doc_id", "start", "end"} <= s.keys() and {"doc_id", "start", "end"} <= t.keys():
                items.append(FeedbackItem(s["doc_id"], s["start"], s["end"], t["doc_id"], t["start"],
                                          t["end"], False))
        anns = {a["id"]: a for a in lib.store.all("annotations")}
        for link in lib.store.all("links"):
            a, b = anns.get(link.get("source")), anns.get(link.get("target"))
            if not a or not b:
                continue
            for x, y in ((a, b), (b, a)):
                items.append(FeedbackItem(x["doc_id"], x["target"]["start"], x["target"]["end"],
                                          y["doc_id"], y["target"]["start"], y["target"]["end"], True))
    except Exception:  # feedback is a refinement: a store problem must not stop suggestions
        return Feedback(items)
    return Feedback(items)


# --------------------------------------------------------------------------------------------
# building and caching


def _cache_name(doc: Document) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", doc.id)[:60]
    digest = hashlib.sha1(f"{doc.id}\0{doc.fingerprint}\0{ANALYSIS_VERSION}\0{STEM.name}".encode()).hexdigest()[:16]
    return f"{safe}-{digest}.json"


def default_cache_dir(lib=None) -> Path | None:
    """Where the index cache lives: ``<store>/cache/related`` or the platform cache dir."""
    if lib is not None:
        path = getattr(getattr(lib, "store", None), "path", None)
        if path is not None:
            return Path(path) / "cache" / "related"
    try:
        import platformdirs

        return Path(platformdirs.user_cache_dir("nkreader")) / "related"
    except Exception:  # pragma: no cover
        return None


def _read_cached(path: Path, doc: Document) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (data.get("fingerprint") != doc.fingerprint or data.get("version") != ANALYSIS_VERSION
            or data.get("doc_id") != doc.id):
        return None
    return data


def _write_cached(path: Path, data: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        pass  # a cache that cannot be written only costs time


class Cancelled(Exception):
    """Index building was cancelled."""


def build_index(docs: Sequence[Document], *, cache_dir: Path | str | None = None,
                params: Params | None = None,
                progress: Callable[[int, int], None] | None = None,
                cancel: threading.Event | None = None, embed: bool | None = None) -> RelatedIndex:
    """Analyse each document (from the cache when its fingerprint matches) and assemble an index.

    With ``embed`` (default: when the embedding model is installed) each candidate sentence is
    also embedded; vectors are cached beside the analysis. ``progress(done, total)`` is called
    after each document; setting ``cancel`` stops the build with :class:`Cancelled`. Stale cache
    files of the same documents are removed.
    """
    embedder = None
    if embed is None or embed:
        from nkreader.core.embeddings import get_embedder

        embedder = get_embedder()
    cache = Path(cache_dir) if cache_dir else None
    vectors = [] if embedder is not None else None
    total = len(docs)

    def analyses() -> Iterable[dict]:
        # one document at a time, straight into the index: the analyses (lists of words) of a
        # large library are never all in memory together
        for i, doc in enumerate(docs):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            data = None
            if cache is not None:
                path = cache / _cache_name(doc)
                data = _read_cached(path, doc)
                if data is None:
                    data = analyse_document(doc)
                    _write_cached(path, data)
                    _remove_stale(cache, doc, path.name)
            else:
                data = analyse_document(doc)
            if embedder is not None:
                vectors.append(_document_vectors(doc, data, embedder, cache, cancel))
            yield data
            if progress is not None:
                progress(i + 1, total)

    index = RelatedIndex(analyses(), {d.id: d.text for d in docs}, params, vectors, embedder)
    vectors = None  # the per-document arrays, now copied into the index's own
    _trim_heap()
    return index


def _document_vectors(doc: Document, data: dict, embedder, cache: Path | None,
                      cancel: threading.Event | None) -> tuple[np.ndarray, np.ndarray]:
    """Sentence vectors of a document's units (float16) and each unit's first row (CSR pointer).

    Recently used documents' vectors are also kept in memory (up to ``_VECTORS_BUDGET`` bytes),
    so that rebuilding an index, or building one for a new cache folder, does not re-embed them;
    a large library relies on the disk cache instead of holding a second copy of its vectors.
    """
    memo_key = (doc.id, doc.fingerprint, ANALYSIS_VERSION, embedder.model_id)
    with _INDEX_LOCK:
        hit = _VECTORS.get(memo_key)
    if hit is not None and len(hit[1]) == len(data["units"]) + 1:
        if cache is not None:
            _save_vectors(cache / (_cache_name(doc)[:-5] + f".{embedder.model_id}.npz"), doc, *hit)
        return hit
    vecs, ptr = _embed_units(doc, data, embedder, cache, cancel)
    size = vecs.nbytes + ptr.nbytes
    with _INDEX_LOCK:
        if size <= _VECTORS_BUDGET:
            global _VECTORS_BYTES
            while _VECTORS and _VECTORS_BYTES + size > _VECTORS_BUDGET:
                old = _VECTORS.pop(next(iter(_VECTORS)))
                _VECTORS_BYTES -= old[0].nbytes + old[1].nbytes
            _VECTORS[memo_key] = (vecs, ptr)
            _VECTORS_BYTES += size
    return vecs, ptr


_VECTORS: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}
_VECTORS_BYTES = 0
_VECTORS_BUDGET = 64 << 20  # some 87k sentences (about 20k paragraphs) at 384 float16 dimensions


def _save_vectors(path: Path, doc: Document, vecs: np.ndarray, ptr: np.ndarray) -> None:
    if path.exists():
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".npz", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, vectors=vecs.astype(np.float16), ptr=ptr)
        os.replace(tmp, path)
        _remove_stale(path.parent, doc, path.name)
    except OSError:
        pass


def _embed_units(doc: Document, data: dict, embedder, cache: Path | None,
                 cancel: threading.Event | None) -> tuple[np.ndarray, np.ndarray]:
    path = None
    if cache is not None:
        path = cache / (_cache_name(doc)[:-5] + f".{embedder.model_id}.npz")
        try:
            with np.load(path, allow_pickle=False) as z:
                vecs, ptr = z["vectors"].astype(np.float16), z["ptr"].astype(np.int64)
            if len(ptr) == len(data["units"]) + 1 and ptr[-1] == len(vecs):
                return vecs, ptr
        except (OSError, KeyError, ValueError):
            pass
    texts, ptr = [], [0]
    for u in data["units"]:
        spans = u.get("spans") or [[u["s"], u["e"]]]
        texts.extend(doc.text[a:b] for a, b in spans)
        ptr.append(len(texts))
    vecs = np.zeros((0, embedder.dim), dtype=np.float16)
    parts = []
    for k in range(0, len(texts), 64):
        if cancel is not None and cancel.is_set():
            raise Cancelled()
        parts.append(embedder.encode(texts[k:k + 64]))
    if parts:
        vecs = np.concatenate(parts)
    ptr_arr = np.asarray(ptr, dtype=np.int64)
    vecs = vecs.astype(np.float16)  # as stored: the same numbers whether cached or not
    if path is not None:
        _save_vectors(path, doc, vecs, ptr_arr)
    return vecs, ptr_arr


def _remove_stale(cache: Path, doc: Document, keep: str) -> None:
    prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", doc.id)[:60] + "-"
    try:
        for p in cache.iterdir():
            if p.name.startswith(prefix) and p.name != keep and p.suffix == Path(keep).suffix \
                    and len(p.name) == len(keep) and not p.name.startswith("."):
                p.unlink()
    except OSError:
        pass


_INDEXES: dict[tuple, RelatedIndex] = {}
_INDEX_LOCK = threading.Lock()


def index_for_library(lib, *, progress: Callable[[int, int], None] | None = None,
                      cancel: threading.Event | None = None,
                      problems: dict[str, str] | None = None) -> RelatedIndex:
    """The (memoised, disk-cached) index of a library's corpus; rebuilt when a document changes.

    Documents that cannot be opened are left out; ``problems`` (if given) receives why
    (see :meth:`Corpus.documents`)."""
    docs = lib.corpus.documents(problems)
    cache_dir = default_cache_dir(lib)
    key = (str(Path(lib.corpus.folder).resolve()), str(cache_dir),
           tuple((d.id, d.fingerprint) for d in docs))
    with _INDEX_LOCK:
        idx = _INDEXES.get(key)
    if idx is not None:
        if progress is not None:
            progress(len(docs), len(docs))
        return idx
    idx = build_index(docs, cache_dir=cache_dir, progress=progress, cancel=cancel)
    with _INDEX_LOCK:
        for k in [k for k in _INDEXES if k[:2] == key[:2]]:
            del _INDEXES[k]
        while len(_INDEXES) >= 4:  # a few libraries at once at most; the disk cache keeps the rest
            del _INDEXES[next(iter(_INDEXES))]
        _INDEXES[key] = idx
    return idx


def related_passages(lib, doc_ref: str, *, quote: str | None = None, start: int | None = None,
                     end: int | None = None, top: int = 10, use_feedback: bool = True,
                     problems: dict[str, str] | None = None) -> list[RelatedHit]:
    """Related paragraphs in other documents for a quote or a span of ``doc_ref``.

    ``problems`` receives the documents left out because they cannot be opened, and why.

    Raises :class:`nkreader.core.library.QuoteNotFound` when the quote is not in the document.
    """
    from nkreader.core.anchors import find_quote
    from nkreader.core.library import QuoteNotFound

    doc = lib.document(doc_ref)
    if quote is not None:
        if not quote.strip():
            raise ValueError("the quote is empty")
        span = find_quote(doc.text, quote)
        if span is None:
            short = quote if len(quote) <= 60 else quote[:57] + "..."
            raise QuoteNotFound(f"The quote \"{short}\" was not found in {doc.id} ({doc.metadata.title}).")
        start, end = span
    if start is None or end is None or not (0 <= start < end <= len(doc.text)):
        raise ValueError("give a quote or a non-empty span inside the document")
    index = index_for_library(lib, problems=problems)
    feedback = feedback_from_library(lib) if use_feedback else None
    return index.related(doc, start, end, top=top, feedback=feedback)
