"""CSV of highlights: one row each, safe to open in a spreadsheet.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and some
also after a leading tab or CR), so such a cell gets a leading apostrophe: ``=HYPERLINK(...)``
is shown as text, never evaluated. The file is UTF-8 with a BOM so Excel reads Japanese and
Korean correctly.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from nkreader.core.exports._text import atomic_write, clean
from nkreader.core.exports.view import collect

COLUMNS = ("id", "document", "author", "year", "title", "citation", "paragraph", "page", "start", "end",
           "quote", "note", "themes", "color", "creator", "layer", "status", "links", "created", "modified")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")  # clean() makes CR into LF


def safe_cell(value) -> str | int:
    """A cell value that a spreadsheet shows as text; numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return value
    # clean first (it drops control characters), so "\x00=cmd" cannot slip past the check
    text = clean(value if isinstance(value, str) else str(value))
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return text


def render(brief) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for p in brief.passages:
        links = "; ".join(l.sentence() for l in p.links)
        row = [p.id, p.doc_id, p.author, p.year, p.title, p.citation, p.paragraph, p.page, p.start, p.end,
               p.quote, p.note, "; ".join(p.themes), p.color, p.creator, p.layer_name, p.status, links,
               p.created, p.modified]
        writer.writerow([safe_cell(v) for v in row])
    return buf.getvalue()


def export(lib, out: Path, *, by: str = "document", doc: str | None = None, theme: str | None = None,
           all_layers: bool = False) -> dict:
    brief = collect(lib, by="document", doc=doc, theme=theme, all_layers=all_layers)
    atomic_write(out, render(brief).encode("utf-8-sig"))
    return {"passages": len(brief.passages)}
