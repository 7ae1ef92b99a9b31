"""Ribbons between neighbouring panes, joining linked passages as a diff viewer joins changed lines.

The splitter that holds the panes draws its handles as ``LinkGutter``s: for every link with one
end in the left pane's document and one in the right's, and both ends on screen, a band shaped by
two cubic Bézier curves runs from the left passage's lines to the right passage's lines, coloured
by link type. Clicking a ribbon brings both ends into view, level with each other. Dragging the
gutter elsewhere still resizes the panes.
"""

from __future__ import annotations

from PySide6.QtCore import QLineF, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSplitter, QSplitterHandle, QToolTip

from nkreader.ui import style
from nkreader.ui.safety import plain_tooltip

GUTTER_WIDTH = 54
SMOOTH_RIBBONS = 24  # above this many ribbons on screen, fills are drawn without anti-aliasing
STRAIGHT_RIBBONS = 60  # above this many, straight bands (a crowd reads the same, cheaper to fill)
LINE_RIBBONS = 100  # above this many, one line per link, batched by type


class LinkGutter(QSplitterHandle):
    def __init__(self, orientation, splitter: "LinkSplitter"):
        super().__init__(orientation, splitter)
        self.setMouseTracking(True)
        self._ribbons: list[tuple[QPainterPath, dict]] | None = None
        self._geometry: list = []
        self.drawn = 0
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
        geometry = self.geometry_now()
        w = float(self.width())
        make = band_path if len(geometry) > STRAIGHT_RIBBONS else ribbon_path
        return [(make(w, *ys), link) for ys, link in geometry]

    def geometry_now(self) -> list[tuple[tuple[float, float, float, float], dict]]:
        """((y1, y2, y3, y4), link) for each link with both ends on screen: the left end spans
        y1..y2 at the left edge, the right end y3..y4 at the right edge (gutter coordinates)."""
        left, right = self.neighbours()
        out: list = []
        if left is None or right is None or left.doc is None or right.doc is None or left.doc.id == right.doc.id:
            return out
        session = left.session
        # the view each pane shows now: its text, or its pages (PDF, EPUB)
        lvp, rvp = left.reading_viewport(), right.reading_viewport()
        here = self.mapTo(self.window(), QPoint(0, 0)).y()
        ldy = lvp.mapTo(self.window(), QPoint(0, 0)).y() - here
        rdy = rvp.mapTo(self.window(), QPoint(0, 0)).y() - here
        lh, rh = lvp.height(), rvp.height()
        lspan, rspan = left.span_locator(), right.span_locator()
        for link, a, b in session.links_between(left.doc.id, right.doc.id):
            at, bt = a["target"], b["target"]
            ly = lspan(at["start"], at["end"])
            if ly is None or ly[1] < 0 or ly[0] > lh:
                continue
            ry = rspan(bt["start"], bt["end"])
            if ry is None or ry[1] < 0 or ry[0] > rh:
                continue
            (lt, lb), (rt, rb) = ly, ry
            y1, y2 = max(lt, 0) + ldy, min(lb, lh) + ldy
            y3, y4 = max(rt, 0) + rdy, min(rb, rh) + rdy
            out.append(((y1, y2, y3, y4), link))
        return out

    def paintEvent(self, event) -> None:
        left, _right = self.neighbours()
        p = QPainter(self)
        s = left.scheme if left is not None else style.LIGHT
        p.fillRect(self.rect(), QColor(s.gutter))
        p.setPen(QPen(QColor(s.border), 1))
        p.drawLine(0, 0, 0, self.height())
        p.drawLine(self.width() - 1, 0, self.width() - 1, self.height())
        geometry = self.geometry_now()
        self._geometry = geometry
        self._ribbons = None  # paths for hit-testing are made when the mouse asks
        self.drawn = len(geometry)
        if not geometry:
            # a grip so the handle still reads as draggable
            p.setPen(QPen(QColor(s.muted), 1))
            cx, cy = self.width() // 2, self.height() // 2
            for dy in (-6, 0, 6):
                p.drawPoint(cx, cy + dy)
            return
        w = float(self.width())
        n = len(geometry)
        current = left.session.current_id if left is not None else ""

        def edge(color: QColor) -> QColor:
            return color.lighter(120) if s.dark else color.darker(115)

        def hot(link) -> bool:
            return link["id"] == self.hovered or (bool(current) and current in (link.get("source"), link.get("target")))

        emphasised = []
        if n > LINE_RIBBONS:
            # a crowd: each link as a line from the middle of one end to the middle of the other,
            # one drawLines call per link type (a filled band each would cost ~5x more)
            by_type: dict[str, list[QLineF]] = {}
            for (y1, y2, y3, y4), link in geometry:
                if hot(link):
                    emphasised.append(((y1, y2, y3, y4), link))
                by_type.setdefault(link.get("type", ""), []).append(QLineF(0, (y1 + y2) / 2, w, (y3 + y4) / 2))
            for kind, lines in by_type.items():
                # opaque (blended with the gutter here): alpha-blended lines cost 4x more to draw
                color = mix(QColor(style.LINK_COLORS.get(kind, "#888888")), QColor(s.gutter), 0.8)
                pen = QPen(color, 1)
                pen.setCosmetic(True)  # a one-pixel line is drawn without the path stroker
                p.setPen(pen)
                p.drawLines(lines)
        else:
            # level of detail: a few ribbons are drawn smooth and outlined; more are filled
            # without anti-aliasing (~4x cheaper), as straight bands beyond STRAIGHT_RIBBONS
            smooth = n <= SMOOTH_RIBBONS
            make = band_path if n > STRAIGHT_RIBBONS else ribbon_path
            p.setRenderHint(QPainter.RenderHint.Antialiasing, smooth)
            for ys, link in geometry:
                color = QColor(style.LINK_COLORS.get(link.get("type"), "#888888"))
                is_hot = hot(link)
                fill = QColor(color)
                fill.setAlpha(150 if is_hot else (85 if smooth else 70))
                p.setBrush(fill)
                if smooth:
                    p.setPen(QPen(edge(color), 2.0 if is_hot else 1.2))
                else:
                    p.setPen(Qt.PenStyle.NoPen)
                    if is_hot:
                        emphasised.append((ys, link))
                p.drawPath(make(w, *ys))
        if emphasised:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            for ys, link in emphasised:
                color = QColor(style.LINK_COLORS.get(link.get("type"), "#888888"))
                fill = QColor(color)
                fill.setAlpha(150)
                p.setBrush(fill)
                p.setPen(QPen(edge(color), 1.6))
                p.drawPath(ribbon_path(w, *ys))

    def link_at(self, pos) -> dict | None:
        pt = QPointF(pos)
        if self._ribbons is None:
            w = float(self.width())
            self._ribbons = [(ribbon_path(w, *ys), link) for ys, link in (self._geometry or self.geometry_now())]
        for path, link in reversed(self._ribbons):
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


def mix(color: QColor, background: QColor, amount: float) -> QColor:
    """``color`` laid over ``background`` at opacity ``amount``, as an opaque colour."""
    a = max(0.0, min(1.0, amount))
    return QColor(round(color.red() * a + background.red() * (1 - a)),
                  round(color.green() * a + background.green() * (1 - a)),
                  round(color.blue() * a + background.blue() * (1 - a)))


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
