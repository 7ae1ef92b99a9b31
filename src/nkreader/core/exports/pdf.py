"""PDF handout: the HTML view laid out by PyMuPDF's ``Story`` on A4 pages, with page numbers.

The body is the same escaped HTML as the HTML export (``htmlfile.render_body(pdf=True)``), so
nothing a note says can become markup here either. PyMuPDF is imported inside ``export`` only:
it costs ~0.6 s, and this is the one exports module allowed to use it (tests/unit/test_layering.py).
MuPDF falls back to its bundled CJK font (Droid Sans Fallback) for Japanese/Korean text, so the
handout does not depend on fonts installed on the machine.
"""

from __future__ import annotations

import io
from pathlib import Path

from nkreader.core.exports._text import atomic_write, one_line
from nkreader.core.exports.htmlfile import PDF_CSS, render_body
from nkreader.core.exports.view import Brief, collect

MARGIN = 50  # points (about 18 mm)


def render(brief: Brief) -> bytes:
    """The brief as PDF bytes."""
    import pymupdf

    story = pymupdf.Story(html=f"<body>{render_body(brief, pdf=True)}</body>", user_css=PDF_CSS)
    buf = io.BytesIO()
    writer = pymupdf.DocumentWriter(buf)
    mediabox = pymupdf.paper_rect("a4")
    where = mediabox + (MARGIN, MARGIN, -MARGIN, -MARGIN - 10)
    more, pages = 1, 0
    while more:
        device = writer.begin_page(mediabox)
        more, _filled = story.place(where)
        story.draw(device)
        writer.end_page()
        pages += 1
        if pages > 5000:  # a layout that never converges must not run forever
            raise ValueError("the handout would exceed 5000 pages; export a smaller selection")
    writer.close()

    doc = pymupdf.open("pdf", buf.getvalue())
    try:
        total = doc.page_count
        title = one_line(brief.title)
        for i, page in enumerate(doc, start=1):
            footer = f"{i} / {total}"
            width = pymupdf.get_text_length(footer, fontname="helv", fontsize=8)
            page.insert_text((mediabox.width - MARGIN - width, mediabox.height - MARGIN + 18), footer,
                             fontname="helv", fontsize=8, color=(0.4, 0.4, 0.4))
        doc.set_metadata({"title": title, "creator": "nkreader", "producer": "nkreader (PyMuPDF)",
                          "subject": "Reading notes" if brief.by == "document" else "Debate brief"})
        return doc.tobytes(garbage=3, deflate=True)
    finally:
        doc.close()


def export(lib, out: Path, *, by: str = "document", doc: str | None = None, theme: str | None = None,
           all_layers: bool = False) -> dict:
    brief = collect(lib, by=by, doc=doc, theme=theme, all_layers=all_layers)
    atomic_write(out, render(brief))
    return {"passages": len(brief.passages)}
