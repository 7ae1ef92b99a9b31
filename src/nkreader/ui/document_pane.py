"""A document pane: header (author, year, title), the reading view with paragraph numbers, highlights
and note markers in a margin, a find bar (Ctrl+F) and a bar to step through the chosen theme.

The text is put into the QTextDocument with ``QTextCursor.insertText`` (through
``offsets.insert_text``): plain characters only, never HTML, so nothing in a document can become
an image, a link or markup. Highlights are *extra selections* laid over the text, so the document
itself never changes after it is built, and every offset crosses the core/Qt boundary through
``ui/offsets.py``.

A PDF or EPUB can also be shown as its pages (``ui/page_view.py``), in a stack with the text view,
toggled with Ctrl+Shift+P or the "Pages" button (``set_paged``). While the pages are shown
(``paged``), the selection, scrolling and find methods of the pane answer for the page view, each
with an ``if self._paged:`` at its top, so the window's actions (highlight, note, code, link, copy
with citation) work on a selection made on the page. Both views draw the session's annotations, so
a highlight made in one shows in the other.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction, QColor, QFont, QFontMetrics, QKeySequence, QPainter, QPainterPath, QPalette, QPen,
    QTextBlockFormat, QTextCharFormat, QTextCursor, QTextDocument, QTextFormat,
)
from PySide6.QtWidgets import (
    QComboBox, QFrame, QHBoxLayout, QLabel, QLineEdit, QMenu, QProgressBar, QPushButton, QSizePolicy,
    QStackedWidget, QTextEdit, QToolButton, QToolTip, QVBoxLayout, QWidget,
)

from nkreader.core.model import Document, DocumentError, PasswordRequired
from nkreader.ui import passwords, style
from nkreader.ui.offsets import OffsetMap, insert_text, qt_safe
from nkreader.ui.safety import plain_tooltip
from nkreader.ui.workers import start_task

MARGIN_WIDTH = 58
PAGE_VIEW_SHORTCUT = "Ctrl+Shift+P"  # the page view / reflowed text toggle of a pane
SYNC_OPEN_BYTES = 2_000_000  # text files below this size open on the GUI thread (a few ms)


def _plain_label(text: str = "", name: str = "") -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setText(qt_safe(text))
    if name:
        label.setObjectName(name)
    return label


_NOTE_MARKER: QPainterPath | None = None


def _note_marker() -> QPainterPath:
    """A small speech bubble, 14×15 px, made once."""
    global _NOTE_MARKER
    if _NOTE_MARKER is None:
        path = QPainterPath()
        path.addRoundedRect(QRectF(0, 0, 14, 11), 3, 3)
        tail = QPainterPath()
        tail.moveTo(3, 10)
        tail.lineTo(3, 15)
        tail.lineTo(8, 10)
        tail.closeSubpath()
        _NOTE_MARKER = path.united(tail)
    return _NOTE_MARKER


class Margin(QWidget):
    """Paragraph numbers, page labels, a bar beside each highlight and a marker for each note."""

    def __init__(self, view: "ReaderView"):
        super().__init__(view)
        self.view = view
        self.setMouseTracking(True)
        self._markers: list[tuple[QRect, str]] = []

    def sizeHint(self) -> QSize:
        return QSize(MARGIN_WIDTH, 0)

    def paintEvent(self, event) -> None:
        view = self.view
        pane = view.pane
        s = pane.scheme
        p = QPainter(self)
        p.fillRect(event.rect(), QColor(s.margin))
        p.setPen(QPen(QColor(s.border)))
        p.drawLine(self.width() - 1, event.rect().top(), self.width() - 1, event.rect().bottom())
        self._markers = []
        doc = pane.doc
        if doc is None or pane.omap is None:
            return
        first_cp, last_cp = view.visible_span()
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, pane.font_size * 0.72))
        p.setFont(font)
        fm = QFontMetrics(font)
        # paragraph numbers (and pages)
        starts = pane.para_starts
        lo = max(0, bisect_right(starts, first_cp) - 1)
        hi = bisect_right(starts, last_cp)
        number_right = self.width() - 8
        p.setPen(QColor(s.muted))
        for para in doc.paragraphs[lo:hi]:
            top, _ = view.span_y_viewport(para.start, para.start + 1)
            if top < 0:
                # the paragraph began above the viewport: keep its number in sight at the top
                nxt = view.span_y_viewport(para.end, para.end + 1)[0] if para.end < len(doc.text) else top + 1e9
                top = min(2.0, nxt - fm.height() - 4)
            rect = QRect(0, int(top), number_right, fm.height() + 2)
            p.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, str(para.number))
        if doc.pages:
            pstarts = pane.page_starts
            plo = max(0, bisect_right(pstarts, first_cp) - 1)
            phi = bisect_right(pstarts, last_cp)
            p.setPen(QColor(s.accent))
            for page in doc.pages[plo:phi]:
                top, _ = view.span_y_viewport(page.start, page.start + 1)
                label = f"p.{page.label or page.number}"
                p.drawText(QRect(3, int(top), self.width(), fm.height() + 2),
                           Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, label)
                p.drawLine(3, int(top), 14, int(top))
        # highlight bars and note markers
        bar_x = self.width() - 5
        clip = event.rect()
        for start, end, _fill, _under, bar, ann_id, has_note in pane.visible_mark_records(first_cp, last_cp):
            top, bottom = view.span_y_viewport(start, end)
            if bottom < clip.top() or top > clip.bottom():
                continue
            p.fillRect(QRectF(bar_x, top + 2, 3, max(4.0, bottom - top - 4)), bar)
            if has_note:
                r = QRect(4, int(top) + 2, 14, 11)
                p.save()
                p.translate(r.topLeft())
                p.setPen(QPen(bar.darker(160), 1))
                p.setBrush(bar)
                p.drawPath(_note_marker())
                p.restore()
                self._markers.append((r.adjusted(-2, -2, 2, 5), ann_id))

    def _marker_at(self, pos: QPoint) -> str | None:
        return next((ann_id for rect, ann_id in self._markers if rect.contains(pos)), None)

    def mousePressEvent(self, event) -> None:
        ann_id = self._marker_at(event.position().toPoint())
        if ann_id:
            self.view.pane.activate_annotation(ann_id, scroll=False)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        ann_id = self._marker_at(event.position().toPoint())
        self.setCursor(Qt.CursorShape.PointingHandCursor if ann_id else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            ann_id = self._marker_at(event.pos())
            ann = self.view.pane.session.annotation(ann_id) if ann_id else None
            if ann and ann.get("note"):
                QToolTip.showText(event.globalPos(), plain_tooltip(ann["note"]), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)


class ReaderView(QTextEdit):
    """The read-only reading surface: selectable text, never editable, never navigable."""

    def __init__(self, pane: "DocumentPane"):
        super().__init__(pane)
        self.pane = pane
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.setAcceptRichText(False)
        self.setAcceptDrops(False)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setLineWrapMode(QTextEdit.LineWrapMode.WidgetWidth)
        self.setObjectName("readerView")
        self.margin = Margin(self)
        self.setViewportMargins(MARGIN_WIDTH, 0, 0, 0)
        self._y_cache: dict[tuple[int, int], tuple[float, float]] = {}
        self._rect_cache: dict[tuple[int, int], list[QRectF]] = {}
        self._width = -1
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    # geometry --------------------------------------------------------------------------------
    def setDocument(self, document) -> None:
        super().setDocument(document)
        document.documentLayout().documentSizeChanged.connect(lambda _size: self.invalidate_geometry())
        self.invalidate_geometry()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        cr = self.contentsRect()
        self.margin.setGeometry(QRect(cr.left(), cr.top(), MARGIN_WIDTH, cr.height()))
        if self.viewport().width() != self._width:
            self._width = self.viewport().width()
            self.invalidate_geometry()

    def _scrolled(self, _value: int) -> None:
        self.margin.update()
        self.pane.scrolled.emit()

    def invalidate_geometry(self) -> None:
        """Forget cached line positions (the layout changed: new text, width or font)."""
        self._y_cache.clear()
        self._rect_cache.clear()

    def span_y(self, start: int, end: int) -> tuple[float, float]:
        """Top and bottom, in document coordinates, of the lines holding code points [start, end)."""
        hit = self._y_cache.get((start, end))
        if hit is not None:
            return hit
        omap = self.pane.omap
        qs = omap.to_qt(start)
        qe = max(qs, omap.to_qt(end) - 1)
        top = self._line_y(qs)[0]
        bottom = self._line_y(qe)[1] if qe != qs else self._line_y(qs)[1]
        self._y_cache[(start, end)] = (top, bottom)
        return top, bottom

    def _line_y(self, pos: int) -> tuple[float, float]:
        doc = self.document()
        block = doc.findBlock(pos)
        if not block.isValid():
            block = doc.lastBlock()
        rect = doc.documentLayout().blockBoundingRect(block)
        layout = block.layout()
        line = layout.lineForTextPosition(max(0, pos - block.position())) if layout else None
        if line is not None and line.isValid():
            return rect.top() + line.y(), rect.top() + line.y() + line.height()
        return rect.top(), rect.bottom()

    def span_rects(self, start: int, end: int) -> list[QRectF]:
        """One rectangle per line of code points [start, end), in document coordinates (cached)."""
        key = (start, end)
        hit = self._rect_cache.get(key)
        if hit is not None:
            return hit
        omap = self.pane.omap
        qs, qe = omap.to_qt(start), omap.to_qt(end)
        doc = self.document()
        layout_of = doc.documentLayout()
        rects: list[QRectF] = []
        block = doc.findBlock(qs)
        while block.isValid() and block.position() < qe:
            layout = block.layout()
            bpos = block.position()
            br = layout_of.blockBoundingRect(block)
            for i in range(layout.lineCount()):
                line = layout.lineAt(i)
                ls = bpos + line.textStart()
                le = ls + line.textLength()
                a, b = max(qs, ls), min(qe, le)
                if a >= b:
                    if ls >= qe:
                        break
                    continue
                x1 = line.cursorToX(a - bpos)
                x2 = line.cursorToX(b - bpos)
                x1 = x1[0] if isinstance(x1, tuple) else x1
                x2 = x2[0] if isinstance(x2, tuple) else x2
                h = line.ascent() + line.descent()
                rects.append(QRectF(br.left() + min(x1, x2), br.top() + line.y() - 1, abs(x2 - x1), h + 2))
            block = block.next()
        self._rect_cache[key] = rects
        return rects

    def span_y_viewport(self, start: int, end: int) -> tuple[float, float]:
        top, bottom = self.span_y(start, end)
        off = self.verticalScrollBar().value()
        return top - off, bottom - off

    def paintEvent(self, event) -> None:
        """Highlight backgrounds first (cheap rectangles from cached line geometry), then the text."""
        pane = self.pane
        if pane.doc is not None and pane.omap is not None:
            p = QPainter(self.viewport())
            dx, dy = self.horizontalScrollBar().value(), self.verticalScrollBar().value()
            p.translate(-dx, -dy)
            clip = QRectF(event.rect()).translated(dx, dy)  # only what Qt asks for (a strip, when scrolling)
            pane.paint_marks(p, *self.visible_span(), clip=clip)
            p.end()
        super().paintEvent(event)

    def visible_span(self) -> tuple[int, int]:
        """Code points at the start of the top line and the end of the bottom line in the viewport."""
        omap = self.pane.omap
        off = self.verticalScrollBar().value()
        a = self._pos_at_y(off, end=False)
        b = self._pos_at_y(off + self.viewport().height(), end=True)
        return omap.from_qt(a), omap.from_qt(b) + 1

    def _pos_at_y(self, y: float, *, end: bool) -> int:
        """Qt position at the start (or end) of the line at height ``y`` (document coordinates)."""
        doc = self.document()
        lay = doc.documentLayout()
        lo, hi = 0, doc.blockCount() - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if lay.blockBoundingRect(doc.findBlockByNumber(mid)).bottom() <= y:
                lo = mid + 1
            else:
                hi = mid
        block = doc.findBlockByNumber(lo)
        if not block.isValid():
            return 0
        top = lay.blockBoundingRect(block).top()
        layout = block.layout()
        for i in range(layout.lineCount()):
            line = layout.lineAt(i)
            if top + line.y() + line.height() > y or i == layout.lineCount() - 1:
                start = block.position() + line.textStart()
                return start + line.textLength() if end else start
        return block.position()

    # interaction -------------------------------------------------------------------------------
    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and not self.textCursor().hasSelection():
            pos = self.cursorForPosition(event.position().toPoint()).position()
            ann = self.pane.annotation_at(self.pane.omap.from_qt(pos))
            if ann is not None:
                self.pane.activate_annotation(ann["id"], scroll=False)

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        self.pane.activated.emit(self.pane)

    def contextMenuEvent(self, event) -> None:
        menu = QMenu(self)
        pane = self.pane
        for action in pane.context_actions:
            menu.addAction(action)
        if pane.context_actions:
            menu.addSeparator()
        copy = menu.addAction("Copy")
        copy.setEnabled(self.textCursor().hasSelection())
        copy.triggered.connect(self.copy)
        select_para = menu.addAction("Select paragraph")
        pos = self.cursorForPosition(event.pos()).position()
        select_para.triggered.connect(lambda: pane.select_paragraph_at(pane.omap.from_qt(pos)))
        menu.exec(event.globalPos())

    def canInsertFromMimeData(self, source) -> bool:  # read-only, and never HTML
        return False

    def createMimeDataFromSelection(self):
        mime = super().createMimeDataFromSelection()
        text = mime.text()
        mime.clear()
        mime.setText(text)  # plain text only on the clipboard
        return mime


class FindBar(QFrame):
    """Find in this pane: all matches marked, Enter / Shift+Enter (F3 / Shift+F3) step through them."""

    def __init__(self, pane: "DocumentPane"):
        super().__init__(pane)
        self.pane = pane
        self.setObjectName("findBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 3, 6, 3)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Find in this text")
        self.edit.setClearButtonEnabled(True)
        self.case = QToolButton()
        self.case.setText("Aa")
        self.case.setCheckable(True)
        self.case.setToolTip("Match case")
        self.count = _plain_label("", "findCount")
        prev_b, next_b, close_b = QToolButton(), QToolButton(), QToolButton()
        prev_b.setText("▲")
        prev_b.setToolTip("Previous match (Shift+F3)")
        next_b.setText("▼")
        next_b.setToolTip("Next match (F3)")
        close_b.setText("✕")
        close_b.setToolTip("Close (Esc)")
        for w in (self.edit, self.case, self.count, prev_b, next_b, close_b):
            lay.addWidget(w)
        self.edit.textChanged.connect(lambda _t: pane.find(self.edit.text(), self.case.isChecked()))
        self.case.toggled.connect(lambda _c: pane.find(self.edit.text(), self.case.isChecked()))
        self.edit.returnPressed.connect(lambda: pane.find_step(+1))
        prev_b.clicked.connect(lambda: pane.find_step(-1))
        next_b.clicked.connect(lambda: pane.find_step(+1))
        close_b.clicked.connect(pane.close_find)
        self.hide()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.pane.close_find()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.pane.find_step(-1)
            return
        super().keyPressEvent(event)


class ThemeBar(QFrame):
    """Shown while a theme is chosen: this text's passages on it, with previous / next."""

    def __init__(self, pane: "DocumentPane"):
        super().__init__(pane)
        self.pane = pane
        self.setObjectName("themeBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 6, 2)
        self.swatch = QLabel()
        self.swatch.setFixedSize(12, 12)
        self.label = _plain_label("", "themeBarLabel")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.prev_b, self.next_b = QToolButton(), QToolButton()
        self.prev_b.setText("◀")
        self.prev_b.setToolTip("Previous passage on this theme")
        self.next_b.setText("▶")
        self.next_b.setToolTip("Next passage on this theme")
        lay.addWidget(self.swatch)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.prev_b)
        lay.addWidget(self.next_b)
        self.prev_b.clicked.connect(lambda: pane.theme_step(-1))
        self.next_b.clicked.connect(lambda: pane.theme_step(+1))
        self.hide()

    def show_theme(self, theme: dict | None, index: int, total: int) -> None:
        if theme is None:
            self.hide()
            return
        self.swatch.setStyleSheet(f"background:{QColor(theme.get('color', '#888')).name()}; border-radius:6px;")
        if total:
            self.label.setText(f"{theme['name']} — passage {index + 1} of {total} in this text"
                               if index >= 0 else f"{theme['name']} — {total} passage{'s' if total != 1 else ''} in this text")
        else:
            self.label.setText(f"{theme['name']} — no passage in this text yet")
        self.prev_b.setEnabled(total > 0)
        self.next_b.setEnabled(total > 0)
        self.show()


class LoadingBar(QFrame):
    def __init__(self, pane: "DocumentPane"):
        super().__init__(pane)
        self.setObjectName("loadingBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        self.label = _plain_label("")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setMaximumHeight(12)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        lay.addWidget(self.label, 1)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel)
        self.hide()


PLACEHOLDER = "Choose a document above."


class NoticeBar(QFrame):
    """What the reader must know about the pane's document, in the pane itself (the status bar
    forgets): it cannot be opened, it has no text to annotate, it was repaired, its encoding was
    guessed. Plain text only; dismissed with its button or by the next document."""

    def __init__(self, pane: "DocumentPane"):
        super().__init__(pane)
        self.setObjectName("noticeBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 4, 4)
        self.label = _plain_label("", "noticeText")
        self.label.setWordWrap(True)
        self.close = QToolButton()
        self.close.setText("✕")
        self.close.setAutoRaise(True)
        self.close.setToolTip("Dismiss this notice")
        self.close.clicked.connect(self.hide)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.close, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_messages(self, messages) -> None:
        text = "\n".join(m for m in messages if m)
        self.label.setText(text)
        self.setVisible(bool(text))


class DocumentPane(QFrame):
    activated = Signal(object)          # this pane got the focus
    scrolled = Signal()
    documentChanged = Signal(object)    # this pane; its document changed
    selectionChanged = Signal(object)
    closeRequested = Signal(object)
    annotationActivated = Signal(str)
    viewStateChanged = Signal(object)   # this pane; its page view toggle changed (enabled, on/off, active) or its zoom

    def __init__(self, session, parent: QWidget | None = None, *, dark: bool = False,
                 font_size: float = style.DEFAULT_FONT_SIZE):
        super().__init__(parent)
        self.session = session
        self.setObjectName("documentPane")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.scheme = style.scheme(dark)
        self.font_size = float(font_size)
        self.doc: Document | None = None
        self.omap: OffsetMap | None = None
        self.para_starts: list[int] = []
        self.page_starts: list[int] = []
        self.context_actions: list[QAction] = []
        self._anns: list[dict] = []
        self._ann_starts: list[int] = []
        self._max_len = 0
        self._matches: list[tuple[int, int]] = []
        self._match_starts: list[int] = []
        self._match_index = -1
        self._mark_cache: list[tuple] | None = None
        self._theme_passages: list[dict] = []
        self._theme_index = -1
        self._loading = None
        self._pending_top: int | None = None
        self.active = False

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.header = QFrame()
        self.header.setObjectName("paneHeader")
        hl = QVBoxLayout(self.header)
        hl.setContentsMargins(10, 6, 8, 8)
        hl.setSpacing(1)
        top = QHBoxLayout()
        top.setSpacing(4)
        self.chooser = QComboBox()
        self.chooser.setObjectName("docChooser")
        self.chooser.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.chooser.setMinimumContentsLength(12)
        self.chooser.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.chooser.setToolTip("Choose the document shown in this pane")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setObjectName("paneClose")
        self.close_button.setToolTip("Close this pane (Ctrl+W)")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(lambda: self.closeRequested.emit(self))
        # PDF and EPUB: the pages as printed or the reflowed text (the page view is made below)
        self.page_action = QAction("Page view", self)
        self.page_action.setObjectName("action_page_view")
        self.page_action.setCheckable(True)
        self.page_action.setEnabled(False)
        self.page_action.setShortcut(QKeySequence(PAGE_VIEW_SHORTCUT))
        self.page_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.page_action.setToolTip(f"Show the pages as printed, or the reflowed text ({PAGE_VIEW_SHORTCUT})")
        self.page_action.toggled.connect(self.set_paged)
        self.addAction(self.page_action)
        self.page_button = QToolButton()
        self.page_button.setObjectName("pageViewToggle")
        self.page_action.setIconText("Pages")  # what the button says (kept when the action changes)
        self.page_button.setDefaultAction(self.page_action)
        self.page_button.setAutoRaise(True)
        self.page_button.setVisible(False)
        top.addWidget(self.chooser, 1)
        top.addWidget(self.page_button)
        top.addWidget(self.close_button)
        hl.addLayout(top)
        self.author_label = _plain_label("", "paneAuthor")
        self.title_label = _plain_label("", "paneTitle")
        self.title_label.setWordWrap(True)
        self.venue_label = _plain_label("", "paneVenue")
        self.venue_label.setWordWrap(True)
        hl.addSpacing(4)
        hl.addWidget(self.author_label)
        hl.addWidget(self.title_label)
        hl.addWidget(self.venue_label)
        lay.addWidget(self.header)
        self.theme_bar = ThemeBar(self)
        lay.addWidget(self.theme_bar)
        self.loading = LoadingBar(self)
        self.loading.cancel.clicked.connect(self.cancel_loading)
        lay.addWidget(self.loading)
        self.notice = NoticeBar(self)
        lay.addWidget(self.notice)
        self.view = ReaderView(self)
        self.view.setPlaceholderText(PLACEHOLDER)
        # the text view and the page view in a stack; while the pages are shown (``paged``) the
        # selection, scrolling and find methods below answer for the page view. The page view is
        # made the first time it is wanted (its modules stay off the start-up path: ~11 ms)
        self._paged = False
        self._page_view = self._page_panel = self._page_bar = None
        #: an encrypted document not reopened at start-up (``open_document(ask_password=False)``):
        #: kept so that the window's saved state still names it
        self.locked_doc_id: str | None = None
        self._paged_pending_top: int | None = None  # see top_offset
        self.views = QStackedWidget(self)
        self.views.setObjectName("paneViews")
        self.views.addWidget(self.view)
        self.views.setCurrentWidget(self.view)
        lay.addWidget(self.views, 1)
        self.find_bar = FindBar(self)
        lay.addWidget(self.find_bar)
        self.view.selectionChanged.connect(lambda: self.selectionChanged.emit(self))
        self.chooser.activated.connect(self._chosen)
        self.fill_chooser()
        session.changed.connect(self._session_changed)
        session.currentChanged.connect(lambda _id: self._marks_changed())
        session.activeThemeChanged.connect(self._theme_changed)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh_highlights)
        self.apply_scheme(self.scheme)

    # documents ---------------------------------------------------------------------------------
    @property
    def doc_id(self) -> str | None:
        return self.doc.id if self.doc else None

    def fill_chooser(self) -> None:
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for entry in self.session.corpus.entries:
            meta = entry.metadata
            label = f"{meta.citation or meta.author_label} — {meta.title}"
            self.chooser.addItem(qt_safe(label), entry.id)
        self.chooser.setCurrentIndex(self.chooser.findData(self.doc_id) if self.doc else -1)
        self.chooser.blockSignals(False)

    def _chosen(self, index: int) -> None:
        doc_id = self.chooser.itemData(index)
        if doc_id and doc_id != self.doc_id:
            self.open_document(doc_id)
            self.activated.emit(self)

    def open_document(self, doc_id: str, *, top_offset: int | None = None, on_ready=None,
                      ask_password: bool = True) -> None:
        """Show a document: at once if it is small or already open, else loaded off the GUI thread.

        An encrypted PDF asks for its password; with ``ask_password=False`` (restoring the window at
        start-up) it is not opened: the pane stays as it was, the status bar says why, and the
        document is kept in ``locked_doc_id``."""
        if self._loading is not None:
            self._loading.cancel()
            self._loading = None
        self.notice.hide()  # about the document asked for before
        session = self.session
        try:
            entry = session.corpus.entry(doc_id)
        except DocumentError as exc:
            session.message.emit(str(exc))
            return
        small = entry.path.suffix.lower() in (".txt", ".md", ".markdown")
        try:
            small = small and entry.path.stat().st_size < SYNC_OPEN_BYTES
        except OSError:
            pass
        if small or session.is_loaded(entry.id):
            try:
                doc = session.document(entry.id)
            except PasswordRequired:
                self._locked(entry, top_offset=top_offset, on_ready=on_ready, ask=ask_password)
                return
            except DocumentError as exc:
                self._could_not_open(entry, str(exc))
                return
            self.set_document(doc, top_offset=top_offset)
            if on_ready:
                on_ready(self)
            return

        def failed(text):
            self._could_not_open(entry, text)

        def locked(_exc: PasswordRequired):
            self._locked(entry, top_offset=top_offset, on_ready=on_ready, ask=ask_password)

        self._load(entry, lambda t: session.document(entry.id), top_offset=top_offset, on_ready=on_ready,
                   on_failed=failed, on_locked=locked)

    def _could_not_open(self, entry, text: str) -> None:
        """Say so in the pane and the status bar; the pane keeps what it showed before."""
        name = entry.path.name
        if text.startswith(name + " "):  # "x.pdf is damaged..." -> "Could not open x.pdf: it is damaged..."
            text = "it " + text[len(name) + 1:]
        message = f"Could not open {name}: {text}"
        self.session.message.emit(message)
        self.notice.show_messages([message])
        self.fill_chooser()

    def _locked(self, entry, *, top_offset, on_ready, ask: bool) -> None:
        if ask:
            self._open_encrypted(entry, top_offset=top_offset, on_ready=on_ready)
            return
        self.locked_doc_id = entry.id
        self.session.message.emit(f"{entry.path.name} is encrypted: it was not reopened at start-up. "
                                  "Choose it in the pane's list of documents to enter its password.")
        self.fill_chooser()

    def _load(self, entry, fn, *, top_offset, on_ready, on_failed, on_locked, on_opened=None) -> None:
        """Run ``fn`` (opening ``entry``) off the GUI thread, with the loading bar; then show the result.

        ``on_locked(exc)`` is called when ``fn`` raised ``PasswordRequired`` (an encrypted PDF),
        ``on_failed(text)`` for any other error."""
        self.loading.label.setText(f"Opening {entry.metadata.citation or entry.path.name}…")
        self.loading.show()

        def done(doc):
            self._loading = None
            self.loading.hide()
            if isinstance(doc, PasswordRequired):
                on_locked(doc)
                return
            if on_opened:
                on_opened(doc)
            self.set_document(doc, top_offset=top_offset)
            if on_ready:
                on_ready(self)

        def failed(text):
            self._loading = None
            self.loading.hide()
            on_failed(text)

        task = start_task(passwords.returning_password_error(fn), title=f"Opening {entry.path.name}",
                          on_result=lambda doc: done(doc) if self._loading is task else None,
                          on_error=lambda text: failed(text) if self._loading is task else None)
        self._loading = task
        self._loading_place = (entry.id, top_offset or 0)

    def _open_encrypted(self, entry, *, top_offset=None, on_ready=None, wrong: bool = False) -> None:
        """``entry`` is an encrypted PDF: open it with the password known for it in this run, or ask.

        A wrong password is refused (the dialog says so) and asked again until the user cancels."""
        session = self.session
        name = entry.path.name
        password = None if wrong else passwords.known(entry.path)
        typed = password is None
        if typed:
            password = passwords.ask_password(self, name, wrong=wrong)
            if password is None:
                session.message.emit(f"{name} is encrypted: it was not opened without its password.")
                self.fill_chooser()
                return

        def opened(doc):
            passwords.remember(entry.path, password)

        def locked(_exc: PasswordRequired):
            passwords.forget(entry.path)
            # a password just typed was wrong: say so; a remembered one no longer fits: just ask
            QTimer.singleShot(0, self, lambda: self._open_encrypted(entry, top_offset=top_offset, on_ready=on_ready,
                                                              wrong=typed))

        def failed(text):
            self._could_not_open(entry, text)

        self._load(entry, lambda t: session.document(entry.id, password), top_offset=top_offset,
                   on_ready=on_ready, on_failed=failed, on_locked=locked, on_opened=opened)

    def cancel_loading(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
            self._loading = None
        self.loading.hide()
        self.fill_chooser()

    def set_document(self, doc: Document | None, *, top_offset: int | None = None) -> None:
        self.doc = doc
        self.locked_doc_id = None
        self.notice.show_messages(doc.warnings if doc is not None else ())
        self.view.setPlaceholderText("" if doc is not None else PLACEHOLDER)
        self._paged_pending_top: int | None = None
        self._matches, self._match_index = [], -1
        if doc is None:
            self.omap = None
            self.view.setDocument(QTextDocument(self.view))
            self.author_label.setText("")
            self.title_label.setText("")
            self.venue_label.setText("")
            self.fill_chooser()
            self._update_page_view()
            self.documentChanged.emit(self)
            return
        self.omap = OffsetMap(doc.text)
        try:
            self.session.reanchor(doc)
        except Exception as exc:  # never block reading on it
            self.session.message.emit(f"Could not check the highlights of {doc.id}: {exc}")
        self.para_starts = [p.start for p in doc.paragraphs]
        self.page_starts = [p.start for p in doc.pages]
        meta = doc.metadata
        who = meta.author_label
        self.author_label.setText(f"{who} · {meta.year}" if meta.year else f"{who} · n.d.")
        self.title_label.setText(meta.title or doc.path.name)
        venue = meta.venue
        if doc.paginated:
            venue = f"{venue} · {len(doc.pages)} pages" if venue else f"{len(doc.pages)} pages"
        self.venue_label.setText(venue)
        self.venue_label.setVisible(bool(venue))
        tip = meta.note or ""
        self.author_label.setToolTip(plain_tooltip(tip) if tip else "")
        self._build_text_document()
        self.fill_chooser()
        self.refresh_highlights()
        self._update_theme_bar(navigate=False)
        self._update_page_view()
        if self.can_page() and not doc.text.strip():
            self.set_paged(True)  # a scanned PDF: no text to reflow, so show its pages
        self.documentChanged.emit(self)
        if top_offset is not None:
            self._pending_top = top_offset
            QTimer.singleShot(0, self._apply_pending_top)

    def _apply_pending_top(self) -> None:
        if self._pending_top is not None and self.doc is not None:
            self.scroll_to_offset(self._pending_top, fraction=0.0)
        self._pending_top = None

    def _build_text_document(self) -> None:
        doc = self.doc
        qdoc = QTextDocument(self.view)
        qdoc.setUndoRedoEnabled(False)
        qdoc.setDocumentMargin(18)
        qdoc.setDefaultFont(style.reading_font(self.font_size))
        cursor = QTextCursor(qdoc)
        cursor.beginEditBlock()
        insert_text(cursor, doc.text)
        cursor.endEditBlock()
        self._format_blocks(qdoc)
        self.view.setDocument(qdoc)
        self.view.invalidate_geometry()

    def _format_blocks(self, qdoc: QTextDocument) -> None:
        """Reading typography: generous line height; blank lines between paragraphs kept short."""
        body = QTextBlockFormat()
        body.setLineHeight(148, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
        gap = QTextBlockFormat()
        gap.setLineHeight(55, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
        cursor = QTextCursor(qdoc)
        block = qdoc.begin()
        while block.isValid():
            cursor.setPosition(block.position())
            cursor.setBlockFormat(gap if not block.text().strip() else body)
            block = block.next()
        # short paragraphs without closing punctuation read as headings: set them a little bolder
        heading = QTextCharFormat()
        heading.setFontWeight(QFont.Weight.DemiBold)
        omap = self.omap
        for para in self.doc.paragraphs:
            t = self.doc.text[para.start:para.end].strip()
            if 0 < len(t) <= 90 and t[-1] not in ".,;:!?)\"'”’" and "\n" not in t:
                cursor.setPosition(omap.to_qt(para.start))
                cursor.setPosition(omap.to_qt(para.end), QTextCursor.MoveMode.KeepAnchor)
                cursor.mergeCharFormat(heading)

    # the page view (PDF, EPUB) --------------------------------------------------------------------
    @property
    def page_view(self):
        """The pane's ``PageView`` (made when first asked for)."""
        if self._page_view is None:
            self._make_page_view()
        return self._page_view

    @property
    def page_panel(self) -> QWidget:
        """The page view with its bar (zoom, page), as it sits in the stack ``views``."""
        if self._page_panel is None:
            self._make_page_view()
        return self._page_panel

    @property
    def page_bar(self):
        if self._page_bar is None:
            self._make_page_view()
        return self._page_bar

    def has_page_view(self) -> bool:
        return self._page_view is not None

    def _make_page_view(self) -> None:
        from nkreader.ui.page_view import page_view_panel

        self._page_panel, self._page_view, self._page_bar = page_view_panel(self.session, self)
        self.views.addWidget(self._page_panel)
        self._page_view.apply_scheme(self.scheme)
        view = self._page_view
        view.context_actions_for = lambda: self.context_actions
        view.spanSelected.connect(lambda *_: self.selectionChanged.emit(self))
        view.selectionChanged.connect(lambda: self.selectionChanged.emit(self))
        view.annotationClicked.connect(lambda ann_id: self.activate_annotation(ann_id, scroll=False))
        view.focused.connect(lambda: self.activated.emit(self))
        view.verticalScrollBar().valueChanged.connect(self._page_view_scrolled)
        self.view.verticalScrollBar().valueChanged.connect(self._text_view_scrolled)
        view.message.connect(self.session.message.emit)
        view.wordsReady.connect(lambda _i: self._paged and self._update_gutters())
        view.zoomChanged.connect(lambda _z: self.viewStateChanged.emit(self))

    @staticmethod
    def _follow(source, target) -> None:
        """Scroll bar ``target`` to the fraction ``source`` is at, quietly (no valueChanged)."""
        frac = source.value() / source.maximum() if source.maximum() else 0.0
        target.blockSignals(True)
        target.setValue(round(frac * target.maximum()))
        target.blockSignals(False)

    def _page_view_scrolled(self, _value: int) -> None:
        if self._paged and self.page_view.ready():  # (not while the pages are being opened)
            # the hidden text view keeps the same fraction: what reads this pane's place from its
            # text view's scroll bar (the window's synchronised scrolling) follows the pages
            self._follow(self.page_view.verticalScrollBar(), self.view.verticalScrollBar())
            self.scrolled.emit()

    def _text_view_scrolled(self, _value: int) -> None:
        if self._paged:  # scrolled from outside (synchronised scrolling): the pages follow
            # (not ``_follow``: the page view must hear its scroll bar move, to draw and render)
            src, dst = self.view.verticalScrollBar(), self.page_view.verticalScrollBar()
            dst.setValue(round((src.value() / src.maximum() if src.maximum() else 0.0) * dst.maximum()))

    def _update_gutters(self) -> None:
        """The link ribbons beside this pane are drawn again (in a window's splitter)."""
        splitter = self.parentWidget()
        if hasattr(splitter, "gutters_of"):
            for gutter in splitter.gutters_of(self):
                gutter.update()

    @property
    def paged(self) -> bool:
        """True while the pages as printed are shown (the page view), False for the reflowed text."""
        return self._paged

    def can_page(self) -> bool:
        doc = self.doc
        return doc is not None and doc.paginated and doc.kind in ("pdf", "epub")

    def set_paged(self, on: bool) -> None:
        """Show the pages (``on``) or the reflowed text, keeping the place and the selection."""
        on = bool(on) and self.can_page()
        if self.page_action.isChecked() != on:
            self.page_action.blockSignals(True)
            self.page_action.setChecked(on)
            self.page_action.blockSignals(False)
        if on == self._paged:
            return
        # of the view shown until now (pages not opened yet: the text view never left its place)
        top = None if self._paged and not self.page_view.ready() else self.top_offset()
        span = self.selection_span()
        self._paged = on
        if on:
            if self.page_view.doc is not self.doc:
                self.page_view.set_document(self.doc, password=self.password_for(self.doc))
            self.page_view.set_matches(self._matches, self._match_index)
            self.views.setCurrentWidget(self.page_panel)
            self.view.setFocusProxy(self.page_view)  # who focuses the pane's view gets the pages
            focus = self.page_view
        else:
            self.view.setFocusProxy(None)
            self.views.setCurrentWidget(self.view)
            focus = self.view
        if top is not None:
            self.scroll_to_offset(top, 0.0)
        if span:
            self.select_span(*span)
        focus.setFocus()
        self.selectionChanged.emit(self)
        self.viewStateChanged.emit(self)

    def toggle_paged(self) -> None:
        self.set_paged(not self._paged)

    def opening(self) -> tuple[str, int] | None:
        """(document id, top offset) of the document being opened off the GUI thread, if any."""
        return getattr(self, "_loading_place", None) if self._loading is not None else None

    def view_state(self) -> dict:
        """What the window saves of this pane's view: ``paged``, and the page view's ``zoom``
        ("fit-width", "fit-page" or a percent) once the pane has a page view."""
        state: dict = {"paged": self._paged}
        if self._page_view is not None:
            state["zoom"] = self._page_view.zoom
        return state

    def apply_view_state(self, state: dict) -> None:
        """Show the pages again if ``state`` (from ``view_state``) says so, at its zoom; a zoom not
        understood is ignored. A pane whose document has no pages stays in the text view."""
        if not isinstance(state, dict) or not state.get("paged") or not self.can_page():
            return
        zoom = state.get("zoom")
        if isinstance(zoom, (str, int, float)) and not isinstance(zoom, bool):
            try:
                self.page_view.set_zoom(zoom)
            except (ValueError, TypeError):
                pass
        self.set_paged(True)

    def _update_page_view(self) -> None:
        """After a document change: the toggle is offered for PDF and EPUB only."""
        can = self.can_page()
        self.page_action.setEnabled(can)
        self.page_button.setVisible(can)
        if not can:
            self.set_paged(False)
            if self._page_view is not None:
                self._page_view.set_document(None)
        elif self._paged:
            self.page_view.set_document(self.doc, password=self.password_for(self.doc))
            self.page_view.set_matches([], -1)
        self.viewStateChanged.emit(self)

    def password_for(self, doc: Document | None) -> str | None:
        """The password an encrypted document was opened with (kept in memory, never saved)."""
        return passwords.password_for(doc)

    # appearance ------------------------------------------------------------------------------------
    def apply_scheme(self, scheme: style.Scheme) -> None:
        self.scheme = scheme
        if self._page_view is not None:
            self._page_view.apply_scheme(scheme)
        pal = self.view.palette()
        pal.setColor(QPalette.ColorRole.Base, QColor(scheme.base))
        pal.setColor(QPalette.ColorRole.Text, QColor(scheme.text))
        pal.setColor(QPalette.ColorRole.Highlight, QColor(scheme.selection))
        pal.setColor(QPalette.ColorRole.HighlightedText, QColor(scheme.text))
        pal.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.Highlight, QColor(scheme.selection))
        pal.setColor(QPalette.ColorGroup.Inactive, QPalette.ColorRole.HighlightedText, QColor(scheme.text))
        self.view.setPalette(pal)
        self.view.viewport().setPalette(pal)
        self.view.viewport().setAutoFillBackground(True)
        self.refresh_highlights()
        self.view.margin.update()

    def set_font_size(self, size: float) -> None:
        size = max(style.MIN_FONT_SIZE, min(style.MAX_FONT_SIZE, float(size)))
        if size == self.font_size:
            return
        top = self.top_offset()
        self.font_size = size
        qdoc = self.view.document()
        qdoc.setDefaultFont(style.reading_font(size))
        self.view.invalidate_geometry()
        if top is not None:
            QTimer.singleShot(0, lambda: self.scroll_to_offset(top, fraction=0.0))
        self.view.margin.update()

    def set_active(self, active: bool) -> None:
        self.active = active
        self.header.setProperty("active", active)
        self.header.style().unpolish(self.header)
        self.header.style().polish(self.header)
        if active:
            self.viewStateChanged.emit(self)

    # annotations -----------------------------------------------------------------------------------
    def _session_changed(self, kinds) -> None:
        if "corpus" in kinds:  # documents added: the chooser offers them
            self.fill_chooser()
        if kinds & {"annotations", "themes"}:
            self._refresh_timer.start()
            if self.session.active_theme:
                self._update_theme_bar(navigate=False)

    def refresh_highlights(self) -> None:
        if self.doc is None:
            self._anns, self._ann_starts, self._max_len = [], [], 0
            self.view.viewport().update()
            return
        anns = [a for a in self.session.annotations(self.doc.id) if a.get("status", "anchored") != "orphan"]
        self._anns = anns
        self._ann_starts = [a["target"]["start"] for a in anns]
        self._max_len = max((a["target"]["end"] - a["target"]["start"] for a in anns), default=0)
        self._marks_changed()

    def _marks_changed(self) -> None:
        self._mark_cache = None
        self.view.viewport().update()
        self.view.margin.update()

    def _cursor(self, start: int, end: int) -> QTextCursor:
        c = QTextCursor(self.view.document())
        c.setPosition(self.omap.to_qt(start))
        c.setPosition(self.omap.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
        return c

    def _mark_records(self) -> list[tuple]:
        """(start, end, fill, underline, bar colour, id, has note) per highlight, sorted by start;
        made once per change (colours, the current passage, the followed theme), not per frame."""
        if self._mark_cache is None:
            s = self.scheme
            session = self.session
            current = session.current_id
            theme_id = session.active_theme
            theme = session.theme(theme_id) if theme_id else None
            records = []
            fills: dict[tuple[int, int], QColor] = {}  # one fill per colour and alpha, not per highlight
            for ann in self._anns:
                t = ann["target"]
                color = session.color_of(ann)
                alpha = s.highlight_alpha
                under = None
                if theme and theme_id in ann.get("themes", []):
                    under = QColor(theme["color"])
                    alpha = min(255, alpha + 30)
                if ann["id"] == current:
                    alpha = min(255, alpha + 55)
                    under = color.darker(150) if under is None else under
                fill = fills.get((color.rgba(), alpha))
                if fill is None:
                    fill = fills[(color.rgba(), alpha)] = style.translucent(color, alpha)
                records.append((t["start"], t["end"], fill, under, color, ann["id"], bool(ann.get("note"))))
            self._mark_cache = records
        return self._mark_cache

    def visible_mark_records(self, first_cp: int, last_cp: int) -> list[tuple]:
        records = self._mark_records()
        lo = bisect_left(self._ann_starts, first_cp - self._max_len)
        hi = bisect_right(self._ann_starts, last_cp)
        return [r for r in records[lo:hi] if r[1] >= first_cp]

    def marks(self, first_cp: int = 0, last_cp: int | None = None) -> list[tuple[int, int, QColor, QColor | None]]:
        """What is painted under the text between two offsets: (start, end, fill, underline or None),
        highlights (longest first, so shorter ones lie on top), then find-in-pane matches."""
        if last_cp is None:
            last_cp = len(self.doc.text) if self.doc else 0
        visible = self.visible_mark_records(first_cp, last_cp)
        visible.sort(key=lambda r: r[0] - r[1])
        out = [(r[0], r[1], r[2], r[3]) for r in visible]
        if self._matches:
            s = self.scheme
            lo = max(0, bisect_left(self._match_starts, first_cp) - 1)
            hi = bisect_right(self._match_starts, last_cp)
            for i in range(lo, hi):
                a, b = self._matches[i]
                out.append((a, b, style.translucent(s.search, 230 if i == self._match_index else 110), None))
        return out

    def paint_marks(self, p: QPainter, first_cp: int, last_cp: int, clip: QRectF | None = None) -> None:
        view = self.view
        top = clip.top() if clip is not None else float("-inf")
        bottom = clip.bottom() if clip is not None else float("inf")
        for start, end, fill, under in self.marks(first_cp, last_cp):
            for r in view.span_rects(start, end):
                if r.bottom() < top or r.top() > bottom:
                    continue
                p.fillRect(r, fill)
                if under is not None:
                    p.fillRect(QRectF(r.left(), r.bottom() - 2, r.width(), 2), under)

    def _apply_extra_selections(self) -> None:
        self._marks_changed()
        if self._paged:
            self.page_view.set_matches(self._matches, self._match_index)

    def visible_annotations(self, first_cp: int, last_cp: int) -> list[dict]:
        lo = bisect_left(self._ann_starts, first_cp - self._max_len)
        hi = bisect_right(self._ann_starts, last_cp)
        return [a for a in self._anns[lo:hi] if a["target"]["end"] >= first_cp]

    def annotation_at(self, cp: int) -> dict | None:
        hits = [a for a in self.visible_annotations(cp, cp) if a["target"]["start"] <= cp < a["target"]["end"]]
        return min(hits, key=lambda a: a["target"]["end"] - a["target"]["start"]) if hits else None

    def annotations_in_selection(self) -> list[dict]:
        span = self.selection_span()
        if span is None:
            return []
        a, b = span
        return [x for x in self.visible_annotations(a, b) if x["target"]["start"] < b and x["target"]["end"] > a]

    def activate_annotation(self, ann_id: str, *, scroll: bool = True) -> None:
        ann = self.session.annotation(ann_id)
        if ann is None or self.doc is None or ann["doc_id"] != self.doc.id:
            return
        if scroll:
            self.scroll_to_span(ann["target"]["start"], ann["target"]["end"])
        self.session.set_current(ann_id)
        self.annotationActivated.emit(ann_id)
        self.activated.emit(self)

    # selection and scrolling ---------------------------------------------------------------------------
    def selection_span(self) -> tuple[int, int] | None:
        """The selected text as a code-point span, trimmed of surrounding white space."""
        if self._paged:
            return self.page_view.selection_span()
        c = self.view.textCursor()
        if not c.hasSelection() or self.omap is None:
            return None
        a, b = self.omap.from_qt(c.selectionStart()), self.omap.from_qt(c.selectionEnd())
        text = self.doc.text
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        return (a, b) if b > a else None

    def select_span(self, start: int, end: int) -> None:
        if self._paged:
            self.page_view.select_span(start, end)
            return
        self.view.setTextCursor(self._cursor(start, end))

    def select_paragraph_at(self, cp: int) -> None:
        if self.doc is None:
            return
        para = self.doc.paragraph_at(cp)
        if para:
            self.select_span(para.start, para.end)

    def clear_selection(self) -> None:
        if self._paged:
            self.page_view.clear_selection()
            return
        c = self.view.textCursor()
        c.clearSelection()
        self.view.setTextCursor(c)

    def scroll_to_span(self, start: int, end: int, fraction: float = 0.3) -> None:
        if self.doc is None:
            return
        if self._paged:
            self.page_view.scroll_to_span(start, end, fraction)
            return
        top, bottom = self.view.span_y(start, end)
        vh = self.view.viewport().height()
        target = top - vh * fraction
        if bottom - top > vh * (1 - fraction):
            target = top - 12
        self.view.verticalScrollBar().setValue(int(max(0, target)))

    def scroll_to_offset(self, cp: int, fraction: float = 0.0) -> None:
        if self.doc is None:
            return
        if self._paged:
            if not self.page_view.ready():  # the pages are being opened: go there once they are
                self._paged_pending_top = cp
            self.page_view.scroll_to_offset(cp, fraction)
            return
        cp = max(0, min(cp, len(self.doc.text)))
        top, _ = self.view.span_y(cp, min(len(self.doc.text), cp + 1))
        vh = self.view.viewport().height()
        self.view.verticalScrollBar().setValue(int(max(0, top - vh * fraction - (6 if fraction == 0 else 0))))

    def top_offset(self) -> int | None:
        if self.doc is None:
            return None
        if self._paged:
            top = self.page_view.top_offset()
            if top is None and not self.page_view.ready():  # the place it is going to (saved state)
                return self._paged_pending_top
            return top
        if self.view.verticalScrollBar().value() == 0:
            return 0
        return self.view.visible_span()[0]

    def reading_viewport(self) -> QWidget:
        """The viewport of the view shown now (the text's or the pages'), for ``span_y_viewport``."""
        return self.page_view.viewport() if self._paged else self.view.viewport()

    def span_y_viewport(self, start: int, end: int) -> tuple[float, float] | None:
        """Top and bottom of [start, end) in ``reading_viewport()`` pixels (None while unknown: a page
        whose words have not arrived yet)."""
        return self.span_locator()(start, end)

    def span_locator(self):
        """``span_y_viewport`` for many spans at one scroll position (the link gutter, each paint):
        a function of (start, end), with the view and its scroll offset looked up once."""
        if self.doc is None:
            return lambda _start, _end: None
        if self._paged:
            return self.page_view.span_y_viewport
        span_y = self.view.span_y
        off = self.view.verticalScrollBar().value()

        def locate(start: int, end: int) -> tuple[float, float]:
            top, bottom = span_y(start, end)
            return top - off, bottom - off

        return locate

    def is_span_visible(self, start: int, end: int) -> bool:
        if self._paged:
            return self.page_view.is_span_visible(start, end)
        top, bottom = self.view.span_y_viewport(start, end)
        return bottom > 0 and top < self.view.viewport().height()

    # find in pane ------------------------------------------------------------------------------------
    def open_find(self) -> None:
        self.find_bar.show()
        span = self.selection_span()
        if span and span[1] - span[0] < 80:
            self.find_bar.edit.setText(self.doc.text[span[0]:span[1]])
        self.find_bar.edit.setFocus()
        self.find_bar.edit.selectAll()

    def close_find(self) -> None:
        self.find_bar.hide()
        self._matches, self._match_index = [], -1
        self._apply_extra_selections()
        self.view.setFocus()

    def find(self, query: str, case: bool = False) -> int:
        self._matches, self._match_index = [], -1
        if self.doc is not None and query.strip():
            pattern = r"\s+".join(re.escape(w) for w in query.split())
            flags = 0 if case else re.IGNORECASE
            for m in re.finditer(pattern, self.doc.text, flags):
                self._matches.append((m.start(), m.end()))
                if len(self._matches) >= 5000:
                    break
        self._match_starts = [a for a, _b in self._matches]
        if self._matches:
            top = self.top_offset() or 0
            self._match_index = next((i for i, (a, _b) in enumerate(self._matches) if a >= top), 0)
            a, b = self._matches[self._match_index]
            self.scroll_to_span(a, b)
        self._update_find_count()
        self._apply_extra_selections()
        return len(self._matches)

    def find_step(self, step: int) -> None:
        if not self._matches:
            if self.find_bar.edit.text():
                self.find(self.find_bar.edit.text(), self.find_bar.case.isChecked())
            return
        self._match_index = (self._match_index + step) % len(self._matches)
        a, b = self._matches[self._match_index]
        self.scroll_to_span(a, b)
        self._update_find_count()
        self._apply_extra_selections()

    def _update_find_count(self) -> None:
        q = self.find_bar.edit.text().strip()
        if not q:
            self.find_bar.count.setText("")
        elif not self._matches:
            self.find_bar.count.setText("no match")
        else:
            self.find_bar.count.setText(f"{self._match_index + 1} of {len(self._matches)}")

    @property
    def matches(self) -> list[tuple[int, int]]:
        return list(self._matches)

    # themes --------------------------------------------------------------------------------------
    def _theme_changed(self, theme_id: str) -> None:
        self._update_theme_bar(navigate=bool(theme_id))
        self._apply_extra_selections()

    def _update_theme_bar(self, navigate: bool) -> None:
        theme_id = self.session.active_theme
        theme = self.session.theme(theme_id) if theme_id else None
        if theme is None or self.doc is None:
            self._theme_passages, self._theme_index = [], -1
            self.theme_bar.show_theme(None, -1, 0)
            return
        self._theme_passages = [a for a in self.session.annotations(self.doc.id) if theme_id in a.get("themes", [])]
        if navigate:
            self._theme_index = 0 if self._theme_passages else -1
            if self._theme_passages:
                t = self._theme_passages[0]["target"]
                self.scroll_to_span(t["start"], t["end"])
        elif self._theme_index >= len(self._theme_passages):
            self._theme_index = len(self._theme_passages) - 1
        self.theme_bar.show_theme(theme, self._theme_index, len(self._theme_passages))

    def theme_step(self, step: int) -> None:
        if not self._theme_passages:
            return
        self._theme_index = (self._theme_index + step) % len(self._theme_passages)
        ann = self._theme_passages[self._theme_index]
        self.activate_annotation(ann["id"])
        self.theme_bar.show_theme(self.session.theme(self.session.active_theme), self._theme_index,
                                  len(self._theme_passages))

    @property
    def theme_passages(self) -> list[dict]:
        return list(self._theme_passages)


def follow_page_view_action(window, action: QAction) -> None:
    """Make ``action`` (the window's View > Page view) follow the window's active pane: enabled
    when its document has pages, checked while they are shown.

    The window's action holds the Ctrl+Shift+P shortcut then: each pane's own toggle action loses
    it (two actions with one shortcut in one focus chain are ambiguous, and neither would fire)."""

    def update(*_args) -> None:
        pane = window.active_pane
        action.setEnabled(pane is not None and pane.can_page())
        action.setChecked(pane is not None and pane.paged)

    def adopt(pane) -> None:
        pane.page_action.setShortcut(QKeySequence())
        pane.viewStateChanged.connect(lambda p: update() if p is window.active_pane else None)
        update()

    for pane in window.panes:
        adopt(pane)
    window.paneAdded.connect(adopt)
    update()


def toggle_page_view(window, checked: bool | None = None) -> None:
    """The window's View > Page view: the active pane shows its pages, or its reflowed text."""
    pane = window.active_pane
    if pane is not None:
        pane.set_paged(checked if isinstance(checked, bool) else not pane.paged)
        action = window.actions_by_name.get("page_view")
        if action is not None:
            action.setChecked(pane.paged)
