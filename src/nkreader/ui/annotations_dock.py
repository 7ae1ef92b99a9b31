"""The annotations dock: the active pane's document's highlights, in reading order.

Each row shows the paragraph, the colour, the quote, its themes and the first line of its note
(all plain text). Clicking a row scrolls the pane to the passage and makes it the current one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from nkreader.ui.offsets import qt_safe


def swatch(color: QColor | str, size: int = 12) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(color))
    return QIcon(pm)


def _one_line(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class AnnotationsDock(QWidget):
    annotationChosen = Signal(str)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.doc_id: str | None = None
        self.setObjectName("annotationsDock")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setObjectName("dockTitle")
        self.title.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter highlights and notes")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setObjectName("annotationList")
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        lay.addWidget(self.title)
        lay.addWidget(self.filter)
        lay.addWidget(self.list, 1)
        self.list.itemClicked.connect(self._chosen)
        self.list.itemActivated.connect(self._chosen)
        self.filter.textChanged.connect(lambda _t: self.refresh())
        session.changed.connect(lambda kinds: self.refresh())
        session.currentChanged.connect(self._select_current)
        self.refresh()

    def set_document(self, doc_id: str | None) -> None:
        if doc_id != self.doc_id:
            self.doc_id = doc_id
            self.refresh()

    def refresh(self) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        if not self.doc_id:
            self.title.setText("No document in the active pane")
            self.list.blockSignals(False)
            return
        anns = self.session.annotations(self.doc_id)
        needle = self.filter.text().casefold().strip()
        label = self.session.entry_label(self.doc_id)
        self.title.setText(f"{label}: {len(anns)} highlight{'s' if len(anns) != 1 else ''}")
        for ann in anns:
            themes = self.session.theme_names(ann)
            note = ann.get("note", "")
            where = self.session.citation(ann).split(", ", 1)[-1]
            text = f"{where}  “{_one_line(ann['target']['exact'], 110)}”"
            if themes:
                text += "\n◆ " + ", ".join(themes)
            if note:
                text += "\n✎ " + _one_line(note, 120)
            if ann.get("status") == "orphan":
                text = "⚠ could not be placed in the current text — " + text
            if needle and needle not in text.casefold() and needle not in note.casefold():
                continue
            item = QListWidgetItem(swatch(self.session.color_of(ann)), qt_safe(text))
            item.setData(Qt.ItemDataRole.UserRole, ann["id"])
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._select_current(self.session.current_id)

    def _select_current(self, ann_id: str) -> None:
        self.list.blockSignals(True)
        self.list.clearSelection()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == ann_id:
                self.list.setCurrentItem(item)
                self.list.scrollToItem(item)
                break
        self.list.blockSignals(False)

    def _chosen(self, item: QListWidgetItem) -> None:
        self.annotationChosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def ids(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]
