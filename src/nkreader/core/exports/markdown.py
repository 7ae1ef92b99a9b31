"""Markdown export: reading notes by document, or a debate brief by theme.

Every piece of user or document text goes through ``_text.md_inline`` / ``md_blockquote`` /
``md_paragraphs``, so a note that reads ``# Heading``, ``- item``, ``<script>`` or ``=====`` comes
out as that literal text, never as a heading, list, HTML or setext underline. A quote that spans
lines stays one blockquote: every line is prefixed ``> `` and its line breaks are hard breaks.
"""

from __future__ import annotations

from pathlib import Path

from nkreader.core.exports._text import atomic_write, md_blockquote, md_inline, md_paragraphs, short
from nkreader.core.exports.view import Brief, Passage, collect


def _passage(p: Passage, *, show_doc: bool, level: int) -> list[str]:
    out: list[str] = []
    heading = p.citation
    if p.orphan:
        heading += " (orphan: no longer found in the text)"
    out.append(f"{'#' * level} {md_inline(heading)}")
    out.append("")
    out += md_blockquote(p.quote, p.citation)
    out.append("")
    if p.note.strip():
        out += md_paragraphs(p.note, lead="**Note:** ")
        out.append("")
    meta = []
    if p.themes:
        meta.append("*Themes:* " + " · ".join(md_inline(t) for t in p.themes))
    if p.layer_name:
        meta.append(f"*From:* {md_inline(p.layer_name)}")
    if show_doc:
        meta.append(f"*Source:* {md_inline(p.title)}")
    if meta:
        out.append(" — ".join(meta))
        out.append("")
    if p.links:
        out.append("*Links:*")
        out.append("")
        for l in p.links:
            line = f"- {l.sentence(md_inline(l.phrase), md_inline(l.other_citation))}: “{md_inline(short(l.other_quote))}”"
            if l.note.strip():
                line += f" — {md_inline(l.note)}"
            out.append(line)
        out.append("")
    return out


def render(brief: Brief) -> str:
    """The brief as CommonMark text."""
    out = [f"# {md_inline(brief.title)}", ""]
    sub = f"Exported by nkreader on {brief.generated[:10]}"
    if brief.filters:
        sub += " · " + ", ".join(f"{k}: {v}" for k, v in brief.filters.items())
    out += [f"*{md_inline(sub)}*", ""]
    if brief.by == "document":
        if not brief.documents:
            out += ["No highlights yet.", ""]
        for d in brief.documents:
            out.append(f"## {md_inline(d.title)}")
            out.append("")
            facts = d.author + (f", {d.year}" if d.year else "")
            if d.venue:
                facts += f". {d.venue}"
            out += [md_inline(facts), ""]
            for p in d.passages:
                out += _passage(p, show_doc=False, level=3)
    else:
        if not brief.themes:
            out += ["No coded passages yet.", ""]
        for t in brief.themes:
            out.append(f"## {md_inline(t.name)}")
            out.append("")
            if t.description.strip():
                out += md_paragraphs(t.description)
                out.append("")
            if t.memo.strip():
                out += md_paragraphs(t.memo, lead="**Memo:** ")
                out.append("")
            for g in t.groups:
                out.append(f"### {md_inline(g.heading)}")
                out.append("")
                for p in g.passages:
                    out += _passage(p, show_doc=False, level=4)
            if t.links:
                out.append("### How the authors connect")
                out.append("")
                for l in t.links:
                    line = (f"- {md_inline(l.source.citation)} {md_inline(l.phrase)} "
                            f"{md_inline(l.target.citation)}")
                    if l.note.strip():
                        line += f" — {md_inline(l.note)}"
                    out.append(line)
                out.append("")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def export(lib, out: Path, *, by: str = "document", doc: str | None = None, theme: str | None = None,
           all_layers: bool = False) -> dict:
    brief = collect(lib, by=by, doc=doc, theme=theme, all_layers=all_layers)
    atomic_write(out, render(brief).encode("utf-8"))
    return {"passages": len(brief.passages)}
