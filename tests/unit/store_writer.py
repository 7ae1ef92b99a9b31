"""Writer process for the kill test in test_store.py: saves forever until it is SIGKILLed.

    python store_writer.py DATA_DIR SIDE_FILE START

Save number ``s`` is ``plan(s)`` (puts, replaces, deletes, links, settings: every kind of write the
app makes). After each save returns, "committed s" is appended to SIDE_FILE, so after a kill the
test knows the store must hold exactly the state after ``s + 1`` or ``s + 2`` saves.
``model(n)`` is that state, computed without a store.
"""

from __future__ import annotations

import sys
from typing import Any

NOTE = "A note long enough to make the shard files realistic. " * 4


def plan(s: int) -> tuple[str, str, Any]:
    """(operation, kind, argument) of save number ``s``."""
    r = s % 10
    if r <= 5:
        return ("put", "annotations", {"id": f"a{s}", "doc_id": f"doc{s % 3}", "n": s, "note": NOTE})
    if r == 6:
        return ("put", "links", {"id": f"l{s}", "source": f"a{s - 1}", "target": f"a{s - 2}"})
    if r == 7:
        return ("delete", "annotations", f"a{s - 2}")
    if r == 8:  # replace a record saved earlier with different fields
        return ("put", "annotations", {"id": f"a{s - 8}", "doc_id": "doc9", "rev": s})
    return ("setting", "counter", s)


def apply(state: dict[str, dict[str, Any]], s: int) -> None:
    op, kind, arg = plan(s)
    if op == "put":
        state[kind][arg["id"]] = dict(arg)
    elif op == "delete":
        state[kind].pop(arg, None)
    else:
        state["settings"][kind] = arg


def model(n: int) -> dict[str, dict[str, Any]]:
    """The expected contents after saves 0 .. n-1."""
    state: dict[str, dict[str, Any]] = {"annotations": {}, "links": {}, "settings": {}}
    for s in range(n):
        apply(state, s)
    return state


def observe(store) -> dict[str, dict[str, Any]]:
    """The same shape as ``model``, read from a store."""
    return {
        "annotations": {r["id"]: r for r in store.all("annotations")},
        "links": {r["id"]: r for r in store.all("links")},
        "settings": {r["id"]: r["value"] for r in store.all("settings")},
    }


def main(argv: list[str]) -> int:
    from nkreader.core.store import Store

    data_dir, side_file, start = argv[0], argv[1], int(argv[2])
    store = Store.open(data_dir)
    if store.readonly or store.messages:
        print("unexpected:", store.readonly, store.messages, flush=True)
        return 3
    print("ready", flush=True)
    with open(side_file, "a", encoding="ascii") as side:
        s = start
        while True:
            op, kind, arg = plan(s)
            if op == "put":
                store.put(kind, arg)
            elif op == "delete":
                store.delete(kind, arg)
            else:
                store.set_setting(kind, arg)
            side.write(f"committed {s}\n")  # one write() call: a kill cannot split the line
            side.flush()
            s += 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
