"""``nkreader`` with no sub-command: the reader window on the bundled corpus (or ``--corpus``)."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from nkreader.ui import style


def application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else [sys.argv[0]])
        app.setApplicationName("nkreader")
        app.setOrganizationName("nkreader")
        app.setApplicationDisplayName("nkreader")
        app.setStyle("Fusion")
        font = QFont(style.ui_font_family())
        font.setPointSizeF(10)
        app.setFont(font)
        icon = _icon()
        if icon is not None:
            app.setWindowIcon(icon)
    return app


def _icon() -> QIcon | None:
    from nkreader.core.corpus import resources_dir

    path = Path(resources_dir()) / "icons" / "nkreader.svg"
    return QIcon(str(path)) if path.is_file() else None


def cover_families() -> list[str]:
    return [style.reading_font().family(), style.ui_font_family(), QApplication.font().family()]


def open_window(library, *, show: bool = True):
    """The main window on ``library``; store messages (read-only, repaired) are shown to the user."""
    from nkreader.ui.main_window import MainWindow
    from nkreader.ui.safety import message

    window = MainWindow(library)
    if show:
        window.show()
    messages = list(library.store.messages)
    if messages:
        window.statusBar().showMessage(messages[-1], 15000)
        box = message(window, "nkreader library", "\n\n".join(messages), icon=QMessageBox.Icon.Information)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        QTimer.singleShot(0, box.open)
        window._store_message_box = box
    return window


def run_app(corpus_dir=None, data=None) -> int:
    from nkreader.core.library import Library
    from nkreader.core.model import DocumentError
    from nkreader.core.store import StoreError
    from nkreader.ui.safety import message

    app = application()
    try:
        library = Library.open(corpus_dir, data)
    except (StoreError, DocumentError, OSError) as exc:
        message(None, "nkreader cannot start", str(exc), icon=QMessageBox.Icon.Critical).exec()
        return 2
    window = open_window(library)
    # The store's records (about 120k objects at 50k annotations) live as long as the window;
    # freezing them keeps every later full collection from walking them again (~40 ms pauses
    # there, measured). They are plain dicts without cycles, so reference counting still frees them.
    gc.freeze()

    def fonts():
        from nkreader.ui.fonts import CjkFontLoader

        loader = CjkFontLoader(cover_families(), window)
        window._font_loader = loader
        if loader.ensure() is None:
            loader.loaded.connect(lambda _family: window.refresh_fonts())
        else:
            window.refresh_fonts()

    QTimer.singleShot(0, fonts)  # after the window is on screen
    QTimer.singleShot(2000, _warm_up)  # heavy modules the related dock needs, off the GUI thread
    if os.environ.get("NKREADER_EXIT_WHEN_SHOWN"):
        _exit_when_shown(app, window)  # for bench/bench_window.py: time to the corpus on screen
    try:
        return app.exec()
    finally:
        library.close()


def _warm_up() -> None:
    import importlib

    from nkreader.ui.workers import start_task

    def work(task):
        for name in ("nkreader.core.related", "nkreader.core.themes"):
            task.check()
            try:
                importlib.import_module(name)
            except Exception:  # only a warm-up: the dock reports real failures when opened
                pass

    start_task(work, on_error=lambda _t: None)


def _exit_when_shown(app, window) -> None:
    """Print a line and quit once every pane showing a document has painted its text."""
    from PySide6.QtCore import QEvent, QObject

    pending = {id(p.view.viewport()) for p in window.panes if p.doc is not None}

    class Watch(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                pending.discard(id(obj))
                if not pending:
                    QTimer.singleShot(0, finish)
            return False

    def finish():
        sys.stdout.write("nkreader: corpus on screen\n")
        sys.stdout.flush()
        window._closing_ok = True
        app.quit()

    watch = Watch(window)
    window._exit_watch = watch
    for p in window.panes:
        p.view.viewport().installEventFilter(watch)
