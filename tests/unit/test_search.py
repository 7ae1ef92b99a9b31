"""Corpus search: phrases across hard wraps, case and quote styles; all-words search; exact offsets."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nkreader.core.model import Document, Paragraph
from nkreader.core.search import fold, search, search_library


def test_phrase_is_found_in_every_document_with_exact_spans(library):
    hits = search_library(library, "Forced Repatriation")
    assert {h.doc_id for h in hits} >= {"bell-fattig", "kwon-2023"}
    for h in hits:
        doc = library.document(h.doc_id)
        assert doc.text[h.start:h.end].casefold() == "forced repatriation"
        assert h.paragraph == doc.paragraph_at(h.start).number
        assert "forced repatriation" in h.snippet.casefold()


def test_curly_quotes_and_wrapped_lines(library):
    hits = search_library(library, '"ordinary" North Koreans')
    assert [h.doc_id for h in hits] == ["interview"]
    doc = library.document("interview")
    assert doc.text[hits[0].start:hits[0].end].startswith("“ordinary”")


def test_all_words_when_no_phrase(library):
    hits = search_library(library, "brokers trafficking")
    assert hits and all(h.match == "words" for h in hits)
    docs = {h.doc_id for h in hits}
    assert "bell-fattig" in docs and "civil-society" in docs
    for h in hits:
        para = library.document(h.doc_id).paragraphs[h.paragraph - 1]
        body = library.document(h.doc_id).text[para.start:para.end].casefold()
        assert "broker" in body and "trafficking" in body


def test_limit_empty_and_absent(library):
    assert len(search_library(library, "North", limit=3)) == 3
    assert search_library(library, "   ") == []
    assert search_library(library, "zyzzyva") == []


def _doc(text: str) -> Document:
    return Document(id="x", path=Path("x.txt"), text=text, paragraphs=[Paragraph(1, 0, len(text))])


def test_offsets_with_emoji_hangul_and_crlf():
    text = "😀 탈북자 and\r\n  Forced\u00a0REPATRIATION — “here”"
    hits = search([_doc(text)], "forced repatriation")
    assert len(hits) == 1 and text[hits[0].start:hits[0].end] == "Forced\u00a0REPATRIATION"
    hits = search([_doc(text)], "탈북자 and forced")
    assert text[hits[0].start:hits[0].end] == "탈북자 and\r\n  Forced"


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=80), st.integers(0, 79), st.integers(1, 12))
def test_any_found_span_folds_to_the_query(text, a, n):
    a = a % len(text)
    needle = text[a:a + n]
    folded_needle = fold(needle)[0].strip()
    if not folded_needle or '"' in folded_needle:
        return
    for h in search([_doc(text)], needle, mode="phrase"):
        assert fold(text[h.start:h.end])[0].strip() == folded_needle
