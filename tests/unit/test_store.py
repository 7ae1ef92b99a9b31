"""The library Store on real TinyDB files: records, layout, lock, schema, backups, repair, kills."""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from filelock import FileLock, Timeout

from nkreader.core import store as store_mod
from nkreader.core.storage import AtomicJSONStorage, TEMP_SUFFIX
from nkreader.core.store import (
    KINDS,
    SHARDS,
    Store,
    StoreError,
    StoreReadOnlyError,
    StoreWriteError,
)

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / "src"
WRITER = HERE / "store_writer.py"

_spec = importlib.util.spec_from_file_location("store_writer", WRITER)
store_writer = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(store_writer)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop(store_mod.ENV_VAR, None)
    return env


def _files(folder: Path) -> dict[str, bytes]:
    """Every file under folder except backups and the lock, by relative path."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "backups" not in p.parts and p.name != store_mod.LOCK_FILE
    }


def _temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


def _shard_path(folder: Path, kind: str, record_id: str) -> Path:
    width = len(str(SHARDS - 1))
    return folder / kind / f"{zlib.crc32(record_id.encode()) % SHARDS:0{width}d}.json"


@pytest.fixture
def lib(tmp_path) -> Path:
    return tmp_path / "lib"


@pytest.fixture
def store(lib):
    with Store.open(lib) as s:
        yield s


SAMPLES = {
    "annotations": {"id": "ann1", "doc_id": "suh2002", "target": {"start": 3, "end": 9, "exact": "refugee"}},
    "links": {"id": "link1", "source": "ann1", "target": "ann2", "type": "disputes"},
    "themes": {"id": "th1", "name": "Refugee status", "colour": "#c0392b"},
    "layers": {"id": "mine", "name": "My notes"},
    "dismissals": {"id": "d1", "pair": ["ann1", "ann9"]},
    "settings": {"id": "window", "value": {"w": 800, "h": 600}},
    "meta": {"id": "note", "value": "hello"},
}


# ---------------------------------------------------------------------- records


def test_round_trip_of_every_kind(lib):
    assert set(SAMPLES) == set(KINDS)
    with Store.open(lib) as s:
        for kind, record in SAMPLES.items():
            assert s.put(kind, record) == record
    with Store.open(lib) as s:
        assert s.messages == [] and not s.readonly
        for kind, record in SAMPLES.items():
            assert s.get(kind, record["id"]) == record
            assert s.count(kind) == (2 if kind == "meta" else 1)  # meta also holds the schema
        assert s.all("annotations") == [SAMPLES["annotations"]]


def test_put_assigns_id_and_replaces_whole_record(store):
    made = store.put("annotations", {"doc_id": "kwon", "note": "n"})
    assert re.fullmatch(r"[0-9a-f]{32}", made["id"])
    store.put("annotations", {"id": made["id"], "doc_id": "kwon"})
    assert store.get("annotations", made["id"]) == {"id": made["id"], "doc_id": "kwon"}  # note gone
    assert store.count("annotations") == 1


def test_returned_and_given_dicts_are_copies(store):
    given = {"id": "a", "target": {"start": 1}, "themes": ["t"]}
    returned = store.put("annotations", given)
    given["target"]["start"] = 99
    given["themes"].append("x")
    returned["target"]["start"] = 98
    got = store.get("annotations", "a")
    got["themes"].clear()
    store.all("annotations")[0]["target"]["start"] = 97
    assert store.get("annotations", "a") == {"id": "a", "target": {"start": 1}, "themes": ["t"]}


def test_get_missing_and_delete(store):
    assert store.get("annotations", "nope") is None
    assert store.delete("annotations", "nope") is False
    store.put("links", {"id": "l1"})
    assert store.delete("links", "l1") is True
    assert store.get("links", "l1") is None and store.count("links") == 0


def test_all_filters_by_equal_fields(store):
    store.put_many(
        "annotations",
        [
            {"id": "a1", "doc_id": "suh2002", "layer": "mine"},
            {"id": "a2", "doc_id": "suh2002", "layer": "kim"},
            {"id": "a3", "doc_id": "bell", "layer": "mine"},
            {"id": "a4", "layer": None},
        ],
    )
    ids = lambda rs: sorted(r["id"] for r in rs)  # noqa: E731
    assert ids(store.all("annotations", doc_id="suh2002")) == ["a1", "a2"]
    assert ids(store.all("annotations", doc_id="suh2002", layer="mine")) == ["a1"]
    assert ids(store.all("annotations", layer=None)) == ["a4"]  # a missing field is not None
    assert ids(store.all("annotations")) == ["a1", "a2", "a3", "a4"]
    assert store.all("annotations", doc_id="nobody") == []


def test_library_kinds_keep_insertion_order(store):
    for name in ["c", "a", "b"]:
        store.put("themes", {"id": name})
    store.put("themes", {"id": "a", "name": "renamed"})
    assert [t["id"] for t in store.all("themes")] == ["c", "a", "b"]


def test_put_many_and_delete_many_write_each_shard_once(store, lib, monkeypatch):
    writes: list[Path] = []
    real_write = AtomicJSONStorage.write

    def counting_write(self, data):
        writes.append(self.path)
        real_write(self, data)

    monkeypatch.setattr(AtomicJSONStorage, "write", counting_write)
    records = [{"id": f"a{i}", "n": i} for i in range(500)] + [{"id": "a7", "n": "again"}]
    out = store.put_many("annotations", records)
    assert len(out) == 501 and store.count("annotations") == 500
    assert store.get("annotations", "a7") == {"id": "a7", "n": "again"}  # a repeated id: last wins
    assert len(writes) == len(set(writes)) == len({_shard_path(lib, "annotations", r["id"]) for r in records})
    writes.clear()
    assert store.delete_many("annotations", [f"a{i}" for i in range(0, 500, 2)] + ["missing"]) == 250
    assert len(writes) == len(set(writes))
    assert store.count("annotations") == 250
    writes.clear()
    assert store.delete_many("annotations", ["missing", "also-missing"]) == 0
    assert writes == []  # nothing to delete: nothing written
    store.put_many("themes", [{"id": f"t{i}"} for i in range(20)])
    assert writes == [lib / "library.json"]


def test_settings(store, lib):
    assert store.get_setting("geometry") is None
    assert store.get_setting("geometry", default=[0, 0]) == [0, 0]
    store.set_setting("geometry", [10, 20, 800, 600])
    store.set_setting("last_docs", ["suh2002", "kwon"])
    value = store.get_setting("last_docs")
    value.append("x")
    assert store.get_setting("last_docs") == ["suh2002", "kwon"]
    store.close()
    with Store.open(lib) as again:
        assert again.get_setting("geometry") == [10, 20, 800, 600]


def test_bad_kind_id_and_record_are_refused(store):
    for call in (
        lambda: store.put("notes", {"id": "x"}),
        lambda: store.put_many("notes", []),
        lambda: store.get("notes", "x"),
        lambda: store.delete("notes", "x"),
        lambda: store.delete_many("notes", ["x"]),
        lambda: store.all("notes"),
        lambda: store.count("notes"),
    ):
        with pytest.raises(ValueError, match="Unknown record kind 'notes'"):
            call()
    with pytest.raises(ValueError, match="id"):
        store.put("themes", {"id": 5})
    with pytest.raises(ValueError, match="id"):
        store.put("themes", {"id": ""})
    with pytest.raises(TypeError, match="JSON"):
        store.put("themes", {"id": "t", "when": object()})
    with pytest.raises(TypeError):
        store.put("themes", ["not", "a", "dict"])
    for call in (
        lambda: store.put("meta", {"id": "schema", "version": 99}),
        lambda: store.delete("meta", "schema"),
    ):
        with pytest.raises(ValueError, match="meta/schema"):
            call()
    assert store.get("meta", "schema")["version"] == store_mod.SCHEMA_VERSION
    assert store.count("themes") == 0


def test_closed_store_refuses_use(lib):
    s = Store.open(lib)
    s.close()
    s.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        s.get("themes", "x")
    with pytest.raises(StoreError, match="closed"):
        s.put("themes", {"id": "x"})


# ---------------------------------------------------------------------- layout and paths


def test_layout_shards_big_kinds_and_keeps_small_ones_together(store, lib):
    store.put_many("annotations", [{"id": f"a{i}"} for i in range(3000)])
    store.put("links", {"id": "l1"})
    store.put("themes", {"id": "t1"})
    shard_files = sorted(p.name for p in (lib / "annotations").iterdir())
    assert len(shard_files) == SHARDS  # 3000 ids cover every shard
    assert shard_files[0] == "000.json" and shard_files[-1] == f"{SHARDS - 1}.json"
    for rid in ("a0", "a123", "a2999"):
        assert rid in json.loads(_shard_path(lib, "annotations", rid).read_bytes())["annotations"]
    assert json.loads(_shard_path(lib, "links", "l1").read_bytes())["links"]["l1"] == {"id": "l1"}
    library = json.loads((lib / "library.json").read_bytes())
    assert set(library) == {"meta", "themes"}
    assert library["meta"]["schema"]["version"] == store_mod.SCHEMA_VERSION
    assert library["meta"]["schema"]["layout"] == {"annotations": SHARDS, "links": SHARDS}


def test_path_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("NKREADER_DATA", str(tmp_path / "from-env"))
    with Store.open() as s:
        assert s.path == tmp_path / "from-env" and s.path.is_dir()
    with Store.open(str(tmp_path / "explicit" / "deep")) as s:  # explicit wins; parents created
        assert s.path == tmp_path / "explicit" / "deep"
    monkeypatch.delenv("NKREADER_DATA")
    asked = []
    monkeypatch.setattr(
        store_mod.platformdirs, "user_data_dir", lambda name: asked.append(name) or str(tmp_path / "pd")
    )
    with Store.open() as s:
        assert s.path == tmp_path / "pd" and asked == ["nkreader"]


def test_a_file_where_the_folder_should_be_is_a_clear_error(tmp_path):
    (tmp_path / "lib").write_text("not a folder")
    with pytest.raises(StoreError, match="lib"):
        Store.open(tmp_path / "lib")


# ---------------------------------------------------------------------- single writer


HOLDER = """
import sys
from nkreader.core.store import Store
s = Store.open(sys.argv[1])
assert not s.readonly, s.messages
s.put("themes", {"id": "t1", "name": "held"})
print("ready", flush=True)
sys.stdin.read()
s.close()
"""


def _wait_for_line(proc: subprocess.Popen, expected: str, timeout: float = 20) -> None:
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if line.strip() != expected:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"subprocess said {line!r} (wanted {expected!r}): {out} {err}")


def test_second_instance_opens_read_only_while_another_process_writes(lib):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lib)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        _wait_for_line(holder, "ready")
        before = _files(lib)
        backups_before = sorted((lib / "backups").iterdir())
        with Store.open(lib) as s:
            assert s.readonly
            assert s.messages == [
                f"Another nkreader is using this library ({lib}); opened read-only."
            ]
            assert s.get("themes", "t1") == {"id": "t1", "name": "held"}  # reading works
            for write in (
                lambda: s.put("themes", {"id": "t2"}),
                lambda: s.put_many("annotations", [{"id": "a"}]),
                lambda: s.delete("themes", "t1"),
                lambda: s.delete_many("themes", ["t1"]),
                lambda: s.set_setting("k", 1),
                lambda: s.backup(),
            ):
                with pytest.raises(StoreReadOnlyError, match="read-only.*not saved"):
                    write()
            assert s.get("themes", "t2") is None
        assert _files(lib) == before  # the read-only instance wrote nothing at all
        assert sorted((lib / "backups").iterdir()) == backups_before
    finally:
        holder.stdin.close()
        holder.wait(timeout=20)
    assert holder.returncode == 0, holder.stderr.read()
    with Store.open(lib) as s:  # the holder has gone: a writer again
        assert not s.readonly and s.messages == []
        s.put("themes", {"id": "t2"})


def test_same_process_second_open_is_read_only_until_first_closes(lib):
    first = Store.open(lib)
    with Store.open(lib) as second:
        assert second.readonly and "opened read-only" in second.messages[0]
    first.close()
    with Store.open(lib) as third:
        assert not third.readonly


def test_explicit_read_only_takes_no_lock_and_writes_nothing(lib):
    with Store.open(lib) as s:
        s.put("themes", {"id": "t1"})
    Store.open(lib).close()  # back up t1 now, so the writer opened below has nothing new to back up
    before = _files(lib)
    backups = sorted((lib / "backups").iterdir())
    with Store.open(lib, readonly=True) as ro:
        with Store.open(lib) as writer:  # a read-only viewer does not block the writer
            assert not writer.readonly
        assert ro.readonly and ro.messages == []
        assert ro.get("themes", "t1") == {"id": "t1"}
        with pytest.raises(StoreReadOnlyError):
            ro.put("themes", {"id": "t2"})
    assert _files(lib) == before
    assert sorted((lib / "backups").iterdir()) == backups


def test_close_and_context_manager_release_the_lock(lib):
    with Store.open(lib):
        with pytest.raises(Timeout):
            FileLock(lib / "nkreader.lock", timeout=0).acquire()
    lock = FileLock(lib / "nkreader.lock", timeout=0)
    lock.acquire()
    lock.release()


# ---------------------------------------------------------------------- schema


def test_newer_schema_is_refused_and_left_untouched(lib):
    lib.mkdir()
    newer = {"meta": {"schema": {"id": "schema", "version": store_mod.SCHEMA_VERSION + 1}},
             "themes": {"t": {"id": "t"}}}
    (lib / "library.json").write_bytes(json.dumps(newer).encode())
    before = _files(lib)
    with pytest.raises(StoreError, match=r"newer nkreader \(schema 2; this version understands up to 1\)"):
        Store.open(lib)
    with pytest.raises(StoreError, match="newer"):
        Store.open(lib, readonly=True)
    assert _files(lib) == before
    assert not (lib / "backups").exists()
    FileLock(lib / "nkreader.lock", timeout=0).acquire()  # the refused open released its lock


def test_other_shard_count_is_refused(lib):
    lib.mkdir()
    meta = {"meta": {"schema": {"id": "schema", "version": 1, "layout": {"annotations": 8, "links": SHARDS}}}}
    (lib / "library.json").write_bytes(json.dumps(meta).encode())
    with pytest.raises(StoreError, match="splits annotations into 8 files"):
        Store.open(lib)


# ---------------------------------------------------------------------- backups


def test_open_takes_a_verified_backup_of_every_file(lib):
    with Store.open(lib) as s:
        s.put_many("annotations", [{"id": f"a{i}"} for i in range(100)])
        s.put("links", {"id": "l1"})
    live = _files(lib)
    with Store.open(lib) as s:
        newest = s.backups()[0]
    assert re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z", newest.name)
    copied = {str(p.relative_to(newest)): p.read_bytes() for p in newest.rglob("*.json") if p.name != "manifest.json"}
    assert copied == live
    for data in copied.values():
        json.loads(data)


def test_close_backs_up_the_session(lib):
    with Store.open(lib) as s:
        s.put("themes", {"id": "t-session"})
    with Store.open(lib, readonly=True) as ro:
        newest = ro.backups()[0]
    assert b"t-session" in (newest / "library.json").read_bytes()
    assert (newest / "library.json").read_bytes() == (lib / "library.json").read_bytes()


def test_backups_rotate_to_newest_five(store, lib):
    made = []
    for i in range(7):
        store.put("themes", {"id": f"t{i}"})
        made.append(store.backup())
    kept = store.backups()
    assert len(kept) == store_mod.BACKUPS_KEPT == 5
    assert kept == sorted(made, reverse=True)[:5]
    assert sorted(p.name for p in (lib / "backups").iterdir()) == sorted(p.name for p in kept)
    assert b'"t6"' in (kept[0] / "library.json").read_bytes()


def test_reopening_without_changes_does_not_rotate_history_away(lib):
    with Store.open(lib) as s:
        s.put("themes", {"id": "t1"})
    for _ in range(8):
        Store.open(lib).close()
    with Store.open(lib) as s:
        assert len(s.backups()) == 2  # the empty new store, then the one with t1


@pytest.mark.parametrize("how", ["fsync", "verify"])
def test_a_failed_backup_is_reported_not_fatal(lib, monkeypatch, how):
    with Store.open(lib) as s:
        s.put("themes", {"id": "t1"})
    shutil.rmtree(lib / "backups")  # so the next open has to take one
    if how == "fsync":
        monkeypatch.setattr(os, "fsync", _boom)
    else:  # a copy that does not parse is not a backup

        def bad_copy(path):
            raise store_mod.CorruptStoreError(path, "simulated")

        monkeypatch.setattr(store_mod, "check_json_file", bad_copy)
    with Store.open(lib) as s:
        assert not s.readonly
        assert len(s.messages) == 1 and "Could not back up" in s.messages[0], s.messages
        assert s.backups() == []
        assert list((lib / "backups").iterdir()) == []  # no half-made backup left behind
        with pytest.raises(StoreWriteError, match="Could not back up"):
            s.backup()
        monkeypatch.undo()
        s.put("themes", {"id": "t2"})
        assert s.backup().is_dir()


def test_backups_copy_changed_files_and_link_unchanged_ones(lib):
    with Store.open(lib) as s:
        s.put_many("annotations", [{"id": f"a{i}"} for i in range(50)])
        s.put("themes", {"id": "t1"})
        first = s.backup()
        s.put("annotations", {"id": "a7", "v": 2})
        second = s.backup()
    changed = f"annotations/{_shard_path(lib, 'annotations', 'a7').name}"
    for rel in [p.relative_to(first).as_posix() for p in first.rglob("*.json") if p.name != "manifest.json"]:
        one, two, live = (first / rel).stat(), (second / rel).stat(), (lib / rel).stat()
        assert two.st_ino != live.st_ino  # a backup is never the live file itself
        if rel == changed:
            assert two.st_ino != one.st_ino and b'"v":2' in (second / rel).read_bytes()
        else:
            assert two.st_ino == one.st_ino  # unchanged: shared with the previous backup
    shutil.rmtree(first)  # rotating the old one away leaves the newer one whole
    assert all(json.loads(p.read_bytes()) is not None for p in second.rglob("*.json"))


def test_writer_open_cleans_leftovers_of_a_crash(lib):
    with Store.open(lib) as s:
        s.put("annotations", {"id": "a1"})
    stray = [lib / ".library.json.x1.tmp", lib / "annotations" / ".000.json.x2.tmp"]
    for p in stray:
        p.write_bytes(b'{"half')
    (lib / "backups" / ".incomplete-20000101T000000.000000Z").mkdir()
    with Store.open(lib, readonly=True):
        assert all(p.exists() for p in stray)  # a reader touches nothing
    with Store.open(lib) as s:
        assert s.messages == [] and s.get("annotations", "a1") == {"id": "a1"}
    assert not any(p.exists() for p in stray)
    assert not (lib / "backups" / ".incomplete-20000101T000000.000000Z").exists()


# ---------------------------------------------------------------------- damage and repair


def _library_with_backup(lib: Path) -> None:
    """A store with data whose newest backup (taken on close) holds that data."""
    with Store.open(lib) as s:
        s.put("themes", {"id": "t1", "name": "Refugee status"})
        s.put("annotations", {"id": "a1", "doc_id": "suh2002"})


@pytest.mark.parametrize(
    "damage", [b"\x00\x13garbage\xff", b'{"meta": {"schema": {"id": "sch', b""], ids=["garbage", "truncated", "empty"]
)
def test_damaged_library_file_is_moved_aside_and_restored(lib, damage):
    _library_with_backup(lib)
    newest = Store.open(lib, readonly=True).backups()[0]
    (lib / "library.json").write_bytes(damage)
    with Store.open(lib) as s:
        assert not s.readonly
        assert len(s.messages) == 1
        msg = s.messages[0]
        assert re.fullmatch(
            r"library\.json was damaged; moved aside to library\.json\.corrupt-\S+; "
            r"restored from backup of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.",
            msg,
        ), msg
        assert s.get("themes", "t1") == {"id": "t1", "name": "Refugee status"}
        assert s.get("annotations", "a1") == {"id": "a1", "doc_id": "suh2002"}
    aside = list(lib.glob("library.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == damage  # kept, byte for byte
    assert aside[0].name in msg
    assert (lib / "library.json").read_bytes() == (newest / "library.json").read_bytes()
    with Store.open(lib) as s:  # repaired for good
        assert s.messages == []


def test_damaged_shard_is_restored_from_backup(lib):
    _library_with_backup(lib)
    shard = _shard_path(lib, "annotations", "a1")
    shard.write_bytes(shard.read_bytes()[:-7])  # truncated JSON
    with Store.open(lib) as s:
        rel = f"annotations/{shard.name}"
        assert len(s.messages) == 1 and s.messages[0].startswith(f"{rel} was damaged; moved aside to ")
        assert "restored from backup of" in s.messages[0]
        assert s.get("annotations", "a1") == {"id": "a1", "doc_id": "suh2002"}
        assert s.get("themes", "t1") is not None


def test_a_damaged_newest_backup_is_skipped_for_an_older_good_one(lib):
    _library_with_backup(lib)
    with Store.open(lib) as s:
        s.put("themes", {"id": "t2"})
        newest = s.backup()
    (newest / "library.json").write_bytes(b"{broken")
    (lib / "library.json").write_bytes(b"{broken too")
    with Store.open(lib) as s:
        assert "restored from backup of" in s.messages[0]
        assert s.get("themes", "t1") is not None and s.get("themes", "t2") is None  # the older one


def test_damage_without_any_good_backup_starts_empty_and_keeps_the_file(lib):
    with Store.open(lib) as s:
        s.put("themes", {"id": "t1"})
    shutil.rmtree(lib / "backups")
    (lib / "library.json").write_bytes(b"\xde\xad")
    with Store.open(lib) as s:
        assert not s.readonly
        assert re.fullmatch(
            r"library\.json was damaged; moved aside to library\.json\.corrupt-\S+; "
            r"no good backup was found, so it starts empty\.",
            s.messages[0],
        )
        assert s.all("themes") == []
        s.put("themes", {"id": "t-new"})
    assert [p.read_bytes() for p in lib.glob("library.json.corrupt-*")] == [b"\xde\xad"]
    with Store.open(lib) as s:
        assert s.messages == [] and s.get("themes", "t-new") == {"id": "t-new"}


def test_read_only_open_of_damaged_file_shows_backup_and_touches_nothing(lib):
    _library_with_backup(lib)
    (lib / "library.json").write_bytes(b"garbage")
    before = _files(lib)
    with Store.open(lib, readonly=True) as s:
        assert "library.json is damaged; showing the backup of" in s.messages[0]
        assert s.get("themes", "t1") is not None
    assert _files(lib) == before
    assert not list(lib.glob("*.corrupt-*"))


# ---------------------------------------------------------------------- failed writes


def _boom(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("failing", ["replace", "fsync"])
@pytest.mark.parametrize("kind", ["annotations", "themes"])
def test_failed_save_leaves_file_identical_no_temp_and_old_state(lib, monkeypatch, failing, kind):
    with Store.open(lib) as s:
        s.put(kind, {"id": "r1", "v": "old"})
        target = _shard_path(lib, kind, "r1") if kind == "annotations" else lib / "library.json"
        before = target.read_bytes()
        monkeypatch.setattr(os, failing, _boom)
        with pytest.raises(StoreWriteError, match="No space left on device.*previous version is unchanged"):
            s.put(kind, {"id": "r1", "v": "new"})
        with pytest.raises(StoreWriteError):
            s.delete(kind, "r1")
        assert target.read_bytes() == before
        assert _temp_files(lib) == []
        # Documented: the store does not hold a failed edit; memory matches disk.
        assert s.get(kind, "r1") == {"id": "r1", "v": "old"}
        monkeypatch.undo()
        s.put(kind, {"id": "r1", "v": "new"})  # the UI's retry
    with Store.open(lib) as s:
        assert s.get(kind, "r1") == {"id": "r1", "v": "new"}


def test_failed_import_says_how_much_was_saved(store, lib, monkeypatch):
    real_replace = os.replace
    calls = []

    def replace_fails_third_time(a, b):
        calls.append(a)
        if len(calls) == 3:
            _boom()
        real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace_fails_third_time)
    with pytest.raises(StoreWriteError, match=r"were saved before the failure"):
        store.put_many("annotations", [{"id": f"a{i}"} for i in range(200)])
    monkeypatch.undo()
    assert 0 < store.count("annotations") < 200
    assert _temp_files(lib) == []


# ---------------------------------------------------------------------- kill test


def _last_committed(side: Path) -> int | None:
    if not side.exists():
        return None
    found = re.findall(r"^committed (\d+)$", side.read_text(encoding="ascii"), flags=re.M)
    return int(found[-1]) if found else None


@pytest.mark.slow
def test_sigkill_at_random_moments_never_loses_or_corrupts(tmp_path):
    """SIGKILL a saving writer over and over; every time the store must open clean and hold exactly
    the state before or after the save in flight (DESIGN.md measured 17 corrupt files in 150 kills
    with TinyDB's own JSONStorage)."""
    if not hasattr(signal, "SIGKILL"):
        pytest.skip("needs SIGKILL")
    kills_wanted = int(os.environ.get("NKREADER_KILLS", "60"))
    budget = float(os.environ.get("NKREADER_KILL_SECONDS", "30"))
    lib, side = tmp_path / "lib", tmp_path / "side.log"
    rng = random.Random(int(os.environ.get("NKREADER_KILL_SEED", str(time.time_ns()))))
    saves = 0  # saves known to be in the store
    kills = mid_save = unrecorded = 0
    deadline = time.monotonic() + budget
    while kills < kills_wanted and time.monotonic() < deadline:
        side.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(lib), str(side), str(saves)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
        )
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0, 0.4))  # anywhere, including during open and backup
        else:
            _wait_for_line(proc, "ready")
            time.sleep(rng.uniform(0, 0.06))
        if proc.poll() is not None:
            pytest.fail(f"writer exited by itself ({proc.returncode}): {proc.communicate()}")
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
        kills += 1

        last = _last_committed(side)
        done = saves if last is None else last + 1
        if last is not None:
            mid_save += 1
        with Store.open(lib) as s:
            assert s.messages == [] and not s.readonly, s.messages
            seen = store_writer.observe(s)
        if seen == store_writer.model(done):
            saves = done
        elif seen == store_writer.model(done + 1):
            saves = done + 1  # the save in flight reached the disk before "committed" was written
            unrecorded += 1
        else:
            pytest.fail(
                f"kill {kills}: state is neither {done} nor {done + 1} saves "
                f"(annotations {len(seen['annotations'])}, settings {seen['settings']})"
            )
        assert _temp_files(lib) == []  # the open above cleaned any leftover of the kill
        assert not [p for p in lib.rglob("*.corrupt-*")]
    assert kills >= min(kills_wanted, 10), f"only {kills} kills in {budget} s"
    assert mid_save >= kills // 2, (kills, mid_save)  # most kills landed while saving
    assert saves > 0
    print(f"{kills} kills, {saves} saves kept, {unrecorded} saved-but-unrecorded")
