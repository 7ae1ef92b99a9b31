"""A REFI-QDA codebook (``.qdc``) as plain nested dicts, for ``core.themes.read_codebook``.

The file is read with the same guards as every import (size cap, defusedxml: no DTD, no
entities); codes without a name are left out. ``import_file`` (``core.imports``) is the other
way in: it merges a .qdc into the themes directly.
"""

from __future__ import annotations

from pathlib import Path

from nkreader.core.exports._text import clean, safe_color
from nkreader.core.imports.guards import ImportRejected, local, parse_xml, read_capped

__all__ = ["ImportRejected", "read_codebook"]


def _node(code, depth: int) -> dict | None:
    if depth > 50:
        raise ImportRejected("The codebook nests codes more than 50 levels deep.")
    name = " ".join(clean(code.get("name", "")).split())
    if not name:
        return None
    desc = next((c for c in code if local(c.tag) == "Description"), None)
    out = {"name": name, "color": safe_color(code.get("color"), "") or "",
           "description": clean("".join(desc.itertext())).strip() if desc is not None else "",
           "memo": "", "guid": clean(code.get("guid", ""))}
    kids = [n for n in (_node(c, depth + 1) for c in code if local(c.tag) == "Code") if n]
    if kids:
        out["children"] = kids
    return out


def read_codebook(path: Path | str) -> list[dict]:
    """The codes of a .qdc (or of a .qdpx project's codebook) as ``[{name, color, description, guid, children}]``."""
    path = Path(path)
    from nkreader.core.imports import refiqda

    with open(path, "rb") as fh:
        head = fh.read(2)
    if head == b"PK":
        from nkreader.core.imports.guards import SafeZip

        with SafeZip(path) as zf:
            qde = zf.find("project.qde")
            if qde is None:
                raise ImportRejected(f"{path.name} has no project.qde: not a REFI-QDA project.")
            root = parse_xml(zf.read(qde), f"{path.name}/{qde}")
    else:
        root = parse_xml(read_capped(path), path.name)
    tag = local(root.tag)
    if tag == "Project":
        book = refiqda._child(root, "CodeBook")
        codes = refiqda._child(book, "Codes") if book is not None else None
    elif tag == "CodeBook":
        codes = refiqda._child(root, "Codes")
    else:
        raise ImportRejected(f"{path.name} is not a REFI-QDA codebook (its root is <{tag}>).")
    if codes is None:
        return []
    return [n for n in (_node(c, 0) for c in codes if local(c.tag) == "Code") if n]
