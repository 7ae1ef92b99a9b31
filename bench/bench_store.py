"""Latency of saving one highlight, safely on disk, at 1k / 10k / 50k stored annotations.

Run: .venv/bin/python bench/bench_store.py [--runs N] [--sweep 16,32,64,128,256]

Each figure is the median of N saves of a new annotation (``Store.put``: temp file, fsync,
os.replace, fsync of the folder) into a store pre-filled with ``put_many``. The baseline, measured
in the same run on the same records, is plain single-file TinyDB with its default JSONStorage
(``db.insert``), which rewrites the whole file per insert and does not even fsync. The sweep
repeats the 50k figure for other shard counts (how SHARDS was chosen).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from tinydb import TinyDB  # noqa: E402  (the bench may import TinyDB: it is not the app)

from nkreader.core import store as store_mod  # noqa: E402

SIZES = (1_000, 10_000, 50_000)
QUOTE = "defectors describe the crossing of the Tumen river as a long wait in hiding, "


def annotation(i: int) -> dict:
    """A record shaped like the ones core/library.py saves (about 0.6 kB of JSON)."""
    return {
        "id": uuid.uuid4().hex,
        "doc_id": f"doc-{i % 40}",
        "fingerprint": "sha256:" + "ab" * 32,
        "target": {
            "exact": QUOTE * 2,
            "prefix": "the interviews show that ",
            "suffix": " before reaching Shenyang",
            "start": i * 7,
            "end": i * 7 + 150,
            "page": i % 30 + 1,
        },
        "note": "Compare with Kwon on protection gaps." if i % 3 else "",
        "themes": [f"theme-{i % 12}", f"theme-{i % 5}"],
        "color": "#f6d365",
        "created": "2025-03-01T10:00:00+00:00",
        "modified": "2025-03-01T10:00:00+00:00",
        "creator": "reader",
        "layer": "",
        "status": "anchored",
    }


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_store(size: int, runs: int) -> tuple[float, float, float, float]:
    """(median put ms, p90 put ms, populate s, reopen ms) for a store holding ``size``."""
    with tempfile.TemporaryDirectory(prefix="nkbench-store-") as tmp:
        store = store_mod.Store.open(Path(tmp) / "lib")
        t0 = time.perf_counter()
        store.put_many("annotations", [annotation(i) for i in range(size)])
        populate = time.perf_counter() - t0
        gc.collect()  # measure saves, not the collector digesting the import
        samples = []
        for k in range(runs):
            rec = annotation(size + k)
            t0 = time.perf_counter()
            store.put("annotations", rec)
            samples.append(time.perf_counter() - t0)
        assert store.count("annotations") == size + runs
        store.close()
        t0 = time.perf_counter()
        store_mod.Store.open(Path(tmp) / "lib").close()  # includes the backup taken on open
        reopen = time.perf_counter() - t0
        samples.sort()
        return _median_ms(samples), samples[int(len(samples) * 0.9)] * 1000, populate, reopen * 1000


def bench_tinydb(size: int, runs: int) -> float:
    """Median ms of one ``insert`` into plain single-file TinyDB holding ``size`` records."""
    with tempfile.TemporaryDirectory(prefix="nkbench-tinydb-") as tmp:
        db = TinyDB(Path(tmp) / "db.json")
        db.insert_multiple(annotation(i) for i in range(size))
        gc.collect()
        samples = []
        for k in range(runs):
            rec = annotation(size + k)
            t0 = time.perf_counter()
            db.insert(rec)
            samples.append(time.perf_counter() - t0)
        db.close()
        return _median_ms(samples)


def bench_floor(runs: int) -> float:
    """Median ms of the durability floor: an atomic write of a tiny file (2 fsyncs + replace)."""
    from nkreader.core.storage import atomic_write_bytes

    with tempfile.TemporaryDirectory(prefix="nkbench-floor-") as tmp:
        path = Path(tmp) / "f.json"
        samples = []
        for k in range(runs):
            t0 = time.perf_counter()
            atomic_write_bytes(path, b'{"t": {}}')
            samples.append(time.perf_counter() - t0)
        return _median_ms(samples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=101, help="saves measured per size (store)")
    ap.add_argument("--sweep", default="16,32,64,128,256", help="shard counts tried at 50k ('' to skip)")
    args = ap.parse_args()
    gc.collect()
    print(f"Store: {store_mod.SHARDS} shards per big kind; median of {args.runs} saves per size.")
    print("Baseline: one TinyDB file, default JSONStorage (no fsync), same records, same run.")
    print(f"Durability floor on this disk (atomic write of a 9-byte file): {bench_floor(args.runs):.2f} ms\n")
    print(f"{'annotations':>11}  {'Store.put':>10}  {'p90':>8}  {'TinyDB insert':>13}  {'ratio':>7}"
          f"  {'populate':>9}  {'reopen+backup':>13}")
    for size in SIZES:
        put_med, put_p90, populate, reopen = bench_store(size, args.runs)
        base_runs = {1_000: 21, 10_000: 11}.get(size, 5)  # the baseline is slow: fewer runs
        base = bench_tinydb(size, base_runs)
        print(f"{size:>11,}  {put_med:>8.2f}ms  {put_p90:>6.2f}ms  {base:>11.1f}ms  "
              f"{base / put_med:>6.1f}x  {populate:>8.2f}s  {reopen:>11.0f}ms")
    sweep = [int(x) for x in args.sweep.split(",") if x.strip()]
    if sweep:
        print(f"\nShard count at 50,000 annotations (median of {args.runs} saves):")
        chosen = store_mod.SHARDS
        try:
            for shards in sweep:
                store_mod.SHARDS = shards  # the bench may; a real store refuses a changed layout
                put_med, put_p90, _, reopen = bench_store(50_000, args.runs)
                mark = "  <- chosen" if shards == chosen else ""
                print(f"  {shards:>4} shards  put {put_med:6.2f} ms  p90 {put_p90:6.2f} ms"
                      f"  reopen+backup {reopen:5.0f} ms{mark}")
        finally:
            store_mod.SHARDS = chosen


if __name__ == "__main__":
    main()
