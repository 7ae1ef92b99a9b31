"""The theme sidebar: the codebook as a tree with colours and counts per document.

Choosing a theme makes it the session's active theme: every pane goes to its first passage on it
and marks them, and each pane's theme bar steps through the rest. Create, rename, recolour,
describe, merge and delete are undoable commands.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QInputDialog, QLabel, QLineEdit,
    QPlainTextEdit, QToolButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget,
)

from nkreader.core.library import theme_counts
from nkreader.ui import commands
from nkreader.ui.annotations_dock import swatch
from nkreader.ui.offsets import qt_safe
from nkreader.ui.safety import plain_tooltip

ROLE_ID = Qt.ItemDataRole.UserRole
ROLE_DOC = Qt.ItemDataRole.UserRole + 1


class ThemeDialog(QDialog):
    """Name, description and memo of a theme (plain text)."""

    def __init__(self, parent=None, *, title="Theme", name="", description="", memo=""):
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.name = QLineEdit(qt_safe(name))
        self.description = QLineEdit(qt_safe(description))
        self.memo = QPlainTextEdit()
        self.memo.setPlainText(memo)
        self.memo.setPlaceholderText("What you are noticing about this theme across authors…")
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Memo", self.memo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(420, 260)

    def values(self) -> dict:
        return {"name": self.name.text().strip(), "description": self.description.text().strip(),
                "memo": self.memo.toPlainText()}


class ThemeDock(QWidget):
    #: theme id, doc id: show that author's passages on the theme
    documentChosen = Signal(str, str)
    #: step through the active theme in every pane (+1 / -1)
    stepRequested = Signal(int)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.setObjectName("themeDock")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        bar = QHBoxLayout()
        bar.setSpacing(2)

        def button(text, tip, slot):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            bar.addWidget(b)
            return b

        self.new_b = button("+", "New theme (Ctrl+Shift+T)", self.new_theme_dialog)
        self.edit_b = button("✎", "Rename or describe the theme (F2)", self.edit_dialog)
        self.color_b = button("●", "Change the theme's colour", self.color_dialog)
        self.merge_b = button("⇲", "Merge this theme into another", self.merge_dialog)
        self.delete_b = button("✕", "Delete the theme (its passages stay highlighted)", self.delete_selected)
        bar.addStretch(1)
        self.prev_b = button("◀", "Previous passage on the theme in each pane (Alt+Up)", lambda: self.stepRequested.emit(-1))
        self.next_b = button("▶", "Next passage on the theme in each pane (Alt+Down)", lambda: self.stepRequested.emit(+1))
        self.clear_b = button("⊘", "Stop following the theme (Esc)", lambda: self.session.set_active_theme(""))
        self.tree = QTreeWidget()
        self.tree.setObjectName("themeTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Theme", "#"])
        self.tree.setRootIsDecorated(True)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, self.tree.header().ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, self.tree.header().ResizeMode.ResizeToContents)
        self.details = QLabel()
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.details.setObjectName("themeDetails")
        lay.addLayout(bar)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.details)
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        self.tree.currentItemChanged.connect(lambda *_: self._show_details())
        session.changed.connect(lambda kinds: self.refresh() if kinds & {"themes", "annotations"} else None)
        session.activeThemeChanged.connect(lambda _id: self._mark_active())
        self.refresh()

    # contents -----------------------------------------------------------------------------------
    def refresh(self) -> None:
        selected = self.selected_theme_id()
        expanded = {self.tree.topLevelItem(i).data(0, ROLE_ID) for i in range(self.tree.topLevelItemCount())
                    if self.tree.topLevelItem(i).isExpanded()}
        self.tree.clear()
        counts = theme_counts(self.session.all_annotations())
        themes = self.session.themes()
        by_id = {t["id"]: t for t in themes}
        items: dict[str, QTreeWidgetItem] = {}
        for theme in themes:
            per_doc = counts.get(theme["id"], {})
            item = QTreeWidgetItem([qt_safe(theme["name"]), str(sum(per_doc.values()))])
            item.setIcon(0, swatch(theme.get("color", "#888888"), 12))
            item.setData(0, ROLE_ID, theme["id"])
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            tip = theme["name"]
            if theme.get("description"):
                tip += "\n" + theme["description"]
            item.setToolTip(0, plain_tooltip(tip))
            for entry in self.session.corpus.entries:
                n = per_doc.get(entry.id, 0)
                if n:
                    child = QTreeWidgetItem([qt_safe(entry.metadata.citation or entry.metadata.author_label), str(n)])
                    child.setData(0, ROLE_ID, theme["id"])
                    child.setData(0, ROLE_DOC, entry.id)
                    child.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    item.addChild(child)
            items[theme["id"]] = item
        for theme in themes:
            item = items[theme["id"]]
            parent = theme.get("parent")
            if parent and parent in items and parent != theme["id"] and by_id.get(parent):
                items[parent].insertChild(0, item)
            else:
                self.tree.addTopLevelItem(item)
        for theme_id, item in items.items():
            if theme_id in expanded or theme_id == self.session.active_theme:
                item.setExpanded(True)
            if theme_id == selected:
                self.tree.setCurrentItem(item)
        self._mark_active()
        self._show_details()
        if not themes:
            self.details.setText("No themes yet. Select a passage and press T to code it, or + to make a theme.")

    def _mark_active(self) -> None:
        active = self.session.active_theme
        for item in self._theme_items():
            font = item.font(0)
            font.setBold(item.data(0, ROLE_ID) == active)
            item.setFont(0, font)
        for b in (self.prev_b, self.next_b, self.clear_b):
            b.setEnabled(bool(active))

    def _theme_items(self):
        stack = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        while stack:
            item = stack.pop()
            if item.data(0, ROLE_DOC) is None:
                yield item
            stack.extend(item.child(i) for i in range(item.childCount()))

    def item_for(self, theme_id: str) -> QTreeWidgetItem | None:
        return next((i for i in self._theme_items() if i.data(0, ROLE_ID) == theme_id), None)

    def selected_theme_id(self) -> str | None:
        item = self.tree.currentItem()
        return item.data(0, ROLE_ID) if item is not None else None

    def _show_details(self) -> None:
        theme = self.session.theme(self.selected_theme_id() or self.session.active_theme or "")
        if theme is None:
            self.details.setText("")
            return
        parts = [theme["name"]]
        if theme.get("description"):
            parts.append(theme["description"])
        if theme.get("memo"):
            parts.append("Memo: " + theme["memo"])
        self.details.setText(qt_safe("\n".join(parts)))

    def _clicked(self, item: QTreeWidgetItem, _col: int = 0) -> None:
        theme_id = item.data(0, ROLE_ID)
        doc_id = item.data(0, ROLE_DOC)
        self.choose(theme_id)
        if doc_id:
            self.documentChosen.emit(theme_id, doc_id)

    def choose(self, theme_id: str) -> None:
        """Follow a theme: the panes go to its passages (choosing it again re-runs the jump)."""
        if self.session.active_theme == theme_id:
            self.session.activeThemeChanged.emit(theme_id)
        else:
            self.session.set_active_theme(theme_id)

    # edits (undoable) ---------------------------------------------------------------------------------
    def create_theme(self, name: str, **fields) -> str | None:
        cmd = commands.AddTheme(self.session, name, **fields)
        return cmd.theme_id if self.session.push(cmd) else None

    def rename(self, theme_id: str, name: str) -> bool:
        return self.session.push(commands.UpdateTheme(self.session, theme_id, "Rename theme", name=name.strip()))

    def recolour(self, theme_id: str, color: str) -> bool:
        return self.session.push(commands.UpdateTheme(self.session, theme_id, "Recolour theme", color=color))

    def describe(self, theme_id: str, **fields) -> bool:
        return self.session.push(commands.UpdateTheme(self.session, theme_id, "Edit theme", **fields))

    def merge(self, source_id: str, into_id: str) -> bool:
        return self.session.push(commands.MergeThemes(self.session, source_id, into_id))

    def delete(self, theme_id: str) -> bool:
        return self.session.push(commands.DeleteTheme(self.session, theme_id))

    # dialogs ------------------------------------------------------------------------------------------
    def new_theme_dialog(self) -> None:
        dlg = ThemeDialog(self, title="New theme")
        if dlg.exec() == QDialog.DialogCode.Accepted:
            v = dlg.values()
            if v["name"]:
                self.create_theme(v["name"], description=v["description"], memo=v["memo"])

    def edit_dialog(self) -> None:
        theme = self.session.theme(self.selected_theme_id() or "")
        if theme is None:
            return
        dlg = ThemeDialog(self, title="Edit theme", name=theme["name"], description=theme.get("description", ""),
                          memo=theme.get("memo", ""))
        if dlg.exec() == QDialog.DialogCode.Accepted:
            v = dlg.values()
            changed = {k: val for k, val in v.items() if val != theme.get(k, "") and (k != "name" or val)}
            if changed:
                self.describe(theme["id"], **changed)

    def color_dialog(self) -> None:
        theme = self.session.theme(self.selected_theme_id() or "")
        if theme is None:
            return
        color = QColorDialog.getColor(QColor(theme.get("color", "#888888")), self, "Theme colour")
        if color.isValid():
            self.recolour(theme["id"], color.name())

    def merge_dialog(self) -> None:
        theme = self.session.theme(self.selected_theme_id() or "")
        if theme is None:
            return
        others = [t for t in self.session.themes() if t["id"] != theme["id"]]
        if not others:
            return
        names = [qt_safe(t["name"]) for t in others]
        name, ok = QInputDialog.getItem(self, "Merge theme", "Merge the chosen theme into:", names, 0, False)
        if ok:
            self.merge(theme["id"], others[names.index(name)]["id"])

    def delete_selected(self) -> None:
        theme_id = self.selected_theme_id()
        if theme_id:
            self.delete(theme_id)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_F2:
            self.edit_dialog()
            return
        if event.key() == Qt.Key.Key_Delete:
            self.delete_selected()
            return
        super().keyPressEvent(event)
