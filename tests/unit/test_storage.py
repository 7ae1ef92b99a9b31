"""AtomicJSONStorage on real files, through real TinyDB: round trips, damage, failed writes."""

from __future__ import annotations

import json
import os

import pytest
from tinydb import TinyDB

from nkreader.core import storage as storage_mod
from nkreader.core.storage import (
    AtomicJSONStorage,
    CorruptStoreError,
    StoreReadOnlyError,
    StoreWriteError,
)


def _temp_files(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(storage_mod.TEMP_SUFFIX)]


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "db.json"


def test_round_trip_through_tinydb(db_path):
    db = TinyDB(db_path, storage=AtomicJSONStorage)
    db.table("themes").insert({"name": "Refugee status", "colour": "#aa0000", "tags": ["a", "ü"]})
    db.insert({"x": 1})
    db.close()
    again = TinyDB(db_path, storage=AtomicJSONStorage)
    assert again.table("themes").all() == [
        {"name": "Refugee status", "colour": "#aa0000", "tags": ["a", "ü"]}
    ]
    assert again.all() == [{"x": 1}]
    # Plain JSON, readable by anything (the user's data is not locked into orjson).
    assert json.loads(db_path.read_text(encoding="utf-8"))["themes"]["1"]["tags"] == ["a", "ü"]


def test_missing_and_empty_files_read_as_new(tmp_path):
    assert AtomicJSONStorage(tmp_path / "absent.json").read() is None
    (tmp_path / "empty.json").write_bytes(b"")
    assert AtomicJSONStorage(tmp_path / "empty.json").read() is None
    assert not (tmp_path / "absent.json").exists()  # reading creates nothing


@pytest.mark.parametrize(
    "payload",
    [b"\x00\xffgarbage", b'{"themes": {"1": {"name": "Refu', b"[1, 2, 3]", b'{"t": 5}', b'{"t": {"1": 2}}'],
    ids=["garbage", "truncated", "list", "table-not-object", "record-not-object"],
)
def test_damaged_file_raises_with_path_never_none(db_path, payload):
    db_path.write_bytes(payload)
    with pytest.raises(CorruptStoreError) as info:
        AtomicJSONStorage(db_path).read()
    assert info.value.path == db_path
    assert "db.json" in str(info.value)
    assert db_path.read_bytes() == payload  # reading never "repairs" by overwriting


def test_read_is_served_from_memory_after_the_first(db_path):
    store = AtomicJSONStorage(db_path)
    store.write({"t": {"1": {"v": 1}}})
    db_path.write_bytes(b'{"t": {"1": {"v": 2}}}')  # nobody else writes; we trust our copy
    assert store.read() == {"t": {"1": {"v": 1}}}
    store.reload()
    assert store.read() == {"t": {"1": {"v": 2}}}


def test_write_replaces_the_file_and_leaves_no_temp(db_path):
    store = AtomicJSONStorage(db_path)
    store.write({"t": {"1": {"v": 1}}})
    inode = db_path.stat().st_ino
    store.write({"t": {"1": {"v": 2}}})
    assert db_path.stat().st_ino != inode  # a new file was swapped in, not rewritten in place
    assert _temp_files(db_path.parent) == []
    assert json.loads(db_path.read_bytes()) == {"t": {"1": {"v": 2}}}


def test_write_fsyncs_file_and_folder_and_replaces(db_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    AtomicJSONStorage(db_path).write({"t": {}})
    assert calls == ["fsync", "replace", "fsync"]


def _boom(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_keeps_old_file_and_memory_and_no_temp(db_path, monkeypatch, failing):
    db = TinyDB(db_path, storage=AtomicJSONStorage)
    db.insert({"v": "old"})
    before = db_path.read_bytes()
    monkeypatch.setattr(os, failing, _boom)
    with pytest.raises(StoreWriteError, match="No space left") as info:
        db.insert({"v": "new"})
    assert info.value.path == db_path and not info.value.swapped
    assert isinstance(info.value.__cause__, OSError)
    assert db_path.read_bytes() == before
    assert _temp_files(db_path.parent) == []
    assert db.all() == [{"v": "old"}]  # memory matches disk: the edit is not half-applied
    monkeypatch.undo()
    db.insert({"v": "new"})  # the retry succeeds
    assert [d["v"] for d in TinyDB(db_path, storage=AtomicJSONStorage).all()] == ["old", "new"]


def test_failed_folder_fsync_after_swap_keeps_new_state(db_path, monkeypatch):
    store = AtomicJSONStorage(db_path)
    store.write({"t": {"1": {"v": "old"}}})
    real_fsync = os.fsync
    calls = []

    def fsync_fails_second_time(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_fails_second_time)
    with pytest.raises(StoreWriteError, match="durable") as info:
        store.write({"t": {"1": {"v": "new"}}})
    assert info.value.swapped
    assert json.loads(db_path.read_bytes()) == {"t": {"1": {"v": "new"}}}
    assert store.read() == {"t": {"1": {"v": "new"}}}  # memory follows what is on disk
    assert _temp_files(db_path.parent) == []


def test_unserialisable_data_is_a_write_error_and_changes_nothing(db_path):
    store = AtomicJSONStorage(db_path)
    store.write({"t": {"1": {"v": 1}}})
    before = db_path.read_bytes()
    with pytest.raises(StoreWriteError):
        store.write({"t": {"1": {"v": object()}}})
    assert db_path.read_bytes() == before
    assert store.read() == {"t": {"1": {"v": 1}}}


def test_readonly_storage_refuses_writes(db_path):
    db_path.write_bytes(b'{"t": {"1": {"v": 1}}}')
    db = TinyDB(db_path, storage=AtomicJSONStorage, readonly=True)
    assert db.table("t").all() == [{"v": 1}]
    with pytest.raises(StoreReadOnlyError):
        db.table("t").insert({"v": 2})
    assert db_path.read_bytes() == b'{"t": {"1": {"v": 1}}}'
    assert db.table("t").all() == [{"v": 1}]


def test_check_json_file(tmp_path):
    good, bad, empty = tmp_path / "g.json", tmp_path / "b.json", tmp_path / "e.json"
    good.write_bytes(b'{"t": {}}')
    bad.write_bytes(b'{"t": ')
    empty.write_bytes(b"")
    storage_mod.check_json_file(good)
    for path in (bad, empty):
        with pytest.raises(CorruptStoreError):
            storage_mod.check_json_file(path)
