"""W3C-style text anchors: a quote with context plus a code-point position (and page).

A highlight remembers *what* it marked (TextQuoteSelector: exact, prefix, suffix) and *where*
(TextPositionSelector: start, end exclusive). When the document's text changes, the position
is tried first, then the quote (exact, then with whitespace and quote marks normalised, then
fuzzy). What cannot be found is an orphan: reported, never dropped.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from rapidfuzz import fuzz

CONTEXT = 32  # characters of prefix/suffix kept around a quote
FUZZY_CUTOFF = 85.0  # rapidfuzz partial_ratio needed to accept a fuzzy re-anchor

_EQUIVALENT = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u00ad": None,
    "\u00a0": " ", "\u2009": " ", "\u202f": " ",
})


@dataclass(frozen=True)
class TextAnchor:
    exact: str
    prefix: str
    suffix: str
    start: int
    end: int
    page: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TextAnchor":
        return cls(
            exact=str(data["exact"]),
            prefix=str(data.get("prefix", "")),
            suffix=str(data.get("suffix", "")),
            start=int(data["start"]),
            end=int(data["end"]),
            page=int(data["page"]) if data.get("page") is not None else None,
        )

    def selectors(self) -> list[dict]:
        """The W3C Web Annotation selectors for this anchor."""
        quote = {"type": "TextQuoteSelector", "exact": self.exact}
        if self.prefix:
            quote["prefix"] = self.prefix
        if self.suffix:
            quote["suffix"] = self.suffix
        sels = [quote, {"type": "TextPositionSelector", "start": self.start, "end": self.end}]
        if self.page is not None:
            sels.append({"type": "FragmentSelector", "conformsTo": "http://tools.ietf.org/rfc/rfc3778",
                         "value": f"page={self.page}"})
        return sels

    @classmethod
    def from_selectors(cls, selectors: list[dict]) -> "TextAnchor":
        quote = next((s for s in selectors if s.get("type") == "TextQuoteSelector"), None)
        pos = next((s for s in selectors if s.get("type") == "TextPositionSelector"), None)
        frag = next((s for s in selectors if s.get("type") == "FragmentSelector"), None)
        if quote is None and pos is None:
            raise ValueError("a target needs a TextQuoteSelector or a TextPositionSelector")
        page = None
        if frag and str(frag.get("value", "")).startswith("page="):
            try:
                page = int(str(frag["value"])[5:])
            except ValueError:
                page = None
        start = int(pos["start"]) if pos else -1
        end = int(pos["end"]) if pos else -1
        return cls(
            exact=str(quote.get("exact", "")) if quote else "",
            prefix=str(quote.get("prefix", "")) if quote else "",
            suffix=str(quote.get("suffix", "")) if quote else "",
            start=start,
            end=end,
            page=page,
        )


@dataclass(frozen=True)
class Resolution:
    """Where an anchor lands in a text now."""

    status: str  # exact | moved | normalised | fuzzy | orphan
    start: int = -1
    end: int = -1
    score: float = 100.0

    @property
    def found(self) -> bool:
        return self.status != "orphan"


def anchor_span(text: str, start: int, end: int, page: int | None = None) -> TextAnchor:
    """Describe ``text[start:end]`` as an anchor with context."""
    if not (0 <= start < end <= len(text)):
        raise ValueError(f"span {start}:{end} is outside the text (length {len(text)})")
    return TextAnchor(
        exact=text[start:end],
        prefix=text[max(0, start - CONTEXT) : start],
        suffix=text[end : end + CONTEXT],
        start=start,
        end=end,
        page=page,
    )


def _normalise(text: str) -> tuple[str, list[int]]:
    """Fold quotes, dashes and runs of whitespace; keep a map back to original offsets."""
    out: list[str] = []
    index: list[int] = []
    prev_space = False
    for i, ch in enumerate(text):
        ch = ch.translate(_EQUIVALENT)
        if not ch:
            continue
        if ch.isspace():
            if prev_space:
                continue
            ch = " "
            prev_space = True
        else:
            prev_space = False
        out.append(ch.casefold() if len(ch.casefold()) == 1 else ch)
        index.append(i)
    index.append(len(text))
    return "".join(out), index


def _occurrences(text: str, needle: str) -> list[int]:
    found, i = [], text.find(needle)
    while i != -1:
        found.append(i)
        i = text.find(needle, i + 1)
    return found


def _best(starts: list[int], length: int, text: str, prefix: str, suffix: str, hint: int | None) -> int:
    """Pick the occurrence whose context and position agree best with what we remember."""

    def score(s: int) -> tuple[float, int]:
        ctx = 0.0
        if prefix:
            ctx += fuzz.ratio(prefix, text[max(0, s - len(prefix)) : s])
        if suffix:
            ctx += fuzz.ratio(suffix, text[s + length : s + length + len(suffix)])
        return (-ctx, abs(s - hint) if hint is not None else 0)

    return min(starts, key=score)


def find_quote(text: str, quote: str, *, hint: int | None = None, prefix: str = "", suffix: str = "") -> tuple[int, int] | None:
    """Find ``quote`` in ``text``: exactly, else ignoring whitespace, case and quote-mark style."""
    quote = quote.strip()
    if not quote:
        return None
    starts = _occurrences(text, quote)
    if starts:
        s = _best(starts, len(quote), text, prefix, suffix, hint)
        return s, s + len(quote)
    norm_text, index = _normalise(text)
    norm_quote, _ = _normalise(quote)
    norm_quote = norm_quote.strip()
    if not norm_quote:
        return None
    starts = _occurrences(norm_text, norm_quote)
    if not starts:
        return None
    nhint = None
    if hint is not None:
        nhint = next((k for k, i in enumerate(index) if i >= hint), len(norm_text))
    s = _best(starts, len(norm_quote), norm_text, _normalise(prefix)[0], _normalise(suffix)[0], nhint)
    e = s + len(norm_quote)
    return index[s], index[e - 1] + 1


def _snap_to_words(text: str, start: int, end: int, quote: str) -> tuple[int, int]:
    """Widen a fuzzy match that cut a word in two; drop edge spaces and punctuation the quote lacks."""
    while 0 < start < len(text) and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while 0 < end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    lead_ok = quote[:1].isalnum()
    trail_ok = quote[-1:].isalnum()
    while start < end and (text[start].isspace() or (lead_ok and not text[start].isalnum())):
        start += 1
    while end > start and (text[end - 1].isspace() or (trail_ok and not text[end - 1].isalnum())):
        end -= 1
    return start, end


def _fuzzy(text: str, anchor: TextAnchor) -> Resolution | None:
    exact = anchor.exact
    if len(exact) < 8:
        return None
    windows = []
    if 0 <= anchor.start <= len(text):
        pad = max(2000, 4 * len(exact))
        lo = max(0, anchor.start - pad)
        windows.append((lo, text[lo : anchor.start + len(exact) + pad]))
    windows.append((0, text))
    for offset, window in windows:
        hit = fuzz.partial_ratio_alignment(exact, window, score_cutoff=FUZZY_CUTOFF)
        if hit is not None and hit.score >= FUZZY_CUTOFF:
            start, end = offset + hit.dest_start, offset + hit.dest_end
            start, end = _snap_to_words(text, start, end, exact)
            if end > start:
                return Resolution("fuzzy", start, end, float(hit.score))
    return None


def resolve(anchor: TextAnchor, text: str) -> Resolution:
    """Re-anchor: position, then exact quote, then normalised quote, then fuzzy; else orphan."""
    if anchor.exact and 0 <= anchor.start < anchor.end <= len(text) and text[anchor.start : anchor.end] == anchor.exact:
        return Resolution("exact", anchor.start, anchor.end)
    if not anchor.exact:
        if 0 <= anchor.start < anchor.end <= len(text):
            return Resolution("exact", anchor.start, anchor.end)
        return Resolution("orphan", score=0.0)
    hint = anchor.start if anchor.start >= 0 else None
    starts = _occurrences(text, anchor.exact)
    if starts:
        s = _best(starts, len(anchor.exact), text, anchor.prefix, anchor.suffix, hint)
        return Resolution("moved", s, s + len(anchor.exact))
    span = find_quote(text, anchor.exact, hint=hint, prefix=anchor.prefix, suffix=anchor.suffix)
    if span:
        return Resolution("normalised", span[0], span[1], 99.0)
    fuzzy = _fuzzy(text, anchor)
    if fuzzy:
        return fuzzy
    return Resolution("orphan", score=0.0)
