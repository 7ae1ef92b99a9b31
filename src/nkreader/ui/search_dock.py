"""Search across the corpus, off the GUI thread, results listed in context (plain text).

Opening every document can take a while when the corpus holds big PDFs, so the search runs as a
background task with progress and Cancel; each hit shows the document, paragraph and the words
around the match, the match drawn in bold by a delegate (never as markup).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette
from PySide6.QtWidgets import (
    QCheckBox, QHBoxLayout, QLabel, QLineEdit, QProgressBar, QPushButton, QStyle, QStyledItemDelegate,
    QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from nkreader.core.model import DocumentError
from nkreader.ui.offsets import qt_safe
from nkreader.ui.workers import start_task

ROLE_HIT = Qt.ItemDataRole.UserRole
CONTEXT = 60
MAX_HITS = 2000


@dataclass(frozen=True)
class Hit:
    doc_id: str
    start: int
    end: int
    paragraph: int | None
    before: str
    match: str
    after: str


def compile_query(query: str, *, case: bool = False, whole_words: bool = False) -> re.Pattern | None:
    words = query.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    if whole_words:
        pattern = rf"(?<!\w){pattern}(?!\w)"
    return re.compile(pattern, 0 if case else re.IGNORECASE)


def search_corpus(corpus, pattern: re.Pattern, task=None, limit: int = MAX_HITS) -> list[Hit]:
    """Every match of ``pattern`` in every document of ``corpus``, with its context."""
    hits: list[Hit] = []
    entries = list(corpus.entries)
    for i, entry in enumerate(entries):
        if task is not None:
            task.check()
            task.progress(i, len(entries), entry.metadata.citation or entry.path.name)
        try:
            doc = corpus.open(entry.id)
        except DocumentError:
            continue
        text = doc.text
        for m in pattern.finditer(text):
            a, b = m.start(), m.end()
            para = doc.paragraph_at(a)
            lo = max(0, a - CONTEXT)
            hi = min(len(text), b + CONTEXT)
            hits.append(Hit(entry.id, a, b, para.number if para else None,
                            ("…" if lo > 0 else "") + " ".join(text[lo:a].split()) + (" " if text[a - 1:a].isspace() else ""),
                            " ".join(m.group(0).split()),
                            (" " if text[b:b + 1].isspace() else "") + " ".join(text[b:hi].split()) + ("…" if hi < len(text) else "")))
            if len(hits) >= limit:
                return hits
    if task is not None:
        task.progress(len(entries), len(entries), "")
    return hits


class HitDelegate(QStyledItemDelegate):
    """Paints "before **match** after" as plain text, the match bold and tinted."""

    def paint(self, painter, option, index) -> None:
        hit = index.data(ROLE_HIT)
        if not isinstance(hit, Hit):
            return super().paint(painter, option, index)
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget else None
        option.text = ""
        if style:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        rect = option.rect.adjusted(4, 2, -4, -2)
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        pal = option.palette
        text_color = pal.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
        base_font = QFont(option.font)
        bold = QFont(option.font)
        bold.setBold(True)
        fm, bfm = QFontMetrics(base_font), QFontMetrics(bold)
        # fit: keep the match visible, trim the context on the left first
        before, match, after = qt_safe(hit.before), hit.match, hit.after
        if hit.paragraph is not None:
            label = f"¶{hit.paragraph}"
            painter.setFont(base_font)
            painter.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            lw = fm.horizontalAdvance(label) + 8
            painter.drawText(QRect(rect.left(), rect.top(), lw, rect.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)
            rect = rect.adjusted(max(lw, fm.horizontalAdvance("¶000") + 8), 0, 0, 0)
        avail = rect.width()
        mw = bfm.horizontalAdvance(match)
        left_room = max(0, (avail - mw) // 2)
        before = fm.elidedText(before, Qt.TextElideMode.ElideLeft, max(left_room, avail - mw - fm.horizontalAdvance(after)))
        x = rect.left()
        y = rect.top()
        h = rect.height()
        painter.setPen(text_color)
        painter.setFont(base_font)
        w = fm.horizontalAdvance(before)
        painter.drawText(QRect(x, y, w + 1, h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, before)
        x += w
        painter.setFont(bold)
        painter.setPen(text_color if selected else QColor("#c0561a"))
        match_el = bfm.elidedText(match, Qt.TextElideMode.ElideRight, max(10, rect.right() - x))
        w = bfm.horizontalAdvance(match_el)
        painter.drawText(QRect(x, y, w + 1, h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, match_el)
        x += w
        painter.setFont(base_font)
        painter.setPen(text_color)
        rest = fm.elidedText(after, Qt.TextElideMode.ElideRight, max(0, rect.right() - x))
        painter.drawText(QRect(x, y, rect.right() - x, h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, rest)
        painter.restore()

    def sizeHint(self, option, index) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), QFontMetrics(option.font).height() + 6))


class SearchDock(QWidget):
    #: doc id, start, end (code points)
    hitChosen = Signal(str, int, int)

    def __init__(self, session, parent=None, task_bar=None):
        super().__init__(parent)
        self.session = session
        self.task_bar = task_bar
        self.task = None
        self.hits: list[Hit] = []
        self.setObjectName("searchDock")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        row = QHBoxLayout()
        self.query = QLineEdit()
        self.query.setPlaceholderText("Search every document (Enter)")
        self.query.setClearButtonEnabled(True)
        self.go = QPushButton("Search")
        row.addWidget(self.query, 1)
        row.addWidget(self.go)
        opts = QHBoxLayout()
        self.case = QCheckBox("Match case")
        self.words = QCheckBox("Whole words")
        opts.addWidget(self.case)
        opts.addWidget(self.words)
        opts.addStretch(1)
        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(10)
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.cancel_b = QPushButton("Cancel")
        self.cancel_b.hide()
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.progress)
        status_row.addWidget(self.cancel_b)
        self.results = QTreeWidget()
        self.results.setObjectName("searchResults")
        self.results.setHeaderHidden(True)
        self.results.setColumnCount(1)
        self.results.setItemDelegate(HitDelegate(self.results))
        self.results.setUniformRowHeights(True)
        lay.addLayout(row)
        lay.addLayout(opts)
        lay.addLayout(status_row)
        lay.addWidget(self.results, 1)
        self.query.returnPressed.connect(self.search)
        self.go.clicked.connect(self.search)
        self.cancel_b.clicked.connect(self.cancel)
        self.results.itemActivated.connect(self._chosen)
        self.results.itemClicked.connect(self._chosen)

    def focus_query(self, text: str = "") -> None:
        if text:
            self.query.setText(text)
        self.query.setFocus()
        self.query.selectAll()

    def search(self, query: str | None = None) -> None:
        if query is not None and not isinstance(query, bool):
            self.query.setText(query)
        pattern = compile_query(self.query.text(), case=self.case.isChecked(), whole_words=self.words.isChecked())
        self.cancel()
        self.results.clear()
        self.hits = []
        if pattern is None:
            self.status.setText("")
            return
        corpus = self.session.corpus
        self.status.setText("Searching…")
        self.progress.setRange(0, 0)
        self.progress.show()
        self.cancel_b.show()

        def progress(done, total, _text):
            if total:
                self.progress.setRange(0, total)
                self.progress.setValue(done)

        self.task = start_task(lambda task: search_corpus(corpus, pattern, task), title="Searching the corpus",
                               on_result=self._show, on_error=self._failed, on_progress=progress,
                               on_finished=self._finished, bar=self.task_bar)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None
            self.status.setText("Search cancelled")
            self._finished()

    def _finished(self) -> None:
        self.progress.hide()
        self.cancel_b.hide()

    def _failed(self, text: str) -> None:
        self.task = None
        self.status.setText(f"Search failed: {text}")

    def _show(self, hits: list[Hit]) -> None:
        self.task = None
        self.hits = hits
        self.results.clear()
        groups: dict[str, QTreeWidgetItem] = {}
        for hit in hits:
            group = groups.get(hit.doc_id)
            if group is None:
                group = QTreeWidgetItem([qt_safe(self.session.entry_label(hit.doc_id))])
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                groups[hit.doc_id] = group
                self.results.addTopLevelItem(group)
            item = QTreeWidgetItem([qt_safe(f"¶{hit.paragraph}  {hit.before}{hit.match}{hit.after}")])
            item.setData(0, ROLE_HIT, hit)
            item.setToolTip(0, "")
            group.addChild(item)
        for group in groups.values():
            group.setText(0, qt_safe(f"{group.text(0)} — {group.childCount()}"))
            group.setExpanded(True)
        n = len(hits)
        more = " (first results only)" if n >= MAX_HITS else ""
        self.status.setText(f"{n} match{'es' if n != 1 else ''} in {len(groups)} document{'s' if len(groups) != 1 else ''}{more}"
                            if n else "No match")

    def _chosen(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        hit = item.data(0, ROLE_HIT)
        if isinstance(hit, Hit):
            self.hitChosen.emit(hit.doc_id, hit.start, hit.end)
