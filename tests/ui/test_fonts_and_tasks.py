"""The CJK fallback font (loaded off the GUI thread, cached for the next start) and background tasks."""

from __future__ import annotations

import threading

from PySide6.QtGui import QFont

from nkreader.ui import fonts
from nkreader.ui.workers import TaskBar, start_task


def test_cjk_font_is_loaded_in_the_background_then_cached(qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(fonts, "system_cjk_family", lambda: None)
    monkeypatch.setattr(fonts, "_loaded_family", None)
    loader = fonts.CjkFontLoader(["DejaVu Serif"], directory=tmp_path)
    with qtbot.waitSignal(loader.loaded, timeout=30000) as blocker:
        assert loader.ensure() is None  # not on the GUI thread: it arrives later
    family = blocker.args[0]
    assert family and family.casefold() in [f.casefold() for f in QFont.substitutes("DejaVu Serif")]
    cached = tmp_path / fonts.CACHE_NAME
    assert cached.stat().st_size > 1_000_000
    # next start: read from the cache, no PyMuPDF import needed
    monkeypatch.setattr(fonts, "_loaded_family", None)
    monkeypatch.setattr(fonts, "font_bytes_from_pymupdf", lambda: (_ for _ in ()).throw(AssertionError("imported")))
    assert fonts.CjkFontLoader(["DejaVu Sans"], directory=tmp_path).ensure() == family


def test_task_reports_progress_and_result_on_the_gui_thread(qtbot):
    seen = []
    gui = threading.get_ident()
    bar = TaskBar()
    qtbot.addWidget(bar)

    def work(task):
        for i in range(5):
            task.check()
            task.progress(i + 1, 5, f"step {i}")
        return threading.get_ident()

    results = []
    task = start_task(work, title="Counting", on_result=results.append,
                      on_progress=lambda d, t, text: seen.append((d, t, threading.get_ident())), bar=bar)
    qtbot.waitUntil(lambda: bool(results), timeout=3000)
    assert results[0] != gui  # ran in a pool thread
    assert seen and all(tid == gui for _d, _t, tid in seen)  # progress delivered on the GUI thread
    qtbot.waitUntil(lambda: bar.isHidden(), timeout=2000)


def test_task_error_is_reported_not_raised(qtbot):
    errors = []

    def boom(task):
        raise ValueError("the PDF is encrypted")

    start_task(boom, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=3000)
    assert errors == ["the PDF is encrypted"]


def test_big_document_opens_off_the_gui_thread_with_cancel(qtbot, tmp_path, corpus_writer, monkeypatch):
    from nkreader.core.library import Library
    from nkreader.ui import document_pane
    from nkreader.ui.document_pane import DocumentPane
    from nkreader.ui.session import Session

    corpus = corpus_writer(tmp_path / "corpus", {"big": "Big text.\n\n" * 50, "small": "Small."})
    lib = Library.open(corpus, tmp_path / "data")
    session = Session(lib)
    monkeypatch.setattr(document_pane, "SYNC_OPEN_BYTES", 10)  # treat "big" as big
    gate = threading.Event()
    real = session.document

    def slow(doc_id):
        gate.wait(3)
        return real(doc_id)

    monkeypatch.setattr(session, "document", slow)
    pane = DocumentPane(session)
    qtbot.addWidget(pane)
    pane.show()
    pane.open_document("big")
    assert pane.loading.isVisible() and pane.doc is None  # the window goes on meanwhile
    pane.loading.cancel.click()
    assert not pane.loading.isVisible()
    gate.set()
    qtbot.wait(100)
    assert pane.doc is None  # cancelled: the result is dropped
    gate.clear()
    pane.open_document("big")
    gate.set()
    qtbot.waitUntil(lambda: pane.doc is not None, timeout=3000)
    assert pane.doc.id == "big" and not pane.loading.isVisible()
    lib.close()
