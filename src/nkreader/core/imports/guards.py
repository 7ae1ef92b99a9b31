"""Reading untrusted files: size caps, JSON depth, zip members, XML through defusedxml.

A classmate's file can be anything: a zip bomb, an archive whose names climb out with ``../``,
an XML "billion laughs", JSON nested a million deep. Every reader here fails with
``ImportRejected`` (a ``ValueError`` whose message is meant for the user) before it allocates
much, and nothing here writes anywhere.
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from nkreader.core.exports._text import clean_deep

MAX_FILE_BYTES = 64 * 1024 * 1024  # a JSON-LD file or a .qdc, as read from disk
MAX_JSON_DEPTH = 64
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_TOTAL = 512 * 1024 * 1024  # uncompressed bytes over all members
MAX_ZIP_MEMBER = 128 * 1024 * 1024  # uncompressed bytes of one member
MAX_ZIP_RATIO = 200  # uncompressed / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024
MAX_XML_ELEMENTS = 2_000_000
_DRIVE = re.compile(r"^[A-Za-z]:")


class ImportRejected(ValueError):
    """The file cannot be imported; the message says why. The store was not changed."""


def read_capped(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > limit:
            raise ImportRejected(f"{path.name} is {size // (1024 * 1024)} MB; the limit for an import is "
                                 f"{limit // (1024 * 1024)} MB.")
        with open(path, "rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise ImportRejected(f"No such file: {path}") from None
    except IsADirectoryError:
        raise ImportRejected(f"{path} is a folder, not a file to import.") from None
    except OSError as exc:
        raise ImportRejected(f"Cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise ImportRejected(f"{path.name} is larger than the import limit of {limit // (1024 * 1024)} MB.")
    return data


def json_depth(value: Any) -> int:
    """How deeply ``value`` nests (iteratively: never recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            deepest = max(deepest, d)
            stack.extend((x, d + 1) for x in v)
    return deepest


def load_json(data: bytes, name: str = "the file", *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse JSON with a depth cap; lone surrogates (``"\\ud800"``) become U+FFFD, not a crash."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        msg = str(exc)
        if "depth" in msg or "recursion" in msg:
            raise ImportRejected(f"{name} is nested too deeply to be an annotation file "
                                 f"(more than {max_depth} levels).") from None
        if "surrogate" not in msg:
            raise ImportRejected(f"{name} is not valid JSON: {msg}") from None
        # orjson refuses escaped lone surrogates, which JavaScript writes happily; stdlib json
        # reads them, and clean_deep below makes them U+FFFD.
        try:
            value = json.loads(data.decode("utf-8"))
        except UnicodeDecodeError as exc2:
            raise ImportRejected(f"{name} is not UTF-8 text: {exc2}") from None
        except RecursionError:
            raise ImportRejected(f"{name} is nested too deeply to be an annotation file "
                                 f"(more than {max_depth} levels).") from None
        except ValueError as exc2:
            raise ImportRejected(f"{name} is not valid JSON: {exc2}") from None
    if json_depth(value) > max_depth:
        raise ImportRejected(f"{name} is nested too deeply to be an annotation file "
                             f"(more than {max_depth} levels).")
    return clean_deep(value)


# zip ------------------------------------------------------------------------------------------


def _check_name(name: str) -> str:
    if "\x00" in name:
        raise ImportRejected(f"The archive holds a member with a NUL in its name ({name!r}); refused.")
    norm = name.replace("\\", "/")
    if norm.startswith("/") or _DRIVE.match(norm) or norm.startswith("//"):
        raise ImportRejected(f"The archive holds a member with an absolute name ({name!r}); refused.")
    parts = PurePosixPath(norm).parts
    if any(p == ".." for p in parts):
        raise ImportRejected(f"The archive holds a member whose name climbs out of it ({name!r}); refused.")
    return norm


class SafeZip:
    """A zip opened for reading with every member checked before anything is extracted.

    Members are read into memory with a hard cap (the sizes in a zip's headers can lie), never
    written to disk, so names cannot escape anywhere; they are still checked, because an archive
    with such names is hostile and nothing else in it should be trusted.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise ImportRejected(f"No such file: {path}") from None
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ImportRejected(f"{self.path.name} is not a readable zip archive: {exc}") from None
        try:
            self._check()
        except BaseException:
            self._zip.close()
            raise
        self._read_total = 0

    def _check(self) -> None:
        infos = self._zip.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise ImportRejected(f"{self.path.name} holds {len(infos)} files; the limit is {MAX_ZIP_MEMBERS}.")
        total = 0
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            norm = _check_name(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise ImportRejected(f"The archive holds a symbolic link ({info.filename!r}); refused.")
            if info.flag_bits & 0x1:
                raise ImportRejected(f"{self.path.name} is encrypted; nkreader cannot import it.")
            if info.file_size > MAX_ZIP_MEMBER:
                raise ImportRejected(f"{info.filename!r} would unpack to {info.file_size // (1024 * 1024)} MB; "
                                     f"the limit is {MAX_ZIP_MEMBER // (1024 * 1024)} MB (a zip bomb?).")
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(1, info.compress_size):
                raise ImportRejected(f"{info.filename!r} is compressed {info.file_size // max(1, info.compress_size)}:1, "
                                     "more than any real project file (a zip bomb?); refused.")
            total += info.file_size
            if total > MAX_ZIP_TOTAL:
                raise ImportRejected(f"{self.path.name} would unpack to more than "
                                     f"{MAX_ZIP_TOTAL // (1024 * 1024)} MB (a zip bomb?); refused.")
            if not info.is_dir():
                self.members[norm] = info

    def names(self) -> list[str]:
        return list(self.members)

    def find(self, name: str) -> str | None:
        """The member called ``name`` (case-insensitively, ``./`` and backslashes ignored)."""
        want = name.replace("\\", "/").lstrip("./").casefold() if name else ""
        for norm in self.members:
            if norm.lstrip("./").casefold() == want:
                return norm
        return None

    def read(self, name: str) -> bytes:
        info = self.members[name]
        limit = MAX_ZIP_MEMBER
        try:
            with self._zip.open(info) as fh:
                data = fh.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise ImportRejected(f"{name!r} in {self.path.name} cannot be read: {exc}") from None
        if len(data) > limit:
            raise ImportRejected(f"{name!r} unpacks to more than {limit // (1024 * 1024)} MB (a zip bomb?); refused.")
        self._read_total += len(data)
        if self._read_total > MAX_ZIP_TOTAL:
            raise ImportRejected(f"{self.path.name} unpacks to more than {MAX_ZIP_TOTAL // (1024 * 1024)} MB; refused.")
        return data

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> "SafeZip":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# XML ------------------------------------------------------------------------------------------


def parse_xml(data: bytes, name: str = "the file"):
    """Parse XML with defusedxml: no DTD, no entities, no external references. Returns the root."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise ImportRejected(f"{name} declares a DTD or entities, which REFI-QDA files never need "
                             f"(an entity bomb?); refused ({type(exc).__name__}).") from None
    except ParseError as exc:
        raise ImportRejected(f"{name} is not well-formed XML: {exc}") from None
    count = 0
    for _ in root.iter():
        count += 1
        if count > MAX_XML_ELEMENTS:
            raise ImportRejected(f"{name} holds more than {MAX_XML_ELEMENTS} XML elements; refused.")
    return root


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
