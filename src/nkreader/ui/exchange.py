"""File ▸ Export, File ▸ Import classmate's work, and View ▸ Layers: the exchange formats in the window.

The formats themselves live in ``core.exports`` and ``core.imports``; this module only asks the
reader what to write or read, runs it, and reports the result in plain text. An import merges a
classmate's work as a separate layer (see ``core.imports``); each layer can be shown or hidden.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel,
    QLineEdit, QMenu, QMessageBox, QPushButton, QVBoxLayout, QWidget,
)

from nkreader.ui.safety import menu_text, message

FORMAT_LABELS = (
    ("md", "Markdown notes (.md)"),
    ("html", "HTML, one file for print or projector (.html)"),
    ("pdf", "PDF handout (.pdf)"),
    ("w3c", "W3C Web Annotation JSON-LD (.jsonld)"),
    ("qdpx", "REFI-QDA project for QDA tools (.qdpx)"),
    ("qdc", "REFI-QDA codebook of the themes (.qdc)"),
    ("csv", "CSV table of highlights (.csv)"),
)
VIEWS = ("md", "html", "pdf")  # formats that can be arranged by document or by theme
IMPORT_FILTER = "Annotations (*.jsonld *.json *.qdpx *.qde *.qdc);;All files (*)"
LAYERS_SETTING = "ui.hidden_layers"


def _plain(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class ExportDialog(QDialog):
    """Choose a format, an arrangement (by document or as a debate brief by theme) and a file."""

    def __init__(self, library, parent: QWidget | None = None, *, doc_id: str | None = None):
        super().__init__(parent)
        self.library = library
        self.setWindowTitle("Export notes")
        form = QFormLayout()
        self.format = QComboBox()
        for key, label in FORMAT_LABELS:
            self.format.addItem(label, key)
        self.by = QComboBox()
        self.by.addItem("By document: highlights in reading order", "document")
        self.by.addItem("By theme: a debate brief of who says what", "theme")
        self.doc = QComboBox()
        self.doc.addItem("All documents", None)
        for entry in library.corpus.entries:
            label = f"{entry.metadata.citation or entry.id}: {entry.metadata.title}"
            self.doc.addItem(label, entry.id)
        if doc_id:
            self.doc.setCurrentIndex(max(0, self.doc.findData(doc_id)))
        self.theme = QComboBox()
        self.theme.addItem("All themes", None)
        for theme in library.themes():
            self.theme.addItem(theme["name"], theme["name"])
        self.all_layers = QCheckBox("Include classmates' imported layers")
        self.path = QLineEdit()
        self.path.setPlaceholderText("Choose where to save…")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form.addRow("Format", self.format)
        form.addRow("Arrange", self.by)
        form.addRow("Document", self.doc)
        form.addRow("Theme", self.theme)
        form.addRow("", self.all_layers)
        form.addRow("File", row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addWidget(self.buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.path.textChanged.connect(self._update_ok)
        self._format_changed()

    @property
    def fmt(self) -> str:
        return self.format.currentData()

    def _format_changed(self, *_args) -> None:
        from nkreader.core.exports import SUFFIXES

        self.by.setEnabled(self.fmt in VIEWS)
        current = self.path.text().strip()
        if current:
            self.path.setText(str(Path(current).with_suffix(SUFFIXES[self.fmt])))
        self._update_ok()

    def _update_ok(self, *_args) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(bool(self.path.text().strip()))

    def _browse(self) -> None:
        from nkreader.core.exports import SUFFIXES

        suffix = SUFFIXES[self.fmt]
        default = self.path.text().strip() or str(Path.home() / f"nkreader-notes{suffix}")
        name, _ = QFileDialog.getSaveFileName(self, "Export notes", default, f"*{suffix}")
        if name:
            self.path.setText(name)

    def options(self) -> dict:
        return {
            "fmt": self.fmt,
            "out": Path(self.path.text().strip()),
            "by": self.by.currentData() if self.fmt in VIEWS else "document",
            "doc": self.doc.currentData(),
            "theme": self.theme.currentData(),
            "all_layers": self.all_layers.isChecked(),
        }


def run_export(library, options: dict) -> dict:
    """Write the export; returns the summary from ``core.exports.export``."""
    from nkreader.core.exports import export

    opts = dict(options)
    return export(library, opts.pop("fmt"), opts.pop("out"), **opts)


def export_from_window(window, *, doc_id: str | None = None) -> dict | None:
    dialog = ExportDialog(window.library, window, doc_id=doc_id)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    try:
        summary = run_export(window.library, dialog.options())
    except (OSError, ValueError) as exc:
        message(window, "Export failed", f"The export could not be written: {exc}").exec()
        return None
    window.statusBar().showMessage(f"Exported to {summary['path']}", 8000)
    return summary


def run_import(library, path: Path | str) -> dict:
    """Merge a classmate's file as a layer; returns the import report as a dict."""
    from nkreader.core.imports import import_file

    report = import_file(library, Path(path))
    data = report.to_dict()
    data["summary"] = report.summary()
    return data


def import_into_window(window, path: str | None = None) -> dict | None:
    if path is None:
        path, _ = QFileDialog.getOpenFileName(window, "Import a classmate's annotations", str(Path.home()),
                                              IMPORT_FILTER)
        if not path:
            return None
    try:
        result = run_import(window.library, path)
    except (OSError, ValueError) as exc:  # ImportRejected is a ValueError; the store is unchanged
        message(window, "Import refused", f"{Path(path).name} was not imported, and nothing was changed.",
                informative=str(exc)).exec()
        return None
    window.session.notify("annotations", "themes", "links")
    message(window, "Import finished", result["summary"], icon=QMessageBox.Icon.Information).exec()
    return result


CODEBOOK_FILTER = "Codebooks (*.qdc *.toml *.json);;All files (*)"
CODEBOOK_SAVE_FILTERS = ("REFI-QDA codebook (*.qdc)", "TOML (*.toml)", "JSON (*.json)")
CODEBOOK_SUFFIXES = (".qdc", ".toml", ".json")  # in the order of the filters


def import_codebook_into_window(window, path: str | Path | None = None) -> dict | None:
    """Themes ▸ Import a codebook: merge a .qdc, .toml or .json codebook into the themes, by name.

    Nothing is deleted or renamed; a file that cannot be read changes nothing."""
    from nkreader.core.themes import import_codebook, read_codebook

    if path is None:
        path, _ = QFileDialog.getOpenFileName(window, "Import a codebook", str(Path.home()), CODEBOOK_FILTER)
        if not path:
            return None
    path = Path(path)
    try:
        read_codebook(path)  # the whole file is read and checked before any theme is added
        report = import_codebook(window.library, path)
    except (OSError, ValueError) as exc:  # CodebookError is a ValueError
        message(window, "Codebook not imported", f"{path.name} was not imported, and nothing was changed.",
                informative=str(exc)).exec()
        return None
    window.session.notify("themes")
    summary = (f"{len(report.added)} new theme{'s' if len(report.added) != 1 else ''}, "
               f"{len(report.updated)} completed (description, memo or colour), "
               f"{len(report.unchanged)} already there.")
    message(window, "Codebook imported", f"{path.name}: {summary}", icon=QMessageBox.Icon.Information).exec()
    return report.to_dict()


def export_codebook_from_window(window, path: str | Path | None = None) -> Path | None:
    """Themes ▸ Export the codebook, as REFI-QDA .qdc (for QDA tools), TOML or JSON."""
    from nkreader.core.themes import export_codebook

    if path is None:
        path, chosen = QFileDialog.getSaveFileName(window, "Export the codebook", str(Path.home() / "codebook.qdc"),
                                                   ";;".join(CODEBOOK_SAVE_FILTERS))
        if not path:
            return None
        if Path(path).suffix.lower() not in CODEBOOK_SUFFIXES:
            chosen_index = CODEBOOK_SAVE_FILTERS.index(chosen) if chosen in CODEBOOK_SAVE_FILTERS else 0
            path += CODEBOOK_SUFFIXES[chosen_index]
    try:
        written = export_codebook(window.library, Path(path))
    except (OSError, ValueError) as exc:
        message(window, "Export failed", f"The codebook could not be written: {exc}").exec()
        return None
    window.statusBar().showMessage(f"Codebook exported to {written}", 8000)
    return written


def hidden_layers(library) -> set[str]:
    value = library.store.get_setting(LAYERS_SETTING, [])
    return set(value) if isinstance(value, list) else set()


def set_layer_visible(library, layer_id: str, visible: bool) -> None:
    hidden = hidden_layers(library)
    (hidden.discard if visible else hidden.add)(layer_id)
    library.store.set_setting(LAYERS_SETTING, sorted(hidden))


def build_layers_menu(menu: QMenu, window) -> None:
    """Fill ``menu`` with one checkable entry per imported layer (person)."""
    menu.clear()
    layers = sorted(window.library.store.all("layers"), key=lambda l: str(l.get("name", "")).casefold())
    if not layers:
        empty = menu.addAction("No imported layers yet")
        empty.setEnabled(False)
        return
    hidden = hidden_layers(window.library)
    for layer in layers:
        count = len(window.library.store.all("annotations", layer=layer["id"]))
        action = menu.addAction(menu_text(f"{layer.get('name') or 'Unnamed'} ({count})"))
        action.setCheckable(True)
        action.setChecked(layer["id"] not in hidden)
        action.toggled.connect(lambda on, lid=layer["id"]: _toggle_layer(window, lid, on))


def _toggle_layer(window, layer_id: str, visible: bool) -> None:
    set_layer_visible(window.library, layer_id, visible)
    window.session.notify("annotations")
