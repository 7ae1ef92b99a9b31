"""Hygiene for text the reader types (notes, theme names, memos) before it is stored or written.

A note can hold lone surrogates (a broken clipboard, a surrogate-escaped command line) that no
JSON or XML writer accepts; those become U+FFFD, control characters other than tab and newline
are dropped, and CRLF / CR become LF.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def clean(text: Any) -> str:
    """A safe single string: surrogates → U+FFFD, controls dropped, newlines normalised to LF."""
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    if "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _SURROGATE.sub("\ufffd", s)
    return _CONTROL.sub("", s)
