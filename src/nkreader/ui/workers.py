"""Long tasks off the GUI thread: opening a big PDF, searching or indexing the corpus.

``start_task(fn, ...)`` runs ``fn(task)`` in the global QThreadPool. ``fn`` reports progress with
``task.progress(done, total, text)`` and checks ``task.cancelled`` often; its return value arrives
in the GUI thread through ``on_result``, an exception through ``on_error``. ``TaskBar`` is the status
bar widget that shows running tasks with a progress bar and a Cancel button.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget
from PySide6.QtCore import Qt


class Cancelled(Exception):
    """Raised by ``task.check()`` when the user cancelled."""


class _Signals(QObject):
    progress = Signal(int, int, str)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()


class Task(QRunnable):
    _running: set["Task"] = set()

    def __init__(self, fn: Callable[["Task"], object], title: str = ""):
        super().__init__()
        self.setAutoDelete(False)
        self.fn = fn
        self.title = title
        self.signals = _Signals()
        self._cancel = threading.Event()
        self.done = threading.Event()

    # API for the function ------------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def progress(self, done: int, total: int = 0, text: str = "") -> None:
        self.signals.progress.emit(int(done), int(total), text)

    # API for the window ----------------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    @Slot()
    def run(self) -> None:  # in a pool thread
        try:
            result = self.fn(self)
        except Cancelled:
            pass
        except Exception as exc:  # shown to the user, the window goes on
            if not self.cancelled:
                self.signals.error.emit(f"{exc}\n{traceback.format_exc(limit=3)}" if not str(exc) else str(exc))
        else:
            if not self.cancelled:
                self.signals.result.emit(result)
        finally:
            self.done.set()
            self.signals.finished.emit()


def start_task(fn: Callable[[Task], object], *, title: str = "", on_result=None, on_error=None,
               on_progress=None, on_finished=None, bar: "TaskBar | None" = None) -> Task:
    task = Task(fn, title)
    if on_result:
        task.signals.result.connect(on_result)
    if on_error:
        task.signals.error.connect(on_error)
    if on_progress:
        task.signals.progress.connect(on_progress)
    Task._running.add(task)
    pool = QThreadPool.globalInstance()
    if pool.maxThreadCount() < 4:
        pool.setMaxThreadCount(4)  # tasks mostly wait on files or hold the GIL in turns: a few more threads

    def finished():
        Task._running.discard(task)
        if on_finished:
            on_finished()

    task.signals.finished.connect(finished)
    if bar is not None:
        bar.track(task)
    QThreadPool.globalInstance().start(task)
    return task


def cancel_all(wait_ms: int = 3000) -> None:
    """Cancel running tasks and wait a little for them (on close)."""
    for task in list(Task._running):
        task.cancel()
    QThreadPool.globalInstance().waitForDone(wait_ms)


class TaskBar(QWidget):
    """Status-bar widget: the running task's title, a progress bar and Cancel."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(160)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("taskCancel")
        self.cancel_button.clicked.connect(self._cancel)
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button)
        self.tasks: list[Task] = []
        self.hide()

    def track(self, task: Task) -> None:
        self.tasks.append(task)
        task.signals.progress.connect(lambda d, t, text, task=task: self._progress(task, d, t, text))
        task.signals.finished.connect(lambda task=task: self._finished(task))
        self._show(task)

    def _show(self, task: Task) -> None:
        self.label.setText(task.title)
        self.bar.setRange(0, 0)  # busy until told otherwise
        self.show()

    def _progress(self, task: Task, done: int, total: int, text: str) -> None:
        if not self.tasks or task is not self.tasks[-1]:
            return
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)
        if text:
            self.label.setText(f"{task.title} — {text}" if task.title else text)

    def _finished(self, task: Task) -> None:
        if task in self.tasks:
            self.tasks.remove(task)
        if self.tasks:
            self._show(self.tasks[-1])
        else:
            self.hide()

    def _cancel(self) -> None:
        for task in list(self.tasks):
            task.cancel()
            self._finished(task)
