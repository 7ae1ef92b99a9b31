"""Imports, one module per format: a classmate's work merged as a separate layer.

``import_file(lib, path)`` reads W3C Web Annotation JSON-LD (``.json``/``.jsonld``), a REFI-QDA
project (``.qdpx``, or a bare ``.qde``) or a REFI-QDA codebook (``.qdc``, themes only), checks all
of it, re-anchors it to our texts, and only then writes (``merge.apply``). Any failure raises
``ImportRejected`` (a ``ValueError``) and leaves the store unchanged. See ``merge`` for the rules
(layers, idempotence, never overwriting ours) and ``guards`` for the limits on hostile files.
"""

from __future__ import annotations

from pathlib import Path

from nkreader.core.imports.guards import ImportRejected
from nkreader.core.imports.merge import ImportReport, apply, plan

__all__ = ["ImportRejected", "ImportReport", "FORMATS", "detect", "import_file", "read_incoming"]

FORMATS = ("w3c", "qdpx", "qdc")


def detect(path: Path) -> str:
    """The format of ``path``, by its name and then by its first bytes."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonld"):
        return "w3c"
    if suffix in (".qdpx", ".qde"):
        return "qdpx"
    if suffix == ".qdc":
        return "qdc"
    try:
        with open(path, "rb") as fh:
            head = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
    except FileNotFoundError:
        raise ImportRejected(f"No such file: {path}") from None
    except OSError as exc:
        raise ImportRejected(f"Cannot read {path}: {exc.strerror or exc}") from None
    if head.startswith(b"PK"):
        return "qdpx"
    if head[:1] in (b"{", b"["):
        return "w3c"
    if head.startswith(b"<"):
        return "qdc" if b"CodeBook" in head else "qdpx"
    raise ImportRejected(f"{path.name}: nkreader imports W3C Web Annotation JSON-LD (.jsonld), "
                         "REFI-QDA projects (.qdpx) and codebooks (.qdc).")


def read_incoming(lib, path: Path, fmt: str | None = None):
    fmt = fmt or detect(path)
    if fmt == "w3c":
        from nkreader.core.imports import w3c

        return w3c.read(path)
    if fmt in ("qdpx", "qdc"):
        from nkreader.core.imports import refiqda

        return refiqda.read(path, lib)
    raise ImportRejected(f"Unknown import format '{fmt}'; choose one of {', '.join(FORMATS)}.")


def import_file(lib, path: Path | str, *, fmt: str | None = None, creator: str | None = None,
                dry_run: bool = False) -> ImportReport:
    """Merge the file into the library; returns what was (or, with ``dry_run``, would be) merged."""
    path = Path(path)
    if lib.store.readonly and not dry_run:
        raise ImportRejected(f"The library is open read-only; {path.name} was not imported.")
    incoming = read_incoming(lib, path, fmt)
    the_plan = plan(lib, incoming, str(path), creator=creator)
    if not dry_run:
        apply(lib, the_plan)
    return the_plan.report
