"""The corpus: a folder of documents plus ``metadata.toml`` describing who wrote what.

The bundled corpus is found both from a checkout (``<repo>/corpus``) and from an installed
wheel (``nkreader/_data/corpus``). A folder without ``metadata.toml`` still works: every
readable file becomes a document whose id is its file stem.

Documents the reader adds (``Corpus.add``, File ▸ Add documents…, ``nkreader add``) are copied
into a folder of the library's own, next to its store, so the bundled corpus is never written
and a file moved or deleted afterwards keeps its highlights.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path

from nkreader.core.model import Document, DocumentError, DocumentMetadata

SUFFIXES = (".txt", ".md", ".markdown", ".pdf", ".epub")
METADATA_FILE = "metadata.toml"
ADDED_FOLDER = "documents"  # in the library folder: the documents the reader added


def _data_dir(name: str) -> Path:
    """A bundled folder: inside the installed package first, else the checkout's root."""
    installed = Path(__file__).resolve().parent.parent / "_data" / name
    if installed.is_dir():
        return installed
    return Path(__file__).resolve().parents[3] / name


def bundled_corpus_dir() -> Path:
    return _data_dir("corpus")


def resources_dir() -> Path:
    return _data_dir("resources")


def default_corpus_dir() -> Path:
    env = os.environ.get("NKREADER_CORPUS")
    return Path(env) if env else bundled_corpus_dir()


@dataclass(frozen=True)
class CorpusEntry:
    """A document known to the corpus, not yet opened."""

    id: str
    path: Path
    metadata: DocumentMetadata
    listed: bool = True  # described in metadata.toml; else the file's own metadata is read on opening


def short_citation(meta: DocumentMetadata) -> str:
    """The author-year form ("Park 2019", "Bell and Fattig 2014", "Kim et al. n.d."), or ""
    when no author is named."""
    surnames = [a.split()[-1] for a in meta.authors if a.split()]
    if not surnames:
        return ""
    who = " and ".join(surnames) if len(surnames) <= 2 else f"{surnames[0]} et al."
    return f"{who} {meta.year or 'n.d.'}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _unlisted(doc_id: str, path: Path) -> CorpusEntry:
    """An entry for a file not in metadata.toml: named by its file until it is opened."""
    return CorpusEntry(doc_id, path, DocumentMetadata(title=path.stem, citation=path.stem), listed=False)


def _slug(stem: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "doc"


class Corpus:
    """Documents of one folder (and of the folder of added documents), opened lazily and cached."""

    def __init__(self, folder: Path | str, added_folder: Path | str | None = None):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise DocumentError(f"Corpus folder not found: {self.folder}")
        self.added_folder = Path(added_folder) if added_folder is not None else None
        self.entries: list[CorpusEntry] = self._read_entries()
        if self.added_folder is not None and self.added_folder.is_dir():
            self.entries += self._added_entries()
        self._opened: dict[str, Document] = {}

    def _read_entries(self) -> list[CorpusEntry]:
        meta_path = self.folder / METADATA_FILE
        entries: list[CorpusEntry] = []
        listed: set[str] = set()
        if meta_path.is_file():
            try:
                data = tomllib.loads(meta_path.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise DocumentError(f"{meta_path} is not valid TOML: {exc}") from exc
            for item in data.get("document", []):
                path = self.folder / str(item["file"])
                listed.add(path.name)
                meta = DocumentMetadata(
                    title=str(item.get("title", path.stem)),
                    authors=tuple(str(a) for a in item.get("authors", [])),
                    year=int(item["year"]) if item.get("year") else None,
                    venue=str(item.get("venue", "")),
                    language=str(item.get("language", "en")),
                    citation=str(item.get("citation", "")),
                    note=str(item.get("note", "")),
                )
                entries.append(CorpusEntry(str(item.get("id") or _slug(path.stem)), path, meta))
        for path in sorted(self.folder.iterdir()):
            if path.suffix.lower() in SUFFIXES and path.name not in listed:
                entries.append(_unlisted(_slug(path.stem), path))
        return entries

    def _added_entries(self) -> list[CorpusEntry]:
        taken = {e.id for e in self.entries}
        out = []
        for path in sorted(self.added_folder.iterdir()):
            if path.suffix.lower() not in SUFFIXES or not path.is_file():
                continue
            doc_id = _slug(path.stem)
            while doc_id in taken:  # (``add`` names files so that this does not happen)
                doc_id += "-added"
            taken.add(doc_id)
            out.append(_unlisted(doc_id, path))
        return out

    def add(self, paths, problems: dict[str, str] | None = None) -> list[CorpusEntry]:
        """Copy documents into the added folder and list them; returns their entries.

        Each file is opened first: one that is not a document nkreader reads, is damaged, or
        is already in the corpus is left where it was and its reason goes into ``problems``
        (path → text). An encrypted PDF is added; it asks for its password when opened.
        """
        from nkreader.core.documents import open_document
        from nkreader.core.model import PasswordRequired

        if self.added_folder is None:
            raise DocumentError("This corpus has no folder for added documents.")
        problems = {} if problems is None else problems
        added = []
        for source in map(Path, paths):
            try:
                if source.suffix.lower() not in SUFFIXES:
                    raise DocumentError(f"{source.name} is not a kind of file nkreader reads "
                                        f"({', '.join(SUFFIXES)}).")
                if not source.is_file():
                    raise DocumentError(f"{source} is not a file.")
                same = self._same_file(source)
                if same is not None:
                    raise DocumentError(f"{source.name} is already in the library as {same.id}.")
                try:
                    doc = open_document(source)
                except PasswordRequired:
                    doc = None
                entry = self._copy_in(source)
            except (DocumentError, OSError) as exc:
                problems[str(source)] = str(exc) if isinstance(exc, DocumentError) else \
                    f"{source.name} could not be added: {exc.strerror or exc}."
                continue
            self.entries.append(entry)
            if doc is not None:  # opened once already: kept, known by its new id and place
                doc = replace(doc, id=entry.id, path=entry.path)
                self._learn_metadata(entry, doc)
                self._opened[entry.id] = doc
            added.append(self.entry(entry.id))
        return added

    def _same_file(self, source: Path) -> CorpusEntry | None:
        """The entry whose file has the same bytes as ``source``, if any (by size, then hash)."""
        size = source.stat().st_size
        digest = None
        for e in self.entries:
            try:
                same_size = e.path.stat().st_size == size
            except OSError:  # (an entry's file gone: not the same file)
                continue
            if not same_size:
                continue
            digest = digest or _sha256(source)
            try:
                if _sha256(e.path) == digest:
                    return e
            except OSError:
                continue
        return None

    def _copy_in(self, source: Path) -> CorpusEntry:
        """Copy under a file name whose id no document has, through a temporary file, so a
        copy cut short is never listed."""
        folder = self.added_folder
        folder.mkdir(parents=True, exist_ok=True)
        taken = {e.id for e in self.entries}
        stem, suffix = source.stem, source.suffix.lower()
        n = 1
        while _slug(stem) in taken or (folder / f"{stem}{suffix}").exists():
            n += 1
            stem = f"{source.stem}-{n}"
        target = folder / f"{stem}{suffix}"
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".adding-", suffix=suffix)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, 0o644)  # (mkstemp makes it private to the user)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return _unlisted(_slug(stem), target)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.entries]

    def entry(self, ref: str) -> CorpusEntry:
        """Find a document by id, unique id prefix, or file name."""
        for e in self.entries:  # by id first: every citation and export asks, once per passage
            if e.id == ref:
                return e
        exact = [e for e in self.entries if ref in (e.path.name, e.path.stem)]
        if exact:
            return exact[0]
        prefixed = [e for e in self.entries if e.id.startswith(ref) or e.path.name.startswith(ref)]
        if len(prefixed) == 1:
            return prefixed[0]
        if prefixed:
            names = ", ".join(e.id for e in prefixed)
            raise DocumentError(f"'{ref}' matches several documents: {names}")
        raise DocumentError(f"No document '{ref}' in {self.folder}. Known: {', '.join(self.ids)}")

    def open(self, ref: str, password: str | None = None) -> Document:
        """The document ``ref`` (id, unique id prefix or file name), opened once and then cached.

        ``password`` opens an encrypted PDF; without it (or with a wrong one) such a file raises
        :class:`~nkreader.core.model.PasswordRequired` and nothing is cached. Once opened, the
        document is kept for the life of this corpus, so later calls need no password (it is
        not stored anywhere)."""
        entry = self.entry(ref)
        doc = self._opened.get(entry.id)
        if doc is None:
            from nkreader.core.documents import open_document

            doc = open_document(entry.path, doc_id=entry.id, metadata=entry.metadata if entry.listed else None,
                                password=password)
            if not entry.listed:
                self._learn_metadata(entry, doc)
            doc = self._opened.setdefault(entry.id, doc)  # another thread may have opened it meanwhile
        return doc

    def _learn_metadata(self, entry: CorpusEntry, doc: Document) -> None:
        """A file not in metadata.toml is known by what it says of itself (a PDF's title and
        author, a text's heading or front matter) once opened; its entry follows, so lists
        and headers show the author instead of the file name."""
        meta = doc.metadata
        if not meta.citation:
            meta = replace(meta, citation=short_citation(meta) or entry.path.stem)
            doc.metadata = meta
        i = next(k for k, e in enumerate(self.entries) if e.id == entry.id)
        self.entries[i] = replace(entry, metadata=meta)  # in place: another thread may be learning another

    def is_open(self, ref: str) -> bool:
        """``ref`` has been opened (``open`` returns it at once, without reading the file)."""
        return self.entry(ref).id in self._opened

    def documents(self, problems: dict[str, str] | None = None) -> list[Document]:
        """Every document that opens, in corpus order.

        A document that cannot be opened (encrypted and not yet unlocked, damaged, unreadable)
        is left out rather than failing the whole corpus, so corpus-wide search and related
        passages still work on the rest; its id and the reason go into ``problems`` if given."""
        docs = []
        for e in self.entries:
            try:
                docs.append(self.open(e.id))
            except DocumentError as err:
                if problems is not None:
                    problems[e.id] = str(err)
        return docs
