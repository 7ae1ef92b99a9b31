"""PDF handout: the text read back with PyMuPDF, CJK included, markup never interpreted."""

import pymupdf
import pytest

from nkreader.core.exports import export


def _text(path) -> str:
    with pymupdf.open(path) as doc:
        return "\n".join(page.get_text() for page in doc)


@pytest.mark.parametrize("by", ["document", "theme"])
def test_handout_text_reads_back(library, tmp_path, by):
    lib = library
    a = lib.highlight_quote("suh", "refugee status", note="<b>not bold</b> & <script>x</script>",
                            themes=["Refugee status"])
    b = lib.highlight_quote("bell", "forcibly repatriate", themes=["Refugee status"])
    lib.link(a["id"], b["id"], "disputes")
    out = tmp_path / f"handout-{by}.pdf"
    summary = export(lib, "pdf", out, by=by)
    assert summary["passages"] == 2
    assert out.read_bytes().startswith(b"%PDF-")
    text = _text(out)
    flat = " ".join(text.split())
    assert "refugee status" in flat and "forcibly repatriate" in flat
    assert "<b>not bold</b> & <script>x</script>" in flat
    assert lib.citation(lib.annotation(a["id"])) in flat
    assert "1 / 1" in flat
    if by == "theme":
        assert "Debate brief" in flat and "How the authors connect" in flat
    with pymupdf.open(out) as doc:
        assert doc.metadata["title"] in ("Reading notes", "Debate brief")


def test_japanese_and_korean_text_survive(tmp_path):
    from nkreader.core.library import Library

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ja.txt").write_text("北朝鮮問題における市民社会の役割と課題について述べる。\n\n탈북자 문제에 대한 다각적인 접근.\n",
                                   encoding="utf-8")
    with Library.open(corpus, tmp_path / "data") as lib:
        lib.highlight_quote("ja", "市民社会の役割", note="한국어 메모")
        lib.highlight_quote("ja", "탈북자 문제")
        out = tmp_path / "cjk.pdf"
        export(lib, "pdf", out)
    flat = "".join(_text(out).split())
    assert "市民社会の役割" in flat and "탈북자문제" in flat and "한국어메모" in flat


def test_long_export_spans_pages_with_numbers(library, tmp_path):
    lib = library
    doc = lib.document("kwon")
    for p in doc.paragraphs[:25]:
        lib.highlight("kwon", p.start, p.end, note="note " * 40)
    out = tmp_path / "long.pdf"
    export(lib, "pdf", out)
    with pymupdf.open(out) as pdf:
        n = pdf.page_count
        assert n > 1
        assert f"{n} / {n}" in pdf[n - 1].get_text()
