"""Sample texts, an EPUB writer and an encrypted-PDF writer shared by the unit, ui and e2e tests."""

import zipfile

A4 = (595, 842)
HEADER = "Forced Migration Review 45: Refugees in Asia"
FOOTER = "www.fmreview.org/asia"

P1_A = (
    "The ﬁrst paragraph describes the oﬃce of civil soci-\n"
    "ety groups that help refugees on their way south and the ﬂow of people across the border."
)
P1_B = (
    "Time and time again it is the so-called big picture issues that dominate the headlines, the "
    "summits of the great powers, the nuclear talks and the sanctions, and the exchange"
)
P2_A = "between the powers of the region. It is high time the international community called for action."
LEFT_1 = "Left one: markets offer temporary employment for North Koreans during their slow movement south."
LEFT_2 = "Left two: once in China, all North Koreans exist without protection or legal recourse at all."
RIGHT_1 = "Right one: the crisis of North Korean refugees is a gendered crisis, as most who leave are women."
RIGHT_2 = "Right two: real change could begin from what is already in place, the informal networks."
JA = "北朝鮮問題における市民社会の役割と課題。"


def write_locked_pdf(path, *texts, user_pw="u", owner_pw="o"):
    """An AES-256 encrypted PDF at ``path``, one A4 page per text (real pymupdf)."""
    import pymupdf

    doc = pymupdf.open()
    for text in texts:
        page = doc.new_page(width=A4[0], height=A4[1])
        assert page.insert_textbox(pymupdf.Rect(72, 72, 523, 760), text, fontsize=11) >= 0
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw=user_pw, owner_pw=owner_pw)
    doc.close()
    return path


def write_epub(path, body, compress=zipfile.ZIP_STORED, title="T"):
    """A one-chapter EPUB 3 whose body is ``body`` (XHTML), written as a zip at ``path``."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr("META-INF/container.xml",
                   '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
                   '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
                   "</rootfiles></container>")
        z.writestr("OEBPS/content.opf",
                   '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
                   '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:x</dc:identifier>'
                   f"<dc:title>{title}</dc:title></metadata><manifest>"
                   '<item id="c0" href="c0.xhtml" media-type="application/xhtml+xml"/></manifest>'
                   '<spine><itemref idref="c0"/></spine></package>')
        z.writestr("OEBPS/c0.xhtml",
                   '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>c</title>'
                   f"</head><body>{body}</body></html>", compress_type=compress)
    return path
