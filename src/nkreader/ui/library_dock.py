"""The library dock: the corpus's documents; open one in the active pane or in a new pane, or add
the reader's own files to the library."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QMenu, QPushButton, QVBoxLayout, QWidget,
)

from nkreader.core.corpus import SUFFIXES
from nkreader.core.model import DocumentError
from nkreader.ui.offsets import qt_safe
from nkreader.ui.safety import message, plain_tooltip

ADD_FILTER = f"Documents ({' '.join('*' + s for s in SUFFIXES)});;All files (*)"


class LibraryDock(QWidget):
    #: doc id, where: "active" | "new"
    openRequested = Signal(str, str)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("libraryDock")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter documents")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setObjectName("documentList")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(False)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        buttons = QHBoxLayout()
        self.open_here = QPushButton("Open")
        self.open_here.setToolTip("Show the chosen document in the active pane (Enter / double-click)")
        self.open_new = QPushButton("New pane")
        self.open_new.setToolTip("Add a pane with the chosen document (Ctrl+Enter)")
        self.add_button = QPushButton("Add…")
        self.add_button.setToolTip("Copy documents of your own into the library (Ctrl+O)")
        buttons.addWidget(self.open_here)
        buttons.addWidget(self.open_new)
        buttons.addWidget(self.add_button)
        lay.addWidget(self.filter)
        lay.addWidget(self.list, 1)
        lay.addLayout(buttons)
        self.filter.textChanged.connect(self._filter)
        self.list.itemActivated.connect(lambda item: self._open(item, "active"))
        self.open_here.clicked.connect(lambda: self._open(self.list.currentItem(), "active"))
        self.open_new.clicked.connect(lambda: self._open(self.list.currentItem(), "new"))
        self.add_button.clicked.connect(lambda: self.add_documents())
        self.list.customContextMenuRequested.connect(self._menu)
        session.changed.connect(lambda kinds: self.refresh() if {"annotations", "corpus"} & kinds else None)
        self.shown: set[str] = set()
        self.refresh()

    def refresh(self) -> None:
        current = self.list.currentItem().data(Qt.ItemDataRole.UserRole) if self.list.currentItem() else None
        self.list.clear()
        for entry in self.session.corpus.entries:
            meta = entry.metadata
            n = len(self.session.annotations(entry.id))
            who = meta.citation or meta.author_label
            marks = f"   ✎ {n}" if n else ""
            shown = "  ● " if entry.id in self.shown else ""
            item = QListWidgetItem(qt_safe(f"{who}{shown}{marks}\n{meta.title}"))
            item.setData(Qt.ItemDataRole.UserRole, entry.id)
            tip = f"{meta.title}\n{meta.author_label}" + (f", {meta.year}" if meta.year else "")
            if meta.venue:
                tip += f"\n{meta.venue}"
            if meta.note:
                tip += f"\n\n{meta.note}"
            item.setToolTip(plain_tooltip(tip))
            self.list.addItem(item)
            if entry.id == current:
                self.list.setCurrentItem(item)
        self._filter(self.filter.text())

    def set_shown(self, doc_ids) -> None:
        doc_ids = set(d for d in doc_ids if d)
        if doc_ids != self.shown:
            self.shown = doc_ids
            self.refresh()

    def add_documents(self, paths=None) -> list:
        """File ▸ Add documents: copy files into the library and list them (the first one
        chosen); the files refused are named with the reason, and nothing else changes."""
        if paths is None:
            paths, _ = QFileDialog.getOpenFileNames(self.window(), "Add documents to the library",
                                                    str(Path.home()), ADD_FILTER)
            if not paths:
                return []
        problems: dict[str, str] = {}
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # each file is opened once to check it
        refused = None
        try:
            added = self.session.library.add_documents(paths, problems)
        except DocumentError as exc:  # the library as a whole refuses (read-only)
            added, refused = [], exc
        finally:
            QGuiApplication.restoreOverrideCursor()
        if refused is not None:
            message(self.window(), "Not added", "No document was added.", informative=str(refused)).exec()
            return []
        if added:
            self.session.notify("corpus")
            self.filter.clear()
            self.select(added[0].id)
            n = len(added)
            self.session.message.emit(f"Added {n} document{'s' if n != 1 else ''} to the library: "
                                      "open with Enter, or Ctrl+Enter for a new pane.")
        if problems:
            n = len(problems)
            message(self.window(), "Not added",
                    f"{n} file{'s were' if n != 1 else ' was'} not added; nothing else was changed.",
                    informative="\n".join(problems.values())).exec()
        return added

    def select(self, doc_id: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == doc_id:
                self.list.setCurrentRow(i)
                self.list.scrollToItem(self.list.item(i))
                return

    def _filter(self, text: str) -> None:
        needle = text.casefold().strip()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().casefold())

    def _open(self, item, where: str) -> None:
        if item is not None:
            self.openRequested.emit(item.data(Qt.ItemDataRole.UserRole), where)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._open(self.list.currentItem(), "new")
            return
        super().keyPressEvent(event)

    def _menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        menu.addAction("Open in active pane", lambda: self._open(item, "active"))
        menu.addAction("Open in new pane", lambda: self._open(item, "new"))
        menu.exec(self.list.viewport().mapToGlobal(pos))
