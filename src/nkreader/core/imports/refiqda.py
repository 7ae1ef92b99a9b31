"""Reading REFI-QDA: a project ``.qdpx`` (zip with ``project.qde`` and ``sources/``) or a codebook ``.qdc``.

The zip goes through ``guards.SafeZip`` (no ``../`` or absolute names, no links, caps on members,
sizes and compression ratio) and the XML through defusedxml (no DTD, no entities). Only
``TextSource`` selections are imported: a ``PlainTextSelection``'s ``startPosition`` /
``endPosition`` are code points into that source's plain text, which is read from the archive
(``internal://`` paths, never a path on the disk) or from ``PlainTextContent``, so the quote is
known exactly and can be re-anchored to our copy of the document. Codes become themes (nested
codes keep their parent), ``Coding/CodeRef`` the passage's themes, ``NoteRef`` notes its note,
``Links/Link`` between two selections a link (``name`` is the link type).
"""

from __future__ import annotations

import re
from pathlib import Path

from nkreader.core.anchors import CONTEXT
from nkreader.core.imports.guards import ImportRejected, SafeZip, local, parse_xml, read_capped
from nkreader.core.imports.merge import InAnnotation, InDoc, Incoming, InLink, InTheme

MAX_POSITION = 10**9
_NKR_DESC = re.compile(r"\[nkreader id: ([^;\]]{1,300}); file: ([^\]]{1,300})\]")


def _children(el, name: str):
    return [c for c in el if local(c.tag) == name]


def _child(el, name: str):
    return next((c for c in el if local(c.tag) == name), None)


def _text(el) -> str:
    return "" if el is None else "".join(el.itertext())


def _pos(el, attr: str, where: str) -> int:
    raw = el.get(attr)
    if raw is None:
        raise ImportRejected(f"{where}: a PlainTextSelection has no {attr}.")
    try:
        n = int(raw.strip())
    except ValueError:
        raise ImportRejected(f"{where}: {attr}={raw[:40]!r} is not a whole number.") from None
    if not 0 <= n <= MAX_POSITION:
        raise ImportRejected(f"{where}: {attr}={n} is out of range.")
    return n


def _codes(container, parent: str | None, themes: dict[str, InTheme], notes: dict[str, str], depth: int = 0) -> None:
    if depth > 50:
        raise ImportRejected("The codebook nests codes more than 50 levels deep.")
    for code in _children(container, "Code"):
        key = code.get("guid") or f"name:{code.get('name', '')}"
        memo = "\n\n".join(notes.get(r.get("targetGUID", ""), "") for r in _children(code, "NoteRef")).strip()
        themes[key] = InTheme(key=key, name=code.get("name", ""), color=code.get("color", ""),
                              description=_text(_child(code, "Description")).strip(), memo=memo, parent=parent)
        _codes(code, key, themes, notes, depth + 1)


def parse_codebook(root, name: str) -> Incoming:
    if local(root.tag) != "CodeBook":
        raise ImportRejected(f"{name} is not a REFI-QDA codebook (its root is <{local(root.tag)}>, not <CodeBook>).")
    inc = Incoming(format="qdc", source_name=name, themes_only=True)
    codes = _child(root, "Codes")
    if codes is None:
        raise ImportRejected(f"{name} has no <Codes>: not a REFI-QDA codebook.")
    _codes(codes, None, inc.themes, {})
    return inc


def parse_project(root, name: str, read_member, *, own_guids: dict[str, str] | None = None) -> Incoming:
    """``read_member(path)`` returns an archive member's bytes or None (for ``internal://`` paths)."""
    if local(root.tag) != "Project":
        raise ImportRejected(f"{name} is not a REFI-QDA project (its root is <{local(root.tag)}>, not <Project>).")
    own_guids = own_guids or {}
    inc = Incoming(format="qdpx", source_name=name)
    users = {}
    users_el = _child(root, "Users")
    if users_el is not None:
        for u in _children(users_el, "User"):
            if u.get("guid"):
                users[u.get("guid")] = u.get("name") or u.get("id") or ""
    default_creator = users.get(root.get("creatingUserGUID", ""), "") or Path(name).stem

    notes: dict[str, str] = {}
    notes_el = _child(root, "Notes")
    if notes_el is not None:
        for n in _children(notes_el, "Note"):
            content = _child(n, "PlainTextContent")
            text = _text(content)
            if content is None and n.get("plainTextPath", "").startswith("internal://"):
                raw = read_member(n.get("plainTextPath")[len("internal://"):])
                text = raw.decode("utf-8-sig", errors="replace") if raw is not None else ""
            if n.get("guid"):
                notes[n.get("guid")] = text.strip()

    codebook = _child(root, "CodeBook")
    if codebook is not None:
        codes = _child(codebook, "Codes")
        if codes is not None:
            _codes(codes, None, inc.themes, notes)

    sel_keys: set[str] = set()
    sources = _child(root, "Sources")
    for src in (list(sources) if sources is not None else []):
        kind = local(src.tag)
        if kind != "TextSource":
            inc.skipped.append(f"a {kind} ({src.get('name', '')[:60]}): only text sources can be imported")
            continue
        where = f"{name}, source {src.get('name', src.get('guid', ''))[:60]}"
        text: str | None = None
        content = _child(src, "PlainTextContent")
        path = src.get("plainTextPath", "")
        if content is not None:
            text = _text(content)
        elif path.startswith("internal://"):
            raw = read_member(path[len("internal://"):])
            if raw is None:
                inc.warnings.append(f"{where}: its text file {path[:80]} is not in the archive")
            else:
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError:
                    raise ImportRejected(f"{where}: its text file is not UTF-8.") from None
        elif path:
            inc.warnings.append(f"{where}: its text lives outside the archive ({path[:80]}); "
                                "matched by name, positions taken as they are")
        desc = _text(_child(src, "Description"))
        m = _NKR_DESC.search(desc)
        doc = InDoc(key=src.get("guid", "") or where, doc_id=m.group(1).strip() if m else "",
                    file=m.group(2).strip() if m else "", title=src.get("name", ""), text=text)
        if len(_children(src, "Coding")):
            inc.skipped.append(f"{where}: codings of the whole source (nkreader codes passages)")
        for sel in _children(src, "PlainTextSelection"):
            guid = sel.get("guid") or ""
            if not guid:
                raise ImportRejected(f"{where}: a PlainTextSelection has no guid.")
            start, end = _pos(sel, "startPosition", where), _pos(sel, "endPosition", where)
            if end < start:
                start, end = end, start
            if end == start:
                inc.skipped.append(f"{where}: an empty selection ({guid})")
                continue
            if text is not None and end > len(text):
                inc.skipped.append(f"{where}: selection {guid} ends at {end}, past the end of its text ({len(text)})")
                continue
            exact = text[start:end] if text is not None else ""
            prefix = text[max(0, start - CONTEXT):start] if text is not None else ""
            suffix = text[end:end + CONTEXT] if text is not None else ""
            note_parts = [_text(_child(sel, "Description")).strip()]
            note_parts += [notes.get(r.get("targetGUID", ""), "") for r in _children(sel, "NoteRef")]
            themes = []
            for coding in _children(sel, "Coding"):
                ref = _child(coding, "CodeRef")
                if ref is not None and ref.get("targetGUID"):
                    themes.append(ref.get("targetGUID"))
            creator = users.get(sel.get("creatingUser", ""), "") or default_creator
            sel_keys.add(guid)
            inc.annotations.append(InAnnotation(
                key=guid, creator=creator, doc=doc, exact=exact, prefix=prefix, suffix=suffix,
                start=start, end=end, note="\n\n".join(p for p in note_parts if p),
                themes=[t for t in themes if t in inc.themes],
                created=sel.get("creationDateTime", "")[:64], modified=sel.get("modifiedDateTime", "")[:64],
                existing_id=own_guids.get(guid.lower(), ""),
            ))

    links_el = _child(root, "Links")
    if links_el is not None:
        for link in _children(links_el, "Link"):
            key = link.get("guid") or f"{link.get('originGUID')}->{link.get('targetGUID')}"
            origin, target = link.get("originGUID", ""), link.get("targetGUID", "")
            if origin not in sel_keys or target not in sel_keys:
                inc.skipped.append(f"a link ({key}) that does not join two text selections")
                continue
            note = "\n\n".join(notes.get(r.get("targetGUID", ""), "") for r in _children(link, "NoteRef")).strip()
            inc.links.append(InLink(key=key, creator=default_creator, source=origin, target=target,
                                    type=link.get("name") or "same-issue", note=note))
    return inc


def own_guid_map(lib) -> dict[str, str]:
    """GUID (as nkreader's exports write it) → id, for every annotation in the library."""
    from nkreader.core.exports.refiqda import guid

    return {guid("annotation", a["id"]): a["id"] for a in lib.store.all("annotations")}


def read(path: Path, lib=None) -> Incoming:
    path = Path(path)
    head = b""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except FileNotFoundError:
        raise ImportRejected(f"No such file: {path}") from None
    except OSError as exc:
        raise ImportRejected(f"Cannot read {path}: {exc.strerror or exc}") from None
    own = own_guid_map(lib) if lib is not None else {}
    if head.startswith(b"PK"):
        with SafeZip(path) as zf:
            qde = zf.find("project.qde") or next((n for n in zf.names() if n.lower().endswith(".qde") and "/" not in n), None)
            if qde is None:
                raise ImportRejected(f"{path.name} has no project.qde: not a REFI-QDA project.")
            root = parse_xml(zf.read(qde), f"{path.name}/{qde}")

            def member(rel: str) -> bytes | None:
                rel = rel.replace("\\", "/")
                found = zf.find(f"sources/{rel}") or zf.find(rel)
                return zf.read(found) if found else None

            return parse_project(root, path.name, member, own_guids=own)
    root = parse_xml(read_capped(path), path.name)
    if local(root.tag) == "CodeBook":
        return parse_codebook(root, path.name)
    return parse_project(root, path.name, lambda rel: None, own_guids=own)
