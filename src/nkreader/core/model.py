"""Plain data types shared by every layer: documents, paragraphs, pages.

Offsets are code-point indices into ``Document.text``; ``end`` is exclusive.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path


@dataclass(frozen=True)
class DocumentMetadata:
    """Bibliographic facts used in headers and citations."""

    title: str = ""
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str = ""
    language: str = "en"
    citation: str = ""  # short form, e.g. "Suh 2002"
    note: str = ""  # where a fact is missing or inferred, say so here

    @property
    def author_label(self) -> str:
        if not self.authors:
            return "Author not named"
        if len(self.authors) <= 2:
            return " and ".join(self.authors)
        return f"{self.authors[0]} et al."


@dataclass(frozen=True)
class Paragraph:
    """One reading paragraph: its 1-based number, span in the text, and page if paginated."""

    number: int
    start: int
    end: int
    page: int | None = None  # 1-based physical page where the paragraph starts
    page_label: str | None = None  # printed label ("iv", "45") when the source has one


@dataclass(frozen=True)
class Page:
    """A physical page of a paginated source and the span of text it holds."""

    number: int  # 1-based
    start: int
    end: int
    label: str | None = None


@dataclass
class Document:
    """An opened document: one normalised ``str`` plus its structure."""

    id: str
    path: Path
    text: str
    paragraphs: list[Paragraph]
    kind: str = "text"  # text | markdown | pdf | epub
    pages: list[Page] = field(default_factory=list)
    metadata: DocumentMetadata = field(default_factory=DocumentMetadata)
    encoding: str | None = None
    warnings: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # web furniture kept out of the text

    @property
    def fingerprint(self) -> str:
        """A short hash of the text: annotations record it to notice edits."""
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()[:16]

    @property
    def paginated(self) -> bool:
        return bool(self.pages)

    def paragraph_at(self, offset: int) -> Paragraph | None:
        """The paragraph holding ``offset`` (or the next one when it falls between two)."""
        i = bisect_right(self._paragraph_starts, offset) - 1
        if i < 0:
            return self.paragraphs[0] if self.paragraphs else None
        para = self.paragraphs[i]
        if offset < para.end or i + 1 >= len(self.paragraphs):
            return para
        return self.paragraphs[i + 1]

    def page_at(self, offset: int) -> Page | None:
        if not self.pages:
            return None
        i = max(0, bisect_right(self._page_starts, offset) - 1)
        return self.pages[i]

    @cached_property
    def _paragraph_starts(self) -> list[int]:
        """Kept once: citations and exports look up a paragraph for every highlight."""
        return [p.start for p in self.paragraphs]

    @cached_property
    def _page_starts(self) -> list[int]:
        return [p.start for p in self.pages]

    def paragraph_text(self, para: Paragraph) -> str:
        return self.text[para.start : para.end]


class DocumentError(Exception):
    """A document could not be opened; the message is meant for the user."""


class PasswordRequired(DocumentError):
    """An encrypted document that cannot be read without its (user) password.

    ``refused`` is True when a password was given and the file did not accept it, False when none
    (or an empty one) was given. The message stays meant for the user ("… is encrypted: a password
    is needed" / "… is encrypted and the password given is wrong"); code decides by type and
    ``refused``, never by the wording."""

    def __init__(self, name: str, *, refused: bool = False):
        self.name = name
        self.refused = refused
        if refused:
            super().__init__(f"{name} is encrypted and the password given is wrong")
        else:
            super().__init__(f"{name} is encrypted: a password is needed")
