"""HTML export: one self-contained, print-friendly file (and the source of the PDF handout).

Every piece of user or document text goes through ``html.escape`` (quotes included); colours are
only written when they are plain ``#rgb``/``#rrggbb``. The page has no script, no link, no image
and no external resource: it reads the same offline, printed, or from an e-mail attachment.
"""

from __future__ import annotations

import html
from pathlib import Path

from nkreader.core.exports._text import atomic_write, clean, one_line, safe_color, short
from nkreader.core.exports.view import Brief, Passage, collect

CSS = """
:root { color-scheme: light; }
body { font-family: Georgia, "Noto Serif", "Noto Serif CJK JP", "Source Han Serif", serif;
       line-height: 1.5; max-width: 46em; margin: 2em auto; padding: 0 1em; color: #1a1a1a; }
h1 { font-size: 1.7em; margin-bottom: 0.2em; }
h2 { font-size: 1.35em; border-bottom: 1px solid #999; margin-top: 2em; }
h3 { font-size: 1.1em; margin-top: 1.5em; }
h4 { font-size: 1em; margin: 1.2em 0 0.3em; }
.sub, .facts, .meta { color: #555; font-size: 0.92em; }
.passage { margin: 0 0 1.4em; break-inside: avoid; page-break-inside: avoid; }
blockquote { margin: 0.3em 0; padding: 0.2em 0 0.2em 1em; border-left: 4px solid #bbb; }
blockquote p { margin: 0.3em 0; }
.cite { font-style: normal; color: #333; font-size: 0.92em; }
.note { margin: 0.4em 0; }
.memo, .description { background: #f4f4f4; padding: 0.5em 0.8em; }
.orphan { color: #a00; }
ul.links { margin: 0.3em 0; padding-left: 1.4em; font-size: 0.95em; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; border-radius: 0.15em;
          margin-right: 0.35em; vertical-align: baseline; }
@media print {
  @page { margin: 18mm 16mm; }
  body { max-width: none; margin: 0; font-size: 11pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3, h4 { break-after: avoid; page-break-after: avoid; }
}
"""

# MuPDF's layout engine (the PDF handout) understands a smaller CSS: keep to it.
PDF_CSS = """
body { font-family: serif; font-size: 10.5pt; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 4pt 0; }
h2 { font-size: 14pt; margin: 16pt 0 4pt 0; border-bottom: 1px solid #999999; }
h3 { font-size: 12pt; margin: 12pt 0 3pt 0; }
h4 { font-size: 10.5pt; margin: 9pt 0 2pt 0; }
p { margin: 3pt 0; }
.sub, .facts, .meta { color: #555555; font-size: 9.5pt; }
blockquote { margin: 3pt 0 3pt 12pt; padding-left: 8pt; border-left: 3px solid #bbbbbb; }
.cite { color: #333333; font-size: 9.5pt; }
.memo, .description { background-color: #f2f2f2; padding: 4pt; }
.orphan { color: #aa0000; }
ul { margin: 2pt 0 2pt 14pt; }
"""


def e(text) -> str:
    """Escape for element content and attribute values."""
    return html.escape(clean(text), quote=True)


def _lines(text: str) -> str:
    """A multi-line text as <p> paragraphs (blank lines) with <br> line breaks, all escaped."""
    paras = [p for p in clean(text).strip().split("\n\n") if p.strip()]
    out = []
    for para in paras:
        lines = [html.escape(line.strip(), quote=True) for line in para.split("\n") if line.strip()]
        out.append("<p>" + "<br>\n".join(lines) + "</p>")
    return "\n".join(out)


def _passage(p: Passage, level: int, *, pdf: bool) -> str:
    h = f"h{level}"
    cls = "passage orphan" if p.orphan else "passage"
    color = safe_color(p.color)
    style = f' style="border-left-color: {color}"' if color and not pdf else ""
    heading = e(p.citation) + (' <span class="orphan">(orphan: no longer found in the text)</span>' if p.orphan else "")
    parts = [f'<section class="{cls}">', f"<{h}>{heading}</{h}>", f"<blockquote{style}>",
             _lines(p.quote), f'<p class="cite">— {e(p.citation)}</p>', "</blockquote>"]
    if p.note.strip():
        note = _lines(p.note)
        note = note.replace("<p>", "<p><strong>Note:</strong> ", 1)
        parts.append(f'<div class="note">{note}</div>')
    meta = []
    if p.themes:
        meta.append("Themes: " + " · ".join(e(t) for t in p.themes))
    if p.layer_name:
        meta.append("From: " + e(p.layer_name))
    if meta:
        parts.append(f'<p class="meta">{" — ".join(meta)}</p>')
    if p.links:
        items = []
        for l in p.links:
            item = f"{l.sentence(e(l.phrase), e(l.other_citation))}: “{e(short(l.other_quote))}”"
            if l.note.strip():
                item += f" — {e(one_line(l.note))}"
            items.append(f"<li>{item}</li>")
        parts.append('<ul class="links">' + "".join(items) + "</ul>")
    parts.append("</section>")
    return "\n".join(parts)


def render_body(brief: Brief, *, pdf: bool = False) -> str:
    out = [f"<h1>{e(brief.title)}</h1>"]
    sub = f"Exported by nkreader on {brief.generated[:10]}"
    if brief.filters:
        sub += " · " + ", ".join(f"{k}: {v}" for k, v in brief.filters.items())
    out.append(f'<p class="sub">{e(sub)}</p>')
    if brief.by == "document":
        if not brief.documents:
            out.append("<p>No highlights yet.</p>")
        for d in brief.documents:
            out.append(f"<h2>{e(d.title)}</h2>")
            facts = d.author + (f", {d.year}" if d.year else "") + (f". {d.venue}" if d.venue else "")
            out.append(f'<p class="facts">{e(facts)}</p>')
            out += [_passage(p, 3, pdf=pdf) for p in d.passages]
    else:
        if not brief.themes:
            out.append("<p>No coded passages yet.</p>")
        for t in brief.themes:
            color = safe_color(t.color)
            swatch = f'<span class="swatch" style="background: {color}"></span>' if color and not pdf else ""
            out.append(f"<h2>{swatch}{e(t.name)}</h2>")
            if t.description.strip():
                out.append(f'<div class="description">{_lines(t.description)}</div>')
            if t.memo.strip():
                memo = _lines(t.memo).replace("<p>", "<p><strong>Memo:</strong> ", 1)
                out.append(f'<div class="memo">{memo}</div>')
            for g in t.groups:
                out.append(f"<h3>{e(g.heading)}</h3>")
                out += [_passage(p, 4, pdf=pdf) for p in g.passages]
            if t.links:
                out.append("<h3>How the authors connect</h3>")
                items = []
                for l in t.links:
                    item = f"{e(l.source.citation)} {e(l.phrase)} {e(l.target.citation)}"
                    if l.note.strip():
                        item += f" — {e(one_line(l.note))}"
                    items.append(f"<li>{item}</li>")
                out.append('<ul class="links">' + "".join(items) + "</ul>")
    return "\n".join(out)


def render(brief: Brief) -> str:
    """A complete, self-contained HTML document."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="generator" content="nkreader">\n'
        f"<title>{e(brief.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"{render_body(brief)}\n</body>\n</html>\n"
    )


def export(lib, out: Path, *, by: str = "document", doc: str | None = None, theme: str | None = None,
           all_layers: bool = False) -> dict:
    brief = collect(lib, by=by, doc=doc, theme=theme, all_layers=all_layers)
    atomic_write(out, render(brief).encode("utf-8"))
    return {"passages": len(brief.passages)}
