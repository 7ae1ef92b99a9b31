"""The library service on the real corpus and a real store folder."""

import pytest

from nkreader.core.library import Library, QuoteNotFound
from nkreader.core.model import DocumentError
from pdf_samples import write_locked_pdf


def test_highlight_quote_stores_anchor_note_and_theme(library):
    ann = library.highlight_quote("kwon", "human security", note="key concept", themes=["Human security"])
    doc = library.document("kwon-2023")
    t = ann["target"]
    assert doc.text[t["start"]:t["end"]] == "human security"
    assert t["prefix"] == doc.text[t["start"] - len(t["prefix"]):t["start"]]
    assert ann["fingerprint"] == doc.fingerprint
    assert [library.theme(x)["name"] for x in ann["themes"]] == ["Human security"]


def test_quote_not_found_raises(library):
    with pytest.raises(QuoteNotFound, match="not found"):
        library.highlight_quote("suh", "a sentence no author wrote")


def test_everything_survives_reopening(corpus_dir, data_dir):
    with Library.open(corpus_dir, data_dir) as lib:
        a = lib.highlight_quote("suh", "refugee status", note="n1", themes=["Refugee status"])
        b = lib.highlight_quote("bell", "forcibly repatriate", themes=["Refugee status"])
        link = lib.link(a["id"], b["id"], "disputes", "China's position")
    with Library.open(corpus_dir, data_dir) as lib:
        assert {x["id"] for x in lib.annotations()} == {a["id"], b["id"]}
        assert lib.links()[0]["id"] == link["id"] and lib.links()[0]["type"] == "disputes"
        theme = lib.theme_by_name("refugee status")
        assert lib.theme_counts()[theme["id"]] == {"suh-2002": 1, "bell-fattig": 1}


def test_deleting_an_annotation_deletes_its_links(library):
    a = library.highlight_quote("suh", "refugee status")
    b = library.highlight_quote("bell", "forcibly repatriate")
    library.link(a["id"], b["id"], "agrees")
    library.delete_annotation(a["id"])
    assert library.links() == [] and [x["id"] for x in library.annotations()] == [b["id"]]


def test_link_type_is_checked(library):
    a = library.highlight_quote("suh", "refugee status")
    b = library.highlight_quote("bell", "forcibly repatriate")
    with pytest.raises(ValueError):
        library.link(a["id"], b["id"], "likes")


def test_merge_and_delete_themes_keep_annotations(library):
    a = library.highlight_quote("suh", "refugee status", themes=["Refugees", "Law"])
    refugees, law = library.theme_by_name("Refugees"), library.theme_by_name("Law")
    library.merge_themes(law["id"], refugees["id"])
    assert library.annotation(a["id"])["themes"] == [refugees["id"]]
    library.delete_theme(refugees["id"])
    assert library.annotation(a["id"])["themes"] == [] and library.themes() == []


def test_duplicate_theme_names_are_refused(library):
    library.add_theme("China")
    with pytest.raises(ValueError):
        library.add_theme("china")


def test_citation_spans_paragraphs(library):
    doc = library.document("suh-2002")
    p3, p4 = doc.paragraphs[2], doc.paragraphs[3]
    ann = library.highlight("suh-2002", p3.end - 10, p4.start + 10)
    assert library.citation(ann) == f"Suh 2002, ¶{p3.number}\u2013{p4.number}"


def test_notes_with_lone_surrogates_are_stored_safely(library, corpus_dir, data_dir):
    ann = library.highlight_quote("suh", "refugee status", note="bad \udcff byte\r\nnext")
    assert library.annotation(ann["id"])["note"] == "bad \ufffd byte\nnext"
    library.update_annotation(ann["id"], note="again \ud800")
    assert library.annotation(ann["id"])["note"] == "again \ufffd"


def test_an_encrypted_pdf_opens_with_its_password_only(tmp_path):
    pymupdf = pytest.importorskip("pymupdf")
    from nkreader.core.model import DocumentError, PasswordRequired

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_locked_pdf(corpus / "locked.pdf", "Secret seminar notes on the Tumen crossing.")
    check = pymupdf.open(corpus / "locked.pdf")
    assert check.needs_pass and check.metadata is None  # nothing readable before the password
    assert check.authenticate("u") and "AES" in check.metadata["encryption"]  # AES-256 encrypted
    check.close()
    with Library.open(corpus, tmp_path / "data") as lib:
        with pytest.raises(PasswordRequired, match=r"^locked\.pdf is encrypted: a password is needed$") as e:
            lib.document("locked")
        assert e.value.refused is False and isinstance(e.value, DocumentError)
        with pytest.raises(PasswordRequired, match="password given is wrong") as e:
            lib.corpus.open("locked", password="guess")
        assert e.value.refused is True
        assert not lib.corpus.is_open("locked")  # nothing is kept from a refused attempt
        doc = lib.document("locked", password="u")
        assert doc.id == "locked" and "Secret seminar notes" in doc.text and doc.kind == "pdf"
        assert lib.corpus.is_open("locked") and lib.corpus.is_open("locked.pdf")
        # once open, the rest of the program finds it without the password
        assert lib.document("locked") is doc and lib.corpus.open("locked", password="guess") is doc
    with Library.open(corpus, tmp_path / "data2") as lib:
        assert lib.corpus.open("locked", password="o").text == doc.text  # the owner password opens it too


def test_a_locked_document_is_left_out_of_the_corpus_wide_views_not_fatal(tmp_path):
    pytest.importorskip("pymupdf")
    from nkreader.core.search import search_library

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "open.txt").write_text("Brokers guide defectors across the Tumen river.\n", encoding="utf-8")
    write_locked_pdf(corpus / "locked.pdf", "Brokers and the Tumen river, in secret.")
    with Library.open(corpus, tmp_path / "data") as lib:
        problems: dict[str, str] = {}
        assert [d.id for d in lib.corpus.documents(problems)] == ["open"]
        assert problems == {"locked": "locked.pdf is encrypted: a password is needed"}
        assert {h.doc_id for h in search_library(lib, "Tumen river")} == {"open"}
        lib.document("locked", password="u")  # once unlocked, it takes part like any other
        problems.clear()
        assert [d.id for d in lib.corpus.documents(problems)] == ["locked", "open"] and not problems
        assert {h.doc_id for h in search_library(lib, "Tumen river")} == {"open", "locked"}


def test_a_file_not_in_metadata_toml_is_known_by_its_own_metadata_once_opened(tmp_path):
    pymupdf = pytest.importorskip("pymupdf")
    from nkreader.core.corpus import Corpus, short_citation
    from nkreader.core.model import DocumentMetadata

    folder = tmp_path / "corpus"
    folder.mkdir()
    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), "Brokers guide defectors across the Tumen river.")
    pdf.set_metadata({"title": "Repatriation and Protection", "author": "Jane Park",
                      "creationDate": "D:20190304120000"})
    pdf.save(folder / "park.pdf")
    pdf.close()
    (folder / "notes.txt").write_text("No author here.\n\nJust a paragraph that ends a sentence.\n", encoding="utf-8")
    corpus = Corpus(folder)
    assert corpus.entry("park").metadata.title == "park"  # nothing read before opening
    doc = corpus.open("park")
    meta = corpus.entry("park").metadata
    assert (meta.title, meta.authors, meta.year, meta.citation) == ("Repatriation and Protection", ("Jane Park",),
                                                                     2019, "Park 2019")
    assert doc.metadata == meta and "creation date" in meta.note  # an inferred year says so
    assert corpus.open("notes").metadata.citation == "notes"  # no author named: the file name stays
    assert short_citation(DocumentMetadata(authors=("A B", "C D", "E F"))) == "B et al. n.d."
    assert short_citation(DocumentMetadata(authors=("Markus Bell", "Geoffrey Fattig"), year=2014)) \
        == "Bell and Fattig 2014"


def _park_pdf(path, text="Brokers guide defectors across the Tumen river."):
    import pymupdf

    pdf = pymupdf.open()
    pdf.new_page().insert_text((72, 72), text)
    pdf.set_metadata({"title": "Repatriation and Protection", "author": "Jane Park"})
    pdf.save(path)
    pdf.close()
    return path


def test_added_documents_are_copied_into_the_library_and_kept(corpus_dir, tmp_path):
    outside = tmp_path / "downloads"
    outside.mkdir()
    pdf = _park_pdf(outside / "suh-2002.pdf")  # the name of a bundled document: given another
    essay = outside / "essay.txt"
    essay.write_text("Defectors and brokers.\n\nRefugee status in China.\n", encoding="utf-8")
    with Library.open(corpus_dir, tmp_path / "data") as lib:
        before = list(lib.corpus.ids)
        added = lib.add_documents([pdf, essay])
        assert [e.id for e in added] == ["suh-2002-2", "essay"]
        assert lib.corpus.ids == before + ["suh-2002-2", "essay"]
        assert added[0].metadata.citation == "Park n.d."  # read from the PDF as it was added
        assert added[0].path.parent == tmp_path / "data" / "documents"
        ann = lib.highlight_quote("suh-2002-2", "across the Tumen river")
        assert lib.document("suh-2002-2").path == added[0].path
    pdf.unlink()
    essay.unlink()  # the originals gone: the library keeps its copies
    with Library.open(corpus_dir, tmp_path / "data") as lib:
        assert lib.corpus.ids == before + ["essay", "suh-2002-2"]  # (reopened: in file-name order)
        assert lib.annotation(ann["id"])["target"]["exact"] == "across the Tumen river"
        assert "Tumen" in lib.document("suh-2002-2").text
        assert lib.document("essay").text.startswith("Defectors and brokers.")
    assert not list((tmp_path / "data" / "documents").glob(".adding-*"))


def test_files_that_cannot_be_added_say_why_and_change_nothing(corpus_dir, tmp_path):
    outside = tmp_path / "downloads"
    outside.mkdir()
    (outside / "broken.pdf").write_bytes(b"%PDF-1.4 cut short")
    (outside / "essay.docx").write_bytes(b"PK\x03\x04")
    write_locked_pdf(outside / "locked.pdf", "Secret seminar notes.")
    bundled = next(corpus_dir.glob("*.txt"))
    with Library.open(corpus_dir, tmp_path / "data") as lib:
        before = list(lib.corpus.ids)
        problems = {}
        added = lib.add_documents([outside / "broken.pdf", outside / "essay.docx", outside / "missing.txt",
                                   bundled, outside / "locked.pdf"], problems)
        assert [e.id for e in added] == ["locked"]  # an encrypted PDF asks for its password when opened
        assert lib.corpus.ids == before + ["locked"]
        assert "damaged" in problems[str(outside / "broken.pdf")]
        assert "not a kind of file nkreader reads" in problems[str(outside / "essay.docx")]
        assert "not a file" in problems[str(outside / "missing.txt")]
        assert "already in the library as" in problems[str(bundled)]
        assert sorted(p.name for p in (tmp_path / "data" / "documents").iterdir()) == ["locked.pdf"]
        assert lib.document("locked", password="u").text.startswith("Secret seminar notes")
    with Library.open(corpus_dir, tmp_path / "data", readonly=True) as lib:
        with pytest.raises(DocumentError, match="read-only"):
            lib.add_documents([outside / "broken.pdf"])
