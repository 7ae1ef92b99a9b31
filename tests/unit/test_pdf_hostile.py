"""Hostile and difficult files: what PyMuPDF 2.0 really does with each, and what we make of it.

Each case records PyMuPDF's own behaviour first (so an upgrade that changes it shows up here),
then checks that ``PageSource`` (the page view) and ``open_document`` (the text) turn it into a
clear ``DocumentError`` or warning, never a crash or a hang. Files are generated in the tests.
"""

from __future__ import annotations

import builtins
import time
import zipfile

from pdf_samples import write_epub

import pytest

pymupdf = pytest.importorskip("pymupdf")

from nkreader.core.documents import open_document  # noqa: E402
from nkreader.core.model import DocumentError, PasswordRequired  # noqa: E402
from nkreader.core.pdf import load_pymupdf  # noqa: E402
from nkreader.core.pdf_pages import EPUB_MAX_DEPTH, MAX_PIXELS, PageSource, check_epub, safe_uri  # noqa: E402

load_pymupdf()  # MuPDF's own messages off, as in the application


def _pdf(path, texts=("A page of text that can be read.",), size=(595, 842)):
    doc = pymupdf.open()
    for t in texts:
        page = doc.new_page(width=size[0], height=size[1])
        page.insert_textbox(pymupdf.Rect(72, 72, min(size[0], 523), min(size[1], 400)), t, fontsize=11)
    doc.save(path)
    doc.close()
    return path


def _mro(exc: BaseException) -> list[str]:
    return [c.__name__ for c in type(exc).__mro__]


# --- zero bytes -----------------------------------------------------------------------------------


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(pymupdf.EmptyFileError) as info:
        pymupdf.open(path)
    assert _mro(info.value)[:3] == ["EmptyFileError", "FileDataError", "RuntimeError"]
    with pytest.raises(DocumentError, match=r"^empty\.pdf is empty \(0 bytes\)$"):
        PageSource(path)


# --- missing ------------------------------------------------------------------------------------------


def test_missing_file_raises_pymupdfs_own_file_not_found(tmp_path):
    path = tmp_path / "gone.pdf"
    with pytest.raises(pymupdf.FileNotFoundError) as info:
        pymupdf.open(path)
    # not Python's FileNotFoundError (an OSError): `except FileNotFoundError` would not catch it
    assert not isinstance(info.value, builtins.FileNotFoundError)
    assert isinstance(info.value, RuntimeError)
    with pytest.raises(DocumentError, match="gone.pdf was not found"):
        PageSource(path)


# --- not a PDF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"just some words\n" * 20, b"%PDX-1.4 not quite\n" * 5])
def test_not_a_pdf(tmp_path, content):
    path = tmp_path / "paper.pdf"
    path.write_bytes(content)
    with pytest.raises(pymupdf.FileDataError, match="Failed to open file"):
        pymupdf.open(path, filetype="pdf")
    with pytest.raises(DocumentError, match=r"^paper\.pdf is damaged or truncated: it cannot be read as a PDF$"):
        PageSource(path)
    with pytest.raises(DocumentError, match=r"^paper\.pdf is not a PDF"):
        open_document(path)


@pytest.mark.parametrize("content", [b"<html><body>a web page</body></html>", b"\x89PNG\r\n\x1a\n" + bytes(200)])
def test_mupdf_opens_a_web_page_or_an_image_named_pdf_as_what_it_is(tmp_path, content):
    path = tmp_path / "paper.pdf"
    path.write_bytes(content)
    doc = pymupdf.open(path, filetype="pdf")  # filetype is a hint: MuPDF sniffs the content
    assert doc.page_count == 1 and not doc.is_pdf
    doc.close()
    with pytest.raises(DocumentError, match=r"^paper\.pdf is not a PDF$"):
        PageSource(path)
    with pytest.raises(DocumentError, match=r"^paper\.pdf is not a PDF"):
        open_document(path)


# --- truncated ------------------------------------------------------------------------------------------

# What MuPDF 2.0 makes of a two-page PDF cut short, by how much of it is left.
CUTS = [
    (0.1, "no pages"),  # "repaired" into a document of 0 pages
    (0.3, "error"),  # FileDataError (from FzErrorSyntax "invalid key in dict")
    (0.6, "first page"),  # repaired: two pages, the second one blank
    (0.9, "both pages"),  # repaired: all the text (the xref table was lost, not the content)
]


@pytest.mark.parametrize("fraction,outcome", CUTS)
def test_truncated_pdf(tmp_path, fraction, outcome):
    full = _pdf(tmp_path / "full.pdf", ["First page of a paper.", "Second page of it."])
    data = full.read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: int(len(data) * fraction)])
    try:
        doc = pymupdf.open(path)
    except pymupdf.FileDataError:
        got = "error"
    else:
        assert doc.is_repaired
        texts = [doc[i].get_text().strip() for i in range(doc.page_count)]
        got = {0: "no pages"}.get(doc.page_count) or (
            "both pages" if all(texts) else "first page" if texts[0] else "blank")
        doc.close()
    assert got == outcome
    if outcome in ("no pages", "error"):
        with pytest.raises(DocumentError, match=r"^cut\.pdf is damaged or truncated"):
            PageSource(path)
        with pytest.raises(DocumentError, match=r"^cut\.pdf is damaged or truncated"):
            open_document(path)
        return
    opened = open_document(path)  # the text side opens what was recovered, and says so
    assert "cut.pdf was damaged and has been repaired on opening: some text may be missing" in opened.warnings
    with PageSource(path) as src:
        assert src.repaired and src.page_count == 2
        assert src.render(1, 0.5).width > 0
        lay = src.layout(1, opened)
        assert bool(lay.words) == (outcome == "both pages") == lay.has_text
        first = src.layout(0, opened)
        assert [w.text for w in first.words] == ["First", "page", "of", "a", "paper."]
        assert all(w.mapped for w in first.words)


def test_truncated_to_blank_pages(tmp_path):
    """A PDF whose content streams are lost but whose page tree survives: blank pages, no text."""
    doc = pymupdf.open()
    for t in ("Lost text one.", "Lost text two."):
        doc.new_page().insert_text((72, 72), t)
    path = tmp_path / "blank.pdf"
    doc.save(path)
    data = path.read_bytes()
    # cut every content stream out, keep the page objects
    import re

    damaged = re.sub(rb"stream\n.*?\nendstream", b"stream\nendstream", data, flags=re.DOTALL)
    damaged = damaged[: damaged.rindex(b"xref")]  # and the xref table: MuPDF must repair
    path.write_bytes(damaged)
    with pytest.raises(DocumentError, match=r"^blank\.pdf is damaged or truncated: no text could be recovered"):
        open_document(path)
    with PageSource(path) as src:
        assert src.repaired and src.page_count == 2
        assert src.layout(0).words == [] and not src.layout(0).has_text


def test_garbage_after_the_header(tmp_path):
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    with pytest.raises(DocumentError, match=r"^garbage\.pdf is damaged or truncated"):
        PageSource(path)


# --- encrypted ------------------------------------------------------------------------------------------


@pytest.fixture
def locked(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Secret seminar notes.", fontsize=12)
    path = tmp_path / "locked.pdf"
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="seminar", owner_pw="owner")
    doc.close()
    return path


def test_encrypted_pdf_in_pymupdf(locked):
    doc = pymupdf.open(locked)
    assert doc.needs_pass and doc.is_encrypted
    assert doc.authenticate("guess") == 0  # wrong: a falsy code, no exception
    assert doc.authenticate("seminar") > 0
    assert "Secret seminar notes." in doc[0].get_text()
    doc.close()


def test_encrypted_pdf_asks_and_refuses(locked):
    with pytest.raises(PasswordRequired, match=r"^locked\.pdf is encrypted: a password is needed$") as e:
        PageSource(locked)
    assert e.value.refused is False and isinstance(e.value, DocumentError)
    with pytest.raises(PasswordRequired, match=r"^locked\.pdf is encrypted: a password is needed$") as e:
        PageSource(locked, password="")
    assert e.value.refused is False
    with pytest.raises(PasswordRequired, match=r"^locked\.pdf is encrypted and the password given is wrong$") as e:
        PageSource(locked, password="guess")
    assert e.value.refused is True and e.value.name == "locked.pdf"
    # the text extraction raises the same type
    with pytest.raises(PasswordRequired) as e:
        open_document(locked)
    assert e.value.refused is False
    with pytest.raises(PasswordRequired) as e:
        open_document(locked, password="guess")
    assert e.value.refused is True
    doc = open_document(locked, password="seminar")
    with PageSource(locked, password="seminar") as src:
        lay = src.layout(0, doc)
        assert [w.text for w in lay.words] == ["Secret", "seminar", "notes."]
        assert all(w.mapped for w in lay.words)
        assert src.render(0, 1.0).nbytes > 0


def test_owner_password_only_opens_without_asking(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Printable but not editable.")
    path = tmp_path / "owner.pdf"
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_128, owner_pw="owner", user_pw="")
    with PageSource(path) as src:
        assert src.page_count == 1


# --- huge page ------------------------------------------------------------------------------------------


def test_huge_page(tmp_path):
    path = _pdf(tmp_path / "huge.pdf", ["A poster-sized page."], size=(14400, 14400))
    doc = pymupdf.open(path)
    page = doc[0]
    # MuPDF refuses a pixmap past its limit with FzErrorLimit — not a RuntimeError
    with pytest.raises(pymupdf.mupdf.FzErrorLimit) as info:
        page.get_pixmap(matrix=pymupdf.Matrix(50, 50))
    assert not isinstance(info.value, RuntimeError)
    assert "Overly large image" in str(info.value)
    doc.close()
    # at 200 % the page would be 38,400 pixels square (4.4 GB of RGB): we render within the cap
    with PageSource(path) as src:
        start = time.perf_counter()
        r = src.render(0, 2.0 * 96 / 72)
        assert time.perf_counter() - start < 10
        assert r.capped and r.width * r.height <= MAX_PIXELS
        assert r.nbytes <= 3 * MAX_PIXELS


def test_page_beyond_the_pdf_size_limit(tmp_path):
    # MuPDF writes pages larger than the 14,400-unit limit of the PDF spec without complaint
    path = _pdf(tmp_path / "beyond.pdf", ["Far too big."], size=(200_000, 200_000))
    with PageSource(path) as src:
        assert src.sizes[0] == (200_000.0, 200_000.0)
        r = src.render(0, 1.0)
        assert r.capped and r.width * r.height <= MAX_PIXELS


def test_degenerate_page_size(tmp_path):
    doc = pymupdf.open()
    doc.new_page(width=1, height=1)
    path = tmp_path / "tiny.pdf"
    doc.save(path)
    with PageSource(path) as src:
        r = src.render(0, 1.0)
        assert r.width >= 1 and r.height >= 1


# --- EPUB with extreme nesting -----------------------------------------------------------------------------


def _epub(path, body):
    return write_epub(path, body, compress=zipfile.ZIP_DEFLATED)


def _nested(depth: int) -> str:
    return "<div>" * depth + "Deep text here." + "</div>" * depth + "<p>After the nest.</p>"


def test_mupdf_drops_text_nested_about_a_hundred_deep(tmp_path):
    shallow = pymupdf.open(_epub(tmp_path / "shallow.epub", _nested(60)))
    assert "Deep text here." in shallow[0].get_text()
    deep = pymupdf.open(_epub(tmp_path / "deep.epub", _nested(120)))
    text = deep[0].get_text()
    assert "Deep text here." not in text and "After the nest." in text  # silently lost


def test_mupdf_refuses_nesting_in_the_thousands_with_a_runtime_error(tmp_path):
    doc = pymupdf.open(_epub(tmp_path / "nest.epub", _nested(6000)))  # opening is lazy…
    with pytest.raises(RuntimeError, match="too deep xml element nesting"):
        doc.page_count  # …the error comes when the book is laid out
    doc.close()


def test_extreme_nesting_is_refused_at_once_without_mupdf(tmp_path):
    # 100,000 levels: MuPDF takes ~100 s to lay this out before refusing it; we scan it first
    path = _epub(tmp_path / "bomb.epub", _nested(100_000))
    start = time.perf_counter()
    with pytest.raises(DocumentError, match=r"^bomb\.epub is nested too deeply to be shown"):
        PageSource(path)
    with pytest.raises(DocumentError, match="nested too deeply"):
        check_epub(path)
    assert time.perf_counter() - start < 5


def test_reasonable_nesting_is_shown(tmp_path):
    path = _epub(tmp_path / "ok.epub", _nested(40) + "<br/><img src='x.png'/><hr>" * 50)
    check_epub(path)
    assert EPUB_MAX_DEPTH >= 200
    with PageSource(path) as src:
        assert src.page_count >= 1


def test_open_document_refuses_deep_nesting_with_a_document_error(tmp_path):
    path = _epub(tmp_path / "nest.epub", _nested(6000))
    try:
        open_document(path)
    except DocumentError:
        return
    except RuntimeError:
        raise AssertionError("a RuntimeError escaped") from None
    raise AssertionError("opened")


def test_broken_epub(tmp_path):
    path = tmp_path / "broken.epub"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
    with pytest.raises(DocumentError, match="broken.epub"):
        PageSource(path)


def test_epub_that_is_not_a_zip(tmp_path):
    path = tmp_path / "book.epub"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    with pytest.raises(DocumentError, match="book.epub is damaged or truncated"):
        PageSource(path)


# --- scanned: no text layer ------------------------------------------------------------------------------


def test_scanned_page_has_no_words_but_renders(tmp_path):
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 200, 100), False)
    pix.clear_with(200)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_image(pymupdf.Rect(72, 72, 472, 272), pixmap=pix)
    path = tmp_path / "scan.pdf"
    doc.save(path)
    opened = open_document(path)
    assert opened.warnings == ["scan.pdf has no text layer (scanned?): there is no text to annotate"]
    with PageSource(path) as src:
        lay = src.layout(0, opened)
        assert lay.words == [] and not lay.has_text
        r = src.render(0, 1.0)
        row = 150 * r.stride  # the grey image is drawn
        assert r.samples[row + 3 * 200] == 200


# --- links ---------------------------------------------------------------------------------------------


def test_link_schemes_in_a_real_pdf(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    uris = ["https://example.org/ok", "http://example.org/ok", "mailto:x@example.org", "javascript:app.alert(1)",
            "JAVASCRIPT:alert(1)", "file:///etc/passwd", "data:text/html,hi", "ftp://example.org/f", "vbscript:x",
            "\tjavascript:alert(1)"]
    for k, uri in enumerate(uris):
        page.insert_link({"kind": pymupdf.LINK_URI, "uri": uri, "from": pymupdf.Rect(50, 50 + 20 * k, 300, 65 + 20 * k)})
    page.insert_link({"kind": pymupdf.LINK_LAUNCH, "file": "calc.exe", "from": pymupdf.Rect(50, 300, 300, 315)})
    path = tmp_path / "links.pdf"
    doc.save(path)
    raw = pymupdf.open(path)[0].get_links()
    # what MuPDF makes of them: a file: URI comes back as a launch link, a launch link written
    # by pymupdf as a link into another file; the rest as written
    assert [link["kind"] for link in raw] == [pymupdf.LINK_URI] * 5 + [pymupdf.LINK_LAUNCH] + [pymupdf.LINK_URI] * 3 + \
        [raw[9]["kind"], pymupdf.LINK_GOTOR]
    with PageSource(path) as src:
        links = src.layout(0).links
    followable = [link.target for link in links if link.kind == "uri"]
    assert followable == ["https://example.org/ok", "http://example.org/ok", "mailto:x@example.org"]
    assert all(safe_uri(t) for t in followable)
    assert sum(link.kind == "blocked" for link in links) == len(links) - 3
