"""core.pdf_pages: page sizes, rendering, word boxes mapped onto Document.text, links.

Every PDF and EPUB is generated here with pymupdf (its bundled CJK font has Latin, ligature and
CJK glyphs, so no system font is needed).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pymupdf = pytest.importorskip("pymupdf")

from nkreader.core.documents import open_document  # noqa: E402
from nkreader.core.model import DocumentError  # noqa: E402
from nkreader.core.pdf_pages import (  # noqa: E402
    MAX_PIXELS,
    PageLayout,
    PageSource,
    Word,
    capped_scale,
    map_words,
    safe_uri,
)

from pdf_samples import A4, FOOTER, HEADER, JA, LEFT_1, LEFT_2, P1_A, P1_B, P2_A, RIGHT_1, RIGHT_2, write_epub

_FONT = None


def font():
    global _FONT
    if _FONT is None:
        _FONT = pymupdf.Font("cjk")
    return _FONT


def new_page(doc, size=A4):
    page = doc.new_page(width=size[0], height=size[1])
    page.insert_font(fontname="F0", fontbuffer=font().buffer)
    return page


def box(page, rect, text, size=11):
    rc = page.insert_textbox(pymupdf.Rect(*rect), text, fontname="F0", fontsize=size)
    assert rc >= 0, "text did not fit its box"


def furniture(page, number):
    page.insert_text((72, 40), HEADER, fontname="F0", fontsize=9)
    page.insert_text((72, 815), FOOTER, fontname="F0", fontsize=8)
    page.insert_text((290, 815), str(number + 43), fontname="F0", fontsize=8)


def build_sample(path):
    doc = pymupdf.open()
    p1 = new_page(doc)
    furniture(p1, 1)
    box(p1, (72, 80, 523, 160), P1_A)
    box(p1, (72, 700, 523, 780), P1_B)
    p2 = new_page(doc)
    furniture(p2, 2)
    box(p2, (72, 80, 523, 140), P2_A)
    box(p2, (72, 200, 290, 300), LEFT_1, 10)
    box(p2, (72, 320, 290, 420), LEFT_2, 10)
    box(p2, (305, 200, 523, 300), RIGHT_1, 10)
    box(p2, (305, 320, 523, 420), RIGHT_2, 10)
    p3 = new_page(doc)
    furniture(p3, 3)
    box(p3, (72, 80, 523, 140), JA + "Final page.")
    doc.set_page_labels([
        {"startpage": 0, "prefix": "", "style": "r", "firstpagenum": 1},
        {"startpage": 1, "prefix": "", "style": "D", "firstpagenum": 45},
    ])
    doc.save(path)
    doc.close()
    return path


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = build_sample(tmp_path_factory.mktemp("pages") / "bell.pdf")
    doc = open_document(path)
    src = PageSource(path)
    layouts = [src.layout(i, doc) for i in range(src.page_count)]
    yield path, doc, src, layouts
    src.close()


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def word_text_ok(w: Word, text: str) -> bool:
    got = text[w.start:w.end]
    return got == w.text or (w.text[-1:] in "-\u00ad\u2010" and got == w.text[:-1])


def coverage(doc, layouts) -> list[str]:
    """Tokens of the text that no word on any page covers."""
    covered = bytearray(len(doc.text))
    for lay in layouts:
        for w in lay.words:
            if w.mapped:
                covered[w.start:w.end] = b"\x01" * (w.end - w.start)
    return [m.group() for m in re.finditer(r"\S+", doc.text) if not any(covered[m.start():m.end()])]


# --- pages ------------------------------------------------------------------------------------


def test_sizes_and_count(sample):
    _path, doc, src, _ = sample
    assert src.page_count == 3 == len(doc.pages)
    assert src.sizes == [(595.0, 842.0)] * 3
    assert [src.label(i) for i in range(3)] == ["i", "45", "46"]
    assert not src.repaired


def test_render_is_rgb_at_the_scale_asked(sample):
    _path, _doc, src, _ = sample
    r = src.render(0, 96 / 72)
    assert abs(r.width - 595 * 96 / 72) <= 1 and abs(r.height - 842 * 96 / 72) <= 1  # MuPDF rounds out
    assert r.stride == 3 * r.width and r.nbytes == r.stride * r.height
    assert not r.capped and r.scale == pytest.approx(96 / 72)
    assert bytes(r.samples[:3]) == b"\xff\xff\xff"  # paper is white


def test_render_caps_the_pixels(sample):
    _path, _doc, src, _ = sample
    r = src.render(0, 2.0, max_pixels=100_000)
    assert r.capped and r.width * r.height <= 100_000
    assert r.scale < r.requested == 2.0


def test_render_a_part_of_a_page(sample):
    _path, _doc, src, _ = sample
    whole = src.render(0, 2.0)
    part = src.render(0, 2.0, clip=(72, 80, 300, 200))
    assert not part.capped and abs(part.width - 228 * 2) <= 1 and abs(part.height - 120 * 2) <= 1
    # the same pixels as that part of the whole page (MuPDF may round the edge by a pixel)
    x0, y0 = 72 * 2, 80 * 2
    row = part.height // 2
    a = bytes(part.samples[row * part.stride:row * part.stride + 3 * (part.width - 2)])
    b = bytes(whole.samples[(y0 + row) * whole.stride + 3 * x0:(y0 + row) * whole.stride + 3 * (x0 + part.width - 2)])
    assert sum(abs(p - q) for p, q in zip(a, b)) / len(a) < 8
    assert min(part.samples) < 100  # text is in that part
    with pytest.raises(DocumentError):
        src.render(0, 2.0, clip=(700, 900, 800, 1000))  # off the page


def test_a_part_of_a_huge_page_is_rendered_sharp():
    doc = pymupdf.open()
    page = new_page(doc, (14400, 14400))
    box(page, (200, 200, 9000, 2000), "A poster-sized page with one big sentence on it.", 200)
    data = doc.tobytes()
    doc.close()
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "poster.pdf"
        path.write_bytes(data)
        src = PageSource(path)
        whole = src.render(0, 2.0, max_pixels=2_000_000)
        assert whole.capped and whole.scale < 0.1
        part = src.render(0, 2.0, max_pixels=2_000_000, clip=(200, 200, 800, 600))
        assert not part.capped and part.scale == pytest.approx(2.0)
        assert part.width * part.height <= 2_000_000
        src.close()


def test_capped_scale():
    assert capped_scale(595, 842, 1.0) == 1.0
    s = capped_scale(14400, 14400, 2.0)
    assert (14400 * s) ** 2 <= MAX_PIXELS * 1.0001
    assert capped_scale(100, 100_000, 1.0) * 100_000 <= 16_384 + 1e-6  # a very tall strip: the side cap
    assert capped_scale(0, 0, 1.0) == 1.0


# --- words onto the text ------------------------------------------------------------------------


def test_every_mapped_word_is_its_text(sample):
    _path, doc, _src, layouts = sample
    for lay in layouts:
        for w in lay.words:
            if w.mapped:
                assert word_text_ok(w, doc.text), (w.text, doc.text[w.start:w.end])


def test_every_word_of_the_text_is_on_a_page(sample):
    _path, doc, _src, layouts = sample
    assert coverage(doc, layouts) == []


def test_running_headers_footers_and_page_numbers_are_not_mapped(sample):
    _path, _doc, _src, layouts = sample
    for lay in layouts:
        unmapped = " ".join(w.text for w in lay.words if not w.mapped)
        assert HEADER in unmapped and FOOTER in unmapped
        assert [w.text for w in lay.words if not w.mapped and w.y0 > 800] == [FOOTER, str(lay.index + 44)]


def test_ligatures_and_hyphenation(sample):
    _path, doc, _src, layouts = sample
    words = {w.text: w for w in layouts[0].words}
    assert "first" in words and "office" in words and "flow" in words  # MuPDF expands ﬁ ﬃ ﬂ
    soci = words["soci-"]
    assert doc.text[soci.start:soci.end] == "soci"
    ety = words["ety"]
    assert ety.start == soci.end and doc.text[soci.start:ety.end] == "society"


def test_paragraph_over_the_page_break_maps_to_both_pages(sample):
    _path, doc, _src, layouts = sample
    exchange = next(w for w in layouts[0].words if w.text == "exchange")
    between = next(w for w in layouts[1].words if w.text == "between")
    assert doc.text[exchange.start:between.end] == "exchange between"
    assert doc.page_at(exchange.start).number == 1 and doc.page_at(between.start).number == 2


def test_two_columns_map_in_column_order(sample):
    _path, doc, _src, layouts = sample
    lay = layouts[1]
    starts = {}
    for name in ("Left one:", "Left two:", "Right one:", "Right two:"):
        first = name.split()[0]
        second = name.split()[1]
        w = next(x for i, x in enumerate(lay.words) if x.text == first and lay.words[i + 1].text == second)
        starts[name] = w.start
        assert doc.text.startswith(name, w.start)
    assert starts["Left one:"] < starts["Left two:"] < starts["Right one:"] < starts["Right two:"]


def test_cjk_characters_are_words_of_their_own(sample):
    _path, doc, _src, layouts = sample
    lay = layouts[2]
    cjk = [w for w in lay.words if w.mapped and "\u3000" <= w.text[0] <= "\u9fff"]
    assert "".join(w.text for w in cjk) == JA
    assert all(len(w.text) == 1 for w in cjk)
    assert doc.text[cjk[0].start:cjk[-1].end] == JA


def test_selecting_words_gives_the_text_between(sample):
    """Dragging from one word to another selects Document.text[start:end] — the same words."""
    _path, doc, _src, layouts = sample
    for lay in layouts:
        mapped = sorted((w for w in lay.words if w.mapped), key=lambda w: w.start)
        for a in range(0, len(mapped), 7):
            for b in range(a, min(len(mapped), a + 25), 6):
                start, end = mapped[a].start, mapped[b].end
                chosen = lay.words_in(start, end)
                page_text = "".join(lay.words[i].text for i in chosen)
                expected = doc.text[start:end]
                assert squash(page_text).replace("soci-ety", "society") == squash(expected).replace(
                    "soci-ety", "society") or squash(page_text).replace("-", "") == squash(expected).replace("-", "")


def test_highlight_from_text_offsets_is_drawn_over_its_words(sample):
    _path, doc, _src, layouts = sample
    start = doc.text.index("flow of people")
    end = start + len("flow of people")
    lay = layouts[0]
    rects = lay.rects(start, end)
    assert len(rects) == 1  # one line: one band, gaps filled
    x0, y0, x1, y1 = rects[0]
    for name in ("flow", "of", "people"):
        w = next(w for w in lay.words if w.text == name and w.start >= start and w.end <= end)
        assert x0 <= w.x0 + 0.01 and w.x1 <= x1 + 0.01 and y0 <= w.y0 + 0.01 and w.y1 <= y1 + 0.01
    outside = [w for w in lay.words if w.mapped and (w.end <= start or w.start >= end) and w.line == lay.words[
        lay.words_in(start, end)[0]].line]
    for w in outside:  # the words either side on that line stay outside the band
        assert w.x1 <= x0 + 0.5 or w.x0 >= x1 - 0.5
    # nothing of it on the other pages
    assert layouts[1].rects(start, end) == [] and layouts[2].rects(start, end) == []


def test_highlight_over_two_lines_and_two_pages(sample):
    _path, doc, _src, layouts = sample
    start = doc.text.index("civil society")
    end = doc.text.index("their way") + len("their way")
    assert len(layouts[0].rects(start, end)) == 2  # "civil soci-" and "ety … their way"
    s2 = doc.text.index("and the exchange")
    e2 = doc.text.index("of the region") + len("of the region")
    assert len(layouts[0].rects(s2, e2)) == 1 and len(layouts[1].rects(s2, e2)) == 1


def test_part_of_a_word(sample):
    _path, doc, _src, layouts = sample
    w = next(w for w in layouts[0].words if w.text == "refugees")
    whole = w.sub_rect(w.start, w.end)
    half = w.sub_rect(w.start, w.start + 4)  # "refu"
    assert whole == w.rect
    assert half[0] == pytest.approx(w.x0) and w.x0 < half[2] < w.x1
    assert half[1:4:2] == (w.y0, w.y1)
    assert w.sub_rect(w.end, w.end + 5) is None


def test_word_at_and_nearest(sample):
    _path, _doc, _src, layouts = sample
    lay = layouts[0]
    w = next(w for w in lay.words if w.text == "describes")
    cx, cy = (w.x0 + w.x1) / 2, (w.y0 + w.y1) / 2
    assert lay.words[lay.word_at(cx, cy)].text == "describes"
    assert lay.word_at(5, 5) is None
    right_margin = lay.nearest_word(590, cy)
    assert lay.words[right_margin].line == w.line


def test_footnote_moved_after_the_paragraph_still_maps(tmp_path):
    doc = pymupdf.open()
    p1 = new_page(doc)
    box(p1, (72, 80, 523, 400), "Body text that is set in the normal size of the article, as most of it is. " * 4)
    box(p1, (72, 640, 523, 720), "The informal networks that move people south are run by brokers1 and the exchange")
    box(p1, (72, 740, 523, 770), "1 On brokers see the UNHCR report of 2012.", 8)
    p2 = new_page(doc)
    box(p2, (72, 80, 523, 200), "between them is paid in cash. Body text again in the normal size of the article.")
    path = tmp_path / "notes.pdf"
    doc.save(path)
    opened = open_document(path)
    assert opened.text.endswith("normal size of the article.\n\n1 On brokers see the UNHCR report of 2012.")
    with PageSource(path) as src:
        layouts = [src.layout(i, opened) for i in range(2)]
    assert coverage(opened, layouts) == []
    note = next(w for w in layouts[0].words if w.text == "UNHCR")
    assert opened.text.startswith("UNHCR report", note.start)
    assert all(word_text_ok(w, opened.text) for lay in layouts for w in lay.words if w.mapped)


def test_repeated_phrases_map_to_their_own_place(tmp_path):
    doc = pymupdf.open()
    p = new_page(doc)
    for k in range(6):
        box(p, (72, 80 + 110 * k, 523, 180 + 110 * k),
            f"The same opening words start this block. Then block number {k} says its own thing.")
    path = tmp_path / "same.pdf"
    doc.save(path)
    opened = open_document(path)
    with PageSource(path) as src:
        lay = src.layout(0, opened)
    assert coverage(opened, [lay]) == []
    firsts = [w for w in lay.words if w.text == "The"]
    assert [w.start for w in firsts] == sorted(w.start for w in firsts)
    assert len({w.start for w in firsts}) == 6
    for w in lay.words:
        if w.text.isdigit():
            k = int(w.text)
            assert opened.text[w.start - 13:w.start] == "block number "
            assert firsts[k].start < w.start < (firsts[k + 1].start if k < 5 else len(opened.text))


def test_rotated_and_cropped_pages_put_words_where_they_are_drawn(tmp_path):
    doc = pymupdf.open()
    for rotation in (0, 90, 180, 270):
        p = new_page(doc, (400, 300))
        box(p, (40, 40, 360, 120), "Ink lies inside the word boxes whatever the page rotation is.", 14)
        p.set_rotation(rotation)
    p = new_page(doc, (400, 300))
    box(p, (40, 60, 360, 140), "Ink lies inside the word boxes of a cropped page too.", 14)
    p.set_cropbox(pymupdf.Rect(20, 30, 380, 280))
    path = tmp_path / "rotated.pdf"
    doc.save(path)
    opened = open_document(path)
    with PageSource(path) as src:
        for i in range(src.page_count):
            lay = src.layout(i, opened)
            r = src.render(i, 1.0)
            assert abs(r.width - lay.width) <= 1 and abs(r.height - lay.height) <= 1
            ink = _ink(r)
            inside = 0
            for x, y in ink:
                if any(w.x0 - 1 <= x + 0.5 <= w.x1 + 1 and w.y0 - 1 <= y + 0.5 <= w.y1 + 1 for w in lay.words):
                    inside += 1
            assert ink and inside / len(ink) > 0.97, (i, inside, len(ink))
            inked = {(x, y) for x, y in ink}
            for w in lay.words:  # and every word box has ink in it
                assert any((x, y) in inked for x in range(int(w.x0), int(w.x1) + 1)
                           for y in range(int(w.y0), int(w.y1) + 1)), (i, w.text)
            assert all(word_text_ok(w, opened.text) for w in lay.words if w.mapped)
            assert sum(w.mapped for w in lay.words) == len(lay.words)


def _ink(r):
    out = []
    data = r.samples
    for y in range(r.height):
        row = y * r.stride
        for x in range(r.width):
            if data[row + 3 * x] < 128:
                out.append((x, y))
    return out


def test_epub_pages_map_too(tmp_path):
    path = tmp_path / "book.epub"
    paras = [f"Paragraph {i} tells how a family crossed the river at night and moved south ({i})." for i in range(30)]
    _write_epub(path, "".join(f"<p>{p}</p>" for p in paras))
    opened = open_document(path)
    with PageSource(path) as src:
        assert src.kind == "epub" and src.page_count == len(opened.pages)
        layouts = [src.layout(i, opened) for i in range(src.page_count)]
        assert src.render(0, 1.0).width > 0
    assert coverage(opened, layouts) == []
    assert all(word_text_ok(w, opened.text) for lay in layouts for w in lay.words if w.mapped)


_write_epub = write_epub


def test_map_words_directly():
    def w(text, block=0, line=0):
        return Word(0, 0, 1, 1, text, text, ((0.0, 1.0),) * len(text), 0, line, block)

    text = "Alpha beta gamma.\n\nDelta epsilon"
    words = [w("Page"), w("7"), w("Alpha", 1), w("beta", 1), w("gamma.", 1), w("Delta", 2), w("epsi-", 2), w("lon", 2, 1)]
    assert map_words(words, text, 0, len(text)) == 6
    assert [(x.start, x.end) for x in words] == [(-1, -1), (-1, -1), (0, 5), (6, 10), (11, 17), (19, 24),
                                                 (25, 29), (29, 32)]
    lay = PageLayout(0, 10, 10, words)
    assert lay.span == (0, 32)
    assert [words[i].text for i in lay.words_in(7, 20)] == ["beta", "gamma.", "Delta"]
    assert map_words(words, text, 5, 5) == 0 and all(not x.mapped for x in words)


# --- generated documents: the property ----------------------------------------------------------

_WORD = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzéüñ"), min_size=1, max_size=9)
_SENTENCE = st.lists(_WORD, min_size=3, max_size=14).map(lambda ws: " ".join(ws).capitalize() + ".")
_PARA = st.lists(_SENTENCE, min_size=1, max_size=4).map(" ".join)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(paras=st.lists(_PARA, min_size=1, max_size=6))
def test_any_generated_pdf_maps_every_word(tmp_path_factory, paras):
    doc = pymupdf.open()
    page = new_page(doc)
    y = 80
    for text in paras:
        rc = page.insert_textbox(pymupdf.Rect(72, y, 523, y + 110), text, fontname="F0", fontsize=10)
        if rc < 0:
            continue
        y += 120
        if y > 700:
            page = new_page(doc)
            y = 80
    path = tmp_path_factory.mktemp("gen") / "gen.pdf"
    doc.save(path)
    try:
        opened = open_document(path)
    except DocumentError:
        return
    with PageSource(path) as src:
        layouts = [src.layout(i, opened) for i in range(src.page_count)]
    assert coverage(opened, layouts) == []
    for lay in layouts:
        for w in lay.words:
            assert not w.mapped or word_text_ok(w, opened.text)


# --- links ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("uri", [
    "https://example.org/a?b=c#d", "http://example.org", "mailto:someone@example.org",
    "HTTPS://EXAMPLE.ORG/", "mailto:a@b.c?subject=Hi",
])
def test_safe_uris(uri):
    assert safe_uri(uri) == uri


@pytest.mark.parametrize("uri", [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "file:///etc/passwd", "FILE://c:/windows", "launch:calc.exe", "data:text/html,<b>x</b>",
    "vbscript:msgbox", "http:/no-host", "http://", "https:// spaced.org", " http://x.y", "http://x.y\n",
    "mailto:", "mailto:nobody", "ftp://example.org", "smb://server/share", "", None, 42,
    "\x00https://example.org", "http://exa mple.org", "//example.org/path", "example.org",
])
def test_unsafe_uris(uri):
    assert safe_uri(uri) is None


@given(st.text(max_size=40))
def test_safe_uri_only_ever_passes_the_three_schemes(s):
    ok = safe_uri(s)
    if ok is not None:
        assert ok == s and ok.split(":", 1)[0].lower() in ("http", "https", "mailto")


def test_links_are_sorted_into_followable_and_blocked(tmp_path):
    doc = pymupdf.open()
    new_page(doc)
    new_page(doc)
    p = doc[0]
    targets = [
        {"kind": pymupdf.LINK_URI, "uri": "https://example.org/a"},
        {"kind": pymupdf.LINK_URI, "uri": "javascript:alert(1)"},
        {"kind": pymupdf.LINK_URI, "uri": "file:///etc/passwd"},  # MuPDF turns this into a launch link
        {"kind": pymupdf.LINK_URI, "uri": "mailto:a@b.org"},
        {"kind": pymupdf.LINK_LAUNCH, "file": "/bin/sh"},
        {"kind": pymupdf.LINK_GOTOR, "file": "other.pdf", "page": 0, "to": pymupdf.Point(0, 0)},
        {"kind": pymupdf.LINK_GOTO, "page": 1, "to": pymupdf.Point(0, 100)},
    ]
    for k, link in enumerate(targets):
        link["from"] = pymupdf.Rect(50, 50 + 30 * k, 200, 70 + 30 * k)
        p.insert_link(link)
    path = tmp_path / "links.pdf"
    doc.save(path)
    with PageSource(path) as src:
        links = src.layout(0).links
    got = [(link.kind, link.target if link.kind != "page" else link.page) for link in links]
    assert got == [
        ("uri", "https://example.org/a"),
        ("blocked", "javascript:alert(1)"),
        ("blocked", "/etc/passwd"),
        ("uri", "mailto:a@b.org"),
        ("blocked", "/bin/sh"),
        ("blocked", "other.pdf"),
        ("page", 1),
    ]
    assert all(link.reason for link in links if link.kind == "blocked")
    lay = PageLayout(0, 595, 842, [], links)
    assert lay.link_at(100, 60).target == "https://example.org/a"
    assert lay.link_at(100, 245).page == 1
    assert lay.link_at(400, 400) is None


def test_links_on_a_rotated_page_are_in_page_coordinates(tmp_path):
    doc = pymupdf.open()
    p = new_page(doc, (400, 300))
    box(p, (40, 40, 360, 120), "Linked words here.", 14)
    p.insert_link({"kind": pymupdf.LINK_URI, "uri": "https://example.org", "from": pymupdf.Rect(40, 40, 200, 62)})
    p.set_rotation(90)
    path = tmp_path / "rlink.pdf"
    doc.save(path)
    opened = open_document(path)
    with PageSource(path) as src:
        lay = src.layout(0, opened)
    linked = next(w for w in lay.words if w.text == "Linked")
    cx, cy = (linked.x0 + linked.x1) / 2, (linked.y0 + linked.y1) / 2
    assert lay.link_at(cx, cy) is not None and lay.link_at(cx, cy).target == "https://example.org"


# --- layering ----------------------------------------------------------------------------------------


def test_importing_pdf_pages_does_not_import_pymupdf():
    code = ("import sys, nkreader.core.pdf_pages; "
            "bad=[m for m in ('pymupdf','fitz','PySide6') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
