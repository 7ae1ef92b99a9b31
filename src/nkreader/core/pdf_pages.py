"""Pages of a PDF or EPUB as printed, for the page view: no Qt, and pymupdf only through ``core.pdf``.

``PageSource(path, password=)`` holds one open pymupdf document (use it from one thread only:
PyMuPDF is not thread-safe) and gives, for each page:

* its size in points as shown (crop box, rotation applied) — ``sizes``;
* a rendering as raw RGB bytes at a scale in pixels per point, with the pixels capped for huge
  pages (``render``; MuPDF raises ``FzErrorLimit`` "Overly large image" past its own limit and
  would allocate gigabytes well before that);
* its words with their boxes and, when a :class:`~nkreader.core.model.Document` is given, each
  word's code-point span in ``Document.text`` (``layout``);
* its links, sorted into those that may be followed (http, https, mailto; pages of this
  document) and those that never are (file, launch, javascript, other documents…).

Words are mapped onto the text by matching, not by position: ``core.pdf`` builds the text from
the same MuPDF extraction (same flags) but drops running headers, page numbers and furniture,
reorders two-column pages, joins hyphenated line ends and moves footnotes after the paragraph
they interrupt. So each block of words is anchored where its first words occur in its page's span
of the text, blocks are taken in the order of their anchors, and words are matched one after the
other from there (a word ending a line in a hyphen matches the text without it); a word that
cannot be found — a header, a page number — has no span and is shown but not selectable.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .model import Document, DocumentError

__all__ = [
    "MAX_PIXELS",
    "MAX_SIDE",
    "SAFE_SCHEMES",
    "PageSource",
    "Rendered",
    "Word",
    "PageLink",
    "PageLayout",
    "map_words",
    "safe_uri",
    "capped_scale",
    "check_epub",
    "EPUB_MAX_DEPTH",
]

#: At most this many pixels in one rendered page (16 M pixels = 48 MB of RGB).
MAX_PIXELS = 16_000_000
#: At most this many pixels along either side of a rendered page.
MAX_SIDE = 16_384
#: The only URL schemes a link may have to be offered to the user.
SAFE_SCHEMES = ("http", "https", "mailto")
#: EPUB markup nested deeper than this is refused before MuPDF sees it: MuPDF silently drops text
#: nested deeper than ~95 elements, raises "too deep xml element nesting" from about 5,000, and
#: takes quadratic time to get there (2 s at 20,000 levels, ~100 s at 100,000).
EPUB_MAX_DEPTH = 1_000
_EPUB_MAX_MEMBER = 64 * 1024 * 1024  # bytes of one (decompressed) XHTML file we are willing to scan

_TEXT_FLAGS_NAMES = ("TEXT_PRESERVE_WHITESPACE", "TEXT_MEDIABOX_CLIP")  # the flags core.pdf extracts with


# =============================================================================================
# Data
# =============================================================================================


@dataclass(frozen=True)
class Rendered:
    """One page as RGB pixels: ``samples`` holds ``height`` rows of ``stride`` bytes."""

    index: int  # 0-based page index
    width: int
    height: int
    stride: int
    samples: bytes | memoryview  # memoryview into MuPDF's pixmap (kept alive by ``pixmap``)
    scale: float  # pixels per point actually used
    requested: float  # pixels per point asked for
    capped: bool  # the scale was lowered to stay within MAX_PIXELS / MAX_SIDE
    pixmap: Any = field(default=None, repr=False, compare=False)

    @property
    def nbytes(self) -> int:
        return self.samples.nbytes if isinstance(self.samples, memoryview) else len(self.samples)


@dataclass(slots=True)
class Word:
    """A word on a page: its box in points (as the page is shown) and its span in ``Document.text``.

    ``start``/``end`` are code points (end exclusive), or ``-1`` when the word is not in the text
    (a running header, a page number). ``cuts`` gives, for each character of ``raw``, its extent
    along ``axis`` (0: x, 1: y — the direction the text runs on screen); when it is empty the
    characters are taken as evenly spaced. The span covers ``text``
    (``raw`` normalised as ``core.pdf`` does: NFC, ligatures expanded), without a line-end hyphen
    that the text joins away.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    raw: str
    cuts: tuple[tuple[float, float], ...]
    axis: int
    line: int  # index of its line on the page: words of one line are drawn as one band
    block: int
    start: int = -1
    end: int = -1

    @property
    def mapped(self) -> bool:
        return self.start >= 0

    @property
    def rect(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)

    def sub_rect(self, start: int, end: int) -> tuple[float, float, float, float] | None:
        """The box of the code points [start, end) of this word (clipped to the word)."""
        if not self.mapped:
            return None
        a, b = max(start, self.start), min(end, self.end)
        if a >= b:
            return None
        if a == self.start and b == self.end:
            return self.rect
        n_text = max(1, len(self.text))
        if not self.cuts:  # characters evenly spaced along the word
            lo_f, hi_f = (a - self.start) / n_text, (b - self.start) / n_text
            if self.axis == 0:
                width = self.x1 - self.x0
                return (self.x0 + lo_f * width, self.y0, self.x0 + hi_f * width, self.y1)
            height = self.y1 - self.y0
            return (self.x0, self.y0 + lo_f * height, self.x1, self.y0 + hi_f * height)
        n_raw = len(self.cuts)
        i = min(n_raw - 1, int((a - self.start) * n_raw / n_text))
        j = max(i + 1, min(n_raw, round((b - self.start) * n_raw / n_text)))
        part = self.cuts[i:j]
        lo, hi = min(c[0] for c in part), max(c[1] for c in part)
        if self.axis == 0:
            return (lo, self.y0, hi, self.y1)
        return (self.x0, lo, self.x1, hi)


@dataclass(frozen=True)
class PageLink:
    """A link area on a page. ``kind``: "uri" (may be offered), "page" (inside this document) or
    "blocked" (never followed: file, launch, javascript, another document, a malformed URL)."""

    rect: tuple[float, float, float, float]
    kind: str
    target: str = ""  # the URL for "uri" (and what was refused for "blocked")
    page: int = -1  # 0-based target page for "page"
    reason: str = ""  # why a blocked link is blocked, for the user


@dataclass
class PageLayout:
    """Words and links of one page, in points as the page is shown."""

    index: int
    width: float
    height: float
    words: list[Word] = field(default_factory=list)
    links: list[PageLink] = field(default_factory=list)
    has_text: bool = True  # False: no text layer (a scanned page)
    _order: list[int] = field(default_factory=list, repr=False)  # mapped words by start
    _starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._order = sorted((i for i, w in enumerate(self.words) if w.mapped), key=lambda i: self.words[i].start)
        self._starts = [self.words[i].start for i in self._order]

    @property
    def span(self) -> tuple[int, int] | None:
        """The code points the mapped words of this page cover, first to last."""
        if not self._order:
            return None
        return self.words[self._order[0]].start, max(self.words[i].end for i in self._order)

    def words_in(self, start: int, end: int) -> list[int]:
        """Indices of mapped words overlapping [start, end), in text order."""
        if end <= start or not self._order:
            return []
        lo = max(0, bisect_right(self._starts, start) - 1)
        hi = bisect_left(self._starts, end)
        return [i for i in self._order[lo:hi] if self.words[i].end > start and self.words[i].start < end]

    def rects(self, start: int, end: int) -> list[tuple[float, float, float, float]]:
        """Boxes covering the text [start, end) on this page: one per run of a line, gaps filled."""
        out: list[list[float]] = []
        last_line = last_block = None
        for i in self.words_in(start, end):
            w = self.words[i]
            r = w.sub_rect(start, end)
            if r is None:
                continue
            if out and (last_line == w.line or last_block == w.block) and _same_row(out[-1], r):
                box = out[-1]
                box[0], box[1] = min(box[0], r[0]), min(box[1], r[1])
                box[2], box[3] = max(box[2], r[2]), max(box[3], r[3])
            else:
                out.append(list(r))
            last_line, last_block = w.line, w.block
        return [tuple(b) for b in out]  # type: ignore[misc]

    def word_at(self, x: float, y: float, slop: float = 0.0) -> int | None:
        """The index of the word under (x, y) (within ``slop`` points), or None."""
        best, best_d = None, None
        for i, w in enumerate(self.words):
            if w.x0 - slop <= x <= w.x1 + slop and w.y0 - slop <= y <= w.y1 + slop:
                dx = 0.0 if w.x0 <= x <= w.x1 else min(abs(x - w.x0), abs(x - w.x1))
                dy = 0.0 if w.y0 <= y <= w.y1 else min(abs(y - w.y0), abs(y - w.y1))
                d = dx + dy
                if best_d is None or d < best_d:
                    best, best_d = i, d
        return best

    def nearest_word(self, x: float, y: float, *, mapped: bool = True) -> int | None:
        """The mapped word nearest (x, y): on the nearest line, the nearest along it."""
        best, best_key = None, None
        for i, w in enumerate(self.words):
            if mapped and not w.mapped:
                continue
            dy = 0.0 if w.y0 <= y <= w.y1 else min(abs(y - w.y0), abs(y - w.y1))
            dx = 0.0 if w.x0 <= x <= w.x1 else min(abs(x - w.x0), abs(x - w.x1))
            key = (dy, dx)
            if best_key is None or key < best_key:
                best, best_key = i, key
        return best

    def link_at(self, x: float, y: float) -> PageLink | None:
        for link in self.links:
            x0, y0, x1, y1 = link.rect
            if x0 <= x <= x1 and y0 <= y <= y1:
                return link
        return None


def _same_row(a, b) -> bool:
    overlap = min(a[3], b[3]) - max(a[1], b[1])
    return overlap > 0.5 * min(a[3] - a[1], b[3] - b[1]) and b[0] >= a[0] - 1


# =============================================================================================
# Links
# =============================================================================================

_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f-\x9f\s]")


def safe_uri(uri: object) -> str | None:
    """``uri`` if it is a well-formed http, https or mailto URL, else ``None``.

    Nothing is repaired or guessed: leading blanks, control characters or spaces inside
    ("java\\tscript:"), a missing host, an unknown scheme — each is refused.
    """
    if not isinstance(uri, str) or not uri or len(uri) > 4096 or _URL_FORBIDDEN.search(uri):
        return None
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in SAFE_SCHEMES:
        return None
    if scheme in ("http", "https"):
        try:
            host = parts.hostname
        except ValueError:
            return None
        if not host or not uri[len(parts.scheme):].startswith("://"):
            return None
    elif not parts.path or "@" not in parts.path:
        return None
    return uri


def _links(page: Any, pymupdf: Any, page_count: int) -> list[PageLink]:
    out: list[PageLink] = []
    try:
        raw = page.get_links()
    except Exception:  # a damaged annotation array: no links rather than no page
        return out
    for link in raw:
        r = link.get("from")
        if r is None:
            continue
        rect = (float(r.x0), float(r.y0), float(r.x1), float(r.y1))
        kind = link.get("kind")
        if kind == pymupdf.LINK_URI:
            uri = link.get("uri", "")
            ok = safe_uri(uri)
            if ok:
                out.append(PageLink(rect, "uri", ok))
            else:
                scheme = uri.split(":", 1)[0].strip().lower() if isinstance(uri, str) and ":" in uri else ""
                why = f"{scheme}: links are never followed" if scheme else "a malformed link is not followed"
                out.append(PageLink(rect, "blocked", str(uri)[:200], reason=why))
        elif kind == pymupdf.LINK_GOTO or (kind == pymupdf.LINK_NAMED and isinstance(link.get("page"), int)):
            target = link.get("page", -1)
            if isinstance(target, int) and 0 <= target < page_count:
                out.append(PageLink(rect, "page", page=target))
        elif kind == pymupdf.LINK_LAUNCH:
            out.append(PageLink(rect, "blocked", str(link.get("file", ""))[:200],
                                reason="links that open files or run programs are never followed"))
        elif kind == pymupdf.LINK_GOTOR:
            out.append(PageLink(rect, "blocked", str(link.get("file", ""))[:200],
                                reason="links into other files are never followed"))
    return out


# =============================================================================================
# EPUB guard
# =============================================================================================

_TAG = re.compile(rb"<(/?)([A-Za-z][^\s/>]*)[^>]*?(/?)>")
_VOID = {b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"param",
         b"source", b"track", b"wbr"}  # HTML elements that are never closed


def _max_depth(data: bytes, limit: int) -> int:
    """The deepest element nesting in an XML/XHTML file (stops counting past ``limit``)."""
    depth = deepest = 0
    data = re.sub(rb"<!--.*?-->|<!\[CDATA\[.*?\]\]>", b"", data, flags=re.DOTALL)
    for m in _TAG.finditer(data):
        if m.group(2).lower() in _VOID:
            continue
        if m.group(1):
            depth = max(0, depth - 1)
        elif not m.group(3):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
    return deepest


def check_epub(path: str | Path, *, max_depth: int = EPUB_MAX_DEPTH) -> None:
    """Refuse an EPUB whose markup is nested past ``max_depth`` (MuPDF would hang or lose text)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if not info.filename.lower().endswith((".xhtml", ".html", ".htm", ".xml", ".opf", ".ncx")):
                    continue
                if info.file_size > _EPUB_MAX_MEMBER:
                    raise DocumentError(f"{path.name} holds a page of {info.file_size // (1024 * 1024)} MB: too large to show")
                with z.open(info) as fh:
                    data = fh.read(_EPUB_MAX_MEMBER + 1)
                if len(data) > _EPUB_MAX_MEMBER:
                    raise DocumentError(f"{path.name} holds a page too large to show")
                depth = _max_depth(data, max_depth)
                if depth > max_depth:
                    raise DocumentError(
                        f"{path.name} is nested too deeply to be shown ({info.filename}: more than "
                        f"{max_depth} levels of markup)"
                    )
    except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, NotImplementedError) as e:
        raise DocumentError(f"{path.name} is damaged or truncated: it cannot be read as an EPUB ({e})") from None


# =============================================================================================
# Rendering
# =============================================================================================


def capped_scale(width: float, height: float, scale: float, *, max_pixels: int = MAX_PIXELS,
                 max_side: int = MAX_SIDE) -> float:
    """``scale`` (pixels per point), lowered so that the page stays within the pixel caps."""
    if width <= 0 or height <= 0 or scale <= 0:
        return max(scale, 0.0)
    s = scale
    # MuPDF rounds the pixmap out to whole pixels: (w s + 1) (h s + 1) <= max_pixels
    if (width * s + 1) * (height * s + 1) > max_pixels:
        a, b, c = width * height, width + height, 1 - max_pixels
        s = (-b + (b * b - 4 * a * c) ** 0.5) / (2 * a)
    s = min(s, (max_side - 1) / width, (max_side - 1) / height)
    return max(s, 0.0)


def _errors(pymupdf: Any) -> tuple[type[BaseException], ...]:
    fz = getattr(getattr(pymupdf, "mupdf", None), "FzErrorBase", None)
    return (RuntimeError, fz) if isinstance(fz, type) else (RuntimeError,)


class PageSource:
    """An open PDF or EPUB for page access. Not thread-safe: use it from one thread."""

    def __init__(self, path: str | Path, *, password: str | None = None, kind: str | None = None):
        from .pdf import load_pymupdf, unlock

        self.path = Path(path)
        name = self.path.name
        self.kind = kind or ("epub" if self.path.suffix.lower() == ".epub" else "pdf")
        pymupdf = load_pymupdf()
        self._pymupdf = pymupdf
        self._errors = _errors(pymupdf)
        what = "an EPUB" if self.kind == "epub" else "a PDF"
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            raise DocumentError(f"{name} was not found ({self.path})") from None
        except OSError as e:
            raise DocumentError(f"{name} cannot be read: {e.strerror or e}") from None
        if size == 0:
            raise DocumentError(f"{name} is empty (0 bytes)")
        if self.kind == "epub":
            check_epub(self.path)
        try:
            doc = pymupdf.open(str(self.path), filetype=self.kind)
        except pymupdf.FileNotFoundError:  # pymupdf's own, not the builtin
            raise DocumentError(f"{name} was not found ({self.path})") from None
        except pymupdf.EmptyFileError:
            raise DocumentError(f"{name} is empty (0 bytes)") from None
        except pymupdf.FileDataError:
            raise DocumentError(f"{name} is damaged or truncated: it cannot be read as {what}") from None
        except self._errors as e:
            raise DocumentError(f"{name} could not be opened as {what}: {e}") from None
        self._doc = doc
        try:
            # MuPDF sniffs the content and ignores ``filetype``: a web page or an image named .pdf
            # opens as one page of HTML or of pixels. The page view shows PDFs and EPUBs only.
            if self.kind == "pdf" and not doc.is_pdf:
                raise DocumentError(f"{name} is not a PDF")
            unlock(doc, name, password)
            self.page_count = doc.page_count  # an EPUB is laid out here
            if self.page_count == 0:
                raise DocumentError(f"{name} is damaged or truncated: no page could be recovered")
            self.sizes: list[tuple[float, float]] = []
            for i in range(self.page_count):
                try:
                    r = doc[i].rect
                    self.sizes.append((float(r.width), float(r.height)))
                except self._errors:
                    self.sizes.append(self.sizes[-1] if self.sizes else (595.0, 842.0))
        except DocumentError:
            doc.close()
            raise
        except self._errors as e:
            doc.close()
            raise DocumentError(f"{name} could not be laid out as {what}: {e}") from None
        self.repaired = bool(getattr(doc, "is_repaired", False))
        flags = 0
        for flag in _TEXT_FLAGS_NAMES:
            flags |= int(getattr(pymupdf, flag))
        self._flags = flags

    # --- life ---------------------------------------------------------------------------------
    def close(self) -> None:
        if self._doc is not None:
            try:
                self._doc.close()
            finally:
                self._doc = None

    @property
    def closed(self) -> bool:
        return self._doc is None

    def __enter__(self) -> "PageSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _page(self, index: int) -> Any:
        if self._doc is None:
            raise DocumentError(f"{self.path.name} is closed")
        if not 0 <= index < self.page_count:
            raise IndexError(index)
        return self._doc[index]

    # --- pages ----------------------------------------------------------------------------------
    def label(self, index: int) -> str | None:
        from .pdf import _decode_label

        try:
            return _decode_label(self._page(index).get_label()) if self.kind == "pdf" else None
        except (*self._errors, AssertionError, ValueError):
            return None

    def render(self, index: int, scale: float, *, max_pixels: int = MAX_PIXELS,
               max_side: int = MAX_SIDE, clip: tuple[float, float, float, float] | None = None) -> Rendered:
        """Page ``index`` as RGB bytes at ``scale`` pixels per point (capped, see ``capped_scale``).

        ``clip`` (x0, y0, x1, y1 in points from the page's top left) renders only that part of the
        page, the caps applying to the part: a huge page seen at a high zoom stays sharp where it is
        looked at (its whole, capped, rendering is blurred there)."""
        pymupdf = self._pymupdf
        page = self._page(index)
        w, h = self.sizes[index]
        box = None
        if clip is not None:
            x0, y0 = max(0.0, float(clip[0])), max(0.0, float(clip[1]))
            x1, y1 = min(w, float(clip[2])), min(h, float(clip[3]))
            if x1 - x0 < 1e-3 or y1 - y0 < 1e-3:
                raise DocumentError(f"nothing to render: the part asked for is off page {index + 1}")
            w, h = x1 - x0, y1 - y0
            r = page.rect  # the page's own origin (a CropBox may not start at 0, 0)
            box = pymupdf.Rect(r.x0 + x0, r.y0 + y0, r.x0 + x1, r.y0 + y1)
        s = capped_scale(w, h, scale, max_pixels=max_pixels, max_side=max_side)
        try:
            pix = page.get_pixmap(matrix=pymupdf.Matrix(s, s), alpha=False, colorspace=pymupdf.csRGB, clip=box)
        except self._errors as e:
            raise DocumentError(f"page {index + 1} of {self.path.name} could not be rendered: {e}") from None
        samples = getattr(pix, "samples_mv", None)  # no copy of the pixels
        if samples is None:  # pragma: no cover - an older pymupdf
            samples = pix.samples
        return Rendered(index, pix.width, pix.height, pix.stride, samples, s, scale, s < scale - 1e-9, pix)

    def layout(self, index: int, doc: Document | None = None) -> PageLayout:
        """Words (mapped onto ``doc.text`` when ``doc`` is given) and links of page ``index``."""
        page = self._page(index)
        w, h = self.sizes[index]
        try:
            words = _page_words(page, self._flags, self._pymupdf)
        except self._errors:
            words = []
        links = _links(page, self._pymupdf, self.page_count)
        layout = PageLayout(index, w, h, words, links, has_text=bool(words))
        if doc is not None and doc.pages and index < len(doc.pages):
            pg = doc.pages[index]
            map_words(layout.words, doc.text, pg.start, pg.end, page_height=h)
            layout.reindex()
        return layout


# =============================================================================================
# Words
# =============================================================================================

_LIGATURES = re.compile("[\ufb00-\ufb06]")
_HYPHENS = ("-", "\u00ad", "\u2010")
# Chinese and Japanese characters (and full-width forms): each one is a word of its own, since
# these scripts put no spaces between words (Hangul keeps its spaces and is split at them).
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]")


def _normalise(raw: str) -> str:
    s = _LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), raw)
    s = s.replace("\x00", "").replace("\ufffe", "")
    return unicodedata.normalize("NFC", s)


def _page_words(page: Any, flags: int, pymupdf: Any) -> list[Word]:
    """The words of a page: from MuPDF's word list (3 ms a page), characters placed in proportion.

    An upright page whose words all run left to right is read this way; a rotated page or
    vertical text goes through the character boxes of ``rawdict`` (10 ms a page or more, most of
    it building a dict per character while holding the GIL).
    """
    if page.rotation % 360:
        return _raw_words(page, flags, pymupdf)[0]
    raw = page.get_textpage(flags=flags).extractWORDS()
    if not raw:
        return []
    # blocks in the order sort=True gives them (by bottom, then left), words in reading order
    blocks: dict[int, list[tuple]] = {}
    for w in raw:
        blocks.setdefault(w[5], []).append(w)
    boxes = {b: (min(w[0] for w in ws), max(w[3] for w in ws)) for b, ws in blocks.items()}
    order = sorted(blocks, key=lambda b: (boxes[b][1], boxes[b][0]))
    words: list[Word] = []
    lines: dict[tuple[int, int], int] = {}
    for b in order:
        for x0, y0, x1, y1, s, bno, lno, _wno in blocks[b]:
            if len(s) >= 3 and (y1 - y0) > 2 * (x1 - x0):  # a column of characters
                return _raw_words(page, flags, pymupdf)[0]  # vertical text: the exact way
            line = lines.setdefault((bno, lno), len(lines))
            for piece, px0, px1 in _split_unspaced(s, x0, x1):
                text = piece if piece.isascii() and "\x00" not in piece else _normalise(piece)
                if not text or text.isspace():
                    continue
                words.append(Word(px0, y0, px1, y1, text, piece, (), 0, line, bno))  # characters evenly spaced
    return words


def _split_unspaced(s: str, x0: float, x1: float) -> list[tuple[str, float, float]]:
    """A MuPDF word cut into Chinese/Japanese characters (a word each) and the runs between them,
    each given its share of the width (a CJK character is about twice as wide as a Latin one)."""
    if s.isascii() or not _UNSPACED.search(s):
        return [(s, x0, x1)]
    pieces: list[str] = []
    for ch in s:
        if _UNSPACED.match(ch) or not pieces or _UNSPACED.match(pieces[-1][-1]):
            pieces.append(ch)
        else:
            pieces[-1] += ch
    weights = [sum(1.0 if _UNSPACED.match(c) else 0.55 for c in p) for p in pieces]
    total = sum(weights) or 1.0
    out, x = [], x0
    for p, wgt in zip(pieces, weights):
        w = (x1 - x0) * wgt / total
        out.append((p, x, x + w))
        x += w
    return out


def _raw_words(page: Any, flags: int, pymupdf: Any) -> tuple[list[Word], bool]:
    data = page.get_text("rawdict", flags=flags, sort=True)
    m = page.rotation_matrix
    ma, mb, mc, md, me, mf = m.a, m.b, m.c, m.d, m.e, m.f
    rotated = not (ma == 1 and md == 1 and mb == 0 and mc == 0 and me == 0 and mf == 0)
    words: list[Word] = []
    has_images = False
    line_no = 0
    unspaced = _UNSPACED.match

    def put(raw: str, cuts: list[tuple[float, float]], horizontal: bool, cross: tuple[float, float],
            block: int, line: int) -> None:
        text = raw if raw.isascii() and "\x00" not in raw else _normalise(raw)
        if not text or text.isspace():
            return
        lo = min(c[0] for c in cuts)
        hi = max(c[1] for c in cuts)
        if horizontal:
            x0, y0, x1, y1 = lo, cross[0], hi, cross[1]
        else:
            x0, y0, x1, y1 = cross[0], lo, cross[1], hi
        axis = 0 if horizontal else 1
        if rotated:
            r = pymupdf.Rect(x0, y0, x1, y1) * m
            x0, y0, x1, y1 = r.x0, r.y0, r.x1, r.y1
            mid = (cross[0] + cross[1]) / 2
            if horizontal:  # progress along x: x' = a x + c y + e, y' = b x + d y + f
                if ma != 0:
                    cuts = [tuple(sorted((ma * a + mc * mid + me, ma * b + mc * mid + me))) for a, b in cuts]
                else:
                    axis = 1
                    cuts = [tuple(sorted((mb * a + md * mid + mf, mb * b + md * mid + mf))) for a, b in cuts]
            else:  # progress along y
                if md != 0:
                    cuts = [tuple(sorted((mb * mid + md * a + mf, mb * mid + md * b + mf))) for a, b in cuts]
                else:
                    axis = 0
                    cuts = [tuple(sorted((ma * mid + mc * a + me, ma * mid + mc * b + me))) for a, b in cuts]
        words.append(Word(x0, y0, x1, y1, text, raw, tuple(cuts), axis, line, block))  # type: ignore[arg-type]

    for b_index, block in enumerate(data.get("blocks", [])):
        if block.get("type") != 0:
            has_images = True
            continue
        for line in block.get("lines", []):
            lx0, ly0, lx1, ly1 = line["bbox"]
            d = line.get("dir", (1.0, 0.0))
            horizontal = abs(d[0]) >= abs(d[1])
            cross = (ly0, ly1) if horizontal else (lx0, lx1)
            chars: list[str] = []
            cuts: list[tuple[float, float]] = []
            for span in line.get("spans", []):
                for ch in span.get("chars", ()):
                    c = ch.get("c", "")
                    if not c or c.isspace():
                        if chars:
                            put("".join(chars), cuts, horizontal, cross, b_index, line_no)
                            chars, cuts = [], []
                        continue
                    bx0, by0, bx1, by1 = ch["bbox"]
                    cut = (bx0, bx1) if horizontal else (by0, by1)
                    if c >= "\u3000" and unspaced(c):
                        if chars:
                            put("".join(chars), cuts, horizontal, cross, b_index, line_no)
                            chars, cuts = [], []
                        put(c, [cut], horizontal, cross, b_index, line_no)
                        continue
                    chars.append(c)
                    cuts.append(cut)
            if chars:
                put("".join(chars), cuts, horizontal, cross, b_index, line_no)
            line_no += 1
    return words, has_images


def _token_pattern(tokens: list[str]) -> str:
    parts = []
    for t in tokens:
        if t.endswith(_HYPHENS) and len(t) > 1:
            parts.append(re.escape(t[:-1]) + "[-\u00ad\u2010]?")
        else:
            parts.append(re.escape(t))
    return r"\s*".join(parts)


def _occurrences(text: str, tokens: list[str], lo: int, hi: int):
    """Start positions of ``tokens`` in ``text[lo:hi]``: as written with single spaces, else loosely
    (any white space or none between them, a line-end hyphen optional)."""
    plain = " ".join(tokens)
    p = text.find(plain, lo, hi)
    found = False
    while p >= 0:
        found = True
        yield p
        p = text.find(plain, p + 1, hi)
    if not found:
        for m in re.compile(_token_pattern(tokens)).finditer(text, lo, hi):
            yield m.start()


def _find_anchor(text: str, tokens: list[str], lo: int, hi: int, claimed: set[int], after: int) -> int | None:
    """Where a block starting with ``tokens`` begins: the first unclaimed occurrence at or after
    ``after`` (the block before it on the page), else the first unclaimed one. A block of a few
    letters (an index letter, "Notes") anchors only where it is a whole paragraph, and only once."""
    if sum(len(t) for t in tokens) < 5:
        if len(tokens) > 3:
            return None
        whole = [p for p in _occurrences(text, tokens, lo, hi)
                 if (p == lo or text[p - 2:p] == "\n\n") and text.startswith("\n\n", p + len(" ".join(tokens)))
                 and p not in claimed]
        return whole[0] if len(whole) == 1 else None
    for n in (8, 3):
        toks = tokens[:n]
        if sum(len(t) for t in toks) < 5 or (n == 3 and len(tokens) <= 3 and n != len(toks)):
            continue
        for start_at in (after, lo):
            for p in _occurrences(text, toks, start_at, hi):
                if p not in claimed:
                    return p
            if after <= lo:
                break
    return None


def map_words(words: list[Word], text: str, lo: int, hi: int, *, page_height: float | None = None) -> int:
    """Give each word its span in ``text[lo:hi]`` (see the module doc); returns how many matched.

    Words keep ``start = end = -1`` when they cannot be found there. ``page_height`` tells the
    margins (the top and bottom tenth, as ``core.pdf`` has them) from the body.
    """
    for w in words:
        w.start = w.end = -1
    if not words or hi <= lo:
        return 0
    hi = min(hi, len(text))
    blocks: dict[int, list[int]] = {}  # in extraction order (top to bottom)
    for i, w in enumerate(words):
        blocks.setdefault(w.block, []).append(i)
    order = list(blocks)

    # Body blocks claim their place first, margin blocks (running headers and footers: mostly not
    # in the text, or repeating words of the body) after them.
    if page_height:
        top, bottom = 0.0, float(page_height)
    else:
        top, bottom = min(w.y0 for w in words), max(w.y1 for w in words)
    zone = 0.1 * (bottom - top)

    def in_margin(b: int) -> bool:
        ws = [words[i] for i in blocks[b]]
        return min(w.y0 for w in ws) >= bottom - zone or max(w.y1 for w in ws) <= top + zone

    claimed: set[int] = set()
    anchors: dict[int, int | None] = {}
    after = lo
    for b in sorted(order, key=in_margin):
        idx = blocks[b]
        anchor = None
        for first in (0, 1, 2):
            toks = [words[i].text for i in idx[first:first + 8]]
            if not toks:
                break
            anchor = _find_anchor(text, toks, lo, hi, claimed, after)
            if anchor is not None:
                claimed.add(anchor)
                if first:  # the words before the found ones are just before it
                    anchor = _back_up(text, lo, anchor, [words[i].text for i in idx[:first]])
                break
        anchors[b] = anchor
        if anchor is not None and not in_margin(b):
            after = anchor

    # anchorless blocks keep their place after the block before them in extraction order
    keys: dict[int, tuple[float, int]] = {}
    last = float(lo)
    for seq, b in enumerate(order):
        a = anchors[b]
        if a is not None:
            last = float(a)
        keys[b] = (float(a) if a is not None else last + 0.5, seq)
    ordered = sorted(order, key=lambda b: keys[b])
    anchored_positions = sorted(a for a in anchors.values() if a is not None)

    matched = 0
    cursor = lo
    taken: set[int] = set()  # starts already given to a word: no text is on the page twice
    for b in ordered:
        idx = blocks[b]
        if anchors[b] is not None:
            cursor = anchors[b]
        k = bisect_right(anchored_positions, cursor)
        limit = anchored_positions[k] if k < len(anchored_positions) else hi
        for n, i in enumerate(idx):
            w = words[i]
            tok = w.text
            pos = cursor
            while pos < hi and text[pos].isspace():
                pos += 1
            span = None
            if pos not in taken:
                if text.startswith(tok, pos) and pos + len(tok) <= hi:
                    span = (pos, pos + len(tok))
                elif (tok.endswith(_HYPHENS) and len(tok) > 1 and text.startswith(tok[:-1], pos)
                      and pos + len(tok) - 1 <= hi):
                    span = (pos, pos + len(tok) - 1)  # soci- / ety → society
            if span is None:
                span = _resync(text, [words[j].text for j in idx[n:n + 3]], cursor, max(limit, cursor), taken)
            if span is None:
                continue
            w.start, w.end = span
            taken.add(w.start)
            matched += 1
            cursor = w.end
    return matched


def _resync(text: str, following: list[str], lo: int, hi: int, taken: set[int]) -> tuple[int, int] | None:
    """The span of ``following[0]`` found again, with the words after it, in ``text[lo:hi]``."""
    if sum(len(t) for t in following) < 5:
        return None
    tok = following[0]
    first = re.compile(_token_pattern([tok]))
    for m in re.compile(_token_pattern(following)).finditer(text, lo, hi):
        if m.start() in taken:
            continue
        f = first.match(text, m.start())
        end = f.end() if f else m.start() + len(tok)
        if text[end - 1:end] in _HYPHENS and not tok.endswith(_HYPHENS):
            end -= 1
        return m.start(), end
    return None


def _back_up(text: str, lo: int, pos: int, before: list[str]) -> int:
    """Move an anchor back over the words ``before`` it when they are right there in the text."""
    for tok in reversed(before):
        p = pos
        while p > lo and text[p - 1].isspace():
            p -= 1
        core = tok[:-1] if tok.endswith(_HYPHENS) and not text.startswith(tok, p - len(tok)) else tok
        if p - len(core) >= lo and text.startswith(core, p - len(core)):
            pos = p - len(core)
        else:
            break
    return pos
