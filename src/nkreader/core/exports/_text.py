"""Text hygiene shared by every export: clean strings, escape them for Markdown, write files safely.

Everything user- or document-supplied passes through ``clean`` before it is written anywhere:
lone surrogates (which a note can hold when it came from a broken clipboard or a surrogate-escaped
command line) become U+FFFD, control characters other than tab and newline are dropped, and CRLF /
CR become LF. Every other code point is kept, so offsets computed on the cleaned text of a
document stay valid for text that was already clean.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from nkreader.core.text import _SURROGATE, clean  # noqa: F401  (re-exported for the exporters)

_XML_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def clean_same_length(text: str) -> str:
    """Like ``clean`` but one code point in, one out (for a document's text, whose offsets matter)."""
    s = _SURROGATE.sub("\ufffd", text)
    return _XML_BAD.sub("\ufffd", s)


def clean_deep(value: Any) -> Any:
    """A copy of a JSON-able value with lone surrogates in every string (and key) made U+FFFD.

    Iterative, so a deeply nested value cannot hit the recursion limit.
    """

    def fix(v: Any) -> Any:
        return _SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v

    if not isinstance(value, (dict, list)):
        return fix(value)
    holder: list[Any] = [None]
    work: list[tuple[Any, Any, Any]] = [(value, holder, 0)]
    while work:
        src, parent, key = work.pop()
        if isinstance(src, dict):
            dst: Any = {}
            items = ((fix(k), v) for k, v in src.items())
        else:
            dst = [None] * len(src)
            items = enumerate(src)
        parent[key] = dst
        for k, v in items:
            if isinstance(v, (dict, list)):
                dst[k] = None
                work.append((v, dst, k))
            else:
                dst[k] = fix(v)
    return holder[0]


def one_line(text: Any) -> str:
    """``clean`` and fold every run of whitespace (newlines included) into one space."""
    return " ".join(clean(text).split())


def safe_color(color: Any, default: str | None = None) -> str | None:
    """A ``#rgb``/``#rrggbb`` colour, or ``default``: never a string that could carry CSS."""
    if isinstance(color, str) and _COLOR.match(color.strip()):
        return color.strip().lower()
    return default


def short(text: str, limit: int = 80) -> str:
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# Markdown -------------------------------------------------------------------------------------

# Characters that can start inline markup anywhere in a line (CommonMark + GFM tables/strikethrough).
_MD_INLINE = re.compile(r"([\\`*_\[\]<>&|~#])")
_MD_ORDERED = re.compile(r"^(\d{1,9})([.)])")


def md_inline(text: Any) -> str:
    """One line of Markdown that renders as exactly ``text``: no emphasis, link, HTML or heading."""
    return _md_escape_line(one_line(text))


def _md_escape_line(line: str) -> str:
    # Leading whitespace would make indented code (or fold into list continuation): drop it,
    # and Unicode spaces at either edge too (a Markdown renderer trims them anyway).
    line = line.strip()
    line = _MD_INLINE.sub(r"\\\1", line)
    if not line:
        return line
    if line[0] in "-+=:":  # list marker, setext underline, thematic break; ':' for definition lists
        line = "\\" + line
    else:
        line = _MD_ORDERED.sub(r"\1\\\2", line)
    return line


def md_lines(text: Any) -> list[str]:
    """Escaped lines of a multi-line text; empty strings where the text has blank lines."""
    lines = [_md_escape_line(raw) for raw in clean(text).split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    # collapse runs of blank lines into one
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return out


def md_paragraphs(text: Any, *, lead: str = "") -> list[str]:
    """A multi-line text as Markdown paragraphs whose line breaks are kept (hard breaks)."""
    lines = md_lines(text)
    if lead and lines:
        lines[0] = lead + lines[0]
    out: list[str] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        out.append(line + "\\" if line and nxt else line)
    return out


def md_blockquote(text: Any, citation: str = "") -> list[str]:
    """A quote as a blockquote: every line prefixed ``> ``, line breaks kept, citation last."""
    body = md_paragraphs(text)
    if citation:
        if body:
            body.append("")
        body.append("— " + md_inline(citation))
    return [f"> {line}" if line else ">" for line in body]


# Files ---------------------------------------------------------------------------------------


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def atomic_write(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder: never a half file."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an export is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
