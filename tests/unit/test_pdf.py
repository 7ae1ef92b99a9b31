"""PDF and EPUB through open_document: pages, labels, hyphenation, headers, columns, errors.

Every file is generated here with pymupdf (its bundled CJK font has ligature and CJK glyphs, so
no system font is needed).
"""

import subprocess
import sys
import unicodedata
import zipfile

import pytest

pymupdf = pytest.importorskip("pymupdf")

from nkreader.core.documents import open_document  # noqa: E402
from nkreader.core.model import DocumentError  # noqa: E402

from pdf_samples import A4, FOOTER, HEADER, JA, LEFT_1, LEFT_2, P1_A, P1_B, P2_A, RIGHT_1, RIGHT_2  # noqa: E402


def _page(doc, font):
    page = doc.new_page(width=A4[0], height=A4[1])
    page.insert_font(fontname="F0", fontbuffer=font.buffer)
    return page


def _box(page, rect, text, size=11):
    rc = page.insert_textbox(pymupdf.Rect(*rect), text, fontname="F0", fontsize=size)
    assert rc >= 0, "text did not fit its box"


def _furniture(page, number):
    page.insert_text((72, 40), HEADER, fontname="F0", fontsize=9)
    page.insert_text((72, 815), FOOTER, fontname="F0", fontsize=8)
    page.insert_text((290, 815), str(number + 43), fontname="F0", fontsize=8)


def well_formed(doc):
    text = doc.text
    assert unicodedata.is_normalized("NFC", text)
    assert [p.number for p in doc.paragraphs] == list(range(1, len(doc.paragraphs) + 1))
    assert text == "\n\n".join(doc.paragraph_text(p) for p in doc.paragraphs)
    for p in doc.paragraphs:
        chunk = text[p.start : p.end]
        assert chunk and chunk == chunk.strip() and "\n" not in chunk
    starts = [pg.start for pg in doc.pages]
    assert starts == sorted(starts)
    for pg in doc.pages:
        assert 0 <= pg.start <= pg.end <= len(text)


@pytest.fixture(scope="module")
def sample_pdf(tmp_path_factory):
    font = pymupdf.Font("cjk")
    doc = pymupdf.open()
    p1 = _page(doc, font)
    _furniture(p1, 1)
    _box(p1, (72, 80, 523, 160), P1_A)
    _box(p1, (72, 700, 523, 780), P1_B)
    p2 = _page(doc, font)
    _furniture(p2, 2)
    _box(p2, (72, 80, 523, 140), P2_A)
    _box(p2, (72, 200, 290, 300), LEFT_1, 10)
    _box(p2, (72, 320, 290, 420), LEFT_2, 10)
    _box(p2, (305, 200, 523, 300), RIGHT_1, 10)
    _box(p2, (305, 320, 523, 420), RIGHT_2, 10)
    p3 = _page(doc, font)
    _furniture(p3, 3)
    _box(p3, (72, 80, 523, 140), JA + "Final page.")
    doc.set_page_labels(
        [
            {"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1},
            {"startpage": 1, "prefix": "", "style": "D", "firstpagenum": 45},
        ]
    )
    doc.set_metadata({"title": "International cooperation", "author": "Markus Bell; Geoffrey Fattig", "creationDate": "D:20140301120000"})
    path = tmp_path_factory.mktemp("pdf") / "bell.pdf"
    doc.save(path)
    doc.close()
    return path


@pytest.fixture(scope="module")
def opened(sample_pdf):
    return open_document(sample_pdf)


def texts(doc):
    return [doc.paragraph_text(p) for p in doc.paragraphs]


def test_pdf_is_well_formed(opened):
    well_formed(opened)
    assert opened.kind == "pdf" and opened.warnings == []


def test_pages_and_labels(opened):
    assert [(p.number, p.label) for p in opened.pages] == [(1, "i"), (2, "45"), (3, "46")]
    first = opened.paragraphs[0]
    assert (first.page, first.page_label) == (1, "i")
    last = opened.paragraphs[-1]
    assert (last.page, last.page_label) == (3, "46")


def test_ligatures_expanded_and_hyphenation_joined(opened):
    first = opened.paragraph_text(opened.paragraphs[0])
    assert first.startswith("The first paragraph describes the office of civil society groups")
    assert "flow of people" in first
    assert not any("\ufb00" <= c <= "\ufb06" for c in opened.text)
    assert "soci-" not in opened.text


def test_numbered_headings_at_the_top_of_pages_are_not_headers(tmp_path):
    # "Chapter 1" and "Chapter 3" head pages 1 and 2: same text but for a number that does not
    # advance with the page, so they are headings, not a running header.
    font = pymupdf.Font("cjk")
    doc = pymupdf.open()
    for n in (1, 3):
        page = _page(doc, font)
        page.insert_text((72, 60), f"Chapter {n}", fontname="F0", fontsize=14)
        _box(page, (72, 120, 523, 300), f"The text of chapter {n} begins here and says what it says.")
    path = tmp_path / "chapters.pdf"
    doc.save(path)
    result = texts(open_document(path))
    assert "Chapter 1" in result and "Chapter 3" in result


def test_footer_with_printed_page_numbers_is_removed_without_labels(tmp_path):
    font = pymupdf.Font("cjk")
    doc = pymupdf.open()
    for i in range(2):
        page = _page(doc, font)
        page.insert_text((72, 815), f"FMR 45 www.fmreview.org {44 + i}", fontname="F0", fontsize=8)
        _box(page, (72, 120, 523, 300), f"Body text of the page number {i + 1}, with its own words.")
    path = tmp_path / "footer.pdf"
    doc.save(path)
    opened = open_document(path)
    assert "fmreview" not in opened.text
    assert opened.removed == ["FMR 45 www.fmreview.org 44"]


def test_running_header_footer_and_page_numbers_removed(opened):
    assert HEADER not in opened.text and FOOTER not in opened.text
    assert HEADER in opened.removed and any(FOOTER in r for r in opened.removed)
    for n in ("44", "45", "46"):
        assert n not in opened.text.split()


def test_paragraph_over_a_page_break_is_one_paragraph(opened):
    result = texts(opened)
    joined = next(p for p in result if "the exchange" in p)
    assert joined.endswith("and the exchange between the powers of the region. It is high time the international community called for action.")
    para = next(p for p in opened.paragraphs if "the exchange" in opened.paragraph_text(p))
    assert para.page == 1 and para.page_label == "i"  # the page it starts on
    # the page boundary falls inside the paragraph
    offset = opened.text.index("between the powers")
    assert opened.page_at(offset).number == 2
    assert opened.page_at(opened.text.index("the exchange")).number == 1
    assert not any(p.startswith("between") for p in result)


def test_two_columns_read_in_column_order(opened):
    result = texts(opened)
    order = [result.index(t) for t in (LEFT_1, LEFT_2, RIGHT_1, RIGHT_2)]
    assert order == sorted(order)
    assert all(result[i].endswith(".") for i in order)


def test_cjk_kept(opened):
    assert JA + "Final page." in texts(opened)


def test_page_spans(opened):
    pages = opened.pages
    assert opened.text[pages[0].start :].startswith("The first paragraph")
    assert opened.text[pages[1].start :].startswith("between the powers")
    assert opened.text[pages[2].start : pages[2].end] == JA + "Final page."


def test_metadata_from_the_pdf(opened):
    meta = opened.metadata
    assert meta.title == "International cooperation"
    assert meta.authors == ("Markus Bell", "Geoffrey Fattig")
    assert meta.year == 2014


def test_single_block_paragraphs_split_at_indent_and_short_lines(tmp_path):
    font = pymupdf.Font("cjk")
    doc = pymupdf.open()
    page = _page(doc, font)
    y = 80
    lines = [
        (72, "This first paragraph runs over several lines of text which all reach the"),
        (72, "right margin of the column except for the very last line of it, which"),
        (72, "ends here."),
        (90, "A second paragraph starts with an indent, as in print, and it runs on to"),
        (72, "the margin before it ends on a short line."),
        (72, "A third paragraph has no indent but the line before it ended short of the"),
        (72, "margin and with a full stop."),
    ]
    for x, line in lines:
        page.insert_text((x, y), line, fontname="F0", fontsize=10)
        y += 12
    path = tmp_path / "indent.pdf"
    doc.save(path)
    result = texts(open_document(path))
    assert len(result) == 3, result
    assert result[1].startswith("A second paragraph") and result[2].startswith("A third paragraph")


# --- errors -----------------------------------------------------------------------------------


def test_zero_byte_pdf(tmp_path):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(DocumentError, match=r"^empty\.pdf is empty \(0 bytes\)$"):
        open_document(path)


@pytest.mark.parametrize(
    "content, hint",
    [
        (b"Just some text, not a PDF at all.\n" * 5, "plain text"),
        (b"<!DOCTYPE html><html><body>Login</body></html>", "web page"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image"),
    ],
)
def test_not_a_pdf(tmp_path, content, hint):
    path = tmp_path / "paper.pdf"
    path.write_bytes(content)
    with pytest.raises(DocumentError, match=rf"^paper\.pdf is not a PDF \(it is .*{hint}"):
        open_document(path)


def test_missing_pdf(tmp_path):
    with pytest.raises(DocumentError, match="was not found"):
        open_document(tmp_path / "gone.pdf")


def test_truncated_pdf(tmp_path, sample_pdf):
    data = sample_pdf.read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(DocumentError, match=r"^cut\.pdf is damaged or truncated"):
        open_document(path)


def test_garbage_after_pdf_header(tmp_path):
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"%PDF-1.7\n" + b"not really a pdf " * 50)
    with pytest.raises(DocumentError, match="damaged or truncated"):
        open_document(path)


def test_repaired_pdf_opens_with_a_warning(tmp_path):
    font = pymupdf.Font("cjk")
    doc = pymupdf.open()
    for i in range(3):
        _box(_page(doc, font), (72, 80, 523, 200), f"Text of page {i + 1} survives the damage.")
    data = doc.tobytes()
    doc.close()
    # drop the cross-reference table and trailer: MuPDF rebuilds them
    cut = data.rindex(b"xref")
    path = tmp_path / "noxref.pdf"
    path.write_bytes(data[:cut])
    try:
        opened = open_document(path)
    except DocumentError as e:
        assert "damaged or truncated" in str(e)
    else:
        assert any("repaired" in w for w in opened.warnings)
        well_formed(opened)


@pytest.fixture(scope="module")
def encrypted_pdf(tmp_path_factory):
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "Secret seminar notes.")
    path = tmp_path_factory.mktemp("enc") / "locked.pdf"
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="seminar", owner_pw="owner")
    return path


def test_encrypted_needs_password(encrypted_pdf):
    with pytest.raises(DocumentError, match=r"^locked\.pdf is encrypted: a password is needed$"):
        open_document(encrypted_pdf)


def test_encrypted_wrong_password(encrypted_pdf):
    with pytest.raises(DocumentError, match="password given is wrong"):
        open_document(encrypted_pdf, password="guess")


def test_encrypted_right_password(encrypted_pdf):
    doc = open_document(encrypted_pdf, password="seminar")
    assert texts(doc) == ["Secret seminar notes."]


def test_owner_password_only_opens_without_asking(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "Readable by all.")
    path = tmp_path / "owner.pdf"
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_128, owner_pw="owner", user_pw="")
    assert texts(open_document(path)) == ["Readable by all."]


def test_some_scanned_pages_are_named(tmp_path):
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 150), "A page with text.")
    for _ in range(2):
        pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 20, 20), False)
        pix.clear_with(120)
        doc.new_page().insert_image(pymupdf.Rect(72, 72, 300, 300), pixmap=pix)
    doc.new_page()  # an intentionally blank page is not reported
    path = tmp_path / "mixed.pdf"
    doc.save(path)
    opened = open_document(path)
    assert opened.warnings == ["mixed.pdf has pages without a text layer (scanned?): 2–3"]
    assert [(p.number, p.start, p.end) for p in opened.pages][1:] == [(2, 17, 17), (3, 17, 17), (4, 17, 17)]


def test_scanned_pdf_warns_no_text_layer(tmp_path):
    doc = pymupdf.open()
    page = doc.new_page()
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 40, 40), False)
    pix.clear_with(180)
    page.insert_image(pymupdf.Rect(72, 72, 400, 400), pixmap=pix)
    path = tmp_path / "scan.pdf"
    doc.save(path)
    opened = open_document(path)
    assert opened.warnings == ["scan.pdf has no text layer (scanned?): there is no text to annotate"]
    assert opened.text == "" and opened.paragraphs == []
    assert [(p.number, p.start, p.end) for p in opened.pages] == [(1, 0, 0)]


def test_pdf_named_txt_is_opened_as_pdf(tmp_path, sample_pdf):
    path = tmp_path / "mislabelled.txt"
    path.write_bytes(sample_pdf.read_bytes())
    doc = open_document(path)
    assert doc.kind == "pdf"
    assert doc.warnings == ["mislabelled.txt is named like a text file but is a PDF; opened as PDF"]


# --- EPUB -------------------------------------------------------------------------------------------


def _write_epub(path, chapters, title="Voices from the North", author="Jane Roe"):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr(
            "META-INF/container.xml",
            '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
            '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
        )
        items = "".join(f'<item id="c{i}" href="c{i}.xhtml" media-type="application/xhtml+xml"/>' for i in range(len(chapters)))
        spine = "".join(f'<itemref idref="c{i}"/>' for i in range(len(chapters)))
        z.writestr(
            "OEBPS/content.opf",
            '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:x</dc:identifier>'
            f"<dc:title>{title}</dc:title><dc:creator>{author}</dc:creator><dc:language>en</dc:language></metadata>"
            f"<manifest>{items}</manifest><spine>{spine}</spine></package>",
        )
        for i, (heading, paragraphs) in enumerate(chapters):
            body = "".join(f"<p>{p}</p>" for p in paragraphs)
            z.writestr(
                f"OEBPS/c{i}.xhtml",
                '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title></head>'
                f"<body><h1>{heading}</h1>{body}</body></html>",
            )


EPUB_PARAS = [
    f"Paragraph {i} tells how a family crossed the Tumen river at night, hid in a farmhouse near "
    f"Yanji for weeks, and moved south by bus and on foot until they reached a safe house ({i})."
    for i in range(40)
]


@pytest.fixture(scope="module")
def epub_doc(tmp_path_factory):
    path = tmp_path_factory.mktemp("epub") / "voices.epub"
    _write_epub(path, [("Chapter One", EPUB_PARAS[:25]), ("Chapter Two \u2013 脱北者", EPUB_PARAS[25:])])
    return open_document(path)


def test_epub_paragraphs_and_pages(epub_doc):
    well_formed(epub_doc)
    assert epub_doc.kind == "epub"
    result = texts(epub_doc)
    assert result == ["Chapter One", *EPUB_PARAS[:25], "Chapter Two \u2013 脱北者", *EPUB_PARAS[25:]]
    assert len(epub_doc.pages) > 2
    assert epub_doc.paragraphs[0].page == 1
    assert epub_doc.paragraphs[-1].page == len(epub_doc.pages)
    assert all(p.page_label is None for p in epub_doc.paragraphs)


def test_epub_metadata(epub_doc):
    assert epub_doc.metadata.title == "Voices from the North"
    assert epub_doc.metadata.authors == ("Jane Roe",)


def test_epub_that_is_not_a_zip(tmp_path):
    path = tmp_path / "book.epub"
    path.write_text("plain words", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"^book\.epub is not an EPUB"):
        open_document(path)


def test_broken_epub(tmp_path):
    path = tmp_path / "broken.epub"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
    with pytest.raises(DocumentError, match="damaged or truncated"):
        open_document(path)


# --- import contract --------------------------------------------------------------------------------


def test_pdf_module_imports_pymupdf_lazily():
    code = "import sys, nkreader.core.pdf; print('pymupdf' in sys.modules or 'fitz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


# --- structure inside blocks and across pages ----------------------------------------------------


def test_non_ascii_page_label_prefix_is_decoded(tmp_path):
    doc = pymupdf.open()
    for word in ("one", "two"):
        doc.new_page().insert_text((72, 150), f"Appendix text {word}.")
    doc.set_page_labels([{"startpage": 0, "prefix": "付録-", "style": "D", "firstpagenum": 1}])
    path = tmp_path / "labels.pdf"
    doc.save(path)
    opened = open_document(path)
    assert [p.label for p in opened.pages] == ["付録-1", "付録-2"]
    assert opened.paragraphs[1].page_label == "付録-2"


def test_bullets_in_one_block_are_separate_paragraphs(tmp_path):
    font = pymupdf.Font("cjk")
    doc = pymupdf.open()
    page = _page(doc, font)
    y = 80
    for line in [
        "The minimums must be accessible to all of them:",
        "• essential food and potable water;",
        "• basic shelter and housing, appropriate clothing and",
        "  essential medical services;",
        "• sanitation.",
    ]:
        page.insert_text((72, y), line, fontname="F0", fontsize=10)
        y += 12
    path = tmp_path / "bullets.pdf"
    doc.save(path)
    result = texts(open_document(path))
    assert result == [
        "The minimums must be accessible to all of them:",
        "• essential food and potable water;",
        "• basic shelter and housing, appropriate clothing and essential medical services;",
        "• sanitation.",
    ]


def test_heading_is_not_merged_with_the_text_after_it(tmp_path):
    font = pymupdf.Font("cjk")
    doc = pymupdf.open()
    p1 = _page(doc, font)
    _box(p1, (72, 80, 523, 200), "A paragraph of body text that ends properly, as paragraphs do. " * 3)
    p1.insert_text((72, 780), "4.2 The role of brokers", fontname="F0", fontsize=16)
    p2 = _page(doc, font)
    _box(p2, (72, 80, 523, 200), "brokers are the ones who organise the journey south, for a fee. " * 3)
    path = tmp_path / "heading.pdf"
    doc.save(path)
    result = texts(open_document(path))
    assert "4.2 The role of brokers" in result
    assert len(result) == 3


def test_word_hyphenated_over_a_page_break(tmp_path):
    font = pymupdf.Font("cjk")
    doc = pymupdf.open()
    _box(_page(doc, font), (72, 700, 523, 780), "Defectors depend on the networks of civil soci-")
    _box(_page(doc, font), (72, 80, 523, 200), "ety groups in China and in the South.")
    path = tmp_path / "hyphen.pdf"
    doc.save(path)
    opened = open_document(path)
    assert texts(opened) == ["Defectors depend on the networks of civil society groups in China and in the South."]
    assert opened.page_at(opened.text.index("ety groups")).number == 2
    assert opened.page_at(opened.text.index("soci")).number == 1
    assert opened.pages[0].end == opened.text.index("ety groups")
    well_formed(opened)


def test_a_page_mupdf_cannot_read_is_a_warning_not_a_crash(tmp_path, monkeypatch):
    doc = pymupdf.open()
    for word in ("First", "Second", "Third"):
        doc.new_page().insert_text((72, 150), f"{word} page.")
    path = tmp_path / "damaged.pdf"
    doc.save(path)
    real = pymupdf.Page.get_text

    def flaky(self, *args, **kwargs):
        if self.number == 1:
            # what MuPDF raises on a broken content stream: not a RuntimeError subclass
            raise pymupdf.mupdf.FzErrorFormat("syntax error in content stream")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(pymupdf.Page, "get_text", flaky)
    opened = open_document(path)
    assert texts(opened) == ["First page.", "Third page."]
    assert opened.warnings == ["damaged.pdf has a page that could not be read: 2"]
    assert len(opened.pages) == 3


def test_footnote_between_a_paragraph_and_its_continuation(tmp_path):
    font = pymupdf.Font("cjk")
    doc = pymupdf.open()
    p1 = _page(doc, font)
    _box(p1, (72, 80, 523, 400), "Body text that is set in the normal size of the article, as most of it is. " * 4)
    _box(p1, (72, 640, 523, 720), "The informal networks that move people south are run by brokers1 and the exchange")
    _box(p1, (72, 740, 523, 770), "1 On brokers see the UNHCR report of 2012.", 8)
    p2 = _page(doc, font)
    _box(p2, (72, 80, 523, 200), "between them is paid in cash. Body text again in the normal size of the article.")
    path = tmp_path / "notes.pdf"
    doc.save(path)
    opened = open_document(path)
    well_formed(opened)
    result = texts(opened)
    assert result[-2] == (
        "The informal networks that move people south are run by brokers1 and the exchange "
        "between them is paid in cash. Body text again in the normal size of the article."
    )
    assert result[-1] == "1 On brokers see the UNHCR report of 2012."
