"""The annotations dock: the active pane's document's highlights, in reading order.

Each row shows the paragraph, the colour, the quote, its themes and the first line of its note
(all plain text). Clicking a row scrolls the pane to the passage and makes it the current one.
"""

from __future__ import annotations

from difflib import SequenceMatcher

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
        self._rows: list[tuple[str, str, int]] = []  # (id, text, colour) of each item shown
        self._texts: dict[str, tuple[dict, str]] = {}  # id → (the record, its row text)
        self._icons: dict[int, QIcon] = {}
        session.changed.connect(self._session_changed)
        session.currentChanged.connect(self._select_current)
        self.refresh()

    def set_document(self, doc_id: str | None) -> None:
        if doc_id != self.doc_id:
            self.doc_id = doc_id
            self.refresh()

    def _session_changed(self, kinds) -> None:
        if set(kinds) - {"annotations", "links"}:  # a theme renamed or recoloured: rows say it
            self._texts.clear()
        self.refresh()

    def refresh(self) -> None:
        """Bring the list up to date by inserting and removing just the rows that differ: at 2k
        highlights in a document, clearing and refilling it took ~90 ms of every edit."""
        if not self.doc_id:
            self.title.setText("No document in the active pane")
            self._apply_rows([])
            return
        anns = self.session.annotations(self.doc_id)
        needle = self.filter.text().casefold().strip()
        label = self.session.entry_label(self.doc_id)
        self.title.setText(f"{label}: {len(anns)} highlight{'s' if len(anns) != 1 else ''}")
        rows = []
        for ann in anns:
            text = self._row_text(ann)
            if needle and needle not in text.casefold() and needle not in ann.get("note", "").casefold():
                continue
            rows.append((ann["id"], text, self.session.color_of(ann).rgba()))
        self._apply_rows(rows)
        self._select_current(self.session.current_id)

    def _row_text(self, ann: dict) -> str:
        kept = self._texts.get(ann["id"])
        if kept is not None and kept[0] is ann:  # the session's records are replaced when edited
            return kept[1]
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
        text = qt_safe(text)
        self._texts[ann["id"]] = (ann, text)
        return text

    def _apply_rows(self, rows: list[tuple[str, str, int]]) -> None:
        self.list.blockSignals(True)
        ops = SequenceMatcher(None, self._rows, rows, autojunk=False).get_opcodes()
        for tag, i1, i2, j1, j2 in reversed(ops):  # from the end, so earlier indexes stay valid
            if tag == "equal":
                continue
            for _ in range(i2 - i1):
                self.list.takeItem(i1)  # (the item, handed to Python, is freed here)
            for k, (ann_id, text, rgba) in enumerate(rows[j1:j2]):
                item = QListWidgetItem(self._icon(rgba), text)
                item.setData(Qt.ItemDataRole.UserRole, ann_id)
                self.list.insertItem(i1 + k, item)
        self._rows = rows
        if len(self._texts) > 2 * max(len(rows), 500):  # records of other documents, or deleted
            self._texts.clear()
        self.list.blockSignals(False)

    def _icon(self, rgba: int) -> QIcon:
        icon = self._icons.get(rgba)
        if icon is None:
            icon = self._icons[rgba] = swatch(QColor.fromRgba(rgba))
        return icon

    def _select_current(self, ann_id: str) -> None:
        self.list.blockSignals(True)
        self.list.clearSelection()
        row = next((i for i, r in enumerate(self._rows) if r[0] == ann_id), -1) if ann_id else -1
        if row >= 0:
            item = self.list.item(row)
            self.list.setCurrentItem(item)
            self.list.scrollToItem(item)
        self.list.blockSignals(False)

    def _chosen(self, item: QListWidgetItem) -> None:
        self.annotationChosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def ids(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())]
