"""The page view on a 300-page PDF: first page on screen, page renders, text extraction, memory.

Run: .venv/bin/python bench/bench_pdf.py [--pages 300] [--runs 7] [--keep] [--switch-interval MS]

``--switch-interval`` sets the GIL switch interval the renderer uses while it has work (0: leave
Python's 5 ms; by default the renderer's 1 ms), to compare "page shown" with and without it.

A PDF of ``--pages`` pages is generated first (a running header and footer, a page number, body
text in 10.5 pt Times, every fifth page in two columns: about 520 words a page). Figures are
medians:

* ``import pymupdf``: once per process, in a fresh interpreter (the page view pays it when the
  first PDF is opened, never at start-up);
* ``open + first page``: ``PageSource`` opened and page 1 rendered at 100 % (core only), and
  ``first page on screen``: ``PageView.set_document`` until page 1 is painted in the window
  (offscreen Qt; includes opening, all page sizes, rendering off the GUI thread, the QImage and
  the paint);
* ``render``: one page at 100 % and 200 % (``PageSource.render`` plus the copy into a QImage),
  over pages spread through the document; ``page shown``: scrolling the view to a page not yet
  rendered until it is painted;
* ``extract all text``: ``open_document`` (the reflowed text of all pages); ``word boxes``: one
  page's words mapped onto the text (``PageSource.layout``);
* memory: the process's resident set while the view scrolls through the whole document, page by
  page, waiting for each to be drawn (start, peak, end), and the bytes the image cache holds.

Targets on this machine: first page on screen < 100 ms, a page rendered and shown < 15 ms at
100 %, memory bounded while scrolling.
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
sys.path.insert(0, str(REPO / "src"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

WORDS = ("defectors border crossing river brokers refugees protection China Korea south north camps "
         "families women markets networks interviews resettlement policy humanitarian asylum repatriation "
         "hiding shelter journey Mongolia Thailand embassy informal church missionaries the of and to in "
         "a is that for on with as by were their from this which who").split()


def _paragraph(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    out, sentence = [], []
    for w in words:
        sentence.append(w)
        if len(sentence) > 9 and rng.random() < 0.15:
            out.append(" ".join(sentence).capitalize() + ".")
            sentence = []
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    return " ".join(out)


def make_pdf(path: Path, pages: int) -> Path:
    import pymupdf

    rng = random.Random(7)
    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page(width=595, height=842)
        page.insert_text((72, 40), "North Korean Review 12: Refugees in Asia", fontname="tiro", fontsize=9)
        page.insert_text((72, 812), "www.nkreview.example/12", fontname="tiro", fontsize=8)
        page.insert_text((290, 812), str(n + 101), fontname="tiro", fontsize=8)
        if n % 5 == 4:
            for col, x in enumerate((72, 310)):
                for k in range(3):
                    page.insert_textbox(pymupdf.Rect(x, 80 + 235 * k, x + 213, 300 + 235 * k),
                                        _paragraph(rng, 85), fontname="tiro", fontsize=10.5)
        else:
            for k in range(4):
                page.insert_textbox(pymupdf.Rect(72, 80 + 178 * k, 523, 245 + 178 * k),
                                    _paragraph(rng, 130), fontname="tiro", fontsize=10.5)
    doc.set_page_labels([{"startpage": 0, "prefix": "", "style": "D", "firstpagenum": 101}])
    doc.save(path, garbage=3, deflate=True)
    doc.close()
    return path


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def med_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_import(runs: int) -> float:
    code = "import time; t=time.perf_counter(); import pymupdf; print(time.perf_counter()-t)"
    times = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
             for _ in range(max(3, runs // 2))]
    return med_ms(times)


def bench_core(path: Path, runs: int, pages: int) -> dict:
    from PySide6.QtGui import QImage

    from nkreader.core.documents import open_document
    from nkreader.core.pdf_pages import PageSource

    s100 = 96 / 72
    first = []
    for _ in range(runs):
        t = time.perf_counter()
        src = PageSource(path)
        src.render(0, s100)
        first.append(time.perf_counter() - t)
        src.close()
    src = PageSource(path)
    spread = list(range(1, pages, max(1, pages // 40)))
    out = {"open + first page (core)": med_ms(first)}
    for label, scale in (("100 %", s100), ("200 %", 2 * s100)):
        times = []
        for i in spread:
            t = time.perf_counter()
            r = src.render(i, scale)
            QImage(r.samples, r.width, r.height, r.stride, QImage.Format.Format_RGB888).copy()
            times.append(time.perf_counter() - t)
        out[f"render + QImage, {label}"] = med_ms(times)
    extract = []
    for _ in range(max(3, runs // 2)):
        t = time.perf_counter()
        doc = open_document(path)
        extract.append(time.perf_counter() - t)
    out["extract all text (open_document)"] = med_ms(extract)
    layout = []
    for i in spread:
        t = time.perf_counter()
        src.layout(i, doc)
        layout.append(time.perf_counter() - t)
    out["word boxes mapped, one page"] = med_ms(layout)
    src.close()
    out["_doc"] = doc
    return out


def bench_view(doc, runs: int) -> dict:
    import nkreader.ui  # noqa: F401  (the PySide6 guard)
    from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from nkreader.ui.page_view import PageView, _scale_key

    app = QApplication.instance() or QApplication([sys.argv[0]])

    class PaintWatch(QObject):
        painted = 0
        loop = None
        cond = None

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                PaintWatch.painted = time.perf_counter()
                if PaintWatch.loop is not None:  # checked again right after this paint
                    QTimer.singleShot(0, lambda: PaintWatch.loop and PaintWatch.cond() and PaintWatch.loop.quit())
            return False

    def wait(cond, timeout=10.0):
        """Run the event loop (blocked in Qt, the GIL free, as in the application) until ``cond``."""
        if cond():
            return
        loop = QEventLoop()
        check = QTimer()
        check.setInterval(5)  # a fallback: a paint checks at once (PaintWatch)
        check.timeout.connect(lambda: loop.quit() if cond() else None)
        PaintWatch.loop = loop
        PaintWatch.cond = cond
        give_up = QTimer()
        give_up.setSingleShot(True)
        give_up.timeout.connect(loop.quit)
        give_up.start(int(timeout * 1000))
        check.start()
        loop.exec()
        check.stop()
        PaintWatch.loop = None
        if not cond():
            raise TimeoutError

    first = []
    for _ in range(runs):
        view = PageView(None)
        view.resize(900, 1000)
        view.show()
        watch = PaintWatch()
        view.viewport().installEventFilter(watch)
        wait(lambda: view.isVisible())
        QCoreApplication.processEvents()
        t = time.perf_counter()
        view.set_document(doc)
        key = lambda: (0, _scale_key(view._render_scale()))  # noqa: E731
        wait(lambda: key() in view._images and PaintWatch.painted > t and view.ready())
        # the paint that drew the image
        drawn_at = time.perf_counter()
        wait(lambda: PaintWatch.painted >= drawn_at or True)
        QCoreApplication.processEvents()
        first.append(PaintWatch.painted - t)
        view.shutdown()
        view.deleteLater()
        QCoreApplication.processEvents()

    out = {"first page on screen (PageView)": med_ms(first)}
    before = sys.getswitchinterval()

    view = PageView(None)
    view.resize(900, 1000)
    view.set_zoom(100)
    view.show()
    watch = PaintWatch()
    view.viewport().installEventFilter(watch)
    view.set_document(doc)
    wait(view.ready)
    view.wait_idle(10000)
    shown = []
    n = view.page_count()
    for i in range(10, n, max(1, n // 30)):
        key = (i, _scale_key(view._render_scale()))
        t = time.perf_counter()
        view.scroll_to_page(i)
        wait(lambda: key in view._images and PaintWatch.painted > t)
        QCoreApplication.processEvents()
        shown.append(PaintWatch.painted - t)
        view.wait_idle(10000)
    out["page shown after scrolling to it, 100 %"] = med_ms(shown)
    wait(lambda: view.renderer.idle(), 5.0)
    time.sleep(0.01)  # the thread back in its wait
    out["_switch"] = (before, sys.getswitchinterval())

    # memory while scrolling the whole document
    view.set_zoom("fit-width")
    view.scroll_to_page(0)
    view.wait_idle(10000)
    start = rss_mb()
    peak = start
    cache_peak = 0
    vbar = view.verticalScrollBar()
    step = max(1, view.viewport().height())
    t = time.perf_counter()
    for value in range(0, vbar.maximum() + step, step):
        vbar.setValue(value)
        view.wait_idle(10000)
        peak = max(peak, rss_mb())
        cache_peak = max(cache_peak, view.cached_bytes())
    elapsed = time.perf_counter() - t
    out["_memory"] = {
        "rss at start (MB)": start, "rss peak while scrolling (MB)": peak, "rss at the end (MB)": rss_mb(),
        "image cache peak (MB)": cache_peak / 2**20, "image cache limit (MB)": view.cache_bytes / 2**20,
        "pages scrolled": n, "scroll through all pages (s)": elapsed,
        "one page image (MB)": next(iter(view._images.values()))[0].sizeInBytes() / 2**20,
    }
    view.shutdown()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=300)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--keep", action="store_true", help="keep the generated PDF and print its path")
    ap.add_argument("--switch-interval", type=float, default=None, metavar="MS",
                    help="the renderer's GIL switch interval (0: leave Python's default of 5 ms)")
    args = ap.parse_args()
    from nkreader.ui.page_view import PageRenderer

    if args.switch_interval is not None:
        PageRenderer.SWITCH_INTERVAL = args.switch_interval / 1000 if args.switch_interval else None

    folder = Path(tempfile.mkdtemp(prefix="nkbench-pdf-"))
    path = folder / "bench.pdf"
    t = time.perf_counter()
    make_pdf(path, args.pages)
    print(f"generated {args.pages} pages ({path.stat().st_size / 2**20:.1f} MB) in {time.perf_counter() - t:.1f} s")
    rows = {"import pymupdf (fresh process, once)": bench_import(args.runs)}
    core = bench_core(path, args.runs, args.pages)
    doc = core.pop("_doc")
    rows.update(core)
    view = bench_view(doc, args.runs)
    memory = view.pop("_memory")
    switch = view.pop("_switch")
    rows.update(view)
    print(f"\nmedians over {args.runs} runs (ms):")
    for k, v in rows.items():
        print(f"  {k:<42} {v:8.1f}")
    setting = PageRenderer.SWITCH_INTERVAL
    print(f"\nGIL switch interval: {setting * 1000:g} ms while rendering" if setting else
          "\nGIL switch interval: left alone by the renderer", end="")
    print(f"; {switch[0] * 1000:g} ms before, {switch[1] * 1000:g} ms once the renderer is idle")
    print("\nmemory while scrolling the whole document:")
    for k, v in memory.items():
        print(f"  {k:<42} {v:8.1f}" if isinstance(v, float) else f"  {k:<42} {v:8}")
    targets = [
        ("first page on screen < 100 ms", rows["first page on screen (PageView)"] < 100),
        ("a page rendered and shown < 15 ms at 100 %", rows["page shown after scrolling to it, 100 %"] < 15),
        ("memory bounded (peak - start < cache limit + 64 MB)",
         memory["rss peak while scrolling (MB)"] - memory["rss at start (MB)"] < memory["image cache limit (MB)"] + 64),
    ]
    print("\ntargets:")
    for label, ok in targets:
        print(f"  {'met' if ok else 'MISSED':<7} {label}")
    if args.keep:
        print(f"\nkept {path}")
    else:
        path.unlink()
        folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
