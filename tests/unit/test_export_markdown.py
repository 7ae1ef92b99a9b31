"""Markdown export, checked by parsing it with markdown-it-py (CommonMark + GFM tables/strikethrough)."""


import pytest
from markdown_it import MarkdownIt

from nkreader.core.exports import export
from nkreader.core.exports._text import md_blockquote, md_inline, md_paragraphs
from nkreader.core.exports.markdown import render
from nkreader.core.exports.view import collect
from nkreader.core.library import Library

HOSTILE_TEXT = """Hostile Text

A first paragraph that talks about refugees and the law at some length, so that it is a paragraph.

# This line looks like a heading but it is text in the document.

1. This one looks like an ordered list item and it also goes on for a while to be text.

<script>alert("document")</script> and <b>bold</b> markup that is only text & more.

=====

Last paragraph with Japanese 北朝鮮問題における市民社会 and Korean 탈북자 text.
"""

HOSTILE_NOTES = [
    "# Heading in a note",
    "- a list item\n+ another\n* and another",
    "1. ordered\n2) also ordered",
    "<script>alert('x')</script>",
    "<!-- comment --> <img src=x onerror=alert(1)>",
    "line one\n=====",
    "line one\n-----",
    "***",
    "    indented code",
    "```\nfenced\n```",
    "~~~\nfenced\n~~~",
    "> not a quote",
    "[a link](http://evil.example) ![img](http://evil.example/x.png) <http://evil.example>",
    "*emphasis* _under_ **strong** `code` ~~strike~~ | table | cell |",
    "&amp; &lt;b&gt; &#60;script&#62;",
    "Term\n: definition",
    "back\\slash at the end\\",
    "lone surrogate \ud800 here",
]


def _md():
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _tokens(text):
    return _md().parse(text)


def _types(tokens):
    out = []
    for t in tokens:
        out.append(t.type)
        for c in t.children or []:
            out.append(c.type)
    return out


def _text_of(tokens) -> str:
    parts = []
    for t in tokens:
        for c in t.children or []:
            if c.type == "text":
                parts.append(c.content)
            elif c.type in ("softbreak", "hardbreak"):
                parts.append("\n")
    return "".join(parts)


FORBIDDEN = {"html_block", "html_inline", "bullet_list_open", "ordered_list_open", "code_block", "fence",
             "hr", "link_open", "image", "em_open", "strong_open", "code_inline", "s_open", "table_open"}


@pytest.mark.parametrize("note", HOSTILE_NOTES)
def test_a_note_renders_as_its_own_literal_text(note):
    lines = md_paragraphs(note)
    tokens = _tokens("\n".join(lines) + "\n")
    types = set(_types(tokens))
    assert not types & FORBIDDEN, (note, types & FORBIDDEN)
    assert "heading_open" not in types and "blockquote_open" not in types
    expected = [l.strip() for l in note.replace("\ud800", "\ufffd").split("\n")]
    assert [l.strip() for l in _text_of(tokens).split("\n")] == expected


@pytest.mark.parametrize("note", HOSTILE_NOTES)
def test_a_quote_stays_one_blockquote_every_line_prefixed(note):
    lines = md_blockquote(note, "Suh 2002, ¶4")
    assert all(l == ">" or l.startswith("> ") for l in lines)
    tokens = _tokens("\n".join(lines) + "\n")
    types = _types(tokens)
    assert types.count("blockquote_open") == 1 and types[0] == "blockquote_open"
    assert not set(types) & FORBIDDEN
    assert "heading_open" not in types


def test_inline_escape_keeps_headings_plain():
    tokens = _tokens(f"## {md_inline('Title # with #hash ## and <b>tag</b> *x*')}\n")
    assert [t.type for t in tokens] == ["heading_open", "inline", "heading_close"]
    assert tokens[1].children[0].content == "Title # with #hash ## and <b>tag</b> *x*"
    assert len(tokens[1].children) == 1


@pytest.fixture
def hostile_lib(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "hostile.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    (corpus / "metadata.toml").write_text(
        '[[document]]\nid = "hostile"\nfile = "hostile.txt"\ntitle = "Hostile <Title> # with *stars*"\n'
        'authors = ["Ann <Author>"]\nyear = 2020\ncitation = "Author 2020"\n', encoding="utf-8")
    lib = Library.open(corpus, tmp_path / "data")
    yield lib
    lib.close()


def test_by_document_quotes_spanning_paragraphs_stay_quotes(hostile_lib, tmp_path):
    lib = hostile_lib
    doc = lib.document("hostile")
    start = doc.text.index("# This line")
    end = doc.text.index("=====") + 5
    ann = lib.highlight("hostile", start, end, note="# my note\n- not a list\n<script>x</script>",
                        themes=["Law"])
    out = tmp_path / "notes.md"
    export(lib, "md", out, by="document")
    text = out.read_text(encoding="utf-8")
    tokens = _tokens(text)
    types = _types(tokens)
    assert not set(types) & FORBIDDEN - {"em_open", "strong_open"}
    headings = [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0][0] == "h1"
    assert ("h2", r"Hostile \<Title\> \# with \*stars\*") in headings
    assert [h for h in headings if h[0] == "h3"] == [("h3", lib.citation(lib.annotation(ann["id"])))]
    assert types.count("blockquote_open") == 1
    # inside the quote: each document paragraph is a paragraph of the quote, then the citation
    bq = tokens[next(i for i, t in enumerate(tokens) if t.type == "blockquote_open"):]
    inner = [t.content for t in bq if t.type == "inline"]
    assert inner[0].startswith(r"\# This line looks like a heading")
    rendered = _md().render(text)
    assert "<script>" not in rendered and "&lt;script&gt;alert(&quot;document&quot;)&lt;/script&gt;" in rendered
    assert "&lt;script&gt;x&lt;/script&gt;" in rendered
    assert "<h1>" in rendered and rendered.count("<h3>") == 1 and "<ul>" not in rendered
    assert "— Author 2020, ¶3" in rendered
    # every line between the quote's first and last is prefixed
    lines = text.splitlines()
    first = next(i for i, l in enumerate(lines) if l.startswith("> "))
    last = max(i for i, l in enumerate(lines) if l.startswith("> "))
    assert all(l == ">" or l.startswith("> ") for l in lines[first:last + 1])


def test_debate_brief_by_theme_has_memo_authors_and_links(library, tmp_path):
    lib = library
    a = lib.highlight_quote("suh", "refugee status", note="Suh: legal status", themes=["Refugee status"])
    b = lib.highlight_quote("bell", "forcibly repatriate", themes=["Refugee status", "China"])
    c = lib.highlight_quote("kwon", "human security", themes=["Human security"])
    lib.link(b["id"], a["id"], "disputes", "China's position")
    t = lib.theme_by_name("Refugee status")
    lib.update_theme(t["id"], memo="Who counts as a refugee?\n# not a heading", description="Legal category")
    out = tmp_path / "brief.md"
    export(lib, "md", out, by="theme")
    text = out.read_text(encoding="utf-8")
    tokens = _tokens(text)
    heads = [(t.tag, tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == "heading_open"]
    h2 = [c for tag, c in heads if tag == "h2"]
    assert h2 == ["China", "Human security", "Refugee status"]
    h3 = [c for tag, c in heads if tag == "h3"]
    assert any(h.startswith("Suh 2002 — ") for h in h3) and any(h.startswith("Bell and Fattig 2014 — ") for h in h3)
    assert "How the authors connect" in h3
    h4 = [c for tag, c in heads if tag == "h4"]
    assert lib.citation(lib.annotation(a["id"])) in h4 and lib.citation(lib.annotation(c["id"])) in h4
    rendered = _md().render(text)
    assert "<strong>Memo:</strong> Who counts as a refugee?<br />\n# not a heading" in rendered
    # the links list names both authors with the link type
    bl = [i for i, t in enumerate(tokens) if t.type == "bullet_list_open"]
    assert bl, "the brief lists links"
    link_items = [t.content for t in tokens if t.type == "inline" and "disputes" in t.content]
    assert any(x.startswith("Bell and Fattig 2014, ¶") and "Suh 2002, ¶" in x for x in link_items)


def test_theme_filter_and_doc_filter(library):
    lib = library
    lib.highlight_quote("suh", "refugee status", themes=["Refugee status"])
    lib.highlight_quote("kwon", "human security", themes=["Human security"])
    brief = collect(lib, by="theme", theme="human security")
    assert [t.name for t in brief.themes] == ["Human security"]
    brief = collect(lib, by="document", doc="suh")
    assert [d.doc_id for d in brief.documents] == ["suh-2002"]
    with pytest.raises(ValueError, match="No theme named"):
        collect(lib, theme="no such theme")


def test_empty_library_exports_a_valid_file(library, tmp_path):
    out = tmp_path / "empty.md"
    export(library, "md", out)
    assert "No highlights yet." in out.read_text(encoding="utf-8")
    assert render(collect(library, by="theme")).startswith("# Debate brief")


def test_other_layers_only_when_asked(library, tmp_path):
    lib = library
    lib.highlight_quote("suh", "refugee status")
    ann = lib.highlight_quote("bell", "forcibly repatriate")
    lib.store.put("layers", {"id": "layer-x", "name": "Classmate <Kim>", "visible": True})
    lib.update_annotation(ann["id"], layer="layer-x")
    assert len(collect(lib).passages) == 1
    brief = collect(lib, all_layers=True)
    assert len(brief.passages) == 2
    text = render(brief)
    assert r"*From:* Classmate \<Kim\>" in text


# property: whatever a note says, it renders as exactly that text and nothing else ----------------

from hypothesis import given, settings
from hypothesis import strategies as st

_ALPHABET = st.sampled_from(list("#-+*=_`~<>[]()!|\\&;:.)1 9aZ\t\n\"'/@%{}^$") + ["北", "😀", "e\u0301", "\u00a0"])


def _expected_paragraphs(text: str) -> list[str]:
    paras, cur = [], []
    for line in text.split("\n"):
        line = line.strip()
        if line:
            cur.append(line)
        elif cur:
            paras.append("\n".join(cur))
            cur = []
    if cur:
        paras.append("\n".join(cur))
    return paras


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_any_note_is_literal_text(note):
    tokens = _tokens("\n".join(md_paragraphs(note)) + "\n")
    types = {t.type for t in tokens}
    assert types <= {"paragraph_open", "paragraph_close", "inline"}, types
    got = []
    for t in tokens:
        if t.type == "inline":
            got.append("".join(c.content if c.type == "text" else "\n" for c in t.children
                               if c.type in ("text", "hardbreak", "softbreak")))
            assert {c.type for c in t.children} <= {"text", "hardbreak", "softbreak"}, t.children
    assert got == _expected_paragraphs(note)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ALPHABET, max_size=60).map("".join))
def test_any_quote_is_one_blockquote(quote):
    if not quote.strip(" \t\n"):
        return
    tokens = _tokens("\n".join(md_blockquote(quote, "Suh 2002, ¶4")) + "\n")
    types = [t.type for t in tokens]
    assert types.count("blockquote_open") == 1 and types[0] == "blockquote_open" and types[-1] == "blockquote_close"
    assert set(types) <= {"blockquote_open", "blockquote_close", "paragraph_open", "paragraph_close", "inline"}
