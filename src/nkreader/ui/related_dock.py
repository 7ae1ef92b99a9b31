"""The related-passages dock: for the current selection, passages by other authors on the same issue.

``RelatedDock(library)`` is a plain QWidget (the main window puts it in a QDockWidget). Call
``set_selection(doc_id, start, end)`` with code-point offsets; the index is built (or read from the
disk cache) in a background thread with a progress bar, then the ranking fills the list. Each row
shows the author, paragraph and a snippet, all as plain text.

* one click on a row emits ``openRequested(doc_id, start, end)``: the window opens it in the
  neighbouring pane;
* "Link" accepts it as a typed link (agrees / disputes / extends / same issue): both passages are
  highlighted if they are not yet, and ``linkAccepted(link)`` is emitted;
* "Dismiss" remembers the dismissal in the store; the list is ranked again without it.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nkreader.core import related as R
from nkreader.core.library import LINK_TYPES
from nkreader.core.model import DocumentError
from nkreader.ui.offsets import qt_safe
from nkreader.ui.safety import plain_tooltip

HIT_ROLE = Qt.ItemDataRole.UserRole + 1
TITLE = "Related passages by other authors"


class _Worker(QObject):
    progress = Signal(int, int)
    finished = Signal(int, object)  # request id, list[RelatedHit] or an Exception

    def __init__(self, lib, request: int, doc_id: str, start: int, end: int, top: int,
                 feedback: R.Feedback, cancel: threading.Event):
        super().__init__()
        self.lib, self.request = lib, request
        self.doc_id, self.start, self.end, self.top = doc_id, start, end, top
        self.feedback, self.cancel = feedback, cancel

    @Slot()
    def run(self) -> None:
        try:
            index = R.index_for_library(self.lib, progress=lambda i, n: self.progress.emit(i, n),
                                        cancel=self.cancel)
            doc = self.lib.document(self.doc_id)
            hits = index.related(doc, self.start, self.end, top=self.top, feedback=self.feedback)
            self.finished.emit(self.request, hits)
        except Exception as exc:  # shown in the dock, never raised into Qt
            self.finished.emit(self.request, exc)


class RelatedDock(QWidget):
    openRequested = Signal(str, int, int)
    linkAccepted = Signal(dict)
    dismissed = Signal(dict)
    resultsReady = Signal(int)  # number of hits shown

    def __init__(self, library, parent: QWidget | None = None, *, top: int = 8):
        super().__init__(parent)
        self.library = library
        self.top = top
        self._selection: tuple[str, int, int] | None = None
        self._request = 0
        self._threads: list[tuple[QThread, _Worker, threading.Event]] = []
        self.hits: list[R.RelatedHit] = []

        self.title = QLabel(TITLE)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.status = QLabel("Select a passage to see where other authors address it.")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.list = QListWidget()
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # wrap, never scroll sideways
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setAlternatingRowColors(True)
        self.list.itemClicked.connect(self._on_clicked)
        self.list.itemActivated.connect(self._on_clicked)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.link_type = QComboBox()
        for t in LINK_TYPES:
            self.link_type.addItem(t.replace("-", " "), t)
        self.link_type.setCurrentIndex(LINK_TYPES.index("same-issue"))
        self.link_button = QPushButton("Link")
        self.link_button.setToolTip("Accept as a link of the chosen type")
        self.link_button.clicked.connect(self.accept_current)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.setToolTip("Not related: suggest it less from now on")
        self.dismiss_button.clicked.connect(self.dismiss_current)

        buttons = QHBoxLayout()
        buttons.addWidget(self.link_type)
        buttons.addWidget(self.link_button)
        buttons.addStretch(1)
        buttons.addWidget(self.dismiss_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    # ------------------------------------------------------------------------------ querying
    def set_selection(self, doc_id: str, start: int, end: int) -> None:
        """Rank related passages for ``doc_id[start:end]`` (code points) in the background."""
        if end <= start:
            self.clear()
            return
        self._selection = (doc_id, start, end)
        self.title.setText(qt_safe(self._describe(doc_id, start, end)))
        self.refresh()

    def _describe(self, doc_id: str, start: int, end: int) -> str:
        """Which passage the list answers, so the reader sees what it follows."""
        corpus = self.library.corpus
        try:
            meta = corpus.entry(doc_id).metadata
        except DocumentError:
            return TITLE
        who = meta.citation or meta.author_label
        if not corpus.is_open(doc_id):  # never read a file here, on the GUI thread
            return f"Other authors on a passage of {who}"
        text = " ".join(corpus.open(doc_id).text[start:end].split())
        short = text if len(text) <= 90 else text[:89] + "…"
        return f"Other authors on “{short}” ({who})"

    def clear(self) -> None:
        self._selection = None
        self.title.setText(TITLE)
        self._request += 1
        self.hits = []
        self.list.clear()
        self.status.setText("Select a passage to see where other authors address it.")
        self._update_buttons()

    def refresh(self) -> None:
        if self._selection is None:
            return
        self._request += 1
        for _, _, cancel in self._threads:
            cancel.set()
        doc_id, start, end = self._selection
        feedback = R.feedback_from_library(self.library)  # read the store here, in the GUI thread
        thread = QThread(self)
        cancel = threading.Event()
        worker = _Worker(self.library, self._request, doc_id, start, end, self.top, feedback, cancel)
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.finished.connect(thread.quit)
        thread.finished.connect(lambda t=thread: self._forget(t))
        self._threads.append((thread, worker, cancel))
        self.status.setText("Finding related passages…")
        thread.start()

    def _forget(self, thread: QThread) -> None:
        self._threads = [x for x in self._threads if x[0] is not thread]
        thread.deleteLater()

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        if done >= total:
            self.progress.setVisible(False)
            return
        self.progress.setVisible(True)
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText(f"Indexing the corpus: {done} of {total} documents…")

    @Slot(int, object)
    def _on_finished(self, request: int, result) -> None:
        if request != self._request:
            return  # a newer selection is on its way
        self.progress.setVisible(False)
        if isinstance(result, R.Cancelled):
            return
        if isinstance(result, Exception):
            self.hits = []
            self.list.clear()
            self.status.setText(f"Could not rank related passages: {result}")
            self.resultsReady.emit(0)
            return
        self.show_hits(result)

    def show_hits(self, hits: list[R.RelatedHit]) -> None:
        self.hits = list(hits)
        self.list.clear()
        for h in self.hits:
            meta = self.library.corpus.entry(h.doc_id).metadata
            who = meta.citation or meta.author_label
            where = f"¶{h.paragraph}" + (f", p. {h.page_label or h.page}" if h.page is not None else "")
            body = " ".join(h.text.split())
            body = body if len(body) <= 240 else body[:237] + "…"
            item = QListWidgetItem(f"{who}, {where}  ({h.score:.2f})\n{body}")  # plain text
            item.setData(HIT_ROLE, h)
            item.setToolTip(plain_tooltip(f"{meta.title}\n{who}, {where}"))
            self.list.addItem(item)
        self.status.setText(f"{len(self.hits)} passages by other authors" if self.hits
                            else "No related passages in the other documents.")
        self._update_buttons()
        self.resultsReady.emit(len(self.hits))

    # ------------------------------------------------------------------------------ actions
    def _update_buttons(self) -> None:
        ok = self.list.currentItem() is not None and self._selection is not None
        self.link_button.setEnabled(ok and not self.library.store.readonly)
        self.dismiss_button.setEnabled(ok and not self.library.store.readonly)

    def _on_clicked(self, item: QListWidgetItem) -> None:
        h = item.data(HIT_ROLE)
        if h is not None:
            self.openRequested.emit(h.doc_id, h.start, h.end)

    def current_hit(self) -> R.RelatedHit | None:
        item = self.list.currentItem()
        return item.data(HIT_ROLE) if item is not None else None

    def _annotation_for(self, doc_id: str, start: int, end: int) -> dict:
        for ann in self.library.annotations(doc_id):
            t = ann["target"]
            if t["start"] == start and t["end"] == end:
                return ann
        return self.library.highlight(doc_id, start, end)

    def accept_current(self) -> dict | None:
        h = self.current_hit()
        if h is None or self._selection is None:
            return None
        doc_id, start, end = self._selection
        source = self._annotation_for(doc_id, start, end)
        target = self._annotation_for(h.doc_id, h.start, h.end)
        link = self.library.link(source["id"], target["id"], self.link_type.currentData())
        self.linkAccepted.emit(link)
        self.status.setText(f"Linked ({link['type'].replace('-', ' ')}).")
        return link

    def dismiss_current(self) -> dict | None:
        h = self.current_hit()
        if h is None or self._selection is None:
            return None
        doc_id, start, end = self._selection
        doc = self.library.document(doc_id)
        record = R.dismiss(self.library, doc_id, start, end, h, quote=doc.text[start:end])
        self.dismissed.emit(record)
        self.refresh()
        return record

    def shutdown(self) -> None:
        """Stop background work (call before the library closes)."""
        for thread, _, cancel in list(self._threads):
            cancel.set()
            thread.quit()
            thread.wait(5000)
