"""HTML export, checked with html.parser: no script, no external URL, every text escaped."""

import re
from html.parser import HTMLParser

import pytest

from nkreader.core.exports import export
from nkreader.core.exports.htmlfile import render
from nkreader.core.exports.view import collect

NASTY = "<script>alert('x')</script><img src=http://evil.example/x.png onerror=alert(1)> \" ' & </p><style>"


class Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.text: list[str] = []
        self.stack: list[str] = []
        self.style = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(tag, k, v) for k, v in attrs]
        if tag not in ("meta", "br", "img", "link", "input", "hr"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1] == "style":
            self.style += data
        else:
            self.text.append(data)


def parse(text: str) -> Collector:
    c = Collector()
    c.feed(text)
    c.close()
    return c


@pytest.fixture
def nasty_lib(library):
    lib = library
    a = lib.highlight_quote("suh", "refugee status", note=NASTY + "\nsecond line", themes=["Refugee <status>"])
    b = lib.highlight_quote("bell", "forcibly repatriate", themes=["Refugee <status>"], color="red;background:url(http://evil.example)")
    lib.link(a["id"], b["id"], "disputes", NASTY)
    t = lib.theme_by_name("Refugee <status>")
    lib.update_theme(t["id"], memo=NASTY, color="#abc;background:url(javascript:alert(1))")
    return lib


@pytest.mark.parametrize("by", ["document", "theme"])
def test_no_script_no_external_resource_everything_escaped(nasty_lib, tmp_path, by):
    out = tmp_path / f"{by}.html"
    export(nasty_lib, "html", out, by=by)
    text = out.read_text(encoding="utf-8")
    c = parse(text)
    assert "script" not in c.tags and "img" not in c.tags and "link" not in c.tags
    assert "iframe" not in c.tags and "object" not in c.tags
    assert c.tags.count("style") == 1  # ours, in the head
    for tag, name, value in c.attrs:
        assert not name.startswith("on"), (tag, name)
        assert name not in ("src", "href", "action", "formaction", "srcset"), (tag, name, value)
        assert "url(" not in (value or "") and "javascript:" not in (value or "").lower()
    assert "url(" not in c.style and "@import" not in c.style and "http" not in c.style
    body = "".join(c.text)
    # the note came through as text, every character of it
    assert NASTY.split("\n")[0] in body
    assert "Refugee <status>" in body
    # nothing user-supplied reached an attribute unescaped: only safe colours appear in style=
    styles = [v for _t, n, v in c.attrs if n == "style"]
    assert all(v.replace("border-left-color: ", "").replace("background: ", "").startswith("#") for v in styles)
    assert "red;" not in text and "#abc;" not in text


def test_page_is_self_contained_and_printable(library, tmp_path):
    library.highlight_quote("kwon", "human security", note="first line\nsecond line\n\nnew paragraph")
    out = tmp_path / "notes.html"
    export(library, "html", out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text
    assert "@media print" in text and "break-inside: avoid" in text
    c = parse(text)
    assert c.tags.count("blockquote") == 1 and c.tags.count("h1") == 1 and c.tags.count("h2") == 1
    assert "Kwon 2023, ¶" in "".join(c.text)
    assert "first line<br>\nsecond line</p>\n<p>new paragraph" in text


def test_quote_lines_and_multiline_note_keep_their_breaks(library):
    lib = library
    doc = lib.document("suh")
    p1, p2 = doc.paragraphs[3], doc.paragraphs[4]
    lib.highlight("suh", p1.start, p2.end, note="a\nb")
    html = render(collect(lib))
    quote_html = re.split(r"<blockquote[^>]*>", html)[1].split("</blockquote>")[0]
    assert quote_html.count("<p>") == 2  # the two paragraphs (+ the citation, which has a class)
    assert '<p class="cite">' in quote_html


def test_lone_surrogate_in_a_note_is_replaced_not_a_crash(library):
    # the store refuses lone surrogates, but a note can still carry one in memory (a broken
    # clipboard, a surrogate-escaped command line): the writers must not crash on it
    library.highlight_quote("suh", "refugee status")
    brief = collect(library)
    brief.documents[0].passages[0].note = "bad \ud800 note"
    brief.documents[0].passages[0].themes = ["th\udfffeme"]
    html = render(brief)
    assert "bad \ufffd note" in html and "th\ufffdeme" in html
    html.encode("utf-8")



from hypothesis import given, settings
from hypothesis import strategies as st

from nkreader.core.exports._text import clean
from nkreader.core.exports.htmlfile import _lines, e


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=80))
def test_any_text_is_only_text(text):
    c = parse(f"<div>{e(text)}</div><div>{_lines(text)}</div>")
    assert set(c.tags) <= {"div", "p", "br"} and not c.attrs
    if clean(text):
        assert "".join(c.text).startswith(clean(text))
