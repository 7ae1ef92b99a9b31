"""Exports, one module per format; ``export(lib, fmt, out, ...)`` picks the module.

=======  =====================================================  ========================
format   what                                                   module
=======  =====================================================  ========================
md       Markdown notes by document, or a debate brief by theme  ``markdown``
html     the same, one self-contained print-friendly file       ``htmlfile``
pdf      the same as a handout (PyMuPDF, imported lazily)       ``pdf``
w3c      W3C Web Annotation JSON-LD AnnotationCollection        ``w3c``
qdpx     REFI-QDA project (zip: project.qde + sources/)         ``refiqda``
qdc      REFI-QDA codebook                                      ``refiqda``
csv      highlights, one row each, formula-safe                 ``csvfile``
=======  =====================================================  ========================

Every export writes its file atomically (temp file + ``os.replace``): a failed export never leaves
half a file where the old one was. By default only the reader's own work is exported;
``all_layers=True`` adds classmates' imported layers.
"""

from __future__ import annotations

import importlib
from pathlib import Path

FORMATS: dict[str, tuple[str, str]] = {
    "md": ("markdown", "export"),
    "html": ("htmlfile", "export"),
    "pdf": ("pdf", "export"),
    "w3c": ("w3c", "export"),
    "qdpx": ("refiqda", "export_project"),
    "qdc": ("refiqda", "export_codebook"),
    "csv": ("csvfile", "export"),
}
SUFFIXES = {"md": ".md", "html": ".html", "pdf": ".pdf", "w3c": ".jsonld", "qdpx": ".qdpx", "qdc": ".qdc",
            "csv": ".csv"}


def export(lib, fmt: str, out: Path | str, *, by: str = "document", doc: str | None = None,
           theme: str | None = None, all_layers: bool = False) -> dict:
    """Write ``out`` in format ``fmt``; returns a summary (counts) with ``format`` and ``path``."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format '{fmt}'; choose one of {', '.join(FORMATS)}")
    if by not in ("document", "theme"):
        raise ValueError("--by must be 'document' or 'theme'")
    module_name, func_name = FORMATS[fmt]
    module = importlib.import_module(f"{__name__}.{module_name}")
    out = Path(out)
    if out.is_dir():
        raise ValueError(f"{out} is a folder; give a file name for the export")
    summary = getattr(module, func_name)(lib, out, by=by, doc=doc, theme=theme, all_layers=all_layers)
    return {"format": fmt, "path": str(out), "by": by, **summary}
