"""The page view: rendering off the GUI thread, the cache, zoom, selection, highlights, links."""

from __future__ import annotations

import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

pymupdf = pytest.importorskip("pymupdf")

from PySide6.QtCore import QPoint, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QColor, QGuiApplication  # noqa: E402

import nkreader.ui  # noqa: E402,F401  (the PySide6 6.12.0 guard first)
from nkreader.core.documents import open_document  # noqa: E402
from nkreader.core.pdf_pages import PageSource  # noqa: E402
from nkreader.ui.page_view import PIXELS_PER_POINT_100, PAGE_MARGIN, PageView, page_view_panel  # noqa: E402
from pdf_samples import write_epub, write_locked_pdf  # noqa: E402

A4 = (595, 842)
P1 = ("The first paragraph describes the office of civil soci-\n"
      "ety groups that help refugees on their way south and the flow of people across the border.")
P2 = "Time and time again it is the so-called big picture issues that dominate the headlines."


def _page(doc, size=A4):
    page = doc.new_page(width=size[0], height=size[1])
    page.insert_font(fontname="F0", fontbuffer=pymupdf.Font("cjk").buffer)
    return page


def _box(page, rect, text, size=11):
    assert page.insert_textbox(pymupdf.Rect(*rect), text, fontname="F0", fontsize=size) >= 0


def make_pdf(path, pages=3, *, links=(), labels=True):
    doc = pymupdf.open()
    for n in range(pages):
        p = _page(doc)
        p.insert_text((72, 40), "Forced Migration Review 45", fontname="F0", fontsize=9)
        if n == 0:
            _box(p, (72, 80, 523, 160), P1)
            _box(p, (72, 200, 523, 260), P2)
        else:
            _box(p, (72, 80, 523, 200), f"Page {n + 1} opens with its own sentence about border crossings and "
                                         f"brokers, numbered {n + 1} so that each page reads differently.")
        p.insert_text((290, 815), str(n + 44), fontname="F0", fontsize=8)
    for page_index, rect, link in links:
        link = dict(link)
        link["from"] = pymupdf.Rect(*rect)
        doc[page_index].insert_link(link)
    if labels:
        doc.set_page_labels([{"startpage": 0, "prefix": "", "style": "D", "firstpagenum": 44}])
    doc.save(path)
    doc.close()
    return path


@pytest.fixture
def sample(tmp_path):
    path = make_pdf(tmp_path / "bell.pdf")
    return open_document(path)


@pytest.fixture
def view(qtbot):
    v = PageView(None)
    qtbot.addWidget(v)
    v.resize(700, 900)
    v.show()
    qtbot.waitExposed(v)
    yield v
    v.shutdown()


def show(view, doc, qtbot, **kw):
    view.set_document(doc, **kw)
    qtbot.waitUntil(view.ready, timeout=5000)
    assert view.wait_idle(5000)


def word(view, page, text, nth=0):
    layout = view.layout_of(page)
    found = [w for w in layout.words if w.text == text]
    return found[nth]


def centre(view, page, w) -> QPoint:
    r = view.page_rect(page)
    return QPoint(int(r.left() + (w.x0 + w.x1) / 2 * view.scale), int(r.top() + (w.y0 + w.y1) / 2 * view.scale))


def pixel(view, point: QPoint) -> QColor:
    return view.viewport().grab().toImage().pixelColor(point)


# --- rendering ---------------------------------------------------------------------------------


def test_first_page_is_rendered_and_drawn(view, sample, qtbot):
    show(view, sample, qtbot)
    assert view.page_count() == 3 and view.visible_pages()[0] == 0
    key = round(view.scale * view.devicePixelRatioF() * 1000)
    assert (0, key) in view.cached_pages()
    image = view.viewport().grab().toImage()
    r = view.page_rect(0)
    w = word(view, 0, "describes")
    ink = [image.pixelColor(int(r.left() + x * view.scale), int(r.top() + (w.y0 + w.y1) / 2 * view.scale)).lightness()
           for x in range(int(w.x0), int(w.x1))]
    assert min(ink) < 120  # the word is drawn in dark ink
    assert image.pixelColor(int(r.left() + 5), int(r.top() + 5)).lightness() > 250  # on white paper


def test_rendering_happens_off_the_gui_thread(view, sample, qtbot, monkeypatch):
    threads = []
    real = PageSource.render

    def spy(self, *a, **kw):
        threads.append(threading.current_thread())
        return real(self, *a, **kw)

    monkeypatch.setattr(PageSource, "render", spy)
    show(view, sample, qtbot)
    assert threads and all(t is not threading.main_thread() for t in threads)
    assert {t.name for t in threads} == {"nkreader-pages"}


def test_the_gil_switch_interval_is_shortened_while_rendering_only(view, sample, qtbot, monkeypatch):
    import sys

    from nkreader.ui import page_view

    before = sys.getswitchinterval()
    seen = []
    real = PageSource.render

    def spy(self, *a, **kw):
        seen.append(sys.getswitchinterval())
        return real(self, *a, **kw)

    monkeypatch.setattr(PageSource, "render", spy)
    show(view, sample, qtbot)
    assert view.wait_idle(5000)
    assert seen and all(v == pytest.approx(page_view.PageRenderer.SWITCH_INTERVAL) for v in seen)
    qtbot.waitUntil(lambda: sys.getswitchinterval() == pytest.approx(before), timeout=2000)  # idle: put back


def test_the_switch_interval_is_shared_between_renderers_and_left_if_changed():
    import sys

    from nkreader.ui.page_view import _SwitchInterval

    before = sys.getswitchinterval()
    si, a, b = _SwitchInterval(), object(), object()
    try:
        si.hold(a, 0.001)
        si.hold(b, 0.001)
        assert sys.getswitchinterval() == pytest.approx(0.001)
        si.release(a)
        assert sys.getswitchinterval() == pytest.approx(0.001)  # b still renders
        si.release(b)
        assert sys.getswitchinterval() == pytest.approx(before)
        si.hold(a, 0.001)
        sys.setswitchinterval(0.002)  # someone else's choice meanwhile: kept
        si.release(a)
        assert sys.getswitchinterval() == pytest.approx(0.002)
        si.hold(a, None)  # a renderer told to leave it alone
        assert sys.getswitchinterval() == pytest.approx(0.002)
    finally:
        sys.setswitchinterval(before)


def test_zoom_modes(view, sample, qtbot):
    show(view, sample, qtbot)
    vp = view.viewport()
    assert view.zoom == "fit-width"
    assert view.page_rect(0).width() == pytest.approx(vp.width() - 2 * PAGE_MARGIN, abs=1)
    view.set_zoom("fit-page")
    assert view.page_rect(0).height() <= vp.height() - 2 * PAGE_MARGIN + 1
    assert view.page_rect(0).top() >= 0 and view.page_rect(0).bottom() <= vp.height()
    view.set_zoom(200)
    assert view.scale == pytest.approx(2 * PIXELS_PER_POINT_100)
    assert view.page_rect(0).width() == pytest.approx(595 * 2 * 96 / 72)
    view.set_zoom("150%")
    assert view.zoom_percent() == pytest.approx(150)
    view.zoom_in()
    assert view.zoom_percent() == pytest.approx(175)
    view.zoom_out()
    view.zoom_out()
    assert view.zoom_percent() == pytest.approx(125)
    with pytest.raises(ValueError):
        view.set_zoom("sideways")
    view.set_zoom(100000)
    assert view.zoom_percent() == pytest.approx(800)
    assert view.wait_idle(5000)
    assert any(k[1] == round(view.scale * view.devicePixelRatioF() * 1000) for k in view.cached_pages())


def test_zoom_keeps_the_place(view, tmp_path, qtbot):
    doc = open_document(make_pdf(tmp_path / "long.pdf", pages=12))
    show(view, doc, qtbot)
    view.scroll_to_page(6)
    assert view.current_page() == 6
    view.set_zoom(200)
    assert view.current_page() == 6
    view.set_zoom("fit-page")
    r = view.page_rect(6)
    assert view.current_page() == 6 and r.top() >= 0 and r.bottom() <= view.viewport().height()


def test_fit_width_follows_the_window(view, sample, qtbot):
    show(view, sample, qtbot)
    view.resize(500, 900)
    qtbot.waitUntil(lambda: abs(view.page_rect(0).width() - (view.viewport().width() - 2 * PAGE_MARGIN)) <= 1,
                    timeout=3000)


def test_the_cache_is_bounded_while_scrolling(view, tmp_path, qtbot):
    doc = open_document(make_pdf(tmp_path / "long.pdf", pages=30))
    show(view, doc, qtbot)
    one_page = next(iter(view._images.values()))[0].sizeInBytes()
    view.cache_bytes = 4 * one_page
    vbar = view.verticalScrollBar()
    for value in range(0, vbar.maximum() + 1, max(1, view.viewport().height() // 2)):
        vbar.setValue(value)
        assert view.wait_idle(5000)
        assert view.cached_bytes() <= view.cache_bytes + one_page
    assert len(view.cached_pages()) <= 5
    assert view.visible_pages()[-1] == 29


def test_a_huge_page_is_rendered_within_the_pixel_cap(view, tmp_path, qtbot):
    doc = pymupdf.open()
    page = _page(doc, (14400, 14400))
    _box(page, (200, 200, 9000, 2000), "A poster-sized page with one big sentence on it.", 200)
    path = tmp_path / "poster.pdf"
    doc.save(path)
    opened = open_document(path)
    view.max_pixels = 2_000_000
    show(view, opened, qtbot)
    view.set_zoom(200)
    assert view.wait_idle(10000)
    (image, capped), = [v for k, v in view._images.items() if k[1] == round(view.scale * view.devicePixelRatioF() * 1000)]
    assert capped and image.width() * image.height() <= 2_000_000
    assert view.page_rect(0).width() == pytest.approx(14400 * 2 * 96 / 72)  # drawn full size, scaled


def test_the_part_of_a_huge_page_in_sight_is_sharp(view, tmp_path, qtbot):
    doc = pymupdf.open()
    page = _page(doc, (14400, 14400))
    _box(page, (200, 200, 9000, 2000), "A poster-sized page with one big sentence on it.", 200)
    path = tmp_path / "poster.pdf"
    doc.save(path)
    view.max_pixels = 2_000_000
    show(view, open_document(path), qtbot)
    view.set_zoom(200)
    view.scroll_to_page(0, 0.02)
    assert view.wait_idle(10000)
    key = round(view.scale * view.devicePixelRatioF() * 1000)
    held, clip, tile = view._tiles[0]
    assert held == key
    x0, y0, x1, y1 = clip
    part = view._visible_part(0)
    assert x0 <= part[0] and y0 <= part[1] and x1 >= part[2] and y1 >= part[3]  # covers what is in sight
    assert abs(tile.width() - (x1 - x0) * view.scale) < 1.5  # at the zoom asked for, not capped
    # what is on screen is the sharp part, copied 1:1
    shot = view.viewport().grab().toImage()
    r = view.page_rect(0)
    ox, oy = round(r.left() + x0 * view.scale), round(r.top() + y0 * view.scale)
    same = total = 0
    for x in range(max(10, int(r.left()) + 2), view.viewport().width() - 30, 5):  # on the page
        for y in range(10, view.viewport().height() - 10, 5):
            sharp = tile.pixelColor(x - ox, y - oy)
            if sharp.lightness() < 200:  # the ink (and its edges) of the big letters
                total += 1
                same += shot.pixelColor(x, y) == sharp
    assert total > 100 and same / total > 0.98
    # scrolling far away lets the part go, and brings a new one for the new place
    view.scroll_to_page(0, 0.5)
    assert view.wait_idle(10000)
    assert view._tiles[0][1] != clip and view._tiles[0][1][1] > y1
    assert view.cached_bytes() >= tile.sizeInBytes()


def test_a_text_document_has_no_pages(view, qtbot, tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("Just a text.\n", encoding="utf-8")
    view.set_document(open_document(path))
    assert not view.ready() and "no pages" in view.error
    view.viewport().grab()  # paints the message, no crash


def test_an_encrypted_pdf_needs_its_password(view, qtbot, tmp_path):
    path = write_locked_pdf(tmp_path / "locked.pdf", "Secret seminar notes.", user_pw="seminar")
    opened = open_document(path, password="seminar")
    messages = []
    view.message.connect(messages.append)
    view.set_document(opened)
    qtbot.waitUntil(lambda: bool(view.error), timeout=5000)
    assert view.error == "locked.pdf is encrypted: a password is needed" and messages == [view.error]
    show(view, opened, qtbot, password="seminar")
    assert view.error == "" and [w.text for w in view.layout_of(0).words] == ["Secret", "seminar", "notes."]


def test_a_scanned_page_says_there_is_no_text(view, qtbot, tmp_path):
    pix = pymupdf.Pixmap(pymupdf.csRGB, pymupdf.IRect(0, 0, 100, 100), False)
    pix.clear_with(180)
    doc = pymupdf.open()
    doc.new_page().insert_image(pymupdf.Rect(72, 300, 472, 700), pixmap=pix)
    path = tmp_path / "scan.pdf"
    doc.save(path)
    show(view, open_document(path), qtbot)
    assert not view.layout_of(0).has_text
    r = view.page_rect(0)
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(r.left() + 100), int(r.top() + 420)))
    qtbot.mouseMove(view.viewport(), QPoint(int(r.left() + 400), int(r.top() + 600)))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(r.left() + 400), int(r.top() + 600)))
    assert view.selection_span() is None
    band = view.viewport().grab().toImage().pixelColor(int(r.center().x()), int(r.top() + 16))
    assert band.name() == QColor(view.scheme.banner).name()


# --- selection ------------------------------------------------------------------------------------


def drag(qtbot, view, a: QPoint, b: QPoint) -> None:
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=a)
    for k in range(1, 5):
        qtbot.mouseMove(vp, a + (b - a) * (k / 4))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=b)


def test_dragging_over_words_selects_their_text(view, sample, qtbot):
    show(view, sample, qtbot)
    a, b = word(view, 0, "describes"), word(view, 0, "people")
    with qtbot.waitSignal(view.spanSelected) as signal:
        drag(qtbot, view, centre(view, 0, a), centre(view, 0, b))
    start, end = signal.args
    assert (start, end) == (a.start, b.end) == view.selection_span()
    text = sample.text[start:end]
    assert text == ("describes the office of civil society groups that help refugees on their way south "
                    "and the flow of people")
    on_page = "".join(view.layout_of(0).words[i].text for i in view.layout_of(0).words_in(start, end))
    assert on_page.replace("soci-ety", "society") == text.replace(" ", "")
    view.copy()
    assert QGuiApplication.clipboard().text() == text


def test_dragging_backwards_and_across_pages(view, sample, qtbot):
    show(view, sample, qtbot)
    view.set_zoom(50)
    assert view.wait_idle(5000)
    assert 1 in view.visible_pages()
    a, b = word(view, 1, "brokers,"), word(view, 0, "Time")
    drag(qtbot, view, centre(view, 1, a), centre(view, 0, b))
    start, end = view.selection_span()
    assert sample.text[start:end].startswith("Time and time again") and sample.text[start:end].endswith("brokers,")
    assert sample.page_at(start).number == 1 and sample.page_at(end - 1).number == 2


def test_a_drag_from_the_margin_snaps_to_the_nearest_words(view, sample, qtbot):
    show(view, sample, qtbot)
    r = view.page_rect(0)
    first = word(view, 0, "The")
    y = int(r.top() + (first.y0 + first.y1) / 2 * view.scale)
    drag(qtbot, view, QPoint(int(r.left() + 10), y), QPoint(int(r.right() - 5), y))
    start, end = view.selection_span()
    assert sample.text[start:end] == "The first paragraph describes the office of civil soci"


def test_double_click_selects_a_word_and_a_click_clears(view, sample, qtbot):
    show(view, sample, qtbot)
    w = word(view, 0, "refugees")
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre(view, 0, w))
    assert view.selected_text() == "refugees"
    r = view.page_rect(0)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(int(r.left() + 20), int(r.bottom() - 200)))
    assert view.selection_span() is None


def test_headers_and_page_numbers_are_not_selectable(view, sample, qtbot):
    show(view, sample, qtbot)
    header = word(view, 0, "Forced")
    assert not header.mapped
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre(view, 0, header))
    assert view.selection_span() is None


# --- highlights -------------------------------------------------------------------------------------------


def test_a_highlight_from_text_offsets_is_drawn_over_its_words(view, sample, qtbot):
    start = sample.text.index("flow of people")
    end = start + len("flow of people")
    view.set_annotations([{"id": "h1", "doc_id": sample.id, "target": {"start": start, "end": end, "page": 1},
                           "color": "#2e9e5b"}])
    show(view, sample, qtbot)
    r = view.page_rect(0)
    flow, people, across = word(view, 0, "flow"), word(view, 0, "people"), word(view, 0, "across")
    top_edge = lambda w, x: QPoint(int(r.left() + x * view.scale), int(r.top() + w.y0 * view.scale + 2))  # noqa: E731
    inside = pixel(view, top_edge(flow, (flow.x0 + people.x1) / 2))
    outside = pixel(view, top_edge(across, (across.x0 + across.x1) / 2))
    assert outside.name() == "#ffffff"
    assert inside.green() > inside.red() and inside.name() != "#ffffff"  # tinted green
    above = pixel(view, QPoint(int(r.left() + (flow.x0 + 2) * view.scale), int(r.top() + (flow.y0 - 4) * view.scale)))
    assert above.name() == "#ffffff"


def test_clicking_a_highlight_selects_it(view, sample, qtbot):
    start = sample.text.index("help refugees")
    ann = {"id": "h2", "doc_id": sample.id, "target": {"start": start, "end": start + 13}, "color": "#f6d365"}
    view.set_annotations([ann])
    show(view, sample, qtbot)
    with qtbot.waitSignal(view.annotationClicked) as signal:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre(view, 0, word(view, 0, "refugees")))
    assert signal.args == ["h2"] and view.current_id == "h2"


def test_orphans_are_not_drawn(view, sample, qtbot):
    view.set_annotations([{"id": "o", "doc_id": sample.id, "status": "orphan", "target": {"start": 0, "end": 9}}])
    show(view, sample, qtbot)
    assert view.annotations() == []


def test_session_highlights_follow_the_store(qtbot, tmp_path):
    from nkreader.core.library import Library
    from nkreader.ui.session import Session

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_pdf(corpus / "bell.pdf")
    lib = Library.open(corpus, tmp_path / "data")
    try:
        session = Session(lib)
        view = PageView(session)
        qtbot.addWidget(view)
        view.resize(700, 900)
        view.show()
        doc = session.document("bell")
        show(view, doc, qtbot)
        start = doc.text.index("civil society")
        lib.highlight("bell", start, start + len("civil society"), color="#9ad0f5")
        session.notify("annotations")
        assert [a["target"]["start"] for a in view.annotations()] == [start]
        assert len(view.layout_of(0).rects(start, start + 13)) == 2  # "civil soci-" / "ety"
        view.shutdown()
    finally:
        lib.close()


# --- scrolling to text ---------------------------------------------------------------------------------------


def test_scroll_to_offset_and_top_offset(view, tmp_path, qtbot):
    doc = open_document(make_pdf(tmp_path / "long.pdf", pages=10))
    show(view, doc, qtbot)
    cp = doc.text.index("numbered 7")
    view.scroll_to_offset(cp, 0.3)
    qtbot.waitUntil(lambda: view.layout_of(6) is not None, timeout=5000)
    assert view.wait_idle(5000)
    assert 6 in view.visible_pages() and view.is_span_visible(cp, cp + 10)
    view.scroll_to_page(4)
    assert view.wait_idle(5000)
    top = view.top_offset()
    assert doc.page_at(top).number == 5 and doc.text.startswith("Page 5 opens", top)


def test_scroll_before_the_pages_are_known_is_kept_for_later(view, tmp_path, qtbot):
    doc = open_document(make_pdf(tmp_path / "long.pdf", pages=10))
    view.set_document(doc)
    view.scroll_to_offset(doc.text.index("numbered 9"))  # sizes not known yet
    qtbot.waitUntil(lambda: view.ready() and 8 in view.visible_pages(), timeout=5000)


def test_scrolling_away_cancels_a_place_still_waiting_for_its_words(view, tmp_path, qtbot):
    doc = open_document(make_pdf(tmp_path / "long.pdf", pages=10))
    view.set_document(doc)
    view.scroll_to_offset(doc.text.index("numbered 9"))  # sizes not known yet: kept for later
    qtbot.waitUntil(view.ready, timeout=5000)
    view.scroll_to_page(2)  # the user goes elsewhere before page 9's words arrive
    assert view.wait_idle(5000)
    assert view.current_page() == 2 and view._pending_offset is None


# --- links ---------------------------------------------------------------------------------------------------


@pytest.fixture
def linked(tmp_path):
    links = [
        (0, (72, 300, 300, 320), {"kind": pymupdf.LINK_URI, "uri": "https://example.org/paper"}),
        (0, (72, 330, 300, 350), {"kind": pymupdf.LINK_URI, "uri": "javascript:app.alert(1)"}),
        (0, (72, 360, 300, 380), {"kind": pymupdf.LINK_LAUNCH, "file": "/bin/sh"}),
        (0, (72, 390, 300, 410), {"kind": pymupdf.LINK_URI, "uri": "file:///etc/passwd"}),
        (0, (72, 420, 300, 440), {"kind": pymupdf.LINK_GOTO, "page": 2, "to": pymupdf.Point(0, 0)}),
        (0, (72, 450, 300, 470), {"kind": pymupdf.LINK_URI, "uri": "mailto:editor@example.org"}),
    ]
    return open_document(make_pdf(tmp_path / "links.pdf", links=links))


def click_pt(qtbot, view, page, x, y):
    r = view.page_rect(page)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(int(r.left() + x * view.scale), int(r.top() + y * view.scale)))


def test_web_links_open_only_after_confirmation(view, linked, qtbot, monkeypatch):
    asked, opened = [], []
    answer = {"value": False}
    monkeypatch.setattr(view, "confirm_link", lambda url: asked.append(url) or answer["value"])
    monkeypatch.setattr(view, "open_url", lambda url: opened.append(url) or True)
    show(view, linked, qtbot)
    click_pt(qtbot, view, 0, 100, 310)
    assert asked == ["https://example.org/paper"] and opened == []  # the user said no
    answer["value"] = True
    click_pt(qtbot, view, 0, 100, 310)
    assert opened == [QUrl("https://example.org/paper")]
    click_pt(qtbot, view, 0, 100, 460)
    assert opened[-1] == QUrl("mailto:editor@example.org")


@pytest.mark.parametrize("y", [340, 370, 400])
def test_javascript_launch_and_file_links_are_never_followed(view, linked, qtbot, monkeypatch, y):
    from nkreader.ui import page_view

    asked, opened, blocked = [], [], []
    monkeypatch.setattr(view, "confirm_link", lambda url: asked.append(url) or True)
    monkeypatch.setattr(page_view.QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url) or True))
    view.linkBlocked.connect(blocked.append)
    show(view, linked, qtbot)
    click_pt(qtbot, view, 0, 100, y)
    assert asked == [] and opened == [] and len(blocked) == 1
    assert "never followed" in blocked[0]
    click_pt(qtbot, view, 0, 100, 310)  # the real opener is reached only for the web link
    assert opened == [QUrl("https://example.org/paper")]


def test_a_link_to_another_page_scrolls_there(view, linked, qtbot):
    show(view, linked, qtbot)
    click_pt(qtbot, view, 0, 100, 430)
    assert view.current_page() == 2


def test_the_confirmation_shows_the_url_as_plain_text(view, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    seen = []

    def fake_exec(box):
        seen.append((box.textFormat(), box.text()))
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "exec", fake_exec)
    assert view.confirm_link("https://example.org/<b>bold</b>") is False
    assert seen and seen[0][0] == Qt.TextFormat.PlainText and "https://example.org/<b>bold</b>" in seen[0][1]


# --- the panel ------------------------------------------------------------------------------------------------


def test_panel_bar_shows_the_page_label_and_zooms(qtbot, sample):
    panel, view, bar = page_view_panel(None)
    qtbot.addWidget(panel)
    panel.resize(700, 900)
    panel.show()
    show(view, sample, qtbot)
    assert bar.page_label.text() == "p. 44 · page 1 of 3"
    bar.zoom_box.setCurrentIndex(bar.zoom_box.findData(200))
    bar.zoom_box.activated.emit(bar.zoom_box.currentIndex())
    assert view.zoom == 200
    bar.next_b.click()
    assert view.current_page() == 1
    qtbot.waitUntil(lambda: bar.page_label.text() == "p. 45 · page 2 of 3", timeout=2000)
    view.shutdown()


# --- in a document pane: the toggle, and one set of highlights for both views ----------------------------


@pytest.fixture
def pdf_library(tmp_path):
    from nkreader.core.library import Library

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_pdf(corpus / "bell.pdf", pages=6)
    (corpus / "notes.txt").write_text("A plain text about border crossings.\n", encoding="utf-8")
    lib = Library.open(corpus, tmp_path / "data")
    yield lib
    lib.close()


def make_paged_pane(qtbot, session, doc_id="bell"):
    from nkreader.ui.document_pane import DocumentPane

    pane = DocumentPane(session)
    qtbot.addWidget(pane)
    pane.resize(800, 900)
    pane.show()
    qtbot.waitExposed(pane)
    pane.open_document(doc_id)
    qtbot.waitUntil(lambda: pane.doc is not None, timeout=10000)
    return pane


def test_toggle_between_text_and_pages(qtbot, pdf_library):
    from nkreader.ui.session import Session

    session = Session(pdf_library)
    pane = make_paged_pane(qtbot, session)
    assert pane.page_action.isEnabled() and pane.page_button.isVisible()
    assert pane.page_button.text() == "Pages"
    assert pane.page_action.shortcut().toString() == "Ctrl+Shift+P"
    assert pane.views.currentWidget() is pane.view
    doc = pane.doc
    top = pane.top_offset()
    pane.page_action.trigger()
    assert pane.paged and pane.views.currentWidget() is pane.page_panel
    qtbot.waitUntil(lambda: pane.page_view.ready() and doc.page_at(top).number - 1 in pane.page_view.visible_pages(),
                    timeout=5000)
    pane.page_view.scroll_to_page(5)
    assert pane.page_view.wait_idle(5000)
    six = doc.text.index("Page 6 opens")
    assert pane.is_span_visible(six, six + 12)  # the pane answers for the page view
    assert not pane.view.isVisible()
    pane.toggle_paged()
    assert not pane.paged and pane.views.currentWidget() is pane.view
    assert pane.is_span_visible(six, six + 12)  # the text view went where the pages were
    pane.open_document("notes")  # a text: no pages to show
    qtbot.waitUntil(lambda: pane.doc is not None and pane.doc.id == "notes", timeout=5000)
    assert not pane.page_action.isEnabled() and not pane.page_button.isVisible()
    pane.page_action.trigger()
    assert not pane.paged and not pane.page_action.isChecked()
    pane.page_view.shutdown()


def test_a_text_document_replacing_a_pdf_leaves_the_page_view(qtbot, pdf_library):
    from nkreader.ui.session import Session

    session = Session(pdf_library)
    pane = make_paged_pane(qtbot, session)
    pane.set_paged(True)
    qtbot.waitUntil(pane.page_view.ready, timeout=5000)
    pane.open_document("notes")
    qtbot.waitUntil(lambda: pane.doc is not None and pane.doc.id == "notes", timeout=5000)
    assert not pane.paged and pane.views.currentWidget() is pane.view
    assert pane.page_view.doc is None  # the PDF is let go
    start = pane.doc.text.index("border")
    pane.select_span(start, start + 6)
    assert pane.selection_span() == (start, start + 6)  # the text view answers again
    pane.page_view.shutdown()


def test_the_shortcut_toggles_while_the_pane_has_focus(qtbot, pdf_library):
    from nkreader.ui.session import Session

    session = Session(pdf_library)
    pane = make_paged_pane(qtbot, session)
    pane.view.setFocus()
    qtbot.waitUntil(pane.view.hasFocus, timeout=2000)
    qtbot.keyClick(pane.view, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert pane.paged
    qtbot.waitUntil(pane.page_view.hasFocus, timeout=2000)
    qtbot.keyClick(pane.page_view, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not pane.paged
    pane.page_view.shutdown()


def test_a_highlight_made_on_the_page_shows_in_the_text_and_back(qtbot, pdf_library):
    from nkreader.ui import commands
    from nkreader.ui.session import Session

    session = Session(pdf_library)
    pane = make_paged_pane(qtbot, session)
    pane.set_paged(True)
    view = pane.page_view
    qtbot.waitUntil(lambda: view.ready() and view.layout_of(0) is not None, timeout=5000)
    assert view.wait_idle(5000)
    selections = []
    pane.selectionChanged.connect(selections.append)
    drag(qtbot, view, centre(view, 0, word(view, 0, "office")), centre(view, 0, word(view, 0, "groups")))
    span = pane.selection_span()  # the pane answers for the page view
    assert span is not None and pane.doc.text[span[0]:span[1]] == "office of civil society groups"
    assert selections and selections[-1] is pane
    cmd = commands.AddHighlight(session, pane.doc_id, *span, color="#a8e6a1")
    assert session.push(cmd)
    qtbot.waitUntil(lambda: any(a["id"] == cmd.ann_id for a in view.annotations()), timeout=2000)
    ann = session.annotation(cmd.ann_id)
    assert ann["target"]["page"] == 1 and ann["target"]["exact"] == "office of civil society groups"
    assert len(view.layout_of(0).rects(*span)) == 2  # drawn over both lines on the page
    # the text view has it too
    qtbot.waitUntil(lambda: any(a["id"] == cmd.ann_id for a in pane.visible_annotations(0, len(pane.doc.text))),
                    timeout=2000)
    pane.set_paged(False)
    assert pane.selection_span() == span  # the selection came along
    # a highlight made in the text view shows on the page
    start = pane.doc.text.index("so-called big picture")
    pane.select_span(start, start + len("so-called big picture"))
    cmd2 = commands.AddHighlight(session, pane.doc_id, *pane.selection_span())
    assert session.push(cmd2)
    pane.set_paged(True)
    qtbot.waitUntil(lambda: any(a["id"] == cmd2.ann_id for a in view.annotations()), timeout=2000)
    # clicking it on the page makes it the current passage
    with qtbot.waitSignal(pane.annotationActivated) as signal:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre(view, 0, word(view, 0, "big")))
    assert signal.args == [cmd2.ann_id] and session.current_id == cmd2.ann_id
    # undo removes it from the page as well
    session.undo_stack.undo()
    qtbot.waitUntil(lambda: all(a["id"] != cmd2.ann_id for a in view.annotations()), timeout=2000)
    view.shutdown()


def test_find_and_activate_scroll_the_page_view(qtbot, pdf_library):
    from nkreader.ui.session import Session

    session = Session(pdf_library)
    pane = make_paged_pane(qtbot, session)
    pane.set_paged(True)
    view = pane.page_view
    qtbot.waitUntil(view.ready, timeout=5000)
    assert pane.find("numbered 6") == 1
    qtbot.waitUntil(lambda: 5 in view.visible_pages(), timeout=5000)
    assert view._matches == pane.matches  # marked on the page at once
    pane.close_find()
    assert view._matches == []
    view.shutdown()


def test_in_the_main_window_the_highlight_action_works_on_the_page(qtbot, make_window, pdf_library):
    window = make_window(pdf_library, restore=False)
    pane = window.panes[0]
    done = []
    window.open_in("bell", "active", on_ready=lambda p: done.append(p))
    qtbot.waitUntil(lambda: bool(done), timeout=10000)
    pane.set_paged(True)
    view = pane.page_view
    qtbot.waitUntil(lambda: view.ready() and view.layout_of(0) is not None, timeout=5000)
    assert view.wait_idle(5000)
    drag(qtbot, view, centre(view, 0, word(view, 0, "refugees")), centre(view, 0, word(view, 0, "south")))
    ann_id = window.highlight_selection()
    assert ann_id and window.session.annotation(ann_id)["target"]["exact"] == "refugees on their way south"
    assert view.selection_span() is None  # cleared, as in the text view
    new = window.add_pane("bell")
    assert new.page_view is not pane.page_view  # every pane has its own
    view.shutdown()
    new.page_view.shutdown()


def test_every_document_pane_has_the_page_view_in_a_stack(qtbot, pdf_library):
    import sys

    from PySide6.QtWidgets import QStackedWidget

    from nkreader.ui.document_pane import DocumentPane
    from nkreader.ui.session import Session

    pane = DocumentPane(Session(pdf_library))
    qtbot.addWidget(pane)
    stack = pane.findChild(QStackedWidget, "paneViews")
    assert stack is pane.views and stack.widget(0) is pane.view
    assert not pane.page_action.isEnabled()  # no document yet
    assert not pane.has_page_view() and stack.count() == 1  # made when first wanted
    pane.open_document("notes")
    assert not pane.has_page_view()  # a text never needs one
    # the pane's own methods, not per-object replacements, answer for either view
    assert "selection_span" not in vars(pane) and "apply_scheme" not in vars(pane)
    pane.show()
    qtbot.waitExposed(pane)
    pane.open_document("bell")
    qtbot.waitUntil(lambda: pane.doc.id == "bell", timeout=10000)
    pane.set_paged(True)
    from nkreader.ui.page_view import PageView

    assert pane.has_page_view() and isinstance(pane.page_view, PageView)
    assert stack.widget(1) is pane.page_panel and stack.currentWidget() is pane.page_panel
    assert pane.page_panel.findChild(PageView) is pane.page_view
    assert "nkreader.ui.page_view" in sys.modules
    qtbot.waitUntil(pane.page_view.ready, timeout=5000)
    pane.page_view.shutdown()


def test_the_view_menu_toggles_the_current_pane_and_follows_it(qtbot, make_window, pdf_library):
    window = make_window(pdf_library, restore=False)
    action = window.actions_by_name["page_view"]
    view_menu = next(m for m in window.menuBar().findChildren(type(window.layers_menu)) if m.title() == "&View")
    assert action in view_menu.actions() and action.isCheckable()
    assert ("View", "Page view (PDF, EPUB)", "Ctrl+Shift+P") in window.shortcut_rows()  # in the help
    pdf_pane, text_pane = window.panes  # the first two documents of the corpus
    qtbot.waitUntil(lambda: pdf_pane.doc is not None and text_pane.doc is not None, timeout=10000)
    assert (pdf_pane.doc_id, text_pane.doc_id) == ("bell", "notes")
    window.set_active_pane(text_pane)
    assert not action.isEnabled() and not action.isChecked()  # a text: nothing to page
    window.set_active_pane(pdf_pane)
    assert action.isEnabled() and not action.isChecked()
    action.trigger()
    assert pdf_pane.paged and action.isChecked()
    # the action follows the current pane
    window.set_active_pane(text_pane)
    assert not action.isEnabled() and not action.isChecked()
    window.set_active_pane(pdf_pane)
    assert action.isEnabled() and action.isChecked()
    # the pane's own button keeps the menu in step
    pdf_pane.page_button.click()
    assert not pdf_pane.paged and not action.isChecked()
    # the shortcut is the window's now (one action for it: not ambiguous), and works from the pane
    assert pdf_pane.page_action.shortcut().isEmpty()
    pdf_pane.view.setFocus()
    qtbot.waitUntil(pdf_pane.view.hasFocus, timeout=2000)
    qtbot.keyClick(pdf_pane.view, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert pdf_pane.paged and action.isChecked()
    qtbot.waitUntil(pdf_pane.page_view.hasFocus, timeout=2000)
    qtbot.keyClick(pdf_pane.page_view, Qt.Key.Key_P,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not pdf_pane.paged and not action.isChecked()
    pdf_pane.page_view.shutdown()
    text_pane.page_view.shutdown()


def test_link_ribbons_follow_the_page_view(qtbot, make_window, pdf_library):
    window = make_window(pdf_library, restore=False)
    pdf_pane, text_pane = window.panes
    qtbot.waitUntil(lambda: pdf_pane.doc is not None and text_pane.doc is not None, timeout=10000)
    ta, tb = pdf_pane.doc.text, text_pane.doc.text
    ia, ib = ta.index("civil society"), tb.index("border crossings")
    link_id = window.link_ends({"doc_id": "bell", "start": ia, "end": ia + len("civil society")},
                               {"doc_id": "notes", "start": ib, "end": ib + len("border crossings")}, "agrees", "")
    assert link_id
    gutter = window.splitter.handle(1)
    assert [link["id"] for _ys, link in gutter.geometry_now()] == [link_id]  # from the text view
    pdf_pane.set_paged(True)
    view = pdf_pane.page_view
    qtbot.waitUntil(lambda: view.ready() and view.layout_of(0) is not None, timeout=5000)
    assert view.wait_idle(5000)
    (ys, link), = gutter.geometry_now()
    assert link["id"] == link_id
    # the left end is where the words are on the page, in gutter coordinates
    top, bottom = pdf_pane.span_y_viewport(ia, ia + len("civil society"))
    rects = view.layout_of(0).rects(ia, ia + len("civil society"))
    page_top = view.page_rect(0).top()
    assert top == pytest.approx(page_top + min(r[1] for r in rects) * view.scale)
    assert bottom == pytest.approx(page_top + max(r[3] for r in rects) * view.scale)
    dy = view.viewport().mapTo(window, QPoint(0, 0)).y() - gutter.mapTo(window, QPoint(0, 0)).y()
    assert ys[0] == pytest.approx(max(top, 0) + dy) and ys[1] == pytest.approx(bottom + dy)
    # pages scrolled away: the end leaves the screen, and the ribbon goes
    view.scroll_to_page(5)
    assert view.wait_idle(5000)
    assert gutter.geometry_now() == []
    view.shutdown()
    text_pane.page_view.shutdown()


@pytest.fixture
def long_library(tmp_path):
    from nkreader.core.library import Library

    corpus = tmp_path / "corpus2"
    corpus.mkdir()
    make_pdf(corpus / "bell.pdf", pages=8)
    (corpus / "long.txt").write_text("\n\n".join(f"Paragraph {n} on border crossings and brokers." for n in range(400)),
                                     encoding="utf-8")
    lib = Library.open(corpus, tmp_path / "data2")
    yield lib
    lib.close()


def test_synchronised_scrolling_and_focus_with_a_paged_pane(qtbot, make_window, long_library):
    lib = long_library
    window = make_window(lib, restore=False)
    pdf_pane, text_pane = window.panes
    qtbot.waitUntil(lambda: pdf_pane.doc is not None and text_pane.doc is not None, timeout=10000)
    assert (pdf_pane.doc_id, text_pane.doc_id) == ("bell", "long")
    pdf_pane.set_paged(True)
    view = pdf_pane.page_view
    qtbot.waitUntil(view.ready, timeout=5000)
    window.toggle_sync(True)
    pages, text = view.verticalScrollBar(), text_pane.view.verticalScrollBar()
    assert pages.maximum() > 0 and text.maximum() > 0
    pages.setValue(pages.maximum() // 2)  # the pages lead: the text pane follows
    assert text.value() == pytest.approx(text.maximum() / 2, abs=text.maximum() * 0.02)
    text.setValue(text.maximum())  # the text leads: the pages follow
    assert pages.value() == pytest.approx(pages.maximum(), abs=pages.maximum() * 0.02)
    # focusing the pane's view (as the window's "next pane" does) focuses the pages while shown
    text_pane.view.setFocus()
    qtbot.waitUntil(text_pane.view.hasFocus, timeout=2000)
    pdf_pane.view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=2000)
    assert window.active_pane is pdf_pane
    pdf_pane.set_paged(False)
    assert pdf_pane.view.focusProxy() is None
    view.shutdown()
    text_pane.page_view.shutdown()


def test_toggling_back_before_the_pages_are_ready_keeps_the_text_place(qtbot, long_library):
    from nkreader.ui.session import Session

    session = Session(long_library)
    pane = make_paged_pane(qtbot, session)  # the 8-page PDF, in its text view
    pane.resize(600, 360)
    text_bar = pane.view.verticalScrollBar()
    qtbot.waitUntil(lambda: text_bar.maximum() > 100, timeout=2000)
    text_bar.setValue(text_bar.maximum() // 2)
    before = text_bar.value()
    assert before > 0
    pane.set_paged(True)
    pane.set_paged(False)  # at once: the pages had no sizes yet
    assert text_bar.value() == before
    pane.page_view.shutdown()


def test_a_window_of_texts_never_loads_the_page_view():
    import subprocess
    import sys

    code = ("import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'; import sys; "
            "import nkreader.ui.main_window, nkreader.ui.document_pane; "
            "bad = [m for m in ('nkreader.ui.page_view', 'nkreader.core.pdf_pages', 'pymupdf') if m in sys.modules]; "
            "print(bad); sys.exit(bool(bad))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_an_epub_in_a_pane_has_pages_too(qtbot, tmp_path):
    from nkreader.core.library import Library
    from nkreader.ui import commands
    from nkreader.ui.session import Session

    corpus = tmp_path / "epubs"
    corpus.mkdir()
    paras = "".join(f"<p>Chapter paragraph {n}: brokers, debts and the long way south through China.</p>"
                    for n in range(60))
    write_epub(corpus / "crossings.epub", paras, title="Crossings")
    lib = Library.open(corpus, tmp_path / "data-epub")
    try:
        session = Session(lib)
        pane = make_paged_pane(qtbot, session, "crossings")
        assert pane.doc.kind == "epub" and pane.doc.paginated and pane.page_action.isEnabled()
        pane.set_paged(True)
        view = pane.page_view
        qtbot.waitUntil(lambda: view.ready() and view.layout_of(0) is not None, timeout=10000)
        assert view.page_count() >= 2 and not view.error
        start = pane.doc.text.index("long way south")
        pane.select_span(start, start + len("long way south"))
        assert pane.selection_span() == (start, start + len("long way south"))
        cmd = commands.AddHighlight(session, pane.doc_id, *pane.selection_span())
        assert session.push(cmd)
        qtbot.waitUntil(lambda: any(a["id"] == cmd.ann_id for a in view.annotations()), timeout=2000)
        assert view.layout_of(0).rects(start, start + len("long way south"))  # on the first page's words
        pane.set_paged(False)
        qtbot.waitUntil(lambda: any(a["id"] == cmd.ann_id for a in pane.visible_annotations(0, len(pane.doc.text))),
                        timeout=2000)  # the same highlight in the reflowed text
        assert pane.is_span_visible(start, start + 1)  # the text view came to where the pages were
        view.shutdown()
    finally:
        lib.close()
