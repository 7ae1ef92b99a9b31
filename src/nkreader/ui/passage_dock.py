"""The passage dock: the current highlight — its quote, colour, themes, note and links.

Every change is an undoable command. The note is committed when you press Ctrl+Enter or
"Save note", or when the editor loses focus or another passage is chosen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCompleter, QFrame, QHBoxLayout, QInputDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem, QMenu,
    QPlainTextEdit, QPushButton, QToolButton, QVBoxLayout, QWidget,
)

from nkreader.core.library import HIGHLIGHT_COLORS, LINK_TYPES
from nkreader.ui import commands, style
from nkreader.ui.annotations_dock import swatch
from nkreader.ui.offsets import qt_safe
from nkreader.ui.safety import plain_tooltip
from nkreader.ui.workers import start_task

SUGGEST_DELAY_MS = 200  # after a passage is shown, before its theme suggestions are ranked


def _label(name: str, wrap: bool = True) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    label.setObjectName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class NoteEdit(QPlainTextEdit):
    committed = Signal()

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.committed.emit()

    def insertFromMimeData(self, source) -> None:  # paste as plain text only
        if source.hasText():
            self.insertPlainText(source.text())


class PassageDock(QWidget):
    #: link id: bring both ends into view
    linkChosen = Signal(str)
    #: annotation id: scroll its pane to it
    annotationChosen = Signal(str)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.ann_id = ""
        self.setObjectName("passageDock")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        self.empty = _label("passageEmpty")
        self.empty.setText("Select text in a pane and press H to highlight it, N to add a note, "
                           "L to link it to a passage in another pane. Click a highlight to see it here.")
        lay.addWidget(self.empty)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(6)
        lay.addWidget(self.body, 1)
        self.citation = _label("passageCitation")
        self.quote = _label("passageQuote")
        self.quote.setMaximumHeight(160)
        body.addWidget(self.citation)
        body.addWidget(self.quote)
        colors = QHBoxLayout()
        colors.setSpacing(3)
        self.color_buttons = []
        for i, c in enumerate(HIGHLIGHT_COLORS):
            b = QToolButton()
            b.setIcon(swatch(c, 14))
            b.setToolTip(f"Colour {i + 1}")
            b.setAutoRaise(True)
            b.clicked.connect(lambda _=False, c=c: self.set_color(c))
            colors.addWidget(b)
            self.color_buttons.append(b)
        colors.addStretch(1)
        self.goto_b = QToolButton()
        self.goto_b.setText("Show")
        self.goto_b.setToolTip("Scroll the pane to this passage")
        self.goto_b.clicked.connect(lambda: self.annotationChosen.emit(self.ann_id))
        self.delete_b = QToolButton()
        self.delete_b.setText("Delete")
        self.delete_b.setToolTip("Delete this highlight, its note and its links (Delete)")
        self.delete_b.clicked.connect(self.delete_annotation)
        colors.addWidget(self.goto_b)
        colors.addWidget(self.delete_b)
        body.addLayout(colors)

        body.addWidget(self._section("Themes"))
        self.themes = QListWidget()
        self.themes.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.themes.setObjectName("passageThemes")
        self.themes.itemChanged.connect(self._theme_toggled)
        self.add_theme = QLineEdit()
        self.add_theme.setPlaceholderText("Code with a theme: type a name, Enter")
        self.add_theme.returnPressed.connect(lambda: self.code_with(self.add_theme.text()))
        body.addWidget(self.themes)
        body.addWidget(self.add_theme)
        # themes the codebook and the passages already coded suggest for this one: accept or reject each
        self.suggested = QWidget()
        self.suggested.setObjectName("suggestedThemes")
        self._suggested_rows = QVBoxLayout(self.suggested)
        self._suggested_rows.setContentsMargins(0, 0, 0, 0)
        self._suggested_rows.setSpacing(2)
        self.suggested.hide()
        body.addWidget(self.suggested)
        # tf-idf profiles of the themes, rebuilt (off the GUI thread) after themes or annotations change
        self._profiles = None
        self._profile_terms: dict = {}  # passage text → terms, kept between builds (pool thread only)
        self._profiles_generation, self._profiles_built_generation = 0, -1
        self._profiles_task = None
        self._suggest_timer = QTimer(self)
        self._suggest_timer.setSingleShot(True)
        self._suggest_timer.setInterval(SUGGEST_DELAY_MS)
        self._suggest_timer.timeout.connect(self.show_suggestions)

        body.addWidget(self._section("Note"))
        self.note = NoteEdit()
        self.note.setObjectName("passageNote")
        self.note.setPlaceholderText("Your note on this passage (plain text)")
        self.note.setTabChangesFocus(True)
        self.note.committed.connect(self.commit_note)
        note_row = QHBoxLayout()
        self.note_state = _label("noteState", wrap=False)
        self.save_note_b = QPushButton("Save note")
        self.save_note_b.setToolTip("Ctrl+Enter")
        self.save_note_b.clicked.connect(self.commit_note)
        note_row.addWidget(self.note_state, 1)
        note_row.addWidget(self.save_note_b)
        QShortcut(QKeySequence("Ctrl+Return"), self.note, self.commit_note)
        QShortcut(QKeySequence("Ctrl+Enter"), self.note, self.commit_note)
        self.note.textChanged.connect(self._note_edited)
        self.note.setMinimumHeight(70)
        body.addWidget(self.note, 1)
        body.addLayout(note_row)

        body.addWidget(self._section("Links"))
        self.links = QListWidget()
        self.links.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.links.setObjectName("passageLinks")
        self.links.setWordWrap(True)
        self.links.setMinimumHeight(120)
        self.links.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.links.customContextMenuRequested.connect(self._link_menu)
        self.links.itemClicked.connect(lambda item: self.linkChosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        self.links.itemActivated.connect(lambda item: self.linkChosen.emit(item.data(Qt.ItemDataRole.UserRole)))
        body.addWidget(self.links, 2)
        link_row = QHBoxLayout()
        self.type_b = QPushButton("Type…")
        self.type_b.setToolTip("Change the chosen link's type")
        self.type_b.clicked.connect(self._type_menu)
        self.link_note_b = QPushButton("Link note…")
        self.link_note_b.clicked.connect(self._edit_link_note)
        self.unlink_b = QPushButton("Unlink")
        self.unlink_b.clicked.connect(self._unlink)
        for b in (self.type_b, self.link_note_b, self.unlink_b):
            link_row.addWidget(b)
        body.addLayout(link_row)

        session.currentChanged.connect(self.show_annotation)
        session.changed.connect(self._forget_profiles)  # before the passage is shown again
        session.changed.connect(lambda _kinds: self.show_annotation(self.session.current_id, keep_note=True))
        self.show_annotation("")

    @staticmethod
    def _section(text: str) -> QLabel:
        label = QLabel(text)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.setObjectName("sectionLabel")
        return label

    # showing -------------------------------------------------------------------------------------
    def show_annotation(self, ann_id: str, keep_note: bool = False) -> None:
        if ann_id != self.ann_id:
            self.commit_note()
            keep_note = False
            self.suggested.hide()  # those of the passage shown until now
        self.ann_id = ann_id or ""
        ann = self.session.annotation(self.ann_id) if self.ann_id else None
        self.empty.setVisible(ann is None)
        self.body.setVisible(ann is not None)
        if ann is None:
            self.ann_id = ""
            return
        s = self.session
        layer = ann.get("layer", "")
        self.citation.setText(s.citation(ann) + (f" · {ann.get('creator') or layer} (imported)" if layer else ""))
        quote = ann["target"]["exact"]
        self.quote.setText(qt_safe("“" + (quote if len(quote) < 900 else quote[:899] + "…") + "”"))
        # themes
        self.themes.blockSignals(True)
        self.themes.clear()
        for theme in s.themes():
            item = QListWidgetItem(swatch(theme.get("color", "#888"), 12), qt_safe(theme["name"]))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if theme["id"] in ann.get("themes", []) else Qt.CheckState.Unchecked)
            item.setData(Qt.ItemDataRole.UserRole, theme["id"])
            self.themes.addItem(item)
        self.themes.blockSignals(False)
        rows = max(1, min(6, self.themes.count()))
        row_h = self.themes.sizeHintForRow(0) if self.themes.count() else self.themes.fontMetrics().height() + 12
        self.themes.setFixedHeight(rows * row_h + 2 * self.themes.frameWidth() + 2)
        completer = QCompleter([t["name"] for t in s.themes()], self.add_theme)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.add_theme.setCompleter(completer)
        # note
        if not keep_note or not self.note_dirty():
            self.note.blockSignals(True)
            self.note.setPlainText(ann.get("note", ""))
            self.note.blockSignals(False)
        self._note_edited()
        self._suggest_timer.start()  # suggestions a moment later: moving through passages stays quick
        # links
        self.links.clear()
        for link in s.links_of(self.ann_id):
            other_id = link["target"] if link["source"] == self.ann_id else link["source"]
            other = s.annotation(other_id)
            verb = style.LINK_LABELS.get(link["type"], link["type"])
            if link["source"] != self.ann_id:
                verb = {"agrees with": "agreed with by", "disputes": "disputed by", "extends": "extended by",
                        "same issue as": "same issue as"}.get(verb, verb)
            where = s.citation(other) if other else "?"
            text = f"{verb} {where}"
            if other:
                q = " ".join(other["target"]["exact"].split())
                text += f"\n“{q[:100]}{'…' if len(q) > 100 else ''}”"
            if link.get("note"):
                text += f"\n✎ {link['note']}"
            item = QListWidgetItem(swatch(style.LINK_COLORS.get(link["type"], "#888"), 12), qt_safe(text))
            item.setData(Qt.ItemDataRole.UserRole, link["id"])
            self.links.addItem(item)
        has_links = self.links.count() > 0
        for b in (self.type_b, self.link_note_b, self.unlink_b):
            b.setEnabled(has_links)

    # theme suggestions ------------------------------------------------------------------------------
    def _forget_profiles(self, kinds) -> None:
        if kinds & {"annotations", "themes"}:
            self._profiles_generation += 1  # rebuilt the next time suggestions are shown

    def _build_profiles(self) -> None:
        """Theme profiles walk every annotation (1.7 s at 50k): they are built in a pool thread
        from the session's copy of the records (read once per change for the whole window); until
        they arrive the previous ones (or none) rank the suggestions."""
        if self._profiles_task is not None:
            return
        from nkreader.core.themes import ThemeProfiles

        generation = self._profiles_generation
        themes = self.session.themes()
        annotations = self.session.all_annotations()
        cache = self._profile_terms
        self._profiles_task = start_task(lambda _t: (generation, ThemeProfiles.from_records(themes, annotations, cache)),
                                         title="Theme suggestions", on_result=self._profiles_built,
                                         on_error=self._profiles_failed)

    def _profiles_built(self, result) -> None:
        self._profiles_task = None
        self._profiles_built_generation, self._profiles = result
        self.show_suggestions()

    def _profiles_failed(self, text: str) -> None:
        self._profiles_task = None  # no suggestions this time; the next change tries again
        self._profiles_built_generation = self._profiles_generation
        self.session.message.emit(f"Theme suggestions are not available: {text.splitlines()[-1] if text else ''}")

    def suggestions(self) -> list:
        """Up to three themes for the current passage, best first: neither on it nor rejected for it
        (none until the theme profiles are first built, see ``_build_profiles``)."""
        ann = self.session.annotation(self.ann_id) if self.ann_id else None
        lib = self.session.library
        if ann is None or ann.get("layer") or lib.store.readonly or not self.session.themes():
            return []  # an imported passage, or a library opened read-only, is not coded here
        if self._profiles is None:
            return []
        from nkreader.core.themes import rejected_pairs

        skip = set(ann.get("themes", [])) | {t for a, t in rejected_pairs(lib) if a == ann["id"]}
        skip |= {t for t in self._profiles.themes if self.session.theme(t) is None}  # deleted since
        text = ann["target"].get("exact", "") + " " + (ann.get("note") or "")
        return self._profiles.rank(text, skip=skip, top=3)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._suggest_timer.start()

    def show_suggestions(self) -> None:
        if not self.isVisible():  # ranked when the dock is seen (and never after the window closed)
            return
        if (self.ann_id and self._profiles_built_generation != self._profiles_generation
                and self.session.themes()):
            self._build_profiles()
        while self._suggested_rows.count():
            widget = self._suggested_rows.takeAt(0).widget()
            if widget is not None:
                widget.setParent(None)  # gone now, not only when deleteLater runs
                widget.deleteLater()
        found = self.suggestions()
        for sugg in found:
            theme = self.session.theme(sugg.theme_id) or {}
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            line.setSpacing(2)
            accept = QToolButton()
            accept.setObjectName("acceptTheme")
            accept.setAutoRaise(True)
            accept.setIcon(swatch(theme.get("color", "#888"), 12))
            accept.setText(qt_safe(f"+ {sugg.theme}"))
            accept.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            accept.setToolTip(plain_tooltip(f"Code with “{sugg.theme}” (suggested from the {sugg.reason})"))
            accept.clicked.connect(lambda _=False, t=sugg.theme_id: self.accept_suggestion(t))
            reject = QToolButton()
            reject.setObjectName("rejectTheme")
            reject.setAutoRaise(True)
            reject.setText("✕")
            reject.setToolTip(plain_tooltip(f"“{sugg.theme}” does not fit this passage: do not suggest it again"))
            reject.clicked.connect(lambda _=False, t=sugg.theme_id: self.reject_suggestion(t))
            line.addWidget(accept, 1, Qt.AlignmentFlag.AlignLeft)
            line.addWidget(reject)
            self._suggested_rows.addWidget(row)
        if found:
            title = QLabel("Suggested:")
            title.setTextFormat(Qt.TextFormat.PlainText)
            title.setObjectName("suggestedLabel")
            self._suggested_rows.insertWidget(0, title)
        self.suggested.setVisible(bool(found))

    def accept_suggestion(self, theme_id: str) -> None:
        ann = self.session.annotation(self.ann_id) if self.ann_id else None
        if ann is not None and theme_id not in ann.get("themes", []):
            self.session.push(commands.set_themes(self.session, self.ann_id, ann.get("themes", []) + [theme_id]))

    def reject_suggestion(self, theme_id: str) -> None:
        if not self.ann_id:
            return
        from nkreader.core.themes import reject_suggestion

        reject_suggestion(self.session.library, self.ann_id, theme_id)
        self.show_suggestions()

    def note_dirty(self) -> bool:
        ann = self.session.annotation(self.ann_id) if self.ann_id else None
        return ann is not None and self.note.toPlainText() != ann.get("note", "")

    def _note_edited(self) -> None:
        self.note_state.setText("unsaved — Ctrl+Enter to save" if self.note_dirty() else "")

    # edits -------------------------------------------------------------------------------------------
    def commit_note(self) -> None:
        if self.ann_id and self.note_dirty():
            self.session.push(commands.set_note(self.session, self.ann_id, self.note.toPlainText()))

    def set_color(self, color: str) -> None:
        if self.ann_id:
            self.session.push(commands.set_color(self.session, self.ann_id, color))

    def _theme_toggled(self, item: QListWidgetItem) -> None:
        ann = self.session.annotation(self.ann_id)
        if ann is None:
            return
        theme_id = item.data(Qt.ItemDataRole.UserRole)
        current = list(ann.get("themes", []))
        if item.checkState() == Qt.CheckState.Checked and theme_id not in current:
            current.append(theme_id)
        elif item.checkState() != Qt.CheckState.Checked and theme_id in current:
            current.remove(theme_id)
        self.session.push(commands.set_themes(self.session, self.ann_id, current))

    def code_with(self, name: str) -> None:
        """Add a theme (made if new) to the current passage."""
        name = name.strip()
        ann = self.session.annotation(self.ann_id) if self.ann_id else None
        if not name or ann is None:
            return
        theme = self.session.library.theme_by_name(name)
        with commands.macro(self.session, f"Code with “{name}”"):
            if theme is None:
                cmd = commands.AddTheme(self.session, name)
                if not self.session.push(cmd):
                    return
                theme_id = cmd.theme_id
            else:
                theme_id = theme["id"]
            ann = self.session.annotation(self.ann_id)
            if theme_id not in ann.get("themes", []):
                self.session.push(commands.set_themes(self.session, self.ann_id, ann.get("themes", []) + [theme_id]))
        self.add_theme.clear()

    def delete_annotation(self) -> None:
        if self.ann_id:
            self.session.push(commands.DeleteAnnotation(self.session, self.ann_id))

    def _chosen_link(self) -> str | None:
        item = self.links.currentItem() or (self.links.item(0) if self.links.count() == 1 else None)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _type_menu(self) -> None:
        link_id = self._chosen_link()
        if not link_id:
            return
        menu = QMenu(self)
        for t in LINK_TYPES:
            menu.addAction(swatch(style.LINK_COLORS[t]), style.LINK_LABELS[t],
                           lambda t=t: self.session.push(commands.UpdateLink(self.session, link_id, type=t)))
        menu.exec(self.type_b.mapToGlobal(self.type_b.rect().bottomLeft()))

    def _edit_link_note(self) -> None:
        link_id = self._chosen_link()
        link = self.session.store.get("links", link_id) if link_id else None
        if link is None:
            return
        text, ok = QInputDialog.getMultiLineText(self, "Link note", "Note on this link (plain text):", link.get("note", ""))
        if ok and text != link.get("note", ""):
            self.session.push(commands.UpdateLink(self.session, link_id, note=text))

    def _unlink(self) -> None:
        link_id = self._chosen_link()
        if link_id:
            self.session.push(commands.DeleteLink(self.session, link_id))

    def _link_menu(self, pos) -> None:
        item = self.links.itemAt(pos)
        if item is None:
            return
        self.links.setCurrentItem(item)
        link_id = item.data(Qt.ItemDataRole.UserRole)
        menu = QMenu(self)
        menu.addAction("Show both passages", lambda: self.linkChosen.emit(link_id))
        sub = menu.addMenu("Type")
        for t in LINK_TYPES:
            sub.addAction(swatch(style.LINK_COLORS[t]), style.LINK_LABELS[t],
                          lambda t=t: self.session.push(commands.UpdateLink(self.session, link_id, type=t)))
        menu.addAction("Edit link note…", self._edit_link_note)
        menu.addAction("Unlink", self._unlink)
        menu.exec(self.links.viewport().mapToGlobal(pos))
