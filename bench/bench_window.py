"""Window benchmarks (prints figures; no assertions).

1. Start-up: from launching ``python -m nkreader`` (the real entry point, a fresh process each
   run) to the corpus on screen — both panes have painted their text. Median of repeated runs,
   with a new library store and with a store that already holds a saved window state.
2. Scrolling with ribbons: a two-pane window with 200 links whose ends are on screen; each frame
   scrolls the left pane and repaints both reading views, their margins and the gutter. Median
   and 95th percentile per frame (target: under 16 ms, i.e. 60 frames per second).
3. Highlighting in a full library: with 1k and 10k highlights already stored (spread over the
   five documents, coded with twelve themes), the time the GUI thread is held by one new
   highlight (the edit, the docks and panes catching up) and the longest freeze in the 2 s
   after it (theme suggestions are rebuilt in a pool thread then). Medians of repeated edits,
   and their ratio to the same edit in an empty library measured first in the same run.

    python bench/bench_window.py [--runs 9] [--frames 120] [--edit-sizes 0,1000,10000]

Runs offscreen unless DISPLAY is set (then under X, e.g. xvfb-run).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


# An installed program runs from cached bytecode. Where the environment forbids writing it
# (PYTHONDONTWRITEBYTECODE, as on CI images), the children get a bytecode cache of their own in a
# temporary directory, warmed by one untimed run, so the figures are not compile times.
_PYCACHE = tempfile.TemporaryDirectory(prefix="nkreader-bench-pycache-")

# The baseline in the same run: Python + PySide6 and an empty two-pane window, to its first paint.
EMPTY_WINDOW = """
import sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QPlainTextEdit, QSplitter
app = QApplication(sys.argv)
w = QMainWindow()
split = QSplitter()
panes = [QPlainTextEdit("text"), QPlainTextEdit("text")]
for p in panes:
    split.addWidget(p)
w.setCentralWidget(split)
pending = {id(p.viewport()) for p in panes}
class Watch(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            pending.discard(id(obj))
            if not pending:
                QTimer.singleShot(0, app.quit)
        return False
watch = Watch()
for p in panes:
    p.viewport().installEventFilter(watch)
w.resize(1600, 1000)
w.show()
app.exec()
print("nkreader: corpus on screen", flush=True)
"""


def _env() -> dict:
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    env["NKREADER_EXIT_WHEN_SHOWN"] = "1"
    env["PYTHONPATH"] = str(REPO / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = _PYCACHE.name
    return env


def startup_once(data: Path | None) -> float:
    """One process from launch to both panes painted; ``data=None`` times the empty-window baseline."""
    cmd = [sys.executable, "-c", EMPTY_WINDOW] if data is None else [sys.executable, "-m", "nkreader", "--data", str(data)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_env(), text=True, cwd=REPO)
    line = proc.stdout.readline()
    t = time.perf_counter() - t0
    proc.wait(timeout=30)
    if "corpus on screen" not in line:
        raise RuntimeError(f"the window did not report itself shown: {line!r}")
    return t


def bench_startup(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        startup_once(Path(tmp) / "warm")  # untimed: fills the bytecode cache
        startup_once(None)
        base = [startup_once(None) for _ in range(runs)]
        fresh = [startup_once(Path(tmp) / f"fresh{i}") for i in range(runs)]
        again = [startup_once(Path(tmp) / "fresh0") for _ in range(runs)]
    b = statistics.median(base)

    def line(label: str, ts: list[float]) -> str:
        m = statistics.median(ts)
        return (f"{label:<44} median {m * 1000:6.0f} ms  x {m / b:4.2f} of baseline "
                f"(min {min(ts) * 1000:.0f}, max {max(ts) * 1000:.0f}, {runs} runs)")

    print(f"{'baseline: python + PySide6, empty two-pane window':<44} median {b * 1000:6.0f} ms")
    print(line("start-up to corpus on screen, new store", fresh))
    print(line("start-up to corpus on screen, saved state", again))


def bench_scroll(frames: int, links: int) -> None:
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(REPO / "src"))
    from nkreader.core.library import Library
    from nkreader.ui.app import application
    from nkreader.ui.main_window import MainWindow

    app = application()
    with tempfile.TemporaryDirectory() as tmp:
        lib = Library.open(None, Path(tmp) / "data")
        rnd = random.Random(7)
        ta, tb = lib.document("suh-2002").text, lib.document("bell-fattig").text
        # ends within the first screen of each text, so (nearly) all 200 ribbons are on screen
        span_a, span_b = min(len(ta), 1000), min(len(tb), 800)
        recs = []
        for _ in range(links):
            a = rnd.randrange(0, span_a - 40)
            b = rnd.randrange(0, span_b - 40)
            recs.append((lib.highlight("suh-2002", a, a + rnd.randint(8, 40)),
                         lib.highlight("bell-fattig", b, b + rnd.randint(8, 40))))
        for s, d in recs:
            lib.link(s["id"], d["id"], rnd.choice(("agrees", "disputes", "extends", "same-issue")))
        w = MainWindow(lib, restore=False)
        w.resize(1600, 1000)
        w.show()
        for _ in range(5):
            app.processEvents()
        w._equalize()
        app.processEvents()
        left, right = w.panes
        gutter = w.splitter.handle(1)
        sb = left.view.verticalScrollBar()
        for _ in range(3):
            app.processEvents()
        # (a) what scrolling costs: the scroll bar moves, Qt blits the text and repaints what it must
        #     (the exposed strip, the margin, the gutter) — one frame = setValue + event processing
        frame_times, visible = [], []
        step = 4
        for i in range(frames):
            value = (i * step) % 120
            t0 = time.perf_counter()
            sb.setValue(value)
            app.processEvents()
            frame_times.append(time.perf_counter() - t0)
            visible.append(gutter.drawn)
        # (b) worst case: every part repainted in full (both panes, margins, gutter)
        full_times, gutter_times = [], []
        for i in range(frames):
            value = (i * step) % 120
            sb.setValue(value)
            right.view.verticalScrollBar().setValue(value // 2)
            app.processEvents()
            t0 = time.perf_counter()
            left.view.viewport().repaint()
            left.view.margin.repaint()
            right.view.viewport().repaint()
            right.view.margin.repaint()
            t1 = time.perf_counter()
            gutter.repaint()
            t2 = time.perf_counter()
            full_times.append(t2 - t0)
            gutter_times.append(t2 - t1)

        def stats(ts):
            ts = sorted(ts)
            return statistics.median(ts) * 1000, ts[int(len(ts) * 0.95) - 1] * 1000

        m, p95 = stats(frame_times)
        print(f"scroll frame with {links} links (ribbons on screen: median {statistics.median(visible):.0f}): "
              f"median {m:.1f} ms, p95 {p95:.1f} ms ({frames} frames)")
        m, p95 = stats(full_times)
        g, _ = stats(gutter_times)
        print(f"  full repaint of both panes, margins and gutter: median {m:.1f} ms, p95 {p95:.1f} ms "
              f"(gutter alone: median {g:.1f} ms)")
        w._closing_ok = True
        w.close()
        lib.close()


def _stored_highlights(lib, n: int, seed: int = 3) -> None:
    """``n`` highlights of 120 characters at random places, each coded with one of 12 themes."""
    import uuid

    themes = [lib.add_theme(f"Theme {i}", description="brokers, repatriation, refugee status") for i in range(12)]
    docs = list(lib.corpus.ids)
    rnd = random.Random(seed)
    recs = []
    for i in range(n):
        doc = lib.document(docs[i % len(docs)])
        a = rnd.randrange(0, len(doc.text) - 200)
        recs.append({"id": uuid.uuid4().hex, "doc_id": doc.id, "fingerprint": doc.fingerprint,
                     "target": {"exact": doc.text[a:a + 120], "prefix": doc.text[max(0, a - 20):a],
                                "suffix": doc.text[a + 120:a + 140], "start": a, "end": a + 120, "page": None},
                     "note": "", "themes": [themes[i % 12]["id"]], "color": "#f6d365",
                     "created": "2025-03-01T10:00:00+00:00", "modified": "2025-03-01T10:00:00+00:00",
                     "creator": "reader", "layer": "", "status": "anchored"})
    lib.store.put_many("annotations", recs)


def bench_edit(sizes: list[int], edits: int = 7) -> None:
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(REPO / "src"))
    from PySide6.QtCore import QTimer

    from nkreader.core.library import Library
    from nkreader.ui.app import application
    from nkreader.ui.main_window import MainWindow

    app = application()

    def settle(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()

    baseline = None
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            lib = Library.open(None, Path(tmp) / "data")
            if n:
                _stored_highlights(lib, n)
            w = MainWindow(lib, restore=False)
            w.resize(1600, 1000)
            w.show()
            settle(3.0)  # first paint, the suggestions' first build
            left = w.panes[0]
            stamps: list[float] = []
            tick = QTimer()
            tick.setInterval(2)
            tick.timeout.connect(lambda: stamps.append(time.perf_counter()))
            tick.start()
            held, freezes = [], []
            for k in range(edits):
                left.select_span(100 + k * 300, 160 + k * 300)
                app.processEvents()
                t0 = time.perf_counter()
                w.highlight_selection(pane=left)
                app.processEvents()  # the repaint the edit asked for
                held.append(time.perf_counter() - t0)
                stamps.clear()
                settle(2.0)
                gaps = [b - a for a, b in zip(stamps, stamps[1:])]
                freezes.append(max(gaps) if gaps else 0.0)
            tick.stop()
            median = statistics.median(held)
            baseline = baseline or median
            print(f"new highlight with {n} stored: GUI thread held median {median * 1000:.0f} ms "
                  f"(max {max(held) * 1000:.0f}; {median / baseline:.1f}x the first size); longest freeze "
                  f"in the 2 s after: median {statistics.median(freezes) * 1000:.0f} ms ({edits} edits)")
            w._closing_ok = True
            w.close()
            lib.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--links", type=int, default=200)
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--edit-sizes", default="0,1000,10000", help="stored highlights for the edit bench ('' skips)")
    args = parser.parse_args()
    if not args.skip_startup:
        bench_startup(args.runs)
    bench_scroll(args.frames, args.links)
    if args.edit_sizes:
        bench_edit([int(x) for x in args.edit_sizes.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
