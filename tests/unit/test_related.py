"""Related passages on the real corpus and a real store: contract, feedback, cache, quality floor."""

import json
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nkreader.cli import main
from nkreader.core import related as R
from nkreader.core.anchors import find_quote
from nkreader.core.library import Library, QuoteNotFound

DEV = Path(__file__).resolve().parents[1] / "data" / "related_dev.json"
QUOTE = "China continues to forcibly repatriate all North Koreans found within its borders"


def test_hits_are_whole_paragraphs_of_other_documents(library):
    hits = R.related_passages(library, "bell-fattig", quote=QUOTE, top=5)
    assert 1 <= len(hits) <= 5
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] == pytest.approx(1.0)
    for h in hits:
        assert h.doc_id != "bell-fattig"
        doc = library.document(h.doc_id)
        para = next(p for p in doc.paragraphs if p.number == h.paragraph)
        assert (para.start, para.end) == (h.start, h.end)
        assert h.text == doc.text[h.start:h.end]
    d = hits[0].to_dict()
    assert set(d) == {"doc_id", "start", "end", "page", "text", "score", "paragraph"}


def test_forced_repatriation_finds_the_passages_on_china_returning_defectors(library):
    hits = R.related_passages(library, "bell", quote=QUOTE, top=5)
    found = {(h.doc_id, h.paragraph) for h in hits}
    expected = set()
    for doc_id, quote in (("kwon-2023", "Chinese government's forced repatriation"),
                          ("suh-2002", "under the jurisdiction of the Chinese government"),
                          ("suh-2002", "food refugees")):
        doc = library.document(doc_id)
        expected.add((doc_id, doc.paragraph_at(find_quote(doc.text, quote)[0]).number))
    assert len(found & expected) >= 2


def test_quote_not_found_is_a_clear_error(library):
    with pytest.raises(QuoteNotFound, match="not found"):
        R.related_passages(library, "suh", quote="a sentence nobody wrote")


def test_cli_contract(tmp_path, capsys, corpus_dir):
    rc = main(["related", "bell", "--quote", QUOTE, "--top", "3", "--json",
               "--corpus", str(corpus_dir), "--data", str(tmp_path / "d")])
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 3
    assert all(set(x) >= {"doc_id", "start", "end", "page", "text", "score", "paragraph"} for x in data)
    assert all(x["doc_id"] != "bell-fattig" for x in data)


def test_cli_quote_not_found_exits_non_zero(tmp_path, capsys, corpus_dir):
    rc = main(["related", "bell", "--quote", "words that are not there", "--json",
               "--corpus", str(corpus_dir), "--data", str(tmp_path / "d")])
    assert rc != 0
    err = capsys.readouterr().err
    assert "not found" in err and "bell-fattig" in err


def test_dismissal_lowers_the_suggestion_and_is_remembered(corpus_dir, data_dir):
    with Library.open(corpus_dir, data_dir) as lib:
        doc = lib.document("bell")
        s, e = find_quote(doc.text, QUOTE)
        before = R.related_passages(lib, "bell", quote=QUOTE, top=10)
        first = before[0]
        R.dismiss(lib, doc.id, s, e, first, quote=QUOTE)
    with Library.open(corpus_dir, data_dir) as lib:
        assert lib.store.all("dismissals")[0]["kind"] == "related"
        after = R.related_passages(lib, "bell", quote=QUOTE, top=10)
        ranks = [(h.doc_id, h.start) for h in after]
        assert (first.doc_id, first.start) != ranks[0]
        if (first.doc_id, first.start) in ranks:
            assert ranks.index((first.doc_id, first.start)) >= 2
        # ignoring feedback gives the original order back
        plain = R.related_passages(lib, "bell", quote=QUOTE, top=10, use_feedback=False)
        assert [(h.doc_id, h.start) for h in plain] == [(h.doc_id, h.start) for h in before]


def test_dismissal_for_a_similar_passage_also_lowers(corpus_dir, data_dir):
    with Library.open(corpus_dir, data_dir) as lib:
        doc = lib.document("bell")
        q1 = "China continues to forcibly repatriate all North Koreans"
        s, e = find_quote(doc.text, q1)
        idx = R.index_for_library(lib)
        base = idx.related(doc, s, e, top=10)
        target = base[0]
        # dismissed for the neighbouring sentence of the same paragraph
        q2 = "The informal agreement existing between South Korea and third countries now seems untenable"
        s2, e2 = find_quote(doc.text, q2)
        fb = R.Feedback([R.FeedbackItem(doc.id, s2, e2, target.doc_id, target.start, target.end, False)])
        after = idx.related(doc, s, e, top=10, feedback=fb)
        score_of = {(h.doc_id, h.start): h.score for h in after}
        assert score_of.get((target.doc_id, target.start), 0) < 1.0


def test_accepted_link_lifts_its_target(library):
    doc = library.document("bell")
    hits = R.related_passages(library, "bell", quote=QUOTE, top=10, use_feedback=False)
    low = hits[-1]
    a = library.highlight_quote("bell", QUOTE)
    b = library.highlight(low.doc_id, low.start, low.start + 40)
    library.link(a["id"], b["id"], "agrees")
    again = R.related_passages(library, "bell", quote=QUOTE, top=10)
    order = [(h.doc_id, h.start) for h in again]
    assert order.index((low.doc_id, low.start)) < len(hits) - 1
    assert doc.id not in {h.doc_id for h in again}


def test_index_cache_is_keyed_by_fingerprint(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).resolve().parents[2] / "corpus", corpus)
    cache = tmp_path / "cache"
    with Library.open(corpus, tmp_path / "d1") as lib:
        docs = lib.corpus.documents()
        seen = []
        R.build_index(docs, cache_dir=cache, progress=lambda i, n: seen.append((i, n)))
        assert seen[-1] == (len(docs), len(docs)) and len(seen) == len(docs)
        files = sorted(p.name for p in cache.iterdir())
        assert len([f for f in files if f.endswith(".json")]) == len(docs)
        vectors = [f for f in files if f.endswith(".npz")]
        assert len(vectors) in (0, len(docs))  # sentence vectors, when the model is installed
    # change one document: its cache entry is replaced, the others are reused
    path = corpus / "002_9c7d6513797d50f9.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA new closing paragraph about brokers and smugglers in Laos.\n",
                    encoding="utf-8")
    with Library.open(corpus, tmp_path / "d2") as lib:
        docs = lib.corpus.documents()
        idx = R.build_index(docs, cache_dir=cache)
        files2 = sorted(p.name for p in cache.iterdir())
        assert len(files2) == len(files)
        changed = set(files2) - set(files)
        assert len(changed) == 1 + bool(vectors) and all(c.startswith("bell-fattig-") for c in changed)
        bell = lib.document("bell-fattig")
        assert any(u.doc_id == "bell-fattig" and "Laos" in bell.text[u.start:u.end] for u in idx.units)


def test_library_cache_lives_in_the_store_folder(library, data_dir):
    R.related_passages(library, "suh", quote="food refugees", top=3)
    assert list((data_dir / "cache" / "related").glob("*.json"))


def test_build_can_be_cancelled(library):
    stop = threading.Event()
    stop.set()
    with pytest.raises(R.Cancelled):
        R.build_index(library.corpus.documents(), cancel=stop)


def test_terms_and_sentences():
    assert R.terms("Refugees were forcibly repatriated; repatriation!") == ["refuge", "forcibl", "repatri", "repatri"]
    assert R.terms("北朝鮮") == ["北朝", "朝鮮"]
    text = "Mr. Kim left in 1997. He went to the U.S. later. Then? Yes."
    spans = R.sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["Mr. Kim left in 1997.", "He went to the U.S. later. Then? Yes."]


def test_dev_set_quality_floor(library):
    """Not a benchmark (see bench/bench_related.py): a guard against silent regressions."""
    dev = json.loads(DEV.read_text(encoding="utf-8"))["queries"]
    idx = R.index_for_library(library)
    found = pairs = 0
    for q in dev:
        doc = library.document(q["doc_id"])
        s, e = find_quote(doc.text, q["quote"])
        top = {(h.doc_id, h.paragraph) for h in idx.related(doc, s, e, top=5)}
        for r in q["relevant"]:
            tdoc = library.document(r["doc_id"])
            ts, _ = find_quote(tdoc.text, r["quote"])
            pairs += 1
            found += (r["doc_id"], tdoc.paragraph_at(ts).number) in top
    assert len(dev) >= 40
    assert found / pairs >= 0.45


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc_i=st.integers(0, 4), a=st.floats(0, 1), length=st.integers(1, 400))
def test_any_selection_gives_valid_hits(library, doc_i, a, length):
    docs = library.corpus.documents()
    doc = docs[doc_i]
    start = int(a * (len(doc.text) - 1))
    end = min(len(doc.text), start + length)
    idx = R.index_for_library(library)
    for h in idx.related(doc, start, end, top=5):
        assert h.doc_id != doc.id
        other = library.document(h.doc_id)
        assert 0 <= h.start < h.end <= len(other.text) and h.text == other.text[h.start:h.end]
        assert 0 < h.score <= 1.0


def test_embedder_matches_reference_tokenisation_and_is_optional(monkeypatch, library):
    from nkreader.core import embeddings as E

    wp = E.WordPiece()
    ids = wp.encode("Refugees' forced repatriation — 北朝鮮 naïve")
    assert ids[0] == wp.cls and ids[-1] == wp.sep
    assert [k for k, v in wp.vocab.items() if v == ids[1]] == ["refugees"]
    emb = E.get_embedder()
    if emb is not None:
        v = emb.encode(["forced repatriation by China", "China sends defectors back", ""])
        assert v.shape == (3, 384) and abs(float(v[0] @ v[0]) - 1) < 1e-4 and not v[2].any()
        assert float(v[0] @ v[1]) > 0.4
    # switched off, the ranking is lexical and still works
    monkeypatch.setenv("NKREADER_EMBEDDINGS", "0")
    idx = R.build_index(library.corpus.documents())
    assert idx.dense_para is None
    doc = library.document("bell")
    s, e = find_quote(doc.text, QUOTE)
    assert idx.related(doc, s, e, top=3)


def test_a_selection_of_indexed_sentences_reuses_their_vectors(library, monkeypatch):
    idx = R.index_for_library(library)
    if idx.dense_para is None:
        pytest.skip("embedding model not installed")
    doc = library.document("bell")
    s, e = find_quote(doc.text, QUOTE)
    lo, hi = idx._doc_sents[doc.id]
    sent = next((int(a), int(b)) for a, b in zip(idx.sent_start[lo:hi], idx.sent_end[lo:hi]) if a <= s < b)
    assert doc.text[sent[0]:sent[1]].startswith(QUOTE[:20]) or QUOTE in doc.text[sent[0]:sent[1]]
    fresh = idx.embedder.encode([doc.text[sent[0]:sent[1]]])[0]
    cached = idx.cached_query_vector(doc.id, *sent)
    assert cached is not None and float(cached @ fresh) > 0.99  # float16 storage, same sentence
    # two whole sentences: the mean of their vectors, near the embedding of both together
    two = (int(idx.sent_start[lo + 1]), int(idx.sent_end[lo + 2]))
    both = idx.cached_query_vector(doc.id, *two)
    assert both is not None and float(both @ idx.embedder.encode([doc.text[two[0]:two[1]]])[0]) > 0.8
    # a few words of a sentence are embedded by the model
    assert idx.cached_query_vector(doc.id, sent[0], sent[0] + 12) is None
    # and the whole-sentence ranking runs without the model
    calls = []
    monkeypatch.setattr(idx.embedder, "encode", lambda *a, **k: calls.append(a) or 1 / 0)
    idx.embedder._recent.clear()
    hits = idx.related(doc, *sent, top=5)
    assert hits and not calls and all(h.doc_id != doc.id for h in hits)


def _doc(doc_id, paragraphs):
    from nkreader.core.model import Document, Paragraph

    text, pars = "", []
    for n, body in enumerate(paragraphs, 1):
        s = len(text)
        text += body + "\n\n"
        pars.append(Paragraph(n, s, s + len(body)))
    return Document(id=doc_id, path=Path(f"{doc_id}.txt"), text=text, paragraphs=pars)


def test_phrase_signal_prefers_the_paragraph_with_the_phrase():
    a = _doc("a", ["Brokers profit from human trafficking along the northern border every single year."])
    b = _doc("b", ["The trafficking of goods is one thing; a human life is another thing altogether here.",
                   "Women are sold by networks engaged in human trafficking across the river to China.",
                   "Nothing about this paragraph concerns the matter at hand, it speaks of the weather."])
    idx = R.build_index([a, b], embed=False)
    qb: dict = {}
    idx._bigram_qvec("human trafficking", 1.0, qb)
    assert len(qb) == 1
    bigram = idx.bigram.score(qb)
    # units in order: a's paragraph, then b's three; the phrase is in a's and b's second only
    assert bigram[0] > 0 and bigram[2] > 0 and bigram[1] == 0 and bigram[3] == 0
    hits = idx.related(a, 0, a.paragraphs[0].end, top=3)
    assert hits[0].doc_id == "b" and hits[0].paragraph == 2


def test_vectors_kept_in_memory_stay_within_their_budget(monkeypatch):
    from nkreader.core.embeddings import get_embedder

    if get_embedder() is None:
        pytest.skip("embedding model not installed")
    docs = [_doc(f"d{i}", [f"Paragraph {i} talks about brokers, border guards and the river crossing at night.",
                           f"Another paragraph {i} describes the shelters, the churches and the long road south."])
            for i in range(4)]
    monkeypatch.setattr(R, "_VECTORS", {})
    monkeypatch.setattr(R, "_VECTORS_BYTES", 0)
    first = R.build_index(docs)
    one = next(iter(R._VECTORS.values()))
    per_doc = one[0].nbytes + one[1].nbytes
    assert len(R._VECTORS) == 4 and R._VECTORS_BYTES == 4 * per_doc
    # a budget for two documents: the oldest are let go, the index is the same
    monkeypatch.setattr(R, "_VECTORS", {})
    monkeypatch.setattr(R, "_VECTORS_BYTES", 0)
    monkeypatch.setattr(R, "_VECTORS_BUDGET", 2 * per_doc)
    again = R.build_index(docs)
    assert len(R._VECTORS) == 2 and R._VECTORS_BYTES <= 2 * per_doc
    assert {k[0] for k in R._VECTORS} == {"d2", "d3"}
    assert np.array_equal(first.dense_sent, again.dense_sent) and first.dense_sent.dtype == np.float16


def test_a_locked_pdf_in_the_corpus_is_named_and_left_out(tmp_path, capsys):
    pytest.importorskip("pymupdf")
    from pdf_samples import write_locked_pdf

    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).resolve().parents[2] / "corpus", corpus)
    write_locked_pdf(corpus / "locked.pdf", "China continues to forcibly repatriate North Koreans.")
    rc = main(["related", "bell", "--quote", QUOTE, "--top", "3", "--json",
               "--corpus", str(corpus), "--data", str(tmp_path / "d")])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert out.err.strip() == "nkreader: locked.pdf is encrypted: a password is needed; left out of the related passages"
    data = json.loads(out.out)
    assert len(data) == 3 and not {x["doc_id"] for x in data} & {"bell-fattig", "locked"}
