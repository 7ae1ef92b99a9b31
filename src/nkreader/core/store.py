"""The library store: durable, sharded TinyDB files in one data directory.

Why it looks like this (see DESIGN.md, "Storage"):

* TinyDB rewrites a whole file on every write, so one big file makes a save cost grow with the
  library (475 ms at 50k records). The big kinds, ``annotations`` and ``links``, are therefore
  split over ``SHARDS`` files by a stable hash of the record id; a save rewrites one small shard.
  The small kinds live together in ``library.json``::

      <dir>/library.json             themes, layers, dismissals, settings, meta
      <dir>/annotations/000.json …   annotations, shard = crc32(id) % SHARDS (128)
      <dir>/links/000.json …         links, same scheme
      <dir>/backups/<UTC stamp>/     verified snapshots (on open and close), newest 5 kept
      <dir>/nkreader.lock            single-writer lock

  The shard count is part of schema version 1 (changing it means a new schema and a migration).
* Every file is written by ``AtomicJSONStorage`` (temp file, fsync, ``os.replace``, fsync dir),
  so a crash leaves each file whole; a damaged file found on open is moved aside and restored from
  the newest backup whose copy parses, and ``messages`` tells the user.
* Two writers would overwrite each other's edits, so a second instance opens read-only.

Failed saves: a ``StoreWriteError`` leaves the old file on disk *and* the store's in-memory state
unchanged (the edit is not in the store); the UI keeps its copy of the edit and may retry. The one
exception is a failure of the final folder fsync, after the new file is already in place: then the
edit *is* in the store and on disk (durability unconfirmed) and the error still propagates.
``put`` and ``delete`` of one record are atomic; ``put_many``/``delete_many`` are atomic per shard,
so a failure part way through an import leaves the shards written before it saved.

Records are plain JSON-able dicts with a string ``"id"``. Everything handed in is copied and
everything handed out is a copy, so callers can never change the store by mutating a dict.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import platformdirs
from filelock import FileLock, Timeout
from tinydb import TinyDB
from tinydb.table import Table

from nkreader.core.storage import (
    TEMP_SUFFIX,
    AtomicJSONStorage,
    CorruptStoreError,
    StoreError,
    StoreReadOnlyError,
    StoreWriteError,
    atomic_write_bytes,
    check_json_file,
    fsync_dir,
    load_json_file,
)

__all__ = [
    "BACKUPS_KEPT",
    "CorruptStoreError",
    "KINDS",
    "LIBRARY_KINDS",
    "SCHEMA_VERSION",
    "SHARDED_KINDS",
    "SHARDS",
    "Store",
    "StoreError",
    "StoreReadOnlyError",
    "StoreWriteError",
    "default_data_dir",
]

SCHEMA_VERSION = 1
#: Shards per big kind. bench/bench_store.py, 50k annotations, median safe save on this (noisy,
#: shared VM) disk over several runs: 16 -> 16-22 ms, 32 -> 10-11 ms, 64 -> 6-11 ms,
#: 128 -> 4-6 ms, 256 -> 2-4 ms; reopening costs about the same for all. 128 leaves headroom
#: under the 20 ms target for larger libraries and slower laptops at a modest file count (257).
SHARDS = 128
SHARDED_KINDS = ("annotations", "links")
LIBRARY_KINDS = ("themes", "layers", "dismissals", "settings", "meta")
KINDS = SHARDED_KINDS + LIBRARY_KINDS
BACKUPS_KEPT = 5
ENV_VAR = "NKREADER_DATA"
LIBRARY_FILE = "library.json"
LOCK_FILE = "nkreader.lock"
BACKUP_DIR = "backups"
MANIFEST_FILE = "manifest.json"
_INCOMPLETE_PREFIX = ".incomplete-"
_BACKUP_NAME = re.compile(r"^\d{8}T\d{6}\.\d{6}Z(-\d+)?$")
_SCHEMA_ID = "schema"
_MISSING = object()


def default_data_dir() -> Path:
    """Where the library lives unless told otherwise: ``$NKREADER_DATA`` or the platform's dir."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("nkreader"))


def _utc_stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def _describe_backup(name: str) -> str:
    """'20250102T030405.123456Z' -> '2025-01-02 03:04:05 UTC' for messages."""
    try:
        when = datetime.strptime(name[:22], "%Y%m%dT%H%M%S.%f")
    except ValueError:
        return name
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def _copy(obj: Any) -> Any:
    """Deep copy through JSON: cheap with orjson, and gives exactly what a reload would give."""
    return orjson.loads(orjson.dumps(obj))


def _shard_of(record_id: str, shards: int) -> int:
    # crc32, not hash(): it must be the same in every process and every Python version.
    return zlib.crc32(record_id.encode("utf-8")) % shards


class _RecordTable(Table):
    """A TinyDB table keyed by the records' own string ids instead of TinyDB's integers."""

    document_id_class = str

    def raw(self) -> Mapping[str, dict]:
        """The stored dicts themselves, uncopied: the store copies what it hands out."""
        return self._read_table()

    def replace_many(self, records: Iterable[dict]) -> None:
        """Insert or wholly replace records by id in one write (``upsert`` would merge fields)."""

        def updater(table: dict) -> None:
            for record in records:
                table[record["id"]] = record

        self._update_table(updater)

    def remove_ids(self, ids: Iterable[str]) -> int:
        """Remove the given ids in one write; ids not present are ignored. Returns how many."""
        present = [i for i in dict.fromkeys(ids) if i in self.raw()]
        if not present:
            return 0

        def updater(table: dict) -> None:
            for record_id in present:
                table.pop(record_id, None)

        self._update_table(updater)
        return len(present)


class _DB(TinyDB):
    table_class = _RecordTable


class Store:
    """The durable library store over one data directory. Create it with ``Store.open``."""

    def __init__(self, path: Path, *, readonly: bool, lock: FileLock | None) -> None:
        self.path = path
        self.readonly = readonly
        #: Things the user should be told (read-only fallback, repairs, failed backups).
        self.messages: list[str] = []
        self._lock = lock
        self._readonly_reason = "it was opened read-only"
        self._mutex = threading.RLock()
        self._closed = False
        self._library: _DB | None = None
        self._shards: dict[str, list[_DB]] = {}

    # ------------------------------------------------------------------ opening and closing

    @classmethod
    def open(cls, path: Path | str | None = None, *, readonly: bool = False) -> Store:
        """Open (creating if needed) the store in ``path``, ``$NKREADER_DATA`` or the user data dir.

        If another process holds the writer lock, the store opens read-only and says so in
        ``messages``. A store written by a newer schema is refused with ``StoreError``.
        """
        folder = Path(path).expanduser() if path is not None else default_data_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the library folder {folder}: {exc}") from exc
        if not folder.is_dir():
            raise StoreError(f"The library location {folder} is not a folder.")

        store = cls(folder, readonly=readonly, lock=None)
        if not readonly:
            lock = FileLock(folder / LOCK_FILE, timeout=0, thread_local=False)
            try:
                lock.acquire()
                store._lock = lock
            except Timeout:
                store._go_readonly("another nkreader is using this library")
                store.messages.append(
                    f"Another nkreader is using this library ({folder}); opened read-only."
                )
            except OSError as exc:
                store._go_readonly("the library folder cannot be written")
                store.messages.append(
                    f"Cannot write to the library folder ({folder}: {exc}); opened read-only."
                )
        try:
            store._load()
        except BaseException:
            store.close()
            raise
        return store

    def _go_readonly(self, reason: str) -> None:
        self.readonly = True
        self._readonly_reason = reason

    def _load(self) -> None:
        """Load every file (repairing damaged ones), check the schema, then take a backup.

        The backup on open is skipped when nothing changed since the newest one (usually the one
        taken at the last close), so it normally costs nothing.
        """
        self._library = self._open_file(LIBRARY_FILE)
        self._check_schema()
        if not self.readonly:
            self._clean_leftovers()
        for kind in SHARDED_KINDS:
            if not self.readonly:
                (self.path / kind).mkdir(exist_ok=True)
            width = len(str(SHARDS - 1))
            self._shards[kind] = [
                self._open_file(f"{kind}/{i:0{width}d}.json") for i in range(SHARDS)
            ]
        if self.readonly:
            return
        if self._schema_record() is None:
            self._meta_table().replace_many(
                [
                    {
                        "id": _SCHEMA_ID,
                        "version": SCHEMA_VERSION,
                        "layout": {kind: SHARDS for kind in SHARDED_KINDS},
                        "created": datetime.now(timezone.utc).isoformat(),
                    }
                ]
            )
        try:
            self._snapshot(force=False)
        except StoreError as exc:
            self.messages.append(f"Could not back up the library: {exc}")

    def _schema_record(self) -> dict | None:
        return self._meta_table().raw().get(_SCHEMA_ID)

    def _meta_table(self) -> _RecordTable:
        assert self._library is not None
        return self._library.table("meta")

    def _check_schema(self) -> None:
        meta = self._schema_record()
        if meta is None:
            return
        version = meta.get("version")
        if not isinstance(version, int):
            raise StoreError(f"The library in {self.path} has no readable schema version.")
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"The library in {self.path} was written by a newer nkreader (schema {version}; "
                f"this version understands up to {SCHEMA_VERSION}). Update nkreader to open it; "
                "nothing was changed."
            )
        # version < SCHEMA_VERSION: migrations go here, once there is a schema 2.
        layout = meta.get("layout", {})
        for kind in SHARDED_KINDS:
            if layout.get(kind, SHARDS) != SHARDS:
                raise StoreError(
                    f"The library in {self.path} splits {kind} into {layout.get(kind)} files; "
                    f"this version expects {SHARDS}. Nothing was changed."
                )

    def _clean_leftovers(self) -> None:
        """Remove temp files and half-made backups left by a crash (we hold the lock)."""
        for folder in [self.path, *(self.path / k for k in SHARDED_KINDS)]:
            if not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
                    try:
                        entry.unlink()
                    except OSError:
                        pass
        backups = self.path / BACKUP_DIR
        if backups.is_dir():
            for entry in backups.iterdir():
                if entry.name.startswith(_INCOMPLETE_PREFIX):
                    shutil.rmtree(entry, ignore_errors=True)

    def _open_file(self, rel: str) -> _DB:
        """Open one file's TinyDB and load it now, so damage is found (and repaired) at open."""
        path = self.path / rel
        db = _DB(path, storage=AtomicJSONStorage, readonly=self.readonly)
        try:
            if path.exists() and path.stat().st_size == 0:
                # nkreader never leaves an empty file (writes are atomic), so this is damage.
                raise CorruptStoreError(path, "the file is empty")
            db.storage.read()
            return db
        except CorruptStoreError:
            pass
        return self._recover(rel, db)

    def _recover(self, rel: str, db: _DB) -> _DB:
        """Move a damaged file aside and restore it from the newest backup whose copy parses."""
        path = self.path / rel
        good = self._newest_good_backup(rel)
        if self.readonly:
            # Touch nothing on disk: show the backup (or nothing) until a writer repairs it.
            storage: AtomicJSONStorage = db.storage  # type: ignore[assignment]
            if good is None:
                storage.reset(None)
                self.messages.append(
                    f"{rel} is damaged and no good backup was found; showing it empty "
                    "(read-only, nothing was changed on disk)."
                )
            else:
                storage.reset(good[1])
                self.messages.append(
                    f"{rel} is damaged; showing the backup of {_describe_backup(good[0].name)} "
                    "(read-only, nothing was changed on disk)."
                )
            return db

        aside = path.with_name(f"{path.name}.corrupt-{_utc_stamp()}")
        try:
            # Copy, then atomically replace: the path is never missing, even if we are killed
            # here, and the damaged bytes are kept for the user (never deleted).
            try:
                os.link(path, aside)
            except OSError:
                shutil.copyfile(path, aside)
            if good is None:
                atomic_write_bytes(path, b"{}")
            else:
                atomic_write_bytes(path, (good[0] / rel).read_bytes())
        except (OSError, StoreWriteError) as exc:
            self._go_readonly("a damaged file could not be repaired")
            storage = db.storage  # type: ignore[assignment]
            storage.reset(good[1] if good else None)
            storage.readonly = True
            self.messages.append(
                f"{rel} is damaged and could not be repaired ({exc}); opened read-only."
            )
            return db
        db.storage.reload()  # type: ignore[attr-defined]
        try:
            db.storage.read()
        except CorruptStoreError as exc:  # the restored bytes were verified; this is paranoia
            raise StoreError(f"{rel} could not be repaired: {exc}") from exc
        if good is None:
            self.messages.append(
                f"{rel} was damaged; moved aside to {aside.name}; no good backup was found, "
                "so it starts empty."
            )
        else:
            self.messages.append(
                f"{rel} was damaged; moved aside to {aside.name}; restored from backup of "
                f"{_describe_backup(good[0].name)}."
            )
        return db

    def close(self) -> None:
        """Back up what changed this session (incremental, cheap), then release the writer lock.

        Every save is already on disk, so nothing needs flushing; the backup just makes the
        newest snapshot as recent as possible. A failure here is ignored: there is no one left
        to tell, and the next open tries again.
        """
        if self._closed:
            return
        with self._mutex:
            if not self.readonly and self._lock is not None and self._shards:
                try:
                    self._snapshot(force=False)
                except (StoreError, OSError):
                    pass
            self._closed = True
        if self._lock is not None:
            try:
                self._lock.release()
            finally:
                self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.readonly else "writer"
        return f"<Store {self.path} ({mode})>"

    # ------------------------------------------------------------------ records

    def _table(self, kind: str, record_id: str) -> _RecordTable:
        if kind in SHARDED_KINDS:
            return self._shards[kind][_shard_of(record_id, SHARDS)].table(kind)
        return self._library_table(kind)

    def _library_table(self, kind: str) -> _RecordTable:
        assert self._library is not None
        return self._library.table(kind)

    def _tables(self, kind: str) -> Iterator[_RecordTable]:
        self._check_kind(kind)
        if kind in SHARDED_KINDS:
            for db in self._shards[kind]:
                yield db.table(kind)
        else:
            yield self._library_table(kind)

    @staticmethod
    def _check_kind(kind: str) -> None:
        if kind not in KINDS:
            raise ValueError(f"Unknown record kind {kind!r}; expected one of {', '.join(KINDS)}.")

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"The library store {self.path} is closed.")

    def _check_writable(self) -> None:
        self._check_open()
        if self.readonly:
            raise StoreReadOnlyError(
                f"The library {self.path} is open read-only ({self._readonly_reason}); "
                "the change was not saved."
            )

    @staticmethod
    def _check_reserved(kind: str, record_id: object) -> None:
        if kind == "meta" and record_id == _SCHEMA_ID:
            raise ValueError("meta/schema is the store's own record and cannot be changed.")

    @classmethod
    def _prepare(cls, kind: str, record: Mapping[str, Any]) -> dict:
        """Validate and copy a record; give it an id if it has none."""
        if not isinstance(record, Mapping):
            raise TypeError(f"A record must be a dict, not {type(record).__name__}.")
        try:
            stored = _copy(dict(record))
        except TypeError as exc:
            raise TypeError(f"A record must be JSON-able: {exc}") from exc
        record_id = stored.get("id")
        if record_id is None:
            stored["id"] = uuid.uuid4().hex
        elif not isinstance(record_id, str) or not record_id:
            raise ValueError(f"A record id must be a non-empty string, not {record_id!r}.")
        cls._check_reserved(kind, record_id)
        return stored

    def put(self, kind: str, record: Mapping[str, Any]) -> dict:
        """Insert or replace (by ``id``) one record; it is on disk when this returns.

        Returns a copy of the stored record (with its assigned id if it had none).
        """
        self._check_kind(kind)
        stored = self._prepare(kind, record)
        with self._mutex:
            self._check_writable()
            self._table(kind, stored["id"]).replace_many([stored])
        return _copy(stored)

    def put_many(self, kind: str, records: Iterable[Mapping[str, Any]]) -> list[dict]:
        """Insert or replace many records, writing each affected file once (for imports)."""
        self._check_kind(kind)
        prepared = [self._prepare(kind, r) for r in records]
        groups: dict[int, dict[str, dict]] = {}
        for stored in prepared:
            shard = _shard_of(stored["id"], SHARDS) if kind in SHARDED_KINDS else 0
            groups.setdefault(shard, {})[stored["id"]] = stored  # a repeated id: last wins
        with self._mutex:
            self._check_writable()
            done = 0
            for group in groups.values():
                table = self._table(kind, next(iter(group)))
                try:
                    table.replace_many(group.values())
                except StoreWriteError as exc:
                    raise StoreWriteError(
                        exc.path,
                        f"{exc} {done} of {len(prepared)} {kind} were saved before the failure.",
                        swapped=exc.swapped,
                    ) from exc
                done += len(group)
        return _copy(prepared)

    def get(self, kind: str, id: str) -> dict | None:  # noqa: A002 - the record field's name
        """The record with this id, as a copy, or ``None``."""
        self._check_kind(kind)
        self._check_open()
        if not isinstance(id, str):
            return None
        doc = self._table(kind, id).raw().get(id)
        return None if doc is None else _copy(doc)

    def delete(self, kind: str, id: str) -> bool:  # noqa: A002
        """Delete one record; ``False`` if there was none (then nothing is written)."""
        return self.delete_many(kind, [id]) == 1

    def delete_many(self, kind: str, ids: Iterable[str]) -> int:
        """Delete records by id, writing each affected file once; returns how many existed."""
        self._check_kind(kind)
        groups: dict[int, list[str]] = {}
        for record_id in ids:
            self._check_reserved(kind, record_id)
            if isinstance(record_id, str):
                shard = _shard_of(record_id, SHARDS) if kind in SHARDED_KINDS else 0
                groups.setdefault(shard, []).append(record_id)
        removed = 0
        with self._mutex:
            self._check_writable()
            for group in groups.values():
                removed += self._table(kind, group[0]).remove_ids(group)
        return removed

    def all(self, kind: str, **equals: Any) -> list[dict]:
        """Copies of every record of ``kind`` whose fields equal ``equals`` (all of them).

        Library kinds come in insertion order; sharded kinds grouped by shard (stable but not
        meaningful: sort if you need an order).
        """
        self._check_open()
        items = equals.items()
        found = [
            doc
            for table in self._tables(kind)
            for doc in table.raw().values()
            if all(doc.get(field, _MISSING) == value for field, value in items)
        ]
        return _copy(found)

    def count(self, kind: str) -> int:
        """How many records of ``kind`` are stored."""
        self._check_open()
        return sum(len(table.raw()) for table in self._tables(kind))

    def get_setting(self, key: str, default: Any = None) -> Any:
        """Small UI state (window layout, last documents); a copy of the value or ``default``."""
        record = self.get("settings", key)
        return default if record is None else record.get("value", default)

    def set_setting(self, key: str, value: Any) -> None:
        """Save one setting now (it lives in ``library.json``, a small file, so this is cheap)."""
        self.put("settings", {"id": key, "value": value})

    # ------------------------------------------------------------------ backups

    def _live_files(self) -> list[str]:
        files = [LIBRARY_FILE] if (self.path / LIBRARY_FILE).exists() else []
        for kind in SHARDED_KINDS:
            folder = self.path / kind
            if folder.is_dir():
                files += sorted(
                    f"{kind}/{p.name}"
                    for p in folder.iterdir()
                    if p.is_file() and p.name.endswith(".json") and not p.name.startswith(".")
                )
        return files

    def backups(self) -> list[Path]:
        """Completed backup folders, newest first."""
        folder = self.path / BACKUP_DIR
        if not folder.is_dir():
            return []
        found = [p for p in folder.iterdir() if p.is_dir() and _BACKUP_NAME.match(p.name)]
        return sorted(found, key=lambda p: p.name, reverse=True)

    def _newest_good_backup(self, rel: str) -> tuple[Path, dict | None] | None:
        """(backup folder, parsed data) of the newest backup holding a copy of ``rel`` that parses."""
        for backup in self.backups():
            copy = backup / rel
            if not copy.is_file():
                continue
            try:
                data = load_json_file(copy)
            except (CorruptStoreError, OSError):
                continue
            if data is not None:
                return backup, data
        return None

    def backup(self) -> Path:
        """Snapshot every file now into ``backups/<UTC stamp>/`` (verified); returns the folder."""
        with self._mutex:
            self._check_writable()
            return self._snapshot(force=True)

    def _read_manifest(self, backup: Path) -> dict[str, list]:
        try:
            manifest = orjson.loads((backup / MANIFEST_FILE).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        return manifest if isinstance(manifest, dict) else {}

    def _snapshot(self, *, force: bool) -> Path:
        """Write a verified backup of every file into a hidden folder, then rename it into place.

        Incremental, like ``rsync --link-dest``: a file whose content (size + BLAKE2 digest) is
        the same as in the newest backup is hard-linked to that backup's copy, which is already
        an independent, verified file; only changed files are copied, fsynced and re-parsed. So
        a backup costs what changed since the last one, not the whole library (257 files).
        With ``force=False`` (on open) nothing is made when nothing changed, so reopening the app
        a few times does not rotate the real history away.
        """
        root = self.path / BACKUP_DIR
        try:
            contents = {rel: (self.path / rel).read_bytes() for rel in self._live_files()}
            manifest = {
                rel: [len(data), hashlib.blake2b(data, digest_size=16).hexdigest()]
                for rel, data in contents.items()
            }
            existing = self.backups()
            previous = existing[0] if existing else None
            before = self._read_manifest(previous) if previous else {}
            if not force and previous is not None and before == manifest:
                return previous
            root.mkdir(exist_ok=True)
            stamp = _utc_stamp()
            final = root / stamp
            n = 0
            while final.exists():
                n += 1
                final = root / f"{stamp}-{n}"
            work = root / f"{_INCOMPLETE_PREFIX}{final.name}"
        except OSError as exc:
            raise StoreWriteError(root, f"Could not prepare a backup: {exc}") from exc
        try:
            work.mkdir()
            folders = {work}
            for rel, data in contents.items():
                target = work / rel
                if target.parent not in folders:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    folders.add(target.parent)
                if previous is not None and before.get(rel) == manifest[rel]:
                    try:
                        os.link(previous / rel, target)
                        continue
                    except OSError:
                        pass  # no hard links here (FAT, some network shares): copy instead
                with open(target, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                check_json_file(target)  # verify the copy, as read back, parses
            (work / MANIFEST_FILE).write_bytes(orjson.dumps(manifest))
            for folder in folders:
                fsync_dir(folder)
            os.replace(work, final)
            fsync_dir(root)
        except (OSError, CorruptStoreError) as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise StoreWriteError(root, f"Could not back up the library: {exc}") from exc
        for old in self.backups()[BACKUPS_KEPT:]:
            shutil.rmtree(old, ignore_errors=True)
        return final
