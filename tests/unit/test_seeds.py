"""The bundled corpus read as a human reads it: each seed's paragraphs, concretely."""

import unicodedata

import pytest

from nkreader.core.documents import open_document

# Each seed is found by a phrase only it contains, so that renaming the files breaks nothing.
SEEDS = {
    "cinii": "Integration of CiNii Articles",
    "suh": "Nautilus Special Report",
    "bell": "Markus Bell and Geoffrey Fattig",
    "kwon": "Human Security of North Korean Refugee Women",
    "interview": "what insights can you",
}


@pytest.fixture(scope="module")
def seeds():
    from pathlib import Path

    corpus = Path(__file__).resolve().parents[2] / "corpus"
    found = {}
    for path in sorted(corpus.glob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        for key, phrase in SEEDS.items():
            if phrase in raw:
                found[key] = path
    assert set(found) == set(SEEDS), f"corpus seeds not found: {set(SEEDS) - set(found)}"
    return {key: open_document(path) for key, path in found.items()}


def paras(doc):
    return [doc.paragraph_text(p) for p in doc.paragraphs]


@pytest.mark.parametrize("key", sorted(SEEDS))
def test_every_seed_is_well_formed(seeds, key):
    doc = seeds[key]
    text = doc.text
    assert doc.warnings == [] and doc.encoding == "utf-8"
    assert unicodedata.is_normalized("NFC", text)
    assert [p.number for p in doc.paragraphs] == list(range(1, len(doc.paragraphs) + 1))
    assert text == "\n\n".join(paras(doc))
    for p in doc.paragraphs:
        chunk = text[p.start : p.end]
        assert chunk and chunk == chunk.strip() and "\n" not in chunk
    for junk in ("<br", "Back to top", "Report a problem", "top of page", "bottom of page", "\u2022", "  "):
        assert junk not in text, (key, junk)


def test_cinii_abstract(seeds):
    doc = seeds["cinii"]
    result = paras(doc)
    assert len(result) == 15
    assert result[0].startswith("The Role and Limits of Civil Society on North Korea")
    abstract = [p for p in result if len(p) > 150]
    assert len(abstract) == 6  # the <br>-separated abstract, one paragraph each
    assert abstract[0].startswith("This article tries to re-examine")
    assert abstract[1].startswith("It is often said")
    assert abstract[-1].startswith("This study does not cover")
    assert all(p.endswith(".") for p in abstract)
    # furniture out, recorded
    for junk in ("Search this article", "CRID", "NII Article ID", "Abstract License Flag", "[Updated on Apr. 18]"):
        assert junk not in doc.text
    assert "[Updated on Apr. 18] Integration of CiNii Articles into CiNii Research" in doc.removed
    assert {"CRID", "NII Article ID", "DOI", "ISSN", "Data Source", "JaLC", "Search this article", "Report a problem", "Back to top"} <= set(doc.removed)
    # the Japanese "Other Title" entries are real bibliography: kept whole, CJK intact
    assert "北朝鮮問題における市民社会の役割と課題" in result
    assert "北朝鮮問題における市民社会の役割と課題 : 脱北者問題への多角的な取り組みを事例に" in result
    assert "脱北者問題への多角的な取り組みを事例に" in result
    assert any(p.startswith("キタチョウセン モンダイ ニ オケル") for p in result)
    assert "International Relations 2012 (169), 169_30-44, 2012" in result


def test_suh_report(seeds):
    result = paras(seeds["suh"])
    assert len(result) == 20
    assert result[:4] == [
        "Nautilus Special Report:",
        "North Korean Defectors and Inter-Korean Reconciliation and Cooperation",
        "Suh Dong-man, Institute of Foreign Affairs and National Security, South Korea, May 7, 2002.",
        "North Korean defectors and their refugee status",
    ]
    assert "North Korean defectors and the North Korean regime" in result
    assert result[-1].endswith("resolving the North Korean defection issue.")
    assert seeds["suh"].removed == []


def test_bell_fattig_split_paragraphs_are_whole(seeds):
    doc = seeds["bell"]
    result = paras(doc)
    assert len(result) == 12
    assert "= MR 45" not in doc.text and "MR 45" not in doc.text
    assert doc.removed == ["= MR 45"]
    exchange = next(p for p in result if "the exchange" in p)
    assert "dominate the headlines and the exchange between the powers of the region." in exchange
    assert exchange.startswith("Once refugees get out of North Korea")
    assert exchange.endswith("on the agenda of any future discussions.")
    struggle = next(p for p in result if "even here they" in p)
    assert "make their way to South Korea but even here they may struggle, fearing to speak" in struggle
    assert struggle.startswith("The crisis of North Korean refugees is a gendered crisis")
    assert not any(p.startswith(("between the powers", "may struggle")) for p in result)
    # the title, the authors and the photo caption stay paragraphs of their own
    assert result[0] == "International cooperation on the North Korean refugee crisis"
    assert result[1] == "Markus Bell and Geoffrey Fattig"
    assert result[5].startswith("Markets offer temporary employment")
    assert "North Korea \u2013 many of whom" in doc.text  # en dash kept


def test_kwon_web_page(seeds):
    doc = seeds["kwon"]
    result = paras(doc)
    assert len(result) == 11
    assert result[0] == "An International Perspective on Human Security of North Korean Refugee Women"
    assert result[1] == "North Korean women on the streets of Pyongyang, Oct. 2018 | Image: NK News"  # caption kept
    assert result[-1].startswith("*** Kwon, Soyoung is a Research Fellow")
    for junk in ("Featured Posts", "Recent Posts", "Search By Tags", "Follow Us", "Instagram", "Facebook", "LinkedIn", "YouTube"):
        assert junk not in doc.text
    assert doc.removed == [
        "top of page", "Featured Posts", "Recent Posts", "Search By Tags", "Follow Us",
        "Instagram", "Facebook Basic Square", "Twitter Basic Square", "YouTube", "LinkedIn", "bottom of page",
    ]


def test_interview_hard_wrapped_lines_are_joined(seeds):
    doc = seeds["interview"]
    result = paras(doc)
    assert len(result) == 9
    questions = [p for p in result if p.endswith("?")]
    assert questions == [
        "The number of North Korean defectors has reach 21,000 in the ROK, what insights can you provide on this?",
        "What other factors, whether life in the North, or en route out, hinder adjustment to the South?",
        "Do you think South Korean society is ready for mass migration of North Korean refugees in the event of regime collapse?",
        "What is the best way to ameliorate an IDP crisis?",
    ]
    answers = [p for p in result if not p.endswith("?")]
    assert len(answers) == 5 and all(len(p) > 900 for p in answers)
    assert answers[0].startswith("Since 2000, the number of North Koreans in the south has steadily increased. These individuals are living")
    assert answers[0].endswith("generous economic or social spirit towards defectors.")
    assert "but is alarmingly Other. According to" in answers[1]
    assert "\u201cbeastly\u201d and corrupt" in answers[1]  # curly quotes kept
    assert "couldn\u2019t handle" in answers[2]
    assert "an internal humanitarian crisis on a huge scale" in answers[3]
    assert answers[4].endswith("a profound knowledge of North Korean culture.")


def test_paragraph_lookup_on_a_seed(seeds):
    doc = seeds["bell"]
    offset = doc.text.index("between the powers")
    para = doc.paragraph_at(offset)
    assert "the exchange between the powers" in doc.paragraph_text(para)
