"""The theme × author matrix: how much each author says on each theme (the reader's coded passages).

``MatrixView(library)`` is a QWidget: a heatmap table (one row per theme, one column per author;
a cell's shade grows with its count, in the theme's colour) above the list of the chosen cell's
passages. Clicking a cell lists its passages and emits ``cellOpened(theme_id, doc_ids, annotations)``
so the window can open them side by side; clicking a passage emits ``passageRequested(doc_id,
start, end)``. ``export_png(path)`` writes the heatmap as a picture; ``refresh()`` recounts.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from nkreader.core.themes import Matrix, theme_author_matrix
from nkreader.ui.safety import plain_tooltip

ANN_ROLE = Qt.ItemDataRole.UserRole + 1


def cell_color(theme_color: str | None, count: int, maximum: int) -> QColor:
    """White for nothing, the theme's colour at full strength for the busiest cell."""
    base = QColor(theme_color or "#4363d8")
    if not base.isValid():
        base = QColor("#4363d8")
    if count <= 0 or maximum <= 0:
        return QColor("#ffffff")
    t = 0.15 + 0.85 * (count / maximum)
    return QColor(round(255 + (base.red() - 255) * t), round(255 + (base.green() - 255) * t),
                  round(255 + (base.blue() - 255) * t))


def text_color(background: QColor) -> QColor:
    luminance = 0.299 * background.red() + 0.587 * background.green() + 0.114 * background.blue()
    return QColor("#000000") if luminance > 140 else QColor("#ffffff")


class MatrixModel(QAbstractTableModel):
    def __init__(self, matrix: Matrix | None = None):
        super().__init__()
        self.matrix = matrix or Matrix([], [], [])

    def set_matrix(self, matrix: Matrix) -> None:
        self.beginResetModel()
        self.matrix = matrix
        self.endResetModel()

    @property
    def maximum(self) -> int:
        return max((n for row in self.matrix.counts for n in row), default=0)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt API)
        return 0 if parent.isValid() else len(self.matrix.themes)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.matrix.columns)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        n = self.matrix.counts[index.row()][index.column()]
        theme = self.matrix.themes[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(n) if n else ""
        if role == Qt.ItemDataRole.BackgroundRole:
            return cell_color(theme.get("color"), n, self.maximum)
        if role == Qt.ItemDataRole.ForegroundRole:
            return text_color(cell_color(theme.get("color"), n, self.maximum))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            col = self.matrix.columns[index.column()]
            return plain_tooltip(f"{theme['name']} — {col['label']}: {n} passage{'s' if n != 1 else ''}")
        return None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.matrix.columns[section]["label"]
        return self.matrix.themes[section]["name"]


class MatrixView(QWidget):
    cellOpened = Signal(str, list, list)  # theme id, doc ids of the author, annotations
    passageRequested = Signal(str, int, int)

    def __init__(self, library, parent: QWidget | None = None):
        super().__init__(parent)
        self.library = library
        self.model = MatrixModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.clicked.connect(self.open_cell)
        self.table.activated.connect(self.open_cell)
        self.caption = QLabel("")
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.caption.setWordWrap(True)
        self.passages = QListWidget()
        self.passages.setWordWrap(True)
        self.passages.itemClicked.connect(self._on_passage)
        self.export_button = QPushButton("Export picture…")
        self.export_button.clicked.connect(self._ask_export)
        top = QHBoxLayout()
        title = QLabel("Themes × authors: coded passages")
        title.setTextFormat(Qt.TextFormat.PlainText)
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.export_button)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.caption)
        lower_layout.addWidget(self.passages)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self.refresh()

    @property
    def matrix(self) -> Matrix:
        return self.model.matrix

    def refresh(self) -> None:
        self.model.set_matrix(theme_author_matrix(self.library))
        empty = not self.matrix.themes
        self.caption.setText("No themes yet: add themes and code passages to fill the matrix." if empty
                             else "Click a cell to see its passages.")
        self.passages.clear()

    def open_cell(self, index: QModelIndex) -> list[dict]:
        if not index.isValid():
            return []
        r, c = index.row(), index.column()
        theme = self.matrix.themes[r]
        col = self.matrix.columns[c]
        anns = self.matrix.cell_annotations(self.library, r, c)
        self.passages.clear()
        for ann in anns:
            text = " ".join(ann["target"]["exact"].split())
            item = QListWidgetItem(f"{self.library.citation(ann)}: {text}")  # plain text
            item.setData(ANN_ROLE, ann)
            self.passages.addItem(item)
        self.caption.setText(f"{theme['name']} — {col['label']}: {len(anns)} passage{'s' if len(anns) != 1 else ''}")
        self.cellOpened.emit(theme["id"], list(col["doc_ids"]), anns)
        return anns

    def _on_passage(self, item: QListWidgetItem) -> None:
        ann = item.data(ANN_ROLE)
        if ann:
            self.passageRequested.emit(ann["doc_id"], ann["target"]["start"], ann["target"]["end"])

    # ------------------------------------------------------------------------------ picture
    def render_image(self, cell: int = 56, scale: float = 2.0) -> QImage:
        """The heatmap drawn on its own (independent of scrolling and window size)."""
        m = self.matrix
        font = QFont(self.font())
        font.setPointSizeF(9)
        fm = QFontMetrics(font)
        row_w = max([fm.horizontalAdvance(t["name"]) for t in m.themes] + [80]) + 16
        col_w = max([cell] + [min(160, fm.horizontalAdvance(c["label"]) + 12) for c in m.columns])
        head_h = 3 * fm.height() + 12
        title_h = fm.height() + 12
        w = row_w + col_w * max(1, len(m.columns)) + 8
        h = title_h + head_h + (cell // 2 + 8) * max(1, len(m.themes)) + 8
        img = QImage(int(w * scale), int(h * scale), QImage.Format.Format_ARGB32)
        img.fill(QColor("#ffffff"))
        p = QPainter(img)
        p.scale(scale, scale)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setFont(font)
        p.setPen(QColor("#000000"))
        p.drawText(QRect(4, 4, w - 8, title_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   "Coded passages: themes × authors")
        row_h = cell // 2 + 8
        for j, col in enumerate(m.columns):
            rect = QRectF(row_w + j * col_w, title_h, col_w, head_h)
            p.drawText(rect.adjusted(2, 2, -2, -2),
                       int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom | Qt.TextFlag.TextWordWrap),
                       col["label"])
        top = title_h + head_h
        maximum = self.model.maximum
        for i, theme in enumerate(m.themes):
            y = top + i * row_h
            p.setPen(QColor("#000000"))
            p.drawText(QRectF(4, y, row_w - 8, row_h), int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                       theme["name"])
            for j in range(len(m.columns)):
                n = m.counts[i][j]
                bg = cell_color(theme.get("color"), n, maximum)
                rect = QRectF(row_w + j * col_w + 1, y + 1, col_w - 2, row_h - 2)
                p.fillRect(rect, bg)
                p.setPen(QColor("#d0d0d0"))
                p.drawRect(rect)
                if n:
                    p.setPen(text_color(bg))
                    p.drawText(rect, int(Qt.AlignmentFlag.AlignCenter), str(n))
        p.end()
        return img

    def export_png(self, path: str | Path) -> Path:
        path = Path(path)
        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        if not self.render_image().save(str(path), "PNG"):
            raise OSError(f"could not write {path}")
        return path

    def _ask_export(self) -> None:  # pragma: no cover - interactive
        from PySide6.QtWidgets import QFileDialog, QMessageBox

        name, _ = QFileDialog.getSaveFileName(self, "Export the matrix", "theme-author-matrix.png",
                                              "PNG image (*.png)")
        if name:
            try:
                self.export_png(name)
            except OSError as exc:
                QMessageBox.warning(self, "Export failed", str(exc))
