"""Opening documents (.txt, .md, .pdf, .epub) into one normalised text with real paragraphs.

``open_document`` reads a file and returns a :class:`~nkreader.core.model.Document`:

* ``text`` is one NFC ``str`` with ``\\n`` newlines; paragraphs are joined with ``"\\n\\n"``
  and hold no newline of their own;
* each :class:`Paragraph` has its 1-based number and its code-point span (end exclusive);
  for PDF and EPUB also the page it starts on and that page's printed label;
* ``pages`` gives the span of each page of a paginated source;
* web furniture ("Back to top", share buttons, site labels...) and page markers ("= MR 45",
  bare page numbers) are kept out of the text and listed in ``removed``.

Plain text is rebuilt into paragraphs: ``<br>`` tags become paragraph breaks, hard-wrapped lines
are joined, a paragraph cut by a page break or a page marker is made whole again, bullet lists of
site labels are dropped. The rules are generic (see the tables ``_FURNITURE`` and ``_MARKERS``);
the bundled corpus is their test.

This module never imports pymupdf: ``nkreader.core.pdf`` does, lazily, when a PDF or an EPUB is
opened.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .decoding import decode_text
from .model import Document, DocumentError, DocumentMetadata, Page, Paragraph

__all__ = [
    "SUPPORTED_SUFFIXES",
    "open_document",
    "document_from_text",
    "rebuild_paragraphs",
    "is_furniture",
    "is_page_marker",
]

SUPPORTED_SUFFIXES: dict[str, str] = {
    ".txt": "text",
    ".text": "text",
    "": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".mdown": "markdown",
    ".pdf": "pdf",
    ".epub": "epub",
}

MAX_TEXT_BYTES = 64 * 1024 * 1024  # a text file larger than this is not a reading text


# =============================================================================================
# Public API
# =============================================================================================


def open_document(
    path: str | Path,
    *,
    doc_id: str | None = None,
    metadata: DocumentMetadata | None = None,
    password: str | None = None,
) -> Document:
    """Open ``path`` as a Document; raise :class:`DocumentError` with a message for the user."""
    path = Path(path)
    name = path.name or str(path)
    kind = _kind_for(path)
    data = _read_head(path, name)

    sniffed = _sniff(data)
    warnings: list[str] = []
    if kind in ("text", "markdown") and sniffed in ("pdf", "epub"):
        warnings.append(f"{name} is named like a text file but is a {sniffed.upper()}; opened as {sniffed.upper()}")
        kind = sniffed
    if kind == "pdf" and sniffed != "pdf":
        raise DocumentError(f"{name} is not a PDF{_what_it_is(data)}")
    if kind == "epub" and sniffed != "epub":
        raise DocumentError(f"{name} is not an EPUB{_what_it_is(data)}")

    if kind in ("pdf", "epub"):
        from . import pdf as _pdf  # lazy: pymupdf costs ~0.6 s and 138 MB to import

        content = _pdf.extract(path, password=password, kind=kind)
        doc = _document_from_pdf(content, path=path, kind=kind, doc_id=doc_id)
        doc.warnings[:0] = warnings
        if metadata is None:
            metadata = _pdf_metadata(content.metadata, doc, path)
        doc.metadata = metadata
        return doc

    raw = _read_all(path, name)
    if raw.startswith(b"PK\x03\x04"):
        raise DocumentError(f"{name} is a zip archive (a Word or OpenDocument file?), not a text file")
    decoded = decode_text(raw)
    if _looks_binary(raw, decoded.encoding):
        raise DocumentError(f"{name} is not a text file: it holds binary data")
    warnings.extend(f"{name} {w}" for w in decoded.warnings)
    doc = document_from_text(
        decoded.text, path=path, kind=kind, doc_id=doc_id, metadata=metadata, name=name
    )
    doc.encoding = decoded.encoding
    doc.warnings[:0] = warnings
    return doc


def document_from_text(
    text: str,
    *,
    path: str | Path = "untitled.txt",
    kind: str = "text",
    doc_id: str | None = None,
    metadata: DocumentMetadata | None = None,
    name: str | None = None,
) -> Document:
    """Build a Document from already-decoded text (``kind`` is ``"text"`` or ``"markdown"``)."""
    path = Path(path)
    name = name or path.name
    warnings: list[str] = []
    removed: list[str] = []
    front: dict[str, str] = {}
    text, cleaned = _prepare(text)
    if cleaned:
        warnings.append(f"{name} contained {cleaned} control character{'s' if cleaned != 1 else ''}; removed")
    if kind == "markdown":
        text, front = _front_matter(text)
    pieces = _text_pieces(text, markdown=(kind == "markdown"), removed=removed)
    doc = _assemble(pieces, path=path, kind=kind, doc_id=doc_id)
    doc.removed = removed
    doc.warnings = warnings
    if not doc.paragraphs:
        doc.warnings.append(f"{name} has no text to read")
    doc.metadata = metadata if metadata is not None else _text_metadata(doc, pieces, front, path)
    return doc


def rebuild_paragraphs(text: str, *, markdown: bool = False) -> tuple[list[str], list[str]]:
    """The reading paragraphs of ``text`` and what was removed as furniture (for tools and tests)."""
    removed: list[str] = []
    text, _ = _prepare(text)
    if markdown:
        text, _ = _front_matter(text)
    paras = _merge(_text_pieces(text, markdown=markdown, removed=removed))
    return [p.text for p in paras], removed


# =============================================================================================
# Files
# =============================================================================================


def _kind_for(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{path.name}: unsupported file type '{path.suffix}'; nkreader opens .txt, .md, .pdf and .epub"
        )
    return SUPPORTED_SUFFIXES[suffix]


def _read_head(path: Path, name: str) -> bytes:
    try:
        if path.is_dir():
            raise DocumentError(f"{name} is a folder, not a document")
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(2048)
    except FileNotFoundError:
        raise DocumentError(f"{name} was not found ({path})") from None
    except PermissionError:
        raise DocumentError(f"{name} cannot be read: permission denied") from None
    except IsADirectoryError:
        raise DocumentError(f"{name} is a folder, not a document") from None
    except OSError as e:
        raise DocumentError(f"{name} cannot be read: {e.strerror or e}") from None
    if size == 0:
        raise DocumentError(f"{name} is empty (0 bytes)")
    return head


def _read_all(path: Path, name: str) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_TEXT_BYTES:
            raise DocumentError(
                f"{name} is too large for a text ({size // (1024 * 1024)} MB; the limit is "
                f"{MAX_TEXT_BYTES // (1024 * 1024)} MB)"
            )
        return path.read_bytes()
    except OSError as e:
        raise DocumentError(f"{name} cannot be read: {e.strerror or e}") from None


def _sniff(head: bytes) -> str | None:
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") and b"application/epub+zip" in head[:200]:
        return "epub"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return None


def _what_it_is(head: bytes) -> str:
    lower = head[:512].lstrip().lower()
    if lower.startswith((b"<!doctype html", b"<html")):
        return " (it is a web page, HTML)"
    if head.startswith(b"PK\x03\x04"):
        return " (it is a zip archive)"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return " (it is an image)"
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return " (it is a PDF)"
    try:
        head.decode("utf-8")
        return " (it is plain text)"
    except UnicodeDecodeError:
        return ""


def _looks_binary(raw: bytes, encoding: str) -> bool:
    if encoding.startswith(("utf-16", "utf-32")):
        return False
    sample = raw[:65536]
    controls = sum(sample.count(b) for b in (*range(0, 9), *range(14, 27), *range(28, 32)))
    return controls > max(4, len(sample) // 50)


# =============================================================================================
# Text preparation
# =============================================================================================

_BR = re.compile(r"<\s*br\s*/?\s*>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f]")
_LINE_SEPARATORS = str.maketrans({"\x0b": "\n", "\x85": "\n", "\u2028": "\n", "\x1c": "\n", "\x1d": "\n", "\x1e": "\n"})


_HARD = "\ufdd0"  # a Unicode noncharacter: marks an explicit break (<br>) between the steps


def _prepare(text: str) -> tuple[str, int]:
    """NFC, ``\\n`` newlines, ``<br>`` → paragraph break; returns the text and how many controls were dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").replace(_HARD, "")
    text = unicodedata.normalize("NFC", text)
    text = _BR.sub(f"\n{_HARD}\n", text)
    text = text.replace("\u2029", "\n\n").translate(_LINE_SEPARATORS)
    text, n = _CONTROL.subn("", text)
    return text, n


_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def _front_matter(text: str) -> tuple[str, dict[str, str]]:
    """Markdown YAML front matter: removed from the text; simple ``key: value`` pairs returned."""
    m = _FRONT.match(text)
    if not m:
        return text, {}
    fields: dict[str, str] = {}
    for line in m.group(1).splitlines():
        k, sep, v = line.partition(":")
        if sep and k.strip() and not k.startswith((" ", "\t", "-")):
            fields[k.strip().lower()] = v.strip().strip("'\"")
    return text[m.end() :], fields


# =============================================================================================
# Furniture and page markers
# =============================================================================================

_SOCIAL = (
    r"facebook|twitter|instagram|youtube|linkedin|pinterest|tumblr|reddit|whatsapp|telegram|"
    r"weibo|wechat|kakaotalk|kakao ?story|flickr|vimeo|tiktok|mastodon|bluesky|rss|"
    r"google\+?|email|e-mail|mail|print|copy link"
)

# Whole-line patterns of web-page furniture (matched case-insensitively, after removing a bullet
# glyph and surrounding decoration). Add a pattern here rather than special-casing a file.
_FURNITURE_PATTERNS = [
    # navigation
    r"(back|return|go|jump|scroll|skip) to (the )?top( of (the )?page)?",
    r"(top|bottom) of (the )?page",
    r"skip to (the )?(main )?(content|navigation|menu)",
    r"(main )?menu|navigation|home|breadcrumbs?",
    r"(previous|next|older|newer) (post|article|page|entry|story)s?",
    # reporting and searching
    r"report (a|an|this) (problem|error|issue|bug|article|abuse)",
    r"search( this (article|site|page|blog|journal|website))?|search( by)? tags?|search results?",
    # blog and social widgets
    r"(featured|recent|related|popular|latest|most read) (posts?|articles?|stories|news)",
    r"archives?|categories|tags?|tag cloud",
    r"follow us( on .{1,30})?|find us on .{1,30}|connect with us|join us on .{1,30}",
    r"share( this( article| post| page| story)?)?( on .{1,30})?( via .{1,30})?",
    r"(print|email|e-mail)( this)?( article| page| story)?",
    r"subscribe( now| to (our|the) .{1,40})?|sign (in|up)|log ?(in|out)|register|my account",
    r"\d+ comments?|comments? \(\d+\)|leave a (comment|reply)|no comments( yet)?",
    r"(read|view|see) (more|all|full article)( .{1,30})?|continue reading.{0,40}",
    r"loading\W*|advertisement|sponsored( content)?|scroll (down|up)",
    r"(accept|reject)( all)?( cookies)?|cookie (settings|policy|preferences)|privacy policy|"
    r"terms (of use|of service|and conditions)|all rights reserved\W*",
    r"(copyright ?)?(©|\(c\)) ?.{0,80}",
    rf"({_SOCIAL})( (basic|social|black|white|grey|gray|round|rounded|circle|square|icon|logo|page|account|feed))*",
    # bibliographic database labels shown without a value (CiNii, J-STAGE, Crossref pages)
    r"crid|doi|issn|e-?issn|p-?issn|isbn|ncid|naid|pmid|pmcid|nii (article|book) id|"
    r"text ?lang(uage)?|data ?source|abstract license flag|jalc|ndl( search| digital)?|"
    r"cinii( articles| books| research| dissertations)?|crossref|j-stage|openalex|kaken|irdb",
    # site announcements: "[Updated on Apr. 18] Integration of CiNii Articles into CiNii Research"
    r"\[(updated?|news|notice|info(rmation)?|announcement|important|new|maintenance)\b[^\]]{0,40}\].{0,200}",
]
_FURNITURE = re.compile("(?:" + "|".join(f"(?:{p})" for p in _FURNITURE_PATTERNS) + ")", re.IGNORECASE)
_DECORATION = " \t\u00a0|·•>»«‹›↑↓←→▲▼^*-–—:"

# Page markers: strong ones are removed wherever they stand alone on a line; weak ones (a bare
# number, "FMR 45") only when they are a block of their own or touch a page break.
_ROMAN = r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"  # front matter: i … cccxcix
_MARKERS_STRONG = re.compile(
    r"(?:"
    r"(?i:page|p\.|pg\.?|seite|s\.)\s*\d{1,4}(?:\s*(?i:of|/|von)\s*\d{1,4})?"  # Page 3 of 10
    r"|[-–—]\s*\d{1,4}\s*[-–—]"  # - 12 -
    r"|[=|~#*•·]+\s*[A-Z]{1,6}\.?\s+\d{1,4}(?:\s*[=|~#*•·]+)?"  # = MR 45 (running journal footer)
    r"|[A-Z]{1,6}\.?\s+\d{1,4}\s*[=|~#*•·]+"  # FMR 45 =
    r"|\d{1,4}\s*[|]\s*[A-Z][\w .&-]{1,40}|[A-Z][\w .&-]{1,40}[|]\s*\d{1,4}"  # 45 | Journal name
    r")"
)
# bare page number, roman page number, "FMR 45", "3 / 10"
_MARKERS_WEAK = re.compile(rf"(?:\d{{1,3}}|{_ROMAN}|[A-Z]{{2,6}}\s+\d{{1,4}}|\d{{1,4}}\s*/\s*\d{{1,4}})")
_CJK = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uf900-\ufaff\uff66-\uff9f]")


def _undecorate(s: str) -> str:
    return s.strip().strip(_DECORATION).strip()


def is_furniture(line: str) -> bool:
    """True when the whole line is web-page furniture (navigation, widgets, site labels)."""
    s = _undecorate(line)
    if not s or len(s) > 240:
        return False
    return _FURNITURE.fullmatch(s) is not None


def is_page_marker(line: str, *, alone: bool = False) -> bool:
    """True when the line is a page marker; with ``alone`` also a bare page number or "FMR 45"."""
    s = line.strip()
    if not s or len(s) > 60:
        return False
    if _MARKERS_STRONG.fullmatch(s):
        return True
    return alone and _MARKERS_WEAK.fullmatch(s) is not None


# =============================================================================================
# Lines → pieces
# =============================================================================================

_BULLET = re.compile(r"^([•◦▪▫‣⁃∙●○■□►▸◆◇✓✔➢➤·]|[-*+](?=\s))\s*(.*)$")
_NUMBERED = re.compile(r"^(\d{1,3}[.)]|\(\d{1,3}\)|[a-z][.)]|\([a-z]\))\s+\S")
_MD_HEADING = re.compile(r"^(#{1,6})(?:\s+(.*?))?\s*(?:\s#+\s*)?$")
_MD_SETEXT = re.compile(r"^(=+|-+)\s*$")
_MD_RULE = re.compile(r"^([-*_])(?:\s*\1){2,}\s*$")
_MD_FENCE = re.compile(r"^(```+|~~~+)")
_MD_QUOTE = re.compile(r"^(?:>\s?)+")
_MD_REFDEF = re.compile(r"^\[[^\]]+\]:\s*\S+")
_MD_TABLE_SEP = re.compile(r"^\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?$")
_SPACES = re.compile(r"[ \t]+")


@dataclass
class _Line:
    kind: str  # text | item | heading | code | row | blank | cut | marker | hard
    text: str = ""
    indent: int = 0
    raw: str = ""  # the line as written (stripped), for page-marker tests


@dataclass
class _Piece:
    """A paragraph candidate before continuations are merged."""

    text: str
    page: int | None = None  # 1-based page of a paginated source
    kind: str = "para"  # para | heading | item | code | row | note (a PDF footnote)
    break_before: bool = False  # a page break, column break or removed page marker precedes it
    hard: bool = False  # an explicit break (<br>) precedes it: never merged with the one before


class _Acc:
    """A paragraph being built from pieces, in linear time (no repeated string concatenation)."""

    __slots__ = ("kind", "parts", "length", "fragments", "indent")

    def __init__(self, text: str, kind: str = "para", page: int | None = None, indent: int = 0) -> None:
        self.kind = kind
        self.parts = [text]
        self.length = len(text)
        self.fragments: list[tuple[int, int, int | None]] = [(0, len(text), page)]  # (start, end, page)
        self.indent = indent

    @property
    def tail(self) -> str:
        """The end of the text so far (all the joining rules look at)."""
        return self.parts[-1]

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def add(self, text: str, page: int | None = None) -> None:
        head, sep = _join_sep(self.parts[-1], text)
        dropped = len(self.parts[-1]) - len(head)
        if dropped:  # a hyphen dropped: soci- / ety
            self.parts[-1] = head
            self.length -= dropped
            s, e, pg = self.fragments[-1]
            self.fragments[-1] = (s, e - dropped, pg)
        start = self.length + len(sep)
        self.parts.append(sep + text)
        self.length = start + len(text)
        self.fragments.append((start, self.length, page))


def _clean(s: str) -> str:
    return _SPACES.sub(" ", s).strip()


def _tag_text_lines(lines: list[str]) -> list[_Line]:
    out: list[_Line] = []
    for raw in lines:
        stripped = raw.rstrip()
        content = stripped.lstrip()
        indent = len(stripped) - len(content)
        if not content:
            out.append(_Line("blank"))
            continue
        if content == _HARD:
            out.append(_Line("hard"))
            continue
        m = _BULLET.match(content)
        if m:
            out.append(_Line("item", _clean(m.group(2)), indent, content))
        elif _NUMBERED.match(content):
            out.append(_Line("item", _clean(content), indent, content))
        else:
            out.append(_Line("text", _clean(content), indent, content))
    return out


def _tag_markdown_lines(lines: list[str]) -> list[_Line]:
    out: list[_Line] = []
    fence: str | None = None
    for raw in lines:
        stripped = raw.rstrip()
        content = stripped.lstrip()
        indent = len(stripped) - len(content)
        if fence is not None:
            if content == _HARD:
                continue
            if content.startswith(fence):
                fence = None
                out.append(_Line("cut"))
            elif content:
                out.append(_Line("code", _clean(content), indent))
            continue
        m = _MD_FENCE.match(content)
        if m:
            fence = m.group(1)[:3]
            out.append(_Line("cut"))
            continue
        if not content:
            out.append(_Line("blank"))
            continue
        if content == _HARD:
            out.append(_Line("hard"))
            continue
        content = _MD_QUOTE.sub("", content).strip()
        if not content:
            out.append(_Line("blank"))
            continue
        if _MD_SETEXT.match(content) and out and out[-1].kind == "text":
            out[-1].kind = "heading"  # "Title" underlined with === or ---
            out.append(_Line("cut"))
            continue
        if _MD_RULE.match(content):
            out.append(_Line("cut"))
            continue
        m = _MD_HEADING.match(content)
        if m:
            title = _md_inline(m.group(2) or "")
            out.append(_Line("heading", _clean(title)) if title.strip() else _Line("cut"))
            continue
        if _MD_REFDEF.match(content):
            out.append(_Line("cut"))
            continue
        if content.startswith("|") or (content.endswith("|") and content.count("|") >= 2):
            if _MD_TABLE_SEP.match(content):
                out.append(_Line("cut"))
            else:
                cells = [c.strip() for c in content.strip("|").split("|")]
                out.append(_Line("row", _clean(" | ".join(_md_inline(c) for c in cells)), indent))
            continue
        m = _BULLET.match(content)
        if m and m.group(1) in "-*+•":
            out.append(_Line("item", _clean(_md_inline(m.group(2))), indent, content))
        elif re.match(r"^\d{1,9}[.)]\s+\S", content):
            out.append(_Line("item", _clean(_md_inline(content)), indent, content))
        elif indent >= 4 and (not out or out[-1].kind in ("blank", "code", "cut")):
            out.append(_Line("code", _clean(content), indent))
        else:
            out.append(_Line("text", _clean(_md_inline(content)), indent, content))
    return out


_MD_INLINE = [
    (re.compile(r"<!--.*?-->", re.DOTALL), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),
    (re.compile(r"`+([^`]+?)`+"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*\\])\*(?=[^\s*])(.+?)(?<=[^\s\\])\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w\\])_(?=[^\s_])(.+?)(?<=[^\s\\])_(?!\w)"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|<])"), r"\1"),
]


def _md_inline(s: str) -> str:
    """Markdown inline markup → readable text (no HTML is interpreted)."""
    for rx, repl in _MD_INLINE:
        s = rx.sub(repl, s)
    return s


def _drop_furniture(lines: list[_Line], removed: list[str]) -> None:
    """Replace furniture lines by cuts: the declarative table, then runs of short bullet labels."""
    drop: set[int] = set()
    n = len(lines)
    i = 0
    while i < n:
        if lines[i].kind != "item":
            i += 1
            continue
        j = i
        while j < n and lines[j].kind == "item":
            j += 1
        run = range(i, j)
        if all(_short_label(lines[k].text) for k in run):
            hits = sum(1 for k in run if is_furniture(lines[k].text))
            if hits and hits * 2 >= len(run):
                drop.update(run)
        i = j
    for k, line in enumerate(lines):
        if k in drop or (line.kind in ("text", "item", "heading", "row") and is_furniture(line.text)):
            removed.append(line.text)
            line.kind, line.text = "cut", ""


def _short_label(s: str) -> bool:
    return len(s) <= 40 and len(s.split()) <= 5 and not _CJK.search(s) and not _ends_sentence(s)


def _mark_page_markers(lines: list[_Line], removed: list[str], *, page_edges: tuple[bool, bool]) -> None:
    """Replace page markers by ``marker`` lines (they cut a paragraph that will be merged back)."""
    content = [i for i, line in enumerate(lines) if line.kind in ("text", "item", "heading", "row")]
    for pos, i in enumerate(content):
        line = lines[i]
        if line.kind not in ("text", "item"):
            continue
        before = lines[i - 1].kind if i > 0 else "edge"
        after = lines[i + 1].kind if i + 1 < len(lines) else "edge"
        alone = before != "text" and after != "text" and before != "item" and after != "item"
        at_edge = (pos == 0 and page_edges[0]) or (pos == len(content) - 1 and page_edges[1])
        if is_page_marker(line.raw or line.text, alone=alone or at_edge):
            removed.append(line.raw or line.text)
            line.kind, line.text = "marker", ""


def _text_pieces(text: str, *, markdown: bool, removed: list[str]) -> list[_Piece]:
    pieces: list[_Piece] = []
    pages = text.split("\f")
    for p_index, page_text in enumerate(pages):
        raw_lines = page_text.split("\n")
        lines = _tag_markdown_lines(raw_lines) if markdown else _tag_text_lines(raw_lines)
        _drop_furniture(lines, removed)
        _mark_page_markers(lines, removed, page_edges=(p_index > 0, p_index < len(pages) - 1))
        pending_break = p_index > 0
        pending_hard = False
        block: list[_Line] = []

        def flush() -> None:
            nonlocal pending_break, pending_hard
            if block:
                for k, piece in enumerate(_block_pieces(block, markdown=markdown)):
                    if k == 0:
                        piece.break_before, piece.hard = pending_break, pending_hard
                        pending_break = pending_hard = False
                    pieces.append(piece)
                block.clear()

        for line in lines:
            if line.kind in ("text", "item", "row"):
                block.append(line)
                continue
            flush()
            if line.kind == "marker":
                pending_break = True
            elif line.kind == "hard":
                pending_hard = True
            elif line.kind in ("heading", "code"):
                pieces.append(_Piece(line.text, kind=line.kind, break_before=pending_break))
                pending_break = False
        flush()
    return [p for p in pieces if p.text]


def _block_pieces(block: list[_Line], *, markdown: bool) -> list[_Piece]:
    """One block (no blank line inside) → paragraph candidates."""
    out: list[_Acc] = []
    texts = [line for line in block if line.kind == "text"]
    width = max((len(line.text) for line in texts), default=0)
    wrapped = len(texts) >= 2 and 30 <= width <= 140
    current: _Acc | None = None
    for index, line in enumerate(block):
        if line.kind == "row":
            out.append(_Acc(line.text, "row"))
            current = None
            continue
        if line.kind == "item":
            current = _Acc(line.text, "item", indent=line.indent)
            out.append(current)
            continue
        # a text line
        if current is not None and current.kind == "item":
            if markdown or line.indent > current.indent or _continues(current.tail, line.text):
                current.add(line.text)
                continue
            current = None
        if current is None:
            current = _Acc(line.text)
            out.append(current)
            continue
        prev = current.tail
        if markdown or _hyphenated(prev, line.text) or _continues_in_block(prev, line.text):
            current.add(line.text)
        elif wrapped and index > 0 and len(block[index - 1].text) >= 0.6 * width:
            current.add(line.text)
        else:
            current = _Acc(line.text)
            out.append(current)
    return [_Piece(acc.text, kind=acc.kind) for acc in out]


# =============================================================================================
# Joining and merging
# =============================================================================================

_TERMINAL = set(".!?:;…。！？．｡")
_CLOSERS = "\"'”’»)]}」』】〕）》〉*"
_OPENERS = "\"'“‘«([{「『【〔（《〈*—–-…_ "
_HYPHENS = ("-", "\u00ad", "\u2010")


def _ends_sentence(s: str) -> bool:
    t = s.rstrip(_CLOSERS + " ")
    return bool(t) and t[-1] in _TERMINAL


def _starts_lower(s: str) -> bool:
    t = s.lstrip(_OPENERS)
    return bool(t) and t[0].islower()


def _continues(prev: str, nxt: str) -> bool:
    """A paragraph that stops without terminal punctuation and a next one starting lower-case."""
    return not _ends_sentence(prev) and _starts_lower(nxt)


def _continues_in_block(prev: str, nxt: str) -> bool:
    """Inside a block (no blank line between) also a number after a lower-case word, and CJK."""
    if _continues(prev, nxt):
        return True
    if _ends_sentence(prev) or not prev or not nxt:
        return False
    if prev[-1].islower() and nxt[0].isdigit():
        return True
    return _is_cjk(prev[-1]) and _is_cjk(nxt[0])


def _hyphenated(prev: str, nxt: str) -> bool:
    return prev.endswith(_HYPHENS) and len(prev) >= 2 and prev[-2].isalpha() and bool(nxt) and nxt[0].isalpha()


def _is_cjk(ch: str) -> bool:
    return bool(_CJK.match(ch)) or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef"


def _unspaced(ch: str) -> bool:
    """Chinese and Japanese script: written without spaces between words (Korean has spaces)."""
    return _is_cjk(ch) and not ("\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f")


def _join_sep(prev: str, nxt: str) -> tuple[str, str]:
    """(prev with a dropped hyphen, separator) for joining two pieces of one paragraph."""
    if prev.endswith("\u00ad"):
        return prev[:-1], ""
    if _hyphenated(prev, nxt):
        if nxt[0].islower() and prev[-2].islower():
            return prev[:-1], ""  # soci- / ety → society
        return prev, ""  # North- / Korean → North-Korean
    if prev and nxt and _unspaced(prev[-1]) and _unspaced(nxt[0]):
        return prev, ""
    return prev, " "


def _salutation(acc: _Acc) -> bool:
    """A short opening line that ends with a comma ("Dear colleagues,"): a paragraph of its own."""
    text = acc.tail.rstrip()
    return len(acc.parts) == 1 and text.endswith(",") and len(text.split()) <= 6 and text[:1].isupper()


def _mergeable(prev: _Acc, nxt: _Piece) -> bool:
    if prev.kind != "para" or nxt.kind != "para" or nxt.hard:
        return False
    end = prev.tail
    if _salutation(prev) and not nxt.break_before:
        return False
    if _hyphenated(end, nxt.text) and (_starts_lower(nxt.text) or nxt.break_before):
        return True
    if _continues(end, nxt.text):
        return True
    # Cut by a page break or a page marker, mid-sentence: one paragraph even before a capital.
    return nxt.break_before and not _ends_sentence(end) and prev.length >= 80 and not _is_cjk(end[-1])


def _merge(pieces: list[_Piece]) -> list[_Acc]:
    """Join the pieces of paragraphs cut by wraps, page breaks and markers.

    Footnotes (``note`` pieces) that stand between a paragraph and its continuation on the next
    page are put after the rejoined paragraph, where a reader looks for them.
    """
    paras: list[_Acc] = []
    deferred: list[_Piece] = []

    def flush_notes() -> None:
        paras.extend(_Acc(note.text, "note", note.page) for note in deferred)
        deferred.clear()

    for piece in pieces:
        text = _clean(piece.text.replace(_HARD, ""))
        if not text:
            continue
        if piece.kind == "note" and paras and paras[-1].kind == "para" and not _ends_sentence(paras[-1].tail):
            deferred.append(_Piece(text, piece.page, "note"))
            continue
        if paras and _mergeable(paras[-1], _Piece(text, piece.page, piece.kind, piece.break_before, piece.hard)):
            paras[-1].add(text, piece.page)
            if deferred and piece.page != deferred[-1].page:
                flush_notes()
            continue
        flush_notes()
        paras.append(_Acc(text, piece.kind, piece.page))
    flush_notes()
    return paras


# =============================================================================================
# Assembly
# =============================================================================================


def _assemble(
    pieces: list[_Piece],
    *,
    path: Path,
    kind: str,
    doc_id: str | None,
    page_count: int = 0,
    labels: dict[int, str] | None = None,
) -> Document:
    labels = labels or {}
    paras = _merge(pieces)
    chunks: list[str] = []
    paragraphs: list[Paragraph] = []
    page_spans: dict[int, list[int]] = {}
    offset = 0
    for number, para in enumerate(paras, start=1):
        if chunks:
            chunks.append("\n\n")
            offset += 2
        page = para.fragments[0][2]
        paragraphs.append(
            Paragraph(number, offset, offset + para.length, page, labels.get(page) if page else None)
        )
        for s, e, pg in para.fragments:
            if pg is None or e <= s:
                continue
            span = page_spans.setdefault(pg, [offset + s, offset + e])
            span[0] = min(span[0], offset + s)
            span[1] = max(span[1], offset + e)
        chunks.append(para.text)
        offset += para.length
    text = "".join(chunks)

    pages: list[Page] = []
    if page_count:
        next_start = len(text)
        spans: list[tuple[int, int]] = [(0, 0)] * page_count
        for number in range(page_count, 0, -1):
            if number in page_spans:
                s, e = page_spans[number]
                next_start = s
            else:
                s = e = next_start
            spans[number - 1] = (s, e)
        pages = [Page(i + 1, s, e, labels.get(i + 1)) for i, (s, e) in enumerate(spans)]

    return Document(
        id=doc_id or _default_id(path),
        path=path,
        text=text,
        paragraphs=paragraphs,
        kind=kind,
        pages=pages,
    )


def _default_id(path: Path) -> str:
    stem = unicodedata.normalize("NFC", path.stem) or "document"
    slug = re.sub(r"[^\w.-]+", "-", stem).strip("-").lower()
    return slug or "document"


def _document_from_pdf(content, *, path: Path, kind: str, doc_id: str | None) -> Document:
    name = path.name
    pieces: list[_Piece] = []
    removed = list(content.removed)
    for para in content.paragraphs:
        text = unicodedata.normalize("NFC", para.text)
        if is_furniture(text) or is_page_marker(text):
            removed.append(text)
            continue
        pieces.append(_Piece(text, page=para.page, kind=para.kind, break_before=para.break_before))
    doc = _assemble(
        pieces,
        path=path,
        kind=kind,
        doc_id=doc_id,
        page_count=content.page_count,
        labels=content.labels,
    )
    doc.removed = removed
    doc.warnings = [f"{name} {w}" for w in content.warnings]
    return doc


# =============================================================================================
# Metadata
# =============================================================================================


def _guess_language(text: str) -> str:
    sample = text[:20000]
    hangul = sum(1 for c in sample if "\uac00" <= c <= "\ud7a3")
    kana = sum(1 for c in sample if "\u3040" <= c <= "\u30ff")
    han = sum(1 for c in sample if "\u4e00" <= c <= "\u9fff")
    letters = sum(1 for c in sample if c.isalpha()) or 1
    if hangul / letters > 0.3:
        return "ko"
    if (kana + han) / letters > 0.3:
        return "ja" if kana else "zh"
    return "en"


def split_authors(raw: str) -> tuple[str, ...]:
    """Names from an author field: "A; B", "A, B and C", "A & B", and "Park, Jane" as one
    name written surname first (given back as "Jane Park")."""
    out: list[str] = []
    for part in re.split(r";| and | & ", raw):
        chunks = [c.strip() for c in part.split(",") if c.strip()]
        if len(chunks) == 2 and len(chunks[0].split()) == 1 and len(chunks[1].split()) <= 2:
            out.append(f"{chunks[1]} {chunks[0]}")  # "Park, Jane"
        else:
            out.extend(chunks)
    return tuple(out)


def _text_metadata(doc: Document, pieces: list[_Piece], front: dict[str, str], path: Path) -> DocumentMetadata:
    language = front.get("lang") or front.get("language") or _guess_language(doc.text)
    authors: tuple[str, ...] = ()
    raw_authors = front.get("author") or front.get("authors") or ""
    if raw_authors:
        authors = split_authors(raw_authors.strip("[]").replace('"', ""))
    year = None
    m = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", front.get("date", "") or front.get("year", ""))
    if m:
        year = int(m.group(1))
    title = front.get("title", "")
    note = ""
    if not title:
        heading = next((p.text for p in pieces if p.kind == "heading"), None)
        first = doc.paragraph_text(doc.paragraphs[0]) if doc.paragraphs else ""
        if heading:
            title, note = heading, "title taken from the first heading"
        elif first and len(first) <= 200 and not _ends_sentence(first):
            title, note = first, "title taken from the first line"
        else:
            title, note = path.stem, "title taken from the file name"
    return DocumentMetadata(title=title, authors=authors, year=year, language=language, note=note)


def _pdf_metadata(meta: dict[str, str], doc: Document, path: Path) -> DocumentMetadata:
    title = (meta.get("title") or "").strip()
    note = ""
    if not title:
        title, note = path.stem, "title taken from the file name"
    raw = (meta.get("author") or "").strip()
    authors = split_authors(raw)
    year = None
    m = re.match(r"(?:D:)?(\d{4})", meta.get("creationDate") or "")
    if m and 1500 <= int(m.group(1)) <= 2100:
        year = int(m.group(1))
        note = (note + "; " if note else "") + "year taken from the file's creation date"
    return DocumentMetadata(title=title, authors=authors, year=year, language=_guess_language(doc.text), note=note)
