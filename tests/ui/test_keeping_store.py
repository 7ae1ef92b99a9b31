"""A failing save is shown and the edit kept in memory; a retry writes it; read-only keeps edits too."""

from __future__ import annotations

import pytest

from nkreader.core.library import Library
from nkreader.core.store import Store, StoreWriteError
from nkreader.ui import commands
from nkreader.ui.keeping_store import KeepingStore
from nkreader.ui.session import Session


class Flaky:
    """Make the wrapped store's writes fail until ``heal()``."""

    def __init__(self, store, monkeypatch):
        self.failing = True
        real_put, real_del = store.put_many, store.delete_many

        def put_many(kind, records):
            if self.failing:
                raise StoreWriteError(store.path / kind, "No space left on device.")
            return real_put(kind, records)

        def delete_many(kind, ids):
            if self.failing:
                raise StoreWriteError(store.path / kind, "No space left on device.")
            return real_del(kind, ids)

        monkeypatch.setattr(store, "put_many", put_many)
        monkeypatch.setattr(store, "delete_many", delete_many)

    def heal(self):
        self.failing = False


def test_failed_writes_stay_visible_and_retry_in_order(tmp_path, monkeypatch):
    store = Store.open(tmp_path / "d")
    ks = KeepingStore(store)
    failures = []
    ks.on_failure.append(failures.append)
    flaky = Flaky(store, monkeypatch)
    rec = ks.put("themes", {"name": "A"})
    assert failures and ks.pending == 1
    assert ks.get("themes", rec["id"])["name"] == "A"
    assert [t["name"] for t in ks.all("themes")] == ["A"]
    assert store.get("themes", rec["id"]) is None  # not on disk
    ks.put("themes", {**rec, "name": "B"})
    ks.delete("themes", rec["id"])
    assert ks.get("themes", rec["id"]) is None and ks.count("themes") == 0
    other = ks.put("themes", {"name": "C"})
    assert ks.pending == 4
    flaky.heal()
    assert ks.retry()
    assert ks.pending == 0
    assert store.get("themes", rec["id"]) is None and store.get("themes", other["id"])["name"] == "C"
    store.close()


def test_window_session_keeps_a_highlight_that_could_not_be_saved(qtbot, tmp_path, monkeypatch):
    lib = Library.open(None, tmp_path / "d")
    session = Session(lib)
    flaky = Flaky(session.store.inner, monkeypatch)
    states = []
    session.saveStateChanged.connect(states.append)
    text = lib.document("suh-2002").text
    i = text.index("defectors")
    cmd = commands.AddHighlight(session, "suh-2002", i, i + 9, note="keep me")
    assert session.push(cmd)
    assert states and states[-1].startswith("Not saved: No space left on device.")
    anns = session.annotations("suh-2002")
    assert [a["note"] for a in anns] == ["keep me"]  # still shown
    flaky.heal()
    assert session.store.retry()
    assert states[-1] == ""
    lib.close()
    again = Library.open(None, tmp_path / "d")
    assert [a["note"] for a in again.annotations("suh-2002")] == ["keep me"]
    again.close()


def test_read_only_store_keeps_edits_in_the_window(qtbot, tmp_path):
    first = Library.open(None, tmp_path / "d")
    second = Library.open(None, tmp_path / "d")  # the lock is taken: read-only
    try:
        assert second.store.readonly
        session = Session(second)
        states = []
        session.saveStateChanged.connect(states.append)
        text = second.document("suh-2002").text
        i = text.index("defectors")
        session.push(commands.AddHighlight(session, "suh-2002", i, i + 9))
        assert len(session.annotations("suh-2002")) == 1
        assert "read-only" in states[-1]
        assert first.annotations("suh-2002") == []
    finally:
        second.close()
        first.close()


def test_settings_never_raise(tmp_path):
    first = Store.open(tmp_path / "d")
    ro = Store.open(tmp_path / "d")
    ks = KeepingStore(ro)
    assert ks.set_setting("x", {"a": 1}) is False
    assert ks.get_setting("x") == {"a": 1}
    ro.close()
    first.close()
