"""The one place where core offsets (code points) meet Qt positions (UTF-16 units in a QTextDocument).

The core counts code points in ``Document.text``. A ``QTextDocument`` filled with that text by
``QTextCursor.insertText`` counts differently in two ways:

- a character outside the Basic Multilingual Plane (emoji, rare CJK) is a surrogate pair:
  one code point, two Qt positions;
- ``"\\r\\n"`` becomes one paragraph separator: two code points, one Qt position
  (a lone ``\\r`` or ``\\n`` is one separator, one position).

Everything else (combining marks, Hangul syllables or jamo, U+2028/U+2029) is one for one,
provided the text reaches Qt through ``insert_text``: PySide's str → QString conversion drops a
*leading* U+FEFF and byte-swaps a string that starts with U+FFFE (it takes them for a byte-order
mark), so ``insert_text`` never hands Qt a string that starts with one.
``to_qt`` and ``from_qt`` are the only conversion functions in the window; everything that
hands an offset from the core to Qt, or back, goes through them. A code-point position between
the ``\\r`` and ``\\n`` of a pair maps to the Qt position before the separator; a Qt position in the
middle of a surrogate pair maps to the code point of that character.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache

_EVENTS = re.compile("[\U00010000-\U0010ffff]|\r(?=\n)")

__all__ = ["OffsetMap", "offset_map", "to_qt", "from_qt", "insert_text", "qt_safe"]

_BOMS = ("\ufeff", "\ufffe")


class OffsetMap:
    """Conversion tables for one text; build once per document (O(n)), convert in O(log n)."""

    __slots__ = ("text", "_cp", "_qt", "_astral", "_delta_after", "length_qt")

    def __init__(self, text: str):
        self.text = text
        cps: list[int] = []  # code-point position of each event
        qts: list[int] = []  # Qt position where the event's character starts
        astral: list[bool] = []
        delta_after: list[int] = []  # (Qt - cp) after the event
        delta = 0
        for m in _EVENTS.finditer(text):
            p = m.start()
            cps.append(p)
            qts.append(p + delta)
            is_astral = text[p] != "\r"
            astral.append(is_astral)
            delta += 1 if is_astral else -1
            delta_after.append(delta)
        self._cp, self._qt, self._astral, self._delta_after = cps, qts, astral, delta_after
        self.length_qt = len(text) + delta

    @property
    def identity(self) -> bool:
        return not self._cp

    def to_qt(self, cp: int) -> int:
        """Code-point offset → Qt position (clamped to the text)."""
        cp = min(max(cp, 0), len(self.text))
        if not self._cp:
            return cp
        k = bisect_left(self._cp, cp) - 1  # last event strictly before cp
        return cp if k < 0 else cp + self._delta_after[k]

    def from_qt(self, pos: int) -> int:
        """Qt position → code-point offset (clamped to the text)."""
        pos = min(max(pos, 0), self.length_qt)
        if not self._cp:
            return pos
        k = bisect_right(self._qt, pos - 1) - 1  # last event starting strictly before pos
        if k < 0:
            return pos
        if self._astral[k] and pos == self._qt[k] + 1:
            return self._cp[k]  # inside a surrogate pair
        return pos - self._delta_after[k]

    def span_to_qt(self, start: int, end: int) -> tuple[int, int]:
        return self.to_qt(start), self.to_qt(end)

    def span_from_qt(self, start: int, end: int) -> tuple[int, int]:
        return self.from_qt(start), self.from_qt(end)


@lru_cache(maxsize=32)
def offset_map(text: str) -> OffsetMap:
    """A cached map for ``text`` (documents are few and their texts do not change)."""
    return OffsetMap(text)


def to_qt(text: str, cp: int) -> int:
    """Code-point offset into ``text`` → position in a QTextDocument holding ``text``."""
    return offset_map(text).to_qt(cp)


def from_qt(text: str, pos: int) -> int:
    """Position in a QTextDocument holding ``text`` → code-point offset into ``text``."""
    return offset_map(text).from_qt(pos)


def insert_text(cursor, text: str, fmt=None) -> None:
    """``cursor.insertText(text)`` keeping one Qt position per BMP code point (see the module doc)."""
    args = (fmt,) if fmt is not None else ()
    if text.startswith(_BOMS):
        # Qt keeps these characters when they are not first in the string: insert "x" + text,
        # then take the "x" back out.
        start = cursor.position()
        cursor.insertText("x" + text, *args)
        end = cursor.position()
        cursor.setPosition(start)
        cursor.setPosition(start + 1, cursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.setPosition(end - 1)
    elif text:
        cursor.insertText(text, *args)


def qt_safe(text: str) -> str:
    """Text for a label or list item: a leading BOM-like character is shielded by a word joiner."""
    return "\u2060" + text if text.startswith(_BOMS) else text
