"""A crash-safe TinyDB storage, and the store's error types.

TinyDB's default ``JSONStorage`` truncates and rewrites its file in place, so a process killed
mid-write leaves a half-written (corrupt) file. ``AtomicJSONStorage`` never touches the live file:
it writes a complete temp file beside it, makes it durable (``fsync``), swaps it in with
``os.replace`` (atomic on POSIX and Windows) and makes the swap durable (``fsync`` of the folder).
At every instant the path holds either the whole old state or the whole new state.

This module and ``store.py`` are the only ones that import TinyDB (see DESIGN.md, "Storage").
"""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

__all__ = [
    "AtomicJSONStorage",
    "CorruptStoreError",
    "StoreError",
    "StoreReadOnlyError",
    "StoreWriteError",
    "TEMP_SUFFIX",
    "atomic_write_bytes",
    "check_json_file",
    "fsync_dir",
    "load_json_file",
]

#: Suffix of the temp files written next to a target; a writer removes leftovers on open.
TEMP_SUFFIX = ".tmp"


class StoreError(Exception):
    """Base class of every error the store raises on purpose (shown to the user as is)."""


class CorruptStoreError(StoreError):
    """A store file exists but cannot be parsed; ``path`` names it so it can be moved aside."""

    def __init__(self, path: Path | str, reason: str = "") -> None:
        self.path = Path(path)
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"{self.path.name} is damaged and cannot be read{detail} ({self.path})")


class StoreReadOnlyError(StoreError):
    """A write was attempted on a store opened read-only."""


class StoreWriteError(StoreError):
    """Saving failed (disk full, permissions, I/O error); the previous file is left intact."""

    def __init__(self, path: Path | str, message: str, *, swapped: bool = False) -> None:
        self.path = Path(path)
        #: True if the new file did reach ``path`` and only the final folder fsync failed.
        self.swapped = swapped
        super().__init__(message)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while parsing: a big shard creates ~10^5 containers and the collector
    would rescan the growing heap over and over (measured 3x slower at 50k annotations). Parsed
    JSON cannot hold reference cycles, so nothing is left for the collector to find."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _parse(raw: bytes, path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise CorruptStoreError(path, f"invalid JSON ({exc})") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise CorruptStoreError(path, "not a table mapping")
    for table in data.values():
        if not all(isinstance(doc, dict) for doc in table.values()):
            raise CorruptStoreError(path, "a record is not an object")
    return data


def load_json_file(path: Path) -> dict[str, dict[str, Any]] | None:
    """Parse a TinyDB JSON file; ``None`` if it is missing or empty, ``CorruptStoreError`` if bad.

    Shared with the store's backup verification, so "parses" means the same thing everywhere.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    if not raw.strip():
        return None
    with _gc_paused():
        return _parse(raw, path)


def check_json_file(path: Path) -> None:
    """Raise ``CorruptStoreError`` unless ``path`` holds a whole, non-empty TinyDB JSON file.

    Parses and drops the result with the GC paused, so verifying a backup costs one parse only.
    """
    raw = path.read_bytes()
    if not raw.strip():
        raise CorruptStoreError(path, "the file is empty")
    with _gc_paused():
        _parse(raw, path)


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable. Windows has no directory handles; NTFS journals it."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that ``path`` is always either the old or the new bytes.

    Raises ``StoreWriteError`` on any ``OSError``. If the failure happens before the swap, the old
    file is untouched and the temp file is removed; if only the final folder fsync fails, the new
    file is already in place (just not guaranteed durable) and the error says so.
    """
    folder = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise StoreWriteError(path, f"Could not save {path.name}: {exc}") from exc
    tmp = Path(tmp_name)
    replaced = False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        replaced = True
        fsync_dir(folder)
    except OSError as exc:
        if not replaced:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise StoreWriteError(
                path, f"Could not save {path.name}: {exc}. The previous version is unchanged."
            ) from exc
        raise StoreWriteError(
            path,
            f"Saved {path.name}, but the disk did not confirm it is durable: {exc}.",
            swapped=True,
        ) from exc


class AtomicJSONStorage(Storage):
    """TinyDB storage: orjson, atomic replace, fsyncs; keeps the parsed data in memory.

    TinyDB reads the whole database before every write; since a store has a single writer
    (the lock in ``store.py``), the first read is cached and later reads are served from memory.

    On a failed write the cache keeps the *previous* state, i.e. memory matches what is on disk
    and the edit is not half-applied: the caller still holds its edit and may retry. (Exception:
    when only the folder fsync after the swap fails, the new file is in place, so the cache adopts
    the new state and the error still propagates.) Rollback is per table: TinyDB replaces a
    table's dict on each write; code that mutates stored documents in place defeats it, and the
    store never does.
    """

    def __init__(self, path: Path | str, *, readonly: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self.readonly = readonly
        self._loaded = False
        self._data: dict[str, dict[str, Any]] | None = None

    def read(self) -> dict[str, dict[str, Any]] | None:
        if not self._loaded:
            self._data = load_json_file(self.path)
            self._loaded = True
        if self._data is None:
            return None
        # A shallow copy: TinyDB assigns the updated table into the dict it was given, and we
        # only adopt it once it is safely on disk (see write).
        return dict(self._data)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.readonly:
            raise StoreReadOnlyError(f"{self.path.name} is open read-only; the change was not saved.")
        try:
            payload = orjson.dumps(data)
        except TypeError as exc:
            raise StoreWriteError(self.path, f"Could not save {self.path.name}: {exc}") from exc
        try:
            atomic_write_bytes(self.path, payload)
        except StoreWriteError as exc:
            if exc.swapped:
                self._data, self._loaded = data, True
            raise
        self._data, self._loaded = data, True

    def reload(self) -> None:
        """Forget the cache so the next read comes from disk (e.g. after a file was restored)."""
        self._loaded = False
        self._data = None

    def reset(self, data: dict[str, dict[str, Any]] | None = None) -> None:
        """Replace the cached state without touching disk (a read-only store showing a backup)."""
        self._data, self._loaded = data, True

    def close(self) -> None:
        """Nothing to release: no file handle is kept open between writes."""
