"""A store wrapper for the window: an edit that cannot be saved is kept in memory, not lost.

``Store`` leaves its state unchanged when a save fails (``StoreWriteError``) or when it is
read-only (``StoreReadOnlyError``). The window must not lose the reader's work because a disk is
full or a second nkreader holds the library, so every write goes through ``KeepingStore``:

- writes are queued and the queue is flushed in order; the first failure stops the flush and the
  failed write and everything after it stay in the queue (order matters: a delete after a put);
- reads (``get``, ``all``, ``count``) see the store *plus* the queued writes, so the window shows
  the edit as made;
- ``retry()`` flushes again; ``pending`` tells how many writes wait; listeners hear about failures
  and recoveries (the main window shows a banner with a Retry button).

Everything else is passed through to the wrapped store.
"""

from __future__ import annotations

import copy
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from nkreader.core.store import StoreError, StoreReadOnlyError, StoreWriteError

_MISSING = object()


class KeepingStore:
    def __init__(self, store):
        self._store = store
        self._queue: deque[tuple[str, str, list]] = deque()
        self._overlay: dict[str, dict[str, dict | None]] = {}
        self._settings: dict[str, Any] = {}
        self.last_error: StoreError | None = None
        self.on_failure: list[Callable[[StoreError], None]] = []
        self.on_saved: list[Callable[[], None]] = []
        self._touched: dict[str, set[str]] = {}  # ids written since ``take_touched``, per kind

    # pass-through --------------------------------------------------------------------------
    def __getattr__(self, name):
        return getattr(self._store, name)

    @property
    def inner(self):
        return self._store

    @property
    def pending(self) -> int:
        return sum(len(op[2]) for op in self._queue)

    def pending_records(self) -> list[dict]:
        """What is waiting, for a "save a copy" export: [{"op", "kind", "record" | "id"}]."""
        out = []
        for op, kind, items in self._queue:
            for item in items:
                out.append({"op": op, "kind": kind, **({"record": item} if op == "put" else {"id": item})})
        return out

    # writes ----------------------------------------------------------------------------------
    def put(self, kind: str, record: Mapping[str, Any]) -> dict:
        return self.put_many(kind, [record])[0]

    def put_many(self, kind: str, records: Iterable[Mapping[str, Any]]) -> list[dict]:
        prepared = []
        for r in records:
            rec = copy.deepcopy(dict(r))
            if rec.get("id") is None:
                rec["id"] = uuid.uuid4().hex
            prepared.append(rec)
        if prepared:
            self._write("put", kind, prepared)
        return copy.deepcopy(prepared)

    def delete(self, kind: str, id: str) -> bool:  # noqa: A002
        existed = self.get(kind, id) is not None
        self._write("delete", kind, [id])
        return existed

    def delete_many(self, kind: str, ids: Iterable[str]) -> int:
        ids = list(ids)
        existed = sum(1 for i in ids if self.get(kind, i) is not None)
        if ids:
            self._write("delete", kind, ids)
        return existed

    def take_touched(self, kind: str) -> set[str]:
        """The ids of ``kind`` put or deleted since the last call: a reader holding a copy of
        the records (the window's session) refreshes just those."""
        return self._touched.pop(kind, set())

    def _write(self, op: str, kind: str, items: list) -> None:
        self._touched.setdefault(kind, set()).update(item["id"] if op == "put" else item for item in items)
        self._queue.append((op, kind, items))
        self._apply(op, kind, items)
        self.flush()

    def _apply(self, op: str, kind: str, items: list) -> None:
        layer = self._overlay.setdefault(kind, {})
        for item in items:
            if op == "put":
                layer[item["id"]] = item
            else:
                layer[item] = None

    def flush(self) -> bool:
        """Write what is queued, in order; ``False`` (and the queue kept) on the first failure."""
        had_pending = bool(self._queue)
        while self._queue:
            op, kind, items = self._queue[0]
            try:
                if op == "put":
                    self._store.put_many(kind, items)
                else:
                    self._store.delete_many(kind, items)
            except StoreWriteError as exc:
                if getattr(exc, "swapped", False):
                    # the new file is in place (only the folder fsync failed): saved, unconfirmed
                    self._queue.popleft()
                    continue
                self._failed(exc)
                return False
            except StoreError as exc:  # read-only, closed
                self._failed(exc)
                return False
            self._queue.popleft()
        self._overlay.clear()
        if had_pending and self.last_error is not None:
            self.last_error = None
            for cb in list(self.on_saved):
                cb()
        return True

    retry = flush

    def _failed(self, exc: StoreError) -> None:
        self.last_error = exc
        # rebuild the overlay from what is still queued
        self._overlay.clear()
        for op, kind, items in self._queue:
            self._apply(op, kind, items)
        for cb in list(self.on_failure):
            cb(exc)

    # reads -------------------------------------------------------------------------------------
    def get(self, kind: str, id: str):  # noqa: A002
        layer = self._overlay.get(kind)
        if layer and id in layer:
            rec = layer[id]
            return None if rec is None else copy.deepcopy(rec)
        return self._store.get(kind, id)

    def all(self, kind: str, **equals: Any) -> list[dict]:
        layer = self._overlay.get(kind)
        found = self._store.all(kind, **equals)
        if not layer:
            return found
        out = [r for r in found if r["id"] not in layer]
        for rec in layer.values():
            if rec is not None and all(rec.get(k, _MISSING) == v for k, v in equals.items()):
                out.append(copy.deepcopy(rec))
        return out

    def count(self, kind: str) -> int:
        if self._overlay.get(kind):
            return len(self.all(kind))
        return self._store.count(kind)

    # settings: best effort, never a banner --------------------------------------------------------
    def get_setting(self, key: str, default: Any = None) -> Any:
        if key in self._settings:
            return copy.deepcopy(self._settings[key])
        try:
            return self._store.get_setting(key, default)
        except StoreError:
            return default

    def set_setting(self, key: str, value: Any) -> bool:
        try:
            if not self._store.readonly:
                self._store.set_setting(key, value)
                self._settings.pop(key, None)
                return True
        except StoreError:
            pass
        self._settings[key] = copy.deepcopy(value)
        return False


__all__ = ["KeepingStore", "StoreError", "StoreReadOnlyError", "StoreWriteError"]
