"""Related passages: quality on the labelled dev set, and speed at scale. Prints figures (medians).

    .venv/bin/python bench/bench_related.py            # everything
    .venv/bin/python bench/bench_related.py --quality  # dev set only (R@1/3/5, BM25 baseline, LODO)
    .venv/bin/python bench/bench_related.py --speed    # build / query / memory at 1k, 10k, 50k
    .venv/bin/python bench/bench_related.py --speed --busy  # ... and with the other core kept busy

Quality: ``tests/data/related_dev.json`` holds queries (a quote in one document) and the
paragraphs of other documents that address the same issue. R@k is recall over (query, relevant
paragraph) pairs: the share of pairs whose paragraph is among the query's top k. hit@k is the
share of queries with at least one relevant paragraph in the top k. Both are given for the full
method and for plain BM25 over the same paragraphs, measured in the same run. ``--lodo`` also
reports leave-one-document-out numbers for the parameter grid (choose on four documents' queries,
score on the fifth) and a synthetic corpus with author-specific vocabulary.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time

import numpy as np
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from nkreader.core import related as R  # noqa: E402
from nkreader.core.anchors import find_quote  # noqa: E402
from nkreader.core.model import Document, Paragraph  # noqa: E402

DEV = REPO / "tests" / "data" / "related_dev.json"


# ----------------------------------------------------------------------------------------- data

def load_corpus(corpus_dir: Path = REPO / "corpus") -> list[Document]:
    from nkreader.core.corpus import Corpus

    return Corpus(corpus_dir).documents()


def load_dev(path: Path = DEV) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["queries"]


def resolve_dev(docs: list[Document], queries: list[dict]) -> list[dict]:
    """Map each quote to a span and each relevant quote to its paragraph number."""
    by_id = {d.id: d for d in docs}
    out = []
    for q in queries:
        doc = by_id[q["doc_id"]]
        span = find_quote(doc.text, q["quote"])
        assert span, f"{q['id']}: quote not found"
        rel = []
        for r in q["relevant"]:
            tdoc = by_id[r["doc_id"]]
            tspan = find_quote(tdoc.text, r["quote"])
            assert tspan, f"{q['id']}: relevant quote not found: {r['quote']}"
            para = tdoc.paragraph_at(tspan[0])
            rel.append((r["doc_id"], para.number, r.get("grade", 2)))
        out.append({**q, "span": span, "rel": rel})
    return out


# ------------------------------------------------------------------------------------- baseline

class BM25Baseline:
    """Plain BM25 over every paragraph (lower-cased words, stop words removed, no stemming)."""

    def __init__(self, docs: list[Document], k1: float = 1.2, b: float = 0.75):
        import math
        from collections import Counter

        self.units = []
        for d in docs:
            for p in d.paragraphs:
                toks = [w for w, _, _ in R.words(d.text[p.start:p.end]) if w not in R.STOPWORDS]
                if toks:
                    self.units.append((d.id, p.number, Counter(toks), len(toks)))
        n = len(self.units)
        df = Counter(t for *_, c, _ in self.units for t in c)
        self.idf = {t: math.log(1 + (n - v + 0.5) / (v + 0.5)) for t, v in df.items()}
        self.avg = sum(u[3] for u in self.units) / max(n, 1)
        self.k1, self.b = k1, b

    def rank(self, doc_id: str, text: str) -> list[tuple[str, int]]:
        q = [w for w, _, _ in R.words(text) if w not in R.STOPWORDS]
        scored = []
        for d, num, c, ln in self.units:
            if d == doc_id:
                continue
            s = 0.0
            for t in set(q):
                tf = c.get(t)
                if tf:
                    s += self.idf[t] * tf * (self.k1 + 1) / (tf + self.k1 * (1 - self.b + self.b * ln / self.avg))
            scored.append((s, d, num))
        scored.sort(key=lambda x: -x[0])
        return [(d, num) for _, d, num in scored]


# ------------------------------------------------------------------------------------ evaluation

def ranking_of(index: R.RelatedIndex, docs_by_id: dict, q: dict, k: int = 10) -> list[tuple[str, int]]:
    doc = docs_by_id[q["doc_id"]]
    hits = index.related(doc, q["span"][0], q["span"][1], top=k)
    return [(h.doc_id, h.paragraph) for h in hits]


def metrics(rankings: list[list[tuple[str, int]]], dev: list[dict], min_grade: int = 1) -> dict:
    out = {}
    for k in (1, 3, 5):
        pairs = hit = 0
        found = 0
        for ranking, q in zip(rankings, dev):
            rel = {(d, n) for d, n, g in q["rel"] if g >= min_grade}
            if not rel:
                continue
            top = set(ranking[:k])
            pairs += len(rel)
            found += len(rel & top)
            hit += bool(rel & top)
        nq = sum(1 for q in dev if any(g >= min_grade for *_, g in q["rel"]))
        out[f"R@{k}"] = found / max(pairs, 1)
        out[f"hit@{k}"] = hit / max(nq, 1)
    return out


def evaluate(docs, dev, params: R.Params | None = None, index: R.RelatedIndex | None = None):
    by_id = {d.id: d for d in docs}
    index = index or R.build_index(docs, params=params)
    old = index.params
    if params is not None:
        index.params = params
    try:
        return [ranking_of(index, by_id, q) for q in dev]
    finally:
        index.params = old


def fmt(m: dict) -> str:
    return "  ".join(f"{k} {v:.3f}" for k, v in m.items())


def quality(args) -> None:
    docs = load_corpus()
    dev = resolve_dev(docs, load_dev())
    n_pairs = sum(len(q["rel"]) for q in dev)
    n_strong = sum(1 for q in dev for *_, g in q["rel"] if g >= 2)
    print(f"dev set: {len(dev)} queries, {n_pairs} relevant pairs ({n_strong} grade 2), "
          f"{sum(len(d.paragraphs) for d in docs)} paragraphs in {len(docs)} documents")
    base = BM25Baseline(docs)
    base_rank = [base.rank(q["doc_id"], docs_by(docs)[q["doc_id"]].text[q["span"][0]:q["span"][1]])
                 for q in dev]
    lexical = R.build_index(docs, embed=False)
    lex = evaluate(docs, dev, index=lexical)
    index = R.build_index(docs)
    ours = evaluate(docs, dev, index=index)
    dense = index.dense_para is not None
    for g, label in ((1, "all pairs"), (2, "grade-2 pairs")):
        print(f"  BM25 baseline        ({label}): {fmt(metrics(base_rank, dev, g))}")
        print(f"  nkreader lexical     ({label}): {fmt(metrics(lex, dev, g))}")
        if dense:
            print(f"  nkreader + MiniLM    ({label}): {fmt(metrics(ours, dev, g))}")
    if dense:
        only = replace(R.Params(), w_para=0.0, w_sent=0.0, w_bigram=0.0, prf_weight=0.0, context_weight=0.0)
        print(f"  MiniLM alone          (all pairs): {fmt(metrics(evaluate(docs, dev, only, index), dev))}")
    else:
        print("  (embedding model not installed: lexical signals only)")
    # ablations: what each part brings
    p0 = R.Params()
    for name, p in [
        ("no sentence signal", replace(p0, w_sent=0.0)),
        ("no phrase signal", replace(p0, w_bigram=0.0)),
        ("no paragraph context", replace(p0, context_weight=0.0)),
        ("no query expansion", replace(p0, prf_weight=0.0)),
        ("passage BM25 only (stemmed)", replace(p0, w_sent=0.0, w_bigram=0.0, context_weight=0.0, prf_weight=0.0)),
        ("no embeddings", replace(p0, w_dense=0.0)),
    ]:
        print(f"  ablation {name:28s}: {fmt(metrics(evaluate(docs, dev, p, index), dev))}")
    if args.verbose:
        for q, r in zip(dev, ours):
            rel = {(d, n) for d, n, _ in q["rel"]}
            marks = "".join("x" if x in rel else "." for x in r[:5])
            print(f"   {q['id']} {q['doc_id'][:6]:6s} [{marks}] miss={sorted(rel - set(r[:5]))}")
    if args.lodo:
        lodo(docs, dev, index)
        synthetic_check()


def docs_by(docs):
    return {d.id: d for d in docs}


GRID = [
    dict(w_sent=ws, w_bigram=wb, context_weight=cw, prf_weight=pw)
    for ws in (0.5, 1.0, 1.5) for wb in (0.0, 0.5, 1.0) for cw in (0.0, 0.35, 0.7) for pw in (0.0, 0.25, 0.5)
]


def lodo(docs, dev, index) -> None:
    """Leave one document out: pick grid parameters on the other documents' queries, test on its own."""
    grid_rank = []
    for g in GRID:
        grid_rank.append(evaluate(docs, dev, replace(R.Params(), **g), index))
    found = pairs = 0
    chosen = []
    for held in sorted({q["doc_id"] for q in dev}):
        train = [i for i, q in enumerate(dev) if q["doc_id"] != held]
        test = [i for i, q in enumerate(dev) if q["doc_id"] == held]
        def r5(ranks, ids):
            return metrics([ranks[i] for i in ids], [dev[i] for i in ids])["R@5"]
        best = max(range(len(GRID)), key=lambda j: r5(grid_rank[j], train))
        chosen.append(best)
        m = r5(grid_rank[best], test)
        n = sum(len(dev[i]["rel"]) for i in test)
        found += m * n
        pairs += n
    default = metrics(evaluate(docs, dev, R.Params(), index), dev)["R@5"]
    print(f"  leave-one-document-out R@5 {found / pairs:.3f} (defaults on all: {default:.3f}); "
          f"grid picks: {[GRID[j] for j in chosen]}")


def synthetic_check(seed: int = 7) -> None:
    """A corpus the parameters never saw: topics written by authors with their own synonyms."""
    rng = random.Random(seed)
    n_topics, n_authors = 30, 5
    filler = [f"w{i}" for i in range(2000)]
    topics = []
    for t in range(n_topics):
        concepts = [[f"t{t}c{c}s{s}" for s in range(3)] for c in range(8)]  # 8 concepts x 3 synonyms
        topics.append(concepts)
    docs, labels = [], {}
    for a in range(n_authors):
        paras = []
        for j, t in enumerate(rng.sample(range(n_topics), 18)):
            sents = []
            for _ in range(rng.randint(3, 7)):
                ws = [rng.choice(filler) for _ in range(rng.randint(8, 16))]
                for _ in range(rng.randint(1, 3)):
                    concept = rng.choice(topics[t])
                    # author a prefers synonym a % 3, sometimes another
                    word = concept[a % 3] if rng.random() < 0.7 else rng.choice(concept)
                    ws.insert(rng.randrange(len(ws)), word)
                sents.append(" ".join(ws).capitalize() + ".")
            paras.append((t, " ".join(sents)))
        text, pars = "", []
        for n, (t, p) in enumerate(paras, 1):
            s = len(text)
            text += p + "\n\n"
            pars.append(Paragraph(n, s, s + len(p)))
            labels[(f"a{a}", n)] = t
        docs.append(Document(id=f"a{a}", path=Path(f"a{a}.txt"), text=text, paragraphs=pars))
    dev = []
    for d in docs:
        for p in d.paragraphs[:6]:
            t = labels[(d.id, p.number)]
            rel = [(o.id, q.number, 2) for o in docs if o.id != d.id for q in o.paragraphs
                   if labels[(o.id, q.number)] == t]
            if rel:
                # the query is one sentence of the paragraph
                sent = R.sentence_spans(d.text, p.start, p.end)[0]
                dev.append({"doc_id": d.id, "span": sent, "rel": rel})
    base = BM25Baseline(docs)
    base_rank = [base.rank(q["doc_id"], docs_by(docs)[q["doc_id"]].text[q["span"][0]:q["span"][1]]) for q in dev]
    index = R.build_index(docs)
    ours = evaluate(docs, dev, index=index)
    print(f"  synthetic ({len(dev)} queries, {sum(len(q['rel']) for q in dev)} pairs): "
          f"BM25 {fmt(metrics(base_rank, dev))} | nkreader {fmt(metrics(ours, dev))}")


# ----------------------------------------------------------------------------------------- speed

def synthetic_docs(n_paragraphs: int, per_doc: int = 200, seed: int = 1) -> list[Document]:
    """Paragraphs made of real corpus sentences reshuffled (realistic vocabulary and lengths)."""
    rng = random.Random(seed)
    sents = []
    for d in load_corpus():
        for p in d.paragraphs:
            sents += [d.text[s:e] for s, e in R.sentence_spans(d.text, p.start, p.end)]
    vocab = sorted({w for s in sents for w, _, _ in R.words(s)})
    docs = []
    made = 0
    while made < n_paragraphs:
        text, pars = "", []
        for n in range(1, min(per_doc, n_paragraphs - made) + 1):
            chosen = rng.sample(sents, rng.randint(3, 8))
            # swap some words for invented ones so the vocabulary grows like a real library's
            body = " ".join(" ".join(w if rng.random() > 0.15 else f"{rng.choice(vocab)}{rng.randint(0, 999)}"
                                     for w in s.split()) for s in chosen)
            s = len(text)
            text += body + "\n\n"
            pars.append(Paragraph(n, s, s + len(body)))
        docs.append(Document(id=f"s{len(docs):04d}", path=Path("x.txt"), text=text, paragraphs=pars))
        made += len(pars)
    return docs


def speed(args) -> None:
    from nkreader.core.embeddings import get_embedder

    embedder = get_embedder()
    sizes = [int(x) for x in args.sizes.split(",")]
    if embedder is not None:
        docs = synthetic_docs(1000)
        texts = [d.text[s:e] for d in docs for p in d.paragraphs for s, e in R.sentence_spans(d.text, p.start, p.end)]
        t0 = time.perf_counter()
        embedder.encode(texts)
        emb = time.perf_counter() - t0
        print(f"  sentence embeddings (MiniLM int8): {emb:.1f} s per 1k paragraphs "
              f"({len(texts)} sentences, {emb / len(texts) * 1000:.1f} ms each); cached per document")
    else:
        print("  (embedding model not installed: lexical signals only)")
    for n in sizes:
        docs = synthetic_docs(n)
        gc.collect()
        R._trim_heap()  # a baseline without the corpus generator's freed memory
        rss0 = _rss()
        t0 = time.perf_counter()
        vectors = [] if embedder is not None else None
        rng = np.random.default_rng(0)

        def analyses():
            # as build_index does: one document's analysis at a time, straight into the index
            for d in docs:
                a = R.analyse_document(d)
                if vectors is not None:
                    # the latency does not depend on the vectors' values: random unit vectors
                    # (float16, as cached) stand in for embedding 50k paragraphs here (embedding
                    # time per 1k is measured above)
                    counts = [len(u["spans"]) for u in a["units"]]
                    v = rng.standard_normal((sum(counts), 384)).astype(np.float32)
                    v /= np.linalg.norm(v, axis=1, keepdims=True)
                    vectors.append((v.astype(np.float16), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)))
                yield a

        index = R.RelatedIndex(analyses(), {d.id: d.text for d in docs}, None, vectors, embedder)
        build = time.perf_counter() - t0
        del vectors
        gc.collect()
        R._trim_heap()  # as build_index does once the per-document vectors are copied
        grown = _rss() - rss0
        size = _index_bytes(index)
        rng = random.Random(3)
        queries, parts = [], []
        for _ in range(args.queries):
            d = rng.choice(docs)
            p = rng.choice(d.paragraphs)
            s, e = rng.choice(R.sentence_spans(d.text, p.start, p.end))
            queries.append((d, s, e))
            # the first half of the sentence: not an indexed sentence, so the model embeds it
            parts.append((d, s, s + max(1, (e - s) // 2)))

        def run(ix, qs):
            out = []
            for _ in range(args.passes):  # each pass from cold query caches
                if ix.embedder is not None and hasattr(ix.embedder, "_recent"):
                    ix.embedder._recent.clear()
                for d, s, e in qs:
                    t0 = time.perf_counter()
                    ix.related(d, s, e, top=10)
                    out.append((time.perf_counter() - t0) * 1000)
            return sorted(out)

        lat = run(index, queries)
        emb_ms = None
        if embedder is not None:
            part = run(index, parts)
            t0 = time.perf_counter()
            for d, s, e in parts:
                embedder.encode([d.text[s:e]], max_tokens=R.QUERY_TOKENS)
            emb_ms = (time.perf_counter() - t0) * 1000 / len(parts)
            saved, index.embedder = index.embedder, None
            lex = run(index, queries)
            index.embedder = saved
        print(f"  {n:>6} paragraphs: lexical index build {build:6.2f} s ({build / n * 1000:5.2f} s per 1k), "
              f"query (a sentence) median {statistics.median(lat):6.1f} ms (p90 {lat[int(0.9 * len(lat))]:6.1f})"
              + (f" [half a sentence, embedded by the model: median {statistics.median(part):5.1f} ms "
                 f"(p90 {part[int(0.9 * len(part))]:5.1f}), of which embedding {emb_ms:5.1f} ms; "
                 f"lexical alone {statistics.median(lex):5.1f} ms]"
                 if emb_ms is not None else "")
              + f", index arrays {size / 2**20:6.1f} MiB, process grew {grown / 2**20:6.1f} MiB")
        if args.busy:
            # the other core busy (the window painting, an index building in the background)
            import subprocess

            spin = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            try:
                time.sleep(0.5)
                busy = run(index, queries)
                busy_part = run(index, parts) if embedder is not None else None
            finally:
                spin.kill()
                spin.wait()
            print(f"  {n:>6} paragraphs, other core busy: query (a sentence) median "
                  f"{statistics.median(busy):6.1f} ms (p90 {busy[int(0.9 * len(busy))]:6.1f})"
                  + (f"; half a sentence median {statistics.median(busy_part):5.1f} ms "
                     f"(p90 {busy_part[int(0.9 * len(busy_part))]:5.1f})" if busy_part else ""))
        del index
    docs = synthetic_docs(sizes[0])
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        R.build_index(docs, cache_dir=tmp, embed=False)
        t0 = time.perf_counter()
        R.build_index(docs, cache_dir=tmp, embed=False)
        print(f"  {sizes[0]:>6} paragraphs from the disk cache: {time.perf_counter() - t0:.2f} s")


def _rss() -> int:
    try:
        import psutil

        return psutil.Process().memory_info().rss
    except Exception:  # pragma: no cover
        return 0


def _index_bytes(index: R.RelatedIndex) -> int:
    total = 0
    for arr in (index.dense_para, index.dense_sent):
        if arr is not None:
            total += arr.nbytes
    for post in (index.para, index.sent, index.bigram):
        total += post.ptr.nbytes + post.items.nbytes + post.weights.nbytes + post.idf.nbytes
    total += index._ut_ptr.nbytes + index._ut_terms.nbytes + index._ut_tf.nbytes + index.bikeys.nbytes
    total += index.sent_start.nbytes + index.sent_end.nbytes + index.sent_unit.nbytes
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--lodo", action="store_true", help="leave-one-document-out and synthetic checks")
    ap.add_argument("--sizes", default="1000,10000,50000")
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--passes", type=int, default=2, help="timed passes over the queries (medians over all)")
    ap.add_argument("--busy", action="store_true", help="also time queries with the other core kept busy")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    both = not (args.quality or args.speed)
    if args.quality or both:
        print("quality (tests/data/related_dev.json):")
        if both:
            args.lodo = True
        quality(args)
    if args.speed or both:
        print("speed (synthetic corpora of reshuffled corpus sentences):")
        speed(args)


if __name__ == "__main__":
    main()
