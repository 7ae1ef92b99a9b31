"""CLI cold start and opening each corpus document, as medians of repeated runs.

Run: .venv/bin/python bench/bench_startup.py [--runs N]
The baseline in the same run is a bare `python -c pass`, so the ratio shows what nkreader adds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _time_process(cmd: list[str], env: dict, runs: int) -> float:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=11)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="nkbench-")
    env = dict(os.environ, NKREADER_DATA=data)
    base = _time_process([sys.executable, "-c", "pass"], env, args.runs)
    print(f"python -c pass (baseline)        {base * 1000:8.1f} ms")
    for label, cmd in (
        ("nkreader --help", ["--help"]),
        ("nkreader list", ["list"]),
        ("nkreader show suh-2002", ["show", "suh-2002"]),
        ("nkreader notes --json", ["notes", "--json"]),
    ):
        t = _time_process([sys.executable, "-m", "nkreader", *cmd], env, args.runs)
        print(f"{label:<32} {t * 1000:8.1f} ms   x{t / base:5.1f} of baseline")

    sys.path.insert(0, str(REPO / "src"))
    from nkreader.core.corpus import Corpus
    from nkreader.core.documents import open_document

    corpus = Corpus(REPO / "corpus")
    print("\nopening each corpus document (in process, median of runs):")
    for entry in corpus.entries:
        samples = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            doc = open_document(entry.path, doc_id=entry.id, metadata=entry.metadata)
            samples.append(time.perf_counter() - t0)
        print(f"  {entry.id:<16} {len(doc.text):7d} chars {len(doc.paragraphs):4d} paragraphs "
              f"{statistics.median(samples) * 1000:8.2f} ms")


if __name__ == "__main__":
    main()
