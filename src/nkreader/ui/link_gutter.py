"""Ribbons between neighbouring panes, joining linked passages as a diff viewer joins changed lines.

The splitter that holds the panes draws its handles as ``LinkGutter``s: for every link with one
end in the left pane's document and one in the right's, and both ends on screen, a band shaped by
two cubic Bézier curves runs from the left passage's lines to the right passage's lines, coloured
by link type. Clicking a ribbon brings both ends into view, level with each other. Dragging the
gutter elsewhere still resizes the panes.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSplitter, QSplitterHandle, QToolTip

from nkreader.ui import style
from nkreader.ui.safety import plain_tooltip

GUTTER_WIDTH = 54
SMOOTH_RIBBONS = 24  # above this many ribbons on screen, fills are drawn without anti-aliasing
STRAIGHT_RIBBONS = 80  # above this many, ribbons are straight bands (a crowd reads the same, 5x cheaper)


class LinkGutter(QSplitterHandle):
    def __init__(self, orientation, splitter: "LinkSplitter"):
        super().__init__(orientation, splitter)
        self.setMouseTracking(True)
        self._ribbons: list[tuple[QPainterPath, dict]] = []
        self.hovered: str | None = None
        self._press_pos: QPoint | None = None

    # the panes either side -------------------------------------------------------------------
    def neighbours(self):
        sp: LinkSplitter = self.splitter()
        i = sp.indexOf(self)
        if i <= 0 or i >= sp.count():
            return None, None
        return sp.widget(i - 1), sp.widget(i)

    def ribbons(self) -> list[tuple[QPainterPath, dict]]:
        """The ribbons to draw now: (path in gutter coordinates, link)."""
        left, right = self.neighbours()
        out: list[tuple[QPainterPath, dict]] = []
        if left is None or right is None or left.doc is None or right.doc is None or left.doc.id == right.doc.id:
            return out
        session = left.session
        lview, rview = left.view, right.view
        ldy = lview.viewport().mapTo(self.window(), QPoint(0, 0)).y() - self.mapTo(self.window(), QPoint(0, 0)).y()
        rdy = rview.viewport().mapTo(self.window(), QPoint(0, 0)).y() - self.mapTo(self.window(), QPoint(0, 0)).y()
        lh, rh = lview.viewport().height(), rview.viewport().height()
        loff, roff = lview.verticalScrollBar().value(), rview.verticalScrollBar().value()
        w = float(self.width())
        for link, a, b in session.links_between(left.doc.id, right.doc.id):
            at, bt = a["target"], b["target"]
            lt, lb = lview.span_y(at["start"], at["end"])
            lt, lb = lt - loff, lb - loff
            if lb < 0 or lt > lh:
                continue
            rt, rb = rview.span_y(bt["start"], bt["end"])
            rt, rb = rt - roff, rb - roff
            if rb < 0 or rt > rh:
                continue
            y1, y2 = max(lt, 0) + ldy, min(lb, lh) + ldy
            y3, y4 = max(rt, 0) + rdy, min(rb, rh) + rdy
            out.append(((y1, y2, y3, y4), link))
        if len(out) > STRAIGHT_RIBBONS:
            return [(band_path(w, *ys), link) for ys, link in out]
        return [(ribbon_path(w, *ys), link) for ys, link in out]

    def paintEvent(self, event) -> None:
        left, _right = self.neighbours()
        p = QPainter(self)
        s = left.scheme if left is not None else style.LIGHT
        p.fillRect(self.rect(), QColor(s.gutter))
        p.setPen(QPen(QColor(s.border), 1))
        p.drawLine(0, 0, 0, self.height())
        p.drawLine(self.width() - 1, 0, self.width() - 1, self.height())
        self._ribbons = self.ribbons()
        if not self._ribbons:
            # a grip so the handle still reads as draggable
            p.setPen(QPen(QColor(s.muted), 1))
            cx, cy = self.width() // 2, self.height() // 2
            for dy in (-6, 0, 6):
                p.drawPoint(cx, cy + dy)
            return
        # level of detail: a few ribbons are drawn smooth and outlined; a crowd (where single
        # outlines cannot be told apart anyway) is filled without anti-aliasing, which is ~4x cheaper,
        # and only the hovered ribbon and those of the current passage get a smooth outline
        smooth = len(self._ribbons) <= SMOOTH_RIBBONS
        p.setRenderHint(QPainter.RenderHint.Antialiasing, smooth)
        current = left.session.current_id if left is not None else ""
        emphasised = []
        for path, link in self._ribbons:
            color = QColor(style.LINK_COLORS.get(link.get("type"), "#888888"))
            hot = link["id"] == self.hovered or current in (link.get("source"), link.get("target"))
            fill = QColor(color)
            fill.setAlpha(150 if hot else (85 if smooth else 70))
            p.setBrush(fill)
            if smooth:
                p.setPen(QPen(color.darker(115) if not s.dark else color.lighter(120), 2.0 if hot else 1.2))
            else:
                p.setPen(Qt.PenStyle.NoPen)
                if hot:
                    emphasised.append((path, color))
            p.drawPath(path)
        if emphasised:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for path, color in emphasised:
                p.setPen(QPen(color.darker(115) if not s.dark else color.lighter(120), 1.6))
                p.drawPath(path)

    def link_at(self, pos) -> dict | None:
        pt = QPointF(pos)
        for path, link in reversed(self._ribbons or self.ribbons()):
            if path.contains(pt):
                return link
        return None

    # interaction --------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        link = self.link_at(event.position())
        if link is not None and event.button() == Qt.MouseButton.LeftButton:
            self._press_pos = event.position().toPoint()
            event.accept()
            return
        self._press_pos = None
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._press_pos is not None:
            link = self.link_at(event.position())
            self._press_pos = None
            if link is not None:
                self.splitter().ribbonClicked.emit(link["id"])
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._press_pos is not None:
            event.accept()
            return
        link = self.link_at(event.position())
        new = link["id"] if link else None
        if new != self.hovered:
            self.hovered = new
            self.setCursor(Qt.CursorShape.PointingHandCursor if link else Qt.CursorShape.SplitHCursor)
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        if self.hovered:
            self.hovered = None
            self.update()
        super().leaveEvent(event)

    def event(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            link = self.link_at(event.pos())
            if link is not None:
                QToolTip.showText(event.globalPos(), plain_tooltip(self.describe(link)), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def describe(self, link: dict) -> str:
        left, _ = self.neighbours()
        session = left.session
        s, t = session.annotation(link["source"]), session.annotation(link["target"])
        verb = style.LINK_LABELS.get(link.get("type"), link.get("type", ""))
        text = f"{session.citation(s) if s else '?'} {verb} {session.citation(t) if t else '?'}"
        if link.get("note"):
            text += f"\n{link['note']}"
        return text


def ribbon_path(w: float, y1: float, y2: float, y3: float, y4: float) -> QPainterPath:
    """A band from [y1, y2] at x=0 to [y3, y4] at x=w, its edges cubic Béziers (flat at both ends)."""
    y2 = max(y2, y1 + 2)
    y4 = max(y4, y3 + 2)
    c = w * 0.5
    path = QPainterPath(QPointF(0, y1))
    path.cubicTo(QPointF(c, y1), QPointF(w - c, y3), QPointF(w, y3))
    path.lineTo(QPointF(w, y4))
    path.cubicTo(QPointF(w - c, y4), QPointF(c, y2), QPointF(0, y2))
    path.closeSubpath()
    return path


def band_path(w: float, y1: float, y2: float, y3: float, y4: float) -> QPainterPath:
    """The cheap form of a ribbon: a straight band (four corners)."""
    path = QPainterPath()
    path.addPolygon(QPolygonF([QPointF(0, y1), QPointF(w, y3), QPointF(w, max(y4, y3 + 2)), QPointF(0, max(y2, y1 + 2))]))
    path.closeSubpath()
    return path


class LinkSplitter(QSplitter):
    """The panes' splitter; its handles are link gutters."""

    ribbonClicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setHandleWidth(GUTTER_WIDTH)
        self.setChildrenCollapsible(False)
        self.setObjectName("paneSplitter")

    def createHandle(self) -> QSplitterHandle:
        return LinkGutter(self.orientation(), self)

    def gutters(self) -> list[LinkGutter]:
        return [self.handle(i) for i in range(1, self.count())]

    def update_gutters(self) -> None:
        for g in self.gutters():
            g.update()

    def gutters_of(self, pane) -> list[LinkGutter]:
        i = self.indexOf(pane)
        out = []
        if i > 0:
            out.append(self.handle(i))
        if 0 <= i < self.count() - 1:
            out.append(self.handle(i + 1))
        return out
