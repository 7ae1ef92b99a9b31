"""PDF and EPUB text extraction: the only module that imports pymupdf, and only inside functions.

``extract(path)`` returns the reading paragraphs of a PDF or EPUB with the page each starts on:

* text comes from ``page.get_text("dict")`` with ligatures expanded (ﬁ → fi; NFKC on the
  ligature range catches fonts MuPDF cannot decompose);
* running headers and footers (the same text, digits aside, in the top or bottom margin of
  many pages) and page numbers are removed and listed in ``removed``;
* two-column pages are read column by column;
* lines are joined into paragraphs; "soci-/ety" becomes "society"; a block is split where a
  line ends a sentence well short of the right margin or the next line is indented;
* the first paragraph of a page or a column is flagged ``break_before`` so that the caller can
  join a paragraph that continues over the break.

Errors become :class:`DocumentError` with a message for the user; an encrypted file opened
without its password, or with a wrong one, raises the subclass :class:`PasswordRequired`
(``refused`` tells which). ``pymupdf`` (2.0) raises
``pymupdf.FileNotFoundError``, ``pymupdf.EmptyFileError`` and ``pymupdf.FileDataError`` (all
``RuntimeError`` subclasses) on open; MuPDF's own ``pymupdf.mupdf.FzErrorBase`` family
(``FzErrorFormat``, ``FzErrorLimit``, ``FzErrorSystem`` ...) derives from ``Exception`` only, not
``RuntimeError``, and can come from any call into a damaged file: both are caught.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .model import DocumentError, PasswordRequired

__all__ = ["PdfParagraph", "PdfContent", "extract", "load_pymupdf"]


@dataclass(frozen=True)
class PdfParagraph:
    text: str
    page: int  # 1-based
    break_before: bool = False  # first paragraph of a page or a column
    kind: str = "para"  # para | heading (set larger than the body text) | code (monospaced)


@dataclass
class PdfContent:
    kind: str  # pdf | epub
    page_count: int
    paragraphs: list[PdfParagraph] = field(default_factory=list)
    labels: dict[int, str] = field(default_factory=dict)  # page number → printed label
    metadata: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # predicates: "has no text layer ..."


_pymupdf: Any = None
_ERRORS: tuple[type[BaseException], ...] = (RuntimeError,)


def load_pymupdf() -> Any:
    """Import pymupdf once, with MuPDF's own messages on stderr silenced (we report errors)."""
    global _pymupdf
    if _pymupdf is None:
        try:
            import pymupdf
        except ImportError as e:  # pragma: no cover - it is a dependency
            raise DocumentError(f"PDF and EPUB support is not installed (pymupdf: {e})") from None
        pymupdf.TOOLS.mupdf_display_errors(False)
        pymupdf.TOOLS.mupdf_display_warnings(False)
        global _ERRORS
        fz_error = getattr(getattr(pymupdf, "mupdf", None), "FzErrorBase", None)
        _ERRORS = (RuntimeError, fz_error) if isinstance(fz_error, type) else (RuntimeError,)
        _pymupdf = pymupdf
    return _pymupdf


# =============================================================================================


def extract(path: str | Path, *, password: str | None = None, kind: str = "pdf") -> PdfContent:
    pymupdf = load_pymupdf()
    path = Path(path)
    name = path.name
    what = "an EPUB" if kind == "epub" else "a PDF"
    if kind == "epub" and path.is_file():
        from nkreader.core.pdf_pages import check_epub

        check_epub(path)  # refuse markup nested so deep that MuPDF would hang for minutes
    try:
        doc = pymupdf.open(str(path), filetype=kind)
    except pymupdf.FileNotFoundError:
        raise DocumentError(f"{name} was not found ({path})") from None
    except pymupdf.EmptyFileError:
        raise DocumentError(f"{name} is empty (0 bytes)") from None
    except pymupdf.FileDataError:
        raise DocumentError(f"{name} is damaged or truncated: it cannot be read as {what}") from None
    except _ERRORS as e:
        raise DocumentError(f"{name} could not be opened as {what}: {e}") from None

    try:
        return _extract_open(doc, pymupdf, name=name, kind=kind, password=password)
    except _ERRORS as e:  # e.g. an EPUB nested thousands deep fails when MuPDF lays it out
        raise DocumentError(f"{name} could not be laid out as {what}: {e}") from None
    finally:
        doc.close()


def unlock(doc: Any, name: str, password: str | None) -> None:
    """Authenticate an encrypted pymupdf document, or raise :class:`PasswordRequired`."""
    if doc.needs_pass:
        if not password:
            raise PasswordRequired(name)
        if not doc.authenticate(password):  # 0 when refused (else 2: user, 4: owner password)
            raise PasswordRequired(name, refused=True)


def _extract_open(doc: Any, pymupdf: Any, *, name: str, kind: str, password: str | None) -> PdfContent:
    unlock(doc, name, password)
    content = PdfContent(kind=kind, page_count=doc.page_count)
    repaired = bool(getattr(doc, "is_repaired", False))
    if repaired:
        content.warnings.append("was damaged and has been repaired on opening: some text may be missing")
    try:
        content.metadata = {k: v for k, v in (doc.metadata or {}).items() if isinstance(v, str)}
    except _ERRORS:
        content.metadata = {}

    pages: list[_PageText] = []
    unreadable: list[int] = []
    for index in range(doc.page_count):
        try:
            page = doc[index]
            pages.append(_read_page(page, pymupdf, index + 1, is_pdf=doc.is_pdf))
        except _ERRORS:
            unreadable.append(index + 1)
            pages.append(_PageText(index + 1, 0.0, 0.0, [], None, False))
    if unreadable:
        content.warnings.append(f"has {_pages_phrase(unreadable)} that could not be read: {_ranges(unreadable)}")

    content.labels = {p.number: p.label for p in pages if p.label}
    if kind == "pdf":
        content.removed.extend(_remove_running_furniture(pages))

    no_text = [p.number for p in pages if not p.blocks]
    if repaired and len(no_text) == len(pages):
        raise DocumentError(f"{name} is damaged or truncated: no text could be recovered from it")
    if pages and len(no_text) == len(pages):
        content.warnings.append("has no text layer (scanned?): there is no text to annotate")
    else:
        scanned = [p.number for p in pages if not p.blocks and p.has_images]
        if scanned:
            content.warnings.append(
                f"has {_pages_phrase(scanned)} without a text layer (scanned?): {_ranges(scanned)}"
            )

    chars = sum(len(line.text) for page in pages for b in page.blocks for line in b.lines)
    unknown = sum(line.text.count("\ufffd") for page in pages for b in page.blocks for line in b.lines)
    if chars and unknown > 0.1 * chars:
        content.warnings.append(
            "has text whose fonts carry no Unicode mapping: much of it shows as \ufffd (OCR may help)"
        )

    body = _body_size(pages)
    for page in pages:
        ordered = _reading_order(page) if kind == "pdf" else [(b, i == 0) for i, b in enumerate(page.blocks)]
        notes = _footnote_blocks(ordered, page, body) if kind == "pdf" else set()
        first_on_page = True
        for block, column_start in ordered:
            for k, (text, size, mono) in enumerate(_block_paragraphs(block)):
                if id(block) in notes:
                    role = "note"
                elif mono:
                    role = "code"
                elif body and size > 1.15 * body and len(text) < 200:
                    role = "heading"
                else:
                    role = "para"
                content.paragraphs.append(
                    PdfParagraph(text, page.number, break_before=(k == 0 and (first_on_page or column_start)), kind=role)
                )
                first_on_page = False
    return content


def _footnote_blocks(ordered: list[tuple[_Block, bool]], page: _PageText, body: float) -> set[int]:
    """Blocks closing a page in smaller type, in its lower part: footnotes (by ``id``)."""
    notes: set[int] = set()
    if not body or page.height <= 0:
        return notes
    for block, _ in reversed(ordered):
        size = max(line.size for line in block.lines)
        if size < 0.88 * body and block.y0 > 0.55 * page.height:
            notes.add(id(block))
        else:
            break
    if len(notes) == len(ordered):  # a page all in small type has no footnotes, only text
        return set()
    return notes


def _body_size(pages: list[_PageText]) -> float:
    """The font size most of the text is set in (weighted by characters)."""
    weights: Counter[float] = Counter()
    for page in pages:
        for block in page.blocks:
            for line in block.lines:
                weights[round(line.size, 1)] += len(line.text)
    return weights.most_common(1)[0][0] if weights else 0.0


def _pages_phrase(numbers: list[int]) -> str:
    return "pages" if len(numbers) > 1 else "a page"


def _ranges(numbers: list[int]) -> str:
    out: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(str(start) if start == prev else f"{start}–{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


# =============================================================================================
# Pages, blocks, lines
# =============================================================================================


@dataclass
class _Line:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    size: float = 0.0  # largest font size on the line
    mono: bool = False  # every span in a monospaced font (code)


@dataclass
class _Block:
    lines: list[_Line]
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def text(self) -> str:
        return " ".join(line.text for line in self.lines)


@dataclass
class _PageText:
    number: int
    width: float
    height: float
    blocks: list[_Block]
    label: str | None
    has_images: bool


_LIGATURES = re.compile("[\ufb00-\ufb06]")
_WS = re.compile(r"\s+")


def _fix_text(s: str) -> str:
    s = _LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), s)
    s = s.replace("\x00", "").replace("\ufffe", "")
    return _WS.sub(" ", s)


def _read_page(page: Any, pymupdf: Any, number: int, *, is_pdf: bool) -> _PageText:
    # Without TEXT_PRESERVE_LIGATURES MuPDF expands ligatures; whitespace is kept as it is and
    # collapsed by us; text outside the media box is dropped.
    flags = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
    data = page.get_text("dict", flags=flags, sort=True)
    blocks: list[_Block] = []
    has_images = False
    for b in data.get("blocks", []):
        if b.get("type") != 0:
            has_images = True
            continue
        lines: list[_Line] = []
        for line in b.get("lines", []):
            spans = [span for span in line.get("spans", []) if span.get("text", "").strip()]
            text = _fix_text("".join(span.get("text", "") for span in line.get("spans", [])))
            if not text.strip() or not spans:
                continue
            size = max(float(span.get("size", 0.0)) for span in spans)
            mono = all(int(span.get("flags", 0)) & 8 for span in spans)
            x0, y0, x1, y1 = line["bbox"]
            if lines and _same_row(lines[-1], y0, y1):
                last = lines[-1]
                lines[-1] = _Line(
                    (last.text.rstrip() + " " + text.lstrip()),
                    min(last.x0, x0),
                    min(last.y0, y0),
                    max(last.x1, x1),
                    max(last.y1, y1),
                    max(last.size, size),
                    last.mono and mono,
                )
            else:
                lines.append(_Line(text.strip(), x0, y0, x1, y1, size, mono))
        lines = [ln for ln in lines if ln.text]
        if lines:
            x0, y0, x1, y1 = b["bbox"]
            blocks.append(_Block(lines, x0, y0, x1, y1))
    if not has_images and not blocks:
        try:
            has_images = bool(page.get_images())
        except (*_ERRORS, ValueError, AttributeError):
            pass
    label = None
    if is_pdf:
        try:
            label = _decode_label(page.get_label())
        except (*_ERRORS, AssertionError, ValueError):
            label = None
    rect = page.rect
    return _PageText(number, rect.width, rect.height, blocks, label, has_images)


_HEX_LABEL = re.compile(r"<((?:[0-9A-Fa-f]{2})+)>")


def _decode_label(label: str | None) -> str | None:
    """pymupdf returns non-ASCII label prefixes as hex strings (``<FEFF0032>``, ``<E4BB98>``)."""
    if not label:
        return None

    def decode(m: re.Match[str]) -> str:
        raw = bytes.fromhex(m.group(1))
        if raw.startswith((b"\xfe\xff", b"\xff\xfe")):
            return raw.decode("utf-16", errors="replace")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")

    label = _HEX_LABEL.sub(decode, label).replace("\ufeff", "").strip()
    return unicodedata.normalize("NFC", label) or None


def _same_row(prev: _Line, y0: float, y1: float) -> bool:
    overlap = min(prev.y1, y1) - max(prev.y0, y0)
    return overlap > 0.6 * min(prev.y1 - prev.y0, y1 - y0)


# --- running headers and footers -------------------------------------------------------------

_ROMAN = r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})"  # front matter: i … cccxcix
_PAGE_NUMBER = re.compile(
    rf"(?:page|p\.|pg\.?)?\s*[-–—(\[]?\s*(?:\d{{1,4}}|{_ROMAN})\s*[-–—)\]]?(?:\s*(?:of|/)\s*\d{{1,4}})?",
    re.IGNORECASE,
)


def _exact_key(text: str) -> str:
    return _WS.sub(" ", text.strip().lower())


def _margin_key(text: str) -> str:
    return re.sub(r"\d+", "#", _exact_key(text))


def _in_margin(block: _Block, page: _PageText) -> bool:
    if page.height <= 0:
        return False
    zone = 0.1 * page.height
    return block.y1 <= zone or block.y0 >= page.height - zone


def _follows_pages(occurrences: list[tuple[int, list[int]]]) -> bool:
    """Numbers that advance with the page ("… 44", "… 45" on pages 1, 2): a printed page number."""
    if len(occurrences) < 2:
        return False
    width = len(occurrences[0][1])
    if width == 0 or any(len(nums) != width for _, nums in occurrences):
        return False
    for i in range(width):
        offsets = {nums[i] - number for number, nums in occurrences}
        if len(offsets) == 1:
            return True
    return False


def _remove_running_furniture(pages: list[_PageText]) -> list[str]:
    """Drop headers/footers repeated on many pages, and page numbers in the margins.

    The same margin text on many pages (or on three) is a running header. Margin text that
    differs only in its numbers is one when a number advances with the page ("Chapter 2: Title 3"
    on page 3, "… 4" on page 4), not otherwise ("Chapter 1" and "Chapter 2" heading their pages).
    """
    exact: Counter[str] = Counter()
    masked: dict[str, list[tuple[int, list[int]]]] = {}
    for page in pages:
        seen_here: set[str] = set()
        for b in page.blocks:
            if not _in_margin(b, page):
                continue
            text = b.text
            exact[_exact_key(text)] += _exact_key(text) not in seen_here
            seen_here.add(_exact_key(text))
            key = _margin_key(text)
            if key not in seen_here:
                seen_here.add(key)
                masked.setdefault(key, []).append((page.number, [int(n) for n in re.findall(r"\d+", text)]))
    threshold = max(2, math.ceil(0.4 * len(pages)))
    running = {key for key, occ in masked.items() if _follows_pages(occ)}
    removed: list[str] = []
    reported: set[str] = set()
    for page in pages:
        kept: list[_Block] = []
        for b in page.blocks:
            if _in_margin(b, page) and len(b.text) <= 200:
                text = b.text.strip()
                if _PAGE_NUMBER.fullmatch(text):
                    continue
                key = _margin_key(text)
                if exact[_exact_key(text)] >= min(threshold, 3) or key in running:
                    if key not in reported:
                        reported.add(key)
                        removed.append(text)
                    continue
            kept.append(b)
        page.blocks = kept
    return removed


# --- reading order ---------------------------------------------------------------------------


def _reading_order(page: _PageText) -> list[tuple[_Block, bool]]:
    """Blocks in reading order, each with True when it starts a column (after the first)."""
    blocks = page.blocks
    if len(blocks) < 3:
        return [(b, False) for b in blocks]
    left = min(b.x0 for b in blocks)
    right = max(b.x1 for b in blocks)
    width = right - left
    if width <= 0:
        return [(b, False) for b in blocks]
    mid = (left + right) / 2
    tol = 0.04 * width

    def side(b: _Block) -> str:
        if b.x1 <= mid + tol and (b.x1 - b.x0) < 0.6 * width:
            return "L"
        if b.x0 >= mid - tol and (b.x1 - b.x0) < 0.6 * width:
            return "R"
        return "S"

    sides = [side(b) for b in blocks]
    lefts = [b for b, s in zip(blocks, sides) if s == "L"]
    rights = [b for b, s in zip(blocks, sides) if s == "R"]
    two_columns = any(min(a.y1, c.y1) - max(a.y0, c.y0) > 0 for a in lefts for c in rights)
    if not two_columns:
        return [(b, False) for b in blocks]

    # Bands separated by blocks that span both columns; in each band, left column then right.
    spanning = sorted((b for b, s in zip(blocks, sides) if s == "S"), key=lambda b: b.y0)
    out: list[tuple[_Block, bool]] = []
    edges = [b.y0 for b in spanning] + [math.inf]
    prev_edge = -math.inf
    used: set[int] = set()
    for i, edge in enumerate(edges):
        for column in (lefts, rights):
            members = sorted(
                (b for b in column if prev_edge <= (b.y0 + b.y1) / 2 < edge and id(b) not in used),
                key=lambda b: (b.y0, b.x0),
            )
            for k, b in enumerate(members):
                used.add(id(b))
                out.append((b, k == 0 and column is rights))
        if i < len(spanning):
            out.append((spanning[i], False))
            prev_edge = spanning[i].y1
    return out


# --- lines → paragraphs ----------------------------------------------------------------------

_TERMINAL = set(".!?:;…。！？．")
_CLOSERS = "\"'”’»)]}」』】〕）"
_HYPHENS = ("-", "\u00ad", "\u2010")
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u3000-\u303f]")


def _ends_sentence(s: str) -> bool:
    t = s.rstrip(_CLOSERS + " ")
    return bool(t) and t[-1] in _TERMINAL


def _join_lines(a: str, b: str) -> str:
    if a.endswith("\u00ad"):
        return a[:-1] + b
    if a.endswith(_HYPHENS) and len(a) >= 2 and a[-2].isalpha() and b[:1].isalpha():
        if a[-2].islower() and b[0].islower():
            return a[:-1] + b  # soci- / ety → society
        return a + b  # North- / Korean → North-Korean
    if a and b and _UNSPACED.match(a[-1]) and _UNSPACED.match(b[0]):
        return a + b  # Chinese and Japanese: no space between lines (Korean keeps its spaces)
    return a + " " + b


_LIST_ITEM = re.compile(r"^(?:[•◦▪▫‣⁃∙●○■□►▸◆◇✓✔➢➤]|\(?\d{1,3}[.)]\s|\([a-z]\)\s)")


def _starts_paragraph(prev: _Line, cur: _Line, left: float, right: float, count: int) -> bool:
    """Inside one block: does ``cur`` begin a new paragraph?"""
    if _LIST_ITEM.match(cur.text):  # a bullet or a numbered item
        return True
    if prev.mono or cur.mono:  # code: one line, one paragraph
        return True
    if prev.size and cur.size and abs(prev.size - cur.size) > 0.15 * max(prev.size, cur.size):
        return True  # a heading run into its text
    width = right - left
    if width <= 0 or count < 3 or not _ends_sentence(prev.text):
        return False
    short = (right - prev.x1) > 0.15 * width  # the sentence ended well short of the margin
    indent = cur.x0 - left
    indented = max(3.0, 0.03 * width) < indent < 0.3 * width  # a first-line indent
    return short or indented


def _block_paragraphs(block: _Block) -> list[tuple[str, float, bool]]:
    """The paragraphs of a block, each with its (first line's) font size and whether it is code."""
    lines = block.lines
    left = min(line.x0 for line in lines)
    right = max(line.x1 for line in lines)
    paras: list[list] = [[lines[0].text, lines[0].size, lines[0].mono]]
    for prev, cur in zip(lines, lines[1:]):
        if _starts_paragraph(prev, cur, left, right, len(lines)):
            paras.append([cur.text, cur.size, cur.mono])
        else:
            paras[-1][0] = _join_lines(paras[-1][0], cur.text)
    out = []
    for text, size, mono in paras:
        text = _WS.sub(" ", text).strip()
        if text:
            out.append((text, size, mono))
    return out
