"""The theme × author matrix view: counts, heat colours, cells opening their passages, PNG export."""

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QImage  # noqa: E402

from nkreader.ui.matrix_view import MatrixView, cell_color  # noqa: E402


@pytest.fixture
def coded(library):
    library.add_theme("Forced repatriation", color="#e6194b")
    library.add_theme("Trafficking", color="#3cb44b")
    library.highlight_quote("bell", "forcibly repatriate", themes=["Forced repatriation"])
    library.highlight_quote("kwon", "forced repatriation", themes=["Forced repatriation"])
    library.highlight_quote("kwon", "Chinese government's forced repatriation", themes=["Forced repatriation"])
    library.highlight_quote("kwon", "human trafficking", themes=["Trafficking"])
    return library


def test_counts_and_heat(qtbot, coded):
    view = MatrixView(coded)
    qtbot.addWidget(view)
    m = view.model
    assert m.rowCount() == 2 and m.columnCount() == 5
    r = [t["name"] for t in view.matrix.themes].index("Forced repatriation")
    c = next(i for i, col in enumerate(view.matrix.columns) if "kwon-2023" in col["doc_ids"])
    assert m.data(m.index(r, c)) == "2"
    hot = m.data(m.index(r, c), Qt.ItemDataRole.BackgroundRole)
    empty_col = next(i for i, col in enumerate(view.matrix.columns) if "suh-2002" in col["doc_ids"])
    assert m.data(m.index(r, empty_col), Qt.ItemDataRole.BackgroundRole).name() == "#ffffff"
    assert hot == cell_color("#e6194b", 2, 2)
    assert m.headerData(c, Qt.Orientation.Horizontal) == "Kwon Soyoung"


def test_cell_opens_its_passages(qtbot, coded):
    view = MatrixView(coded)
    qtbot.addWidget(view)
    r = [t["name"] for t in view.matrix.themes].index("Forced repatriation")
    c = next(i for i, col in enumerate(view.matrix.columns) if "kwon-2023" in col["doc_ids"])
    with qtbot.waitSignal(view.cellOpened) as blocker:
        view.open_cell(view.model.index(r, c))
    theme_id, doc_ids, anns = blocker.args
    assert doc_ids == ["kwon-2023"] and len(anns) == 2
    assert view.passages.count() == 2 and "Kwon 2023" in view.passages.item(0).text()
    with qtbot.waitSignal(view.passageRequested) as b2:
        view._on_passage(view.passages.item(0))
    assert b2.args[0] == "kwon-2023"


def test_refresh_after_new_coding(qtbot, coded):
    view = MatrixView(coded)
    qtbot.addWidget(view)
    coded.highlight_quote("suh", "refugee status", themes=["Trafficking"])
    view.refresh()
    assert sum(sum(row) for row in view.matrix.counts) == 5


def test_export_png(qtbot, coded, tmp_path):
    view = MatrixView(coded)
    qtbot.addWidget(view)
    out = view.export_png(tmp_path / "matrix.png")
    img = QImage(str(out))
    assert not img.isNull() and img.width() > 300 and img.height() > 100


def test_empty_library(qtbot, library):
    view = MatrixView(library)
    qtbot.addWidget(view)
    assert view.model.rowCount() == 0 and "No themes" in view.caption.text()
    assert not view.render_image().isNull()


def test_a_theme_name_with_markup_is_shown_literally_in_the_cell_tip(qtbot, library):
    from PySide6.QtGui import QTextDocument

    library.add_theme('<b>Bold</b> <img src="file:///etc/passwd">')
    library.highlight_quote("kwon", "human trafficking", themes=['<b>Bold</b> <img src="file:///etc/passwd">'])
    view = MatrixView(library)
    qtbot.addWidget(view)
    m = view.model
    c = next(i for i, col in enumerate(view.matrix.columns) if "kwon-2023" in col["doc_ids"])
    shown = QTextDocument()
    shown.setHtml(m.data(m.index(0, c), Qt.ItemDataRole.ToolTipRole))  # as QToolTip renders it
    assert shown.toPlainText() == '<b>Bold</b> <img src="file:///etc/passwd"> — Kwon Soyoung: 1 passage'
    assert m.headerData(0, Qt.Orientation.Vertical) == '<b>Bold</b> <img src="file:///etc/passwd">'
