"""Small dialogs: linking two passages, and the keyboard shortcuts help."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QDialog, QDialogButtonBox, QHeaderView, QLabel, QPlainTextEdit,
    QRadioButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QHBoxLayout,
)

from nkreader.core.library import LINK_TYPES
from nkreader.ui import style
from nkreader.ui.annotations_dock import swatch
from nkreader.ui.offsets import qt_safe


def _plain(text: str, name: str = "") -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setText(qt_safe(text))
    if name:
        label.setObjectName(name)
    return label


class LinkDialog(QDialog):
    """How does passage A relate to passage B? A type and a note."""

    def __init__(self, parent, source_label: str, source_quote: str, target_label: str, target_quote: str,
                 link_type: str = "same-issue", note: str = ""):
        super().__init__(parent)
        self.setWindowTitle("Link passages")
        lay = QVBoxLayout(self)

        def clip(q: str) -> str:
            q = " ".join(q.split())
            return "“" + (q if len(q) <= 260 else q[:259] + "…") + "”"

        lay.addWidget(_plain(source_label, "linkSourceLabel"))
        lay.addWidget(_plain(clip(source_quote), "linkQuote"))
        row = QHBoxLayout()
        self.group = QButtonGroup(self)
        for t in LINK_TYPES:
            b = QRadioButton(style.LINK_LABELS[t])
            b.setIcon(swatch(style.LINK_COLORS[t], 12))
            b.setProperty("link_type", t)
            self.group.addButton(b)
            row.addWidget(b)
            if t == link_type:
                b.setChecked(True)
        lay.addLayout(row)
        lay.addWidget(_plain(target_label, "linkTargetLabel"))
        lay.addWidget(_plain(clip(target_quote), "linkQuote"))
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("Why? (optional note on the link)")
        self.note.setPlainText(note)
        self.note.setMaximumHeight(90)
        lay.addWidget(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Link")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)
        self.resize(560, 360)

    @property
    def link_type(self) -> str:
        b = self.group.checkedButton()
        return b.property("link_type") if b else "same-issue"

    def set_link_type(self, t: str) -> None:
        for b in self.group.buttons():
            b.setChecked(b.property("link_type") == t)

    def keyPressEvent(self, event) -> None:
        # 1-4 choose the type without the mouse
        key = event.text()
        if key in ("1", "2", "3", "4") and not self.note.hasFocus():
            self.set_link_type(LINK_TYPES[int(key) - 1])
            return
        super().keyPressEvent(event)


class ShortcutsDialog(QDialog):
    def __init__(self, parent, rows: list[tuple[str, str, str]]):
        """rows: (group, what, keys)"""
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        lay = QVBoxLayout(self)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["", "Action", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setShowGrid(False)
        for r, (group, what, keys) in enumerate(rows):
            for c, text in enumerate((group, what, keys)):
                item = QTableWidgetItem(text)
                if c == 2:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        lay.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        lay.addWidget(buttons)
        self.resize(560, 640)
