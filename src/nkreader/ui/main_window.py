"""The main window: wiring in one place.

Centre: document panes side by side in a ``LinkSplitter`` whose handles draw link ribbons.
Left: the library and the theme sidebar. Right: the current passage, the annotations list, search
and (when present) related passages. Every action is declared once in ``ACTIONS`` (name, text,
shortcuts, slot, scope, menu); menus, the toolbar and the shortcuts help are built from it.
Panes, documents, scroll positions, whether each pane shows the pages (and their zoom) and the window
layout are saved in the store's settings. On start an encrypted PDF is not reopened (no password
question before the window is up): its pane stays empty, the status bar says so, and the saved state
keeps naming it until the user opens it (choosing it in the pane asks for the password).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication, QDockWidget, QFileDialog, QFrame, QHBoxLayout, QLabel, QMainWindow, QMessageBox,
    QPushButton, QToolBar, QToolButton, QVBoxLayout, QWidget,
)

from nkreader.core.library import HIGHLIGHT_COLORS, Library
from nkreader.ui import commands, exchange, style
from nkreader.ui.annotations_dock import AnnotationsDock, swatch
from nkreader.ui.dialogs import LinkDialog, ShortcutsDialog
from nkreader.ui.document_pane import DocumentPane, follow_page_view_action, toggle_page_view
from nkreader.ui.library_dock import LibraryDock
from nkreader.ui.link_gutter import LinkSplitter
from nkreader.ui.offsets import qt_safe
from nkreader.ui.passage_dock import PassageDock
from nkreader.ui.safety import message, plain_tooltip
from nkreader.ui.search_dock import SearchDock
from nkreader.ui.session import Session
from nkreader.ui.theme_dock import ThemeDock
from nkreader.ui.workers import TaskBar, cancel_all

STATE_KEY = "ui.window"
STATE_VERSION = 1


@dataclass(frozen=True)
class ActionSpec:
    name: str
    text: str
    shortcuts: tuple[str, ...]
    slot: str
    scope: str = "window"  # "window": anywhere in the window; "pane": while a pane has the focus
    menu: str = ""
    checkable: bool = False
    tip: str = ""


MATRIX_MIN_HEIGHT = 260  # px: a few theme rows and the passages of a cell


def _a(name, text, shortcuts, slot, scope="window", menu="", checkable=False, tip=""):
    if isinstance(shortcuts, str):
        shortcuts = (shortcuts,) if shortcuts else ()
    return ActionSpec(name, text, tuple(shortcuts), slot, scope, menu, checkable, tip)


ACTIONS: tuple[ActionSpec, ...] = (
    # File
    _a("add_documents", "&Add documents…", "Ctrl+O", "add_documents", menu="File",
       tip="Copy .txt, .md, .pdf or .epub files into the library"),
    _a("retry_save", "&Retry saving", "Ctrl+S", "retry_save", menu="File", tip="Write changes that could not be saved"),
    _a("save_copy", "Save a copy of unsaved changes…", "", "save_pending_copy", menu="File"),
    _a("export", "&Export notes…", "Ctrl+E", "export_notes", menu="File",
       tip="Markdown, HTML, PDF handout, W3C Web Annotation, REFI-QDA or CSV"),
    _a("import", "&Import a classmate's work…", "Ctrl+I", "import_work", menu="File",
       tip="Merge W3C JSON-LD or REFI-QDA annotations as a separate layer"),
    _a("quit", "&Quit", "Ctrl+Q", "close", menu="File"),
    # Edit
    _a("undo", "&Undo", ("Ctrl+Z",), "undo", menu="Edit"),
    _a("redo", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "redo", menu="Edit"),
    _a("copy_cited", "Copy with &citation", "Ctrl+Shift+C", "copy_with_citation", "pane", "Edit"),
    _a("find", "&Find in pane…", "Ctrl+F", "find_in_pane", "pane", "Edit"),
    _a("find_next", "Find next", "F3", "find_next", "pane", "Edit"),
    _a("find_prev", "Find previous", "Shift+F3", "find_prev", "pane", "Edit"),
    _a("search", "&Search the corpus…", "Ctrl+Shift+F", "search_corpus", menu="Edit"),
    # Passage
    _a("highlight", "&Highlight selection", "H", "highlight_selection", "pane", "Passage"),
    _a("color1", "Highlight in colour 1 (yellow)", "1", "highlight_color_1", "pane", "Passage"),
    _a("color2", "Highlight in colour 2 (green)", "2", "highlight_color_2", "pane", "Passage"),
    _a("color3", "Highlight in colour 3 (blue)", "3", "highlight_color_3", "pane", "Passage"),
    _a("color4", "Highlight in colour 4 (pink)", "4", "highlight_color_4", "pane", "Passage"),
    _a("color5", "Highlight in colour 5 (violet)", "5", "highlight_color_5", "pane", "Passage"),
    _a("note", "Highlight and write a &note", "N", "note_selection", "pane", "Passage"),
    _a("code", "Code with a &theme…", "T", "code_selection", "pane", "Passage"),
    _a("link", "&Link to a passage in another pane", "L", "link_selection", "pane", "Passage",
       tip="Press L on a passage, then on one in another pane (or select in two panes and press L)"),
    _a("delete_annotation", "&Delete highlight", ("Delete", "Backspace"), "delete_current", "pane", "Passage"),
    _a("cancel", "Cancel linking / close find / stop following theme", "Esc", "cancel_mode", "pane", "Passage"),
    # Themes
    _a("new_theme", "&New theme…", "Ctrl+Shift+T", "new_theme", menu="Themes"),
    _a("theme_next", "Next passage on the theme", ("Alt+Down", "]"), "theme_next", "pane", "Themes"),
    _a("theme_prev", "Previous passage on the theme", ("Alt+Up", "["), "theme_prev", "pane", "Themes"),
    _a("theme_clear", "Stop following the theme", "", "theme_clear", menu="Themes"),
    _a("import_codebook", "&Import a codebook…", "", "import_codebook", menu="Themes",
       tip="Merge themes from a REFI-QDA .qdc, TOML or JSON codebook (by name; nothing is deleted)"),
    _a("export_codebook", "&Export the codebook…", "", "export_codebook", menu="Themes",
       tip="Write the themes as a REFI-QDA .qdc, TOML or JSON codebook"),
    # Panes
    _a("add_pane", "&Add pane", "Ctrl+T", "add_pane_action", menu="Panes"),
    _a("close_pane", "&Close pane", "Ctrl+W", "close_active_pane", menu="Panes"),
    _a("swap_panes", "&Swap with the pane on the right", "Ctrl+Shift+X", "swap_panes", menu="Panes"),
    _a("next_pane", "Next pane", "F6", "next_pane", menu="Panes"),
    _a("prev_pane", "Previous pane", "Shift+F6", "prev_pane", menu="Panes"),
    _a("sync_scroll", "S&ynchronised scrolling", "Ctrl+Shift+L", "toggle_sync", menu="Panes", checkable=True),
    # View
    _a("zoom_in", "&Larger text", ("Ctrl++", "Ctrl+="), "zoom_in", menu="View"),
    _a("zoom_out", "&Smaller text", "Ctrl+-", "zoom_out", menu="View"),
    _a("zoom_reset", "&Default text size", "Ctrl+0", "zoom_reset", menu="View"),
    _a("dark", "&Dark theme", "Ctrl+Shift+D", "toggle_dark", menu="View", checkable=True),
    _a("presentation", "&Presentation mode", "F11", "toggle_presentation", menu="View", checkable=True),
    _a("page_view", "&Page view (PDF, EPUB)", "Ctrl+Shift+P", "toggle_page_view", "pane", "View", checkable=True,
       tip="Show the pages as printed, or the reflowed text, in the current pane"),
    _a("focus_library", "Go to the library", "Ctrl+1", "focus_library", menu="View"),
    _a("focus_themes", "Go to the themes", "Ctrl+2", "focus_themes", menu="View"),
    _a("focus_passage", "Go to the passage", "Ctrl+3", "focus_passage", menu="View"),
    _a("focus_annotations", "Go to the highlights list", "Ctrl+4", "focus_annotations", menu="View"),
    # Help
    _a("shortcuts", "&Keyboard shortcuts", ("F1", "Ctrl+/"), "show_shortcuts", menu="Help"),
)

MENUS = ("File", "Edit", "Passage", "Themes", "Panes", "View", "Help")


def _import_optional(module: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
    except Exception as exc:  # a colleague's module that fails to import must not stop the window
        print(f"nkreader: {module} could not be loaded: {exc}")
        return None


def _widget_class(module, names: tuple[str, ...]):
    if module is None:
        return None
    for name in names:
        cls = getattr(module, name, None)
        if isinstance(cls, type) and issubclass(cls, QWidget):
            return cls
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, QWidget) and value.__module__ == module.__name__:
            return value
    return None


class SaveBanner(QFrame):
    def __init__(self, window: "MainWindow"):
        super().__init__(window)
        self.setObjectName("saveBanner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.retry = QPushButton("Retry")
        self.copy = QPushButton("Save a copy…")
        self.dismiss = QToolButton()
        self.dismiss.setText("✕")
        self.dismiss.setAutoRaise(True)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.retry)
        lay.addWidget(self.copy)
        lay.addWidget(self.dismiss)
        self.retry.clicked.connect(window.retry_save)
        self.copy.clicked.connect(window.save_pending_copy)
        self.dismiss.clicked.connect(self.hide)
        self.hide()


class MainWindow(QMainWindow):
    paneAdded = Signal(object)

    def __init__(self, library: Library, *, restore: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.library = library
        self.session = Session(library, self)
        self.store = self.session.store
        self.setWindowTitle("nkreader")
        self.setObjectName("mainWindow")
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        state = self.store.get_setting(STATE_KEY, {}) if restore else {}
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            state = {}
        self._state = state
        self.dark = bool(state.get("dark", False))
        self.font_size = float(state.get("font_size", style.DEFAULT_FONT_SIZE))
        self.sync_scroll = bool(state.get("sync", False))
        self.scheme = style.scheme(self.dark)
        self.active_pane: DocumentPane | None = None
        #: page view (and zoom) of a restored pane whose document is still being opened
        self._restoring_views: dict[DocumentPane, dict] = {}
        self.pending_link: dict | None = None
        self._syncing = False
        self._presentation: dict | None = None
        self._closing_ok = False

        # centre
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(0)
        self.banner = SaveBanner(self)
        self.splitter = LinkSplitter()
        self.splitter.ribbonClicked.connect(self.show_link)
        self.splitter.splitterMoved.connect(lambda *_: self._state_dirty())
        cl.addWidget(self.banner)
        cl.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        # docks
        self.task_bar = TaskBar()
        self.library_dock = LibraryDock(self.session)
        self.theme_dock = ThemeDock(self.session)
        self.passage_dock = PassageDock(self.session)
        self.annotations_dock = AnnotationsDock(self.session)
        self.search_dock = SearchDock(self.session, task_bar=self.task_bar)
        self.docks: dict[str, QDockWidget] = {}
        self._add_dock("library", "Library", self.library_dock, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("themes", "Themes", self.theme_dock, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._add_dock("passage", "Passage", self.passage_dock, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("annotations", "Highlights", self.annotations_dock, Qt.DockWidgetArea.RightDockWidgetArea)
        self._add_dock("search", "Search", self.search_dock, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.docks["annotations"], self.docks["search"])
        # the related dock and the matrix view are made when first shown: the related dock's
        # ranking imports numpy and a stemmer (~0.5 s), which must stay off the start-up path
        self.related_dock = None
        self.matrix_view = None
        self._related_timer = QTimer(self)
        self._related_timer.setSingleShot(True)
        self._related_timer.setInterval(350)
        self._related_timer.timeout.connect(self._feed_related)
        self.session.currentChanged.connect(lambda _id: self._related_timer.start())
        if self._lazy_dock("related", "Related passages", "nkreader.ui.related_dock",
                           ("RelatedDock", "RelatedPassagesDock", "RelatedWidget"),
                           Qt.DockWidgetArea.RightDockWidgetArea):
            self.tabifyDockWidget(self.docks["annotations"], self.docks["related"])
        if self._lazy_dock("matrix", "Theme × author matrix", "nkreader.ui.matrix_view",
                           ("MatrixView", "ThemeMatrixView", "MatrixWidget"), Qt.DockWidgetArea.BottomDockWidgetArea):
            self.docks["matrix"].hide()
        self.docks["annotations"].raise_()

        # wiring
        self.library_dock.openRequested.connect(self.open_in)
        self.theme_dock.documentChosen.connect(lambda _t, doc_id: self.open_in(doc_id, "reuse"))
        self.theme_dock.stepRequested.connect(self.theme_step_all)
        self.annotations_dock.annotationChosen.connect(self.show_annotation)
        self.passage_dock.annotationChosen.connect(self.show_annotation)
        self.passage_dock.linkChosen.connect(self.show_link)
        self.search_dock.hitChosen.connect(self.show_hit)
        self.session.changed.connect(self._session_changed)
        self.session.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.session.editRefused.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.session.saveStateChanged.connect(self._save_state_changed)
        self.session.currentChanged.connect(lambda _id: self.splitter.update_gutters())

        # actions, menus, toolbar, status bar
        self.actions_by_name: dict[str, QAction] = {}
        self._build_actions()
        self._build_toolbar()
        status = self.statusBar()
        self.link_state = QLabel()
        self.link_state.setTextFormat(Qt.TextFormat.PlainText)
        self.link_state.setObjectName("linkState")
        self.save_state = QLabel()
        self.save_state.setTextFormat(Qt.TextFormat.PlainText)
        self.save_state.setObjectName("saveState")
        status.addPermanentWidget(self.link_state)
        status.addPermanentWidget(self.task_bar)
        status.addPermanentWidget(self.save_state)
        self._legend = QWidget()
        ll = QHBoxLayout(self._legend)
        ll.setContentsMargins(0, 0, 6, 0)
        ll.setSpacing(4)
        for t, color in style.LINK_COLORS.items():
            sw = QLabel()
            sw.setPixmap(swatch(color, 10).pixmap(10, 10))
            ll.addWidget(sw)
            tl = QLabel(style.LINK_LABELS[t])
            tl.setTextFormat(Qt.TextFormat.PlainText)
            ll.addWidget(tl)
            ll.addSpacing(6)
        self._legend.setToolTip("Link ribbons between panes, by type")
        self.statusBar().addPermanentWidget(self._legend)
        self._sized_docks = bool(state.get("dock_state"))
        self._update_save_label()

        self._state_timer = QTimer(self)
        self._state_timer.setSingleShot(True)
        self._state_timer.setInterval(1500)
        self._state_timer.timeout.connect(self.save_window_state)

        self.apply_scheme()
        self._restore_panes(state)
        if state.get("geometry"):
            self.restoreGeometry(QByteArray.fromBase64(state["geometry"].encode("ascii")))
        else:
            screen = QGuiApplication.primaryScreen()
            avail = screen.availableGeometry() if screen else None
            if avail is not None:
                self.resize(min(1560, avail.width() - 40), min(960, avail.height() - 40))
            else:
                self.resize(1400, 900)
        if state.get("dock_state"):
            self.restoreState(QByteArray.fromBase64(state["dock_state"].encode("ascii")), STATE_VERSION)
        if self.store.readonly:
            self._save_state_changed("")

    # building ----------------------------------------------------------------------------------------
    def _add_dock(self, name: str, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        self.docks[name] = dock
        return dock

    def _lazy_dock(self, name, title, module_name, class_names, area) -> bool:
        """A dock for a colleague's widget, made the first time the dock is shown."""
        try:
            spec = importlib.util.find_spec(module_name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            return False
        placeholder = QLabel("Loading…")
        placeholder.setTextFormat(Qt.TextFormat.PlainText)
        placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        dock = self._add_dock(name, title, placeholder, area)
        dock.setProperty("lazy_module", module_name)
        dock.setProperty("lazy_classes", list(class_names))
        dock.visibilityChanged.connect(lambda visible, name=name: self._dock_shown(name) if visible else None)
        return True

    def _dock_shown(self, name: str) -> None:
        widget = self.optional_widget(name)
        if name == "related":
            self._related_timer.start()
        elif name == "matrix" and widget is not None and hasattr(widget, "refresh"):
            widget.refresh()
            dock = self.docks["matrix"]
            if not dock.isFloating() and dock.height() < MATRIX_MIN_HEIGHT:  # room for its rows and passages
                QTimer.singleShot(0, self, lambda: self.resizeDocks(
                    [dock], [max(MATRIX_MIN_HEIGHT, self.height() * 2 // 5)], Qt.Orientation.Vertical))

    def optional_widget(self, name: str):
        """The related dock's or matrix view's widget, made now if it was not yet."""
        attr = {"related": "related_dock", "matrix": "matrix_view"}[name]
        widget = getattr(self, attr)
        dock = self.docks.get(name)
        if widget is not None or dock is None:
            return widget
        module_name = dock.property("lazy_module")
        cls = _widget_class(_import_optional(module_name), tuple(dock.property("lazy_classes") or ()))
        if cls is None:
            return None
        try:
            try:
                widget = cls(self.library, parent=self)
            except TypeError:
                widget = cls(self.library)
        except Exception as exc:
            print(f"nkreader: {module_name} could not be shown: {exc}")
            return None
        dock.setWidget(widget)
        setattr(self, attr, widget)
        self._connect_optional(widget)
        if name == "related":
            for pane in self.panes:
                pane.selectionChanged.connect(lambda _p: self._related_timer.start())
        return widget

    def _connect_optional(self, widget) -> None:
        """Hook the related dock / matrix view into the window by the signals they have."""
        if hasattr(widget, "openRequested"):  # related dock: open a suggestion beside the source
            widget.openRequested.connect(self.show_beside)
        if hasattr(widget, "linkAccepted"):
            widget.linkAccepted.connect(self._external_link)
        if hasattr(widget, "dismissed"):
            widget.dismissed.connect(lambda *_: None)
        if hasattr(widget, "passageRequested"):  # matrix view
            widget.passageRequested.connect(self.show_hit)
        if hasattr(widget, "cellOpened"):
            widget.cellOpened.connect(self._matrix_cell)
        for sig in ("changed", "linksChanged", "libraryChanged", "edited", "linked"):
            signal = getattr(widget, sig, None)
            if signal is not None and hasattr(signal, "connect"):
                signal.connect(lambda *_: self.session.notify("annotations", "links", "themes"))
        for sig in ("passageChosen", "passageActivated", "openPassage"):
            signal = getattr(widget, sig, None)
            if signal is not None and hasattr(signal, "connect"):
                signal.connect(self._optional_passage)
    def _feed_related(self, *_args) -> None:
        """Give the related dock the passage in question (only while it is visible: it ranks in the
        background, but there is no point in ranking what nobody looks at)."""
        widget = self.related_dock
        dock = self.docks.get("related")
        if widget is None or dock is None or not dock.isVisible() or not hasattr(widget, "set_selection"):
            return
        source = None
        pane = self.active_pane
        if pane is not None and pane.selection_span() is not None:
            a, b = pane.selection_span()
            source = (pane.doc_id, a, b)
        else:
            ann = self.session.annotation(self.session.current_id) if self.session.current_id else None
            if ann is not None:
                source = (ann["doc_id"], ann["target"]["start"], ann["target"]["end"])
        if source is None or source == getattr(self, "_related_source", None):
            return
        self._related_source = source
        try:
            widget.set_selection(*source)
        except Exception as exc:  # a colleague's widget must not break the window
            self.statusBar().showMessage(f"Related passages: {exc}", 5000)

    def show_beside(self, doc_id: str, start: int, end: int) -> None:
        """Show a passage in a pane next to the active one (for a related passage)."""
        def go(p):
            p.scroll_to_span(start, end)
            p.select_span(start, end)

        pane = next((p for p in self.panes if p.doc_id == doc_id), None)
        if pane is None:
            pane = self._pane_for(doc_id, avoid=self.active_pane)
        if pane.doc_id == doc_id:
            go(pane)
        else:
            pane.open_document(doc_id, on_ready=go)

    def _external_link(self, link) -> None:
        """A link made by the related dock: refresh, and make it undoable from here on."""
        self.session.notify("annotations", "links")
        if isinstance(link, dict) and link.get("id"):
            self.session.undo_stack.push(commands.RecordedLink(self.session, link))

    def _matrix_cell(self, theme_id: str, doc_ids: list, anns: list) -> None:
        if theme_id and self.session.theme(theme_id):
            self.session.set_active_theme(theme_id)
        shown = {p.doc_id for p in self.panes}
        for doc_id in doc_ids:
            if doc_id not in shown:
                self.open_in(doc_id, "active")
                break

    def _optional_passage(self, *args) -> None:
        if len(args) >= 3 and isinstance(args[0], str):
            self.show_hit(args[0], int(args[1]), int(args[2]))
        elif len(args) == 1 and isinstance(args[0], str):
            self.show_annotation(args[0])

    def _build_actions(self) -> None:
        menus = {name: self.menuBar().addMenu(f"&{name}") for name in MENUS}
        stack = self.session.undo_stack
        for spec in ACTIONS:
            if spec.name == "undo":
                action = stack.createUndoAction(self, "&Undo")
            elif spec.name == "redo":
                action = stack.createRedoAction(self, "&Redo")
            else:
                action = QAction(spec.text, self)
                action.triggered.connect(getattr(self, spec.slot))
            action.setObjectName(f"action_{spec.name}")
            action.setCheckable(spec.checkable)
            if spec.shortcuts:
                action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
            if spec.tip:
                action.setStatusTip(spec.tip)
            if spec.scope == "pane":
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                self.splitter.addAction(action)
            else:
                action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                self.addAction(action)
            if spec.menu:
                menus[spec.menu].addAction(action)
            self.actions_by_name[spec.name] = action
        self.actions_by_name["dark"].setChecked(self.dark)
        self.actions_by_name["sync_scroll"].setChecked(self.sync_scroll)
        follow_page_view_action(self, self.actions_by_name["page_view"])  # enabled for a PDF or EPUB pane
        view = menus["View"]
        view.addSeparator()
        self.layers_menu = view.addMenu("Classmates' &layers")
        self.layers_menu.aboutToShow.connect(lambda: exchange.build_layers_menu(self.layers_menu, self))
        view.addSeparator()
        for name, dock in self.docks.items():
            view.addAction(dock.toggleViewAction())
        for pane_action in ("highlight", "note", "link", "code", "copy_cited", "delete_annotation"):
            self.actions_by_name[pane_action].setData(pane_action)
        self._menus = menus

    def export_notes(self) -> None:
        pane = self.active_pane
        exchange.export_from_window(self, doc_id=pane.doc_id if pane is not None else None)

    def import_codebook(self) -> None:
        exchange.import_codebook_into_window(self)

    def export_codebook(self) -> None:
        exchange.export_codebook_from_window(self)

    def add_documents(self) -> None:
        self.library_dock.add_documents()

    def import_work(self) -> None:
        exchange.import_into_window(self)

    def _build_toolbar(self) -> None:
        tb = QToolBar("Reading")
        tb.setObjectName("readingToolbar")
        tb.setMovable(False)
        tb.setIconSize(QSize(16, 16))
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, tb)
        a = self.actions_by_name
        hl = QAction(swatch(HIGHLIGHT_COLORS[0], 14), "Highlight", self)
        hl.setToolTip("Highlight the selection (H)")
        hl.triggered.connect(self.highlight_selection)
        tb.addAction(hl)
        for i, c in enumerate(HIGHLIGHT_COLORS[1:], start=2):
            act = QAction(swatch(c, 14), "", self)
            act.setToolTip(f"Highlight in colour {i} ({i})")
            act.triggered.connect(lambda _=False, c=c: self.highlight_selection(color=c))
            tb.addAction(act)
        tb.addSeparator()
        for name, label in (("note", "Note"), ("code", "Theme"), ("link", "Link")):
            act = a[name]
            btn_action = QAction(label, self)
            btn_action.setToolTip(f"{act.text().replace('&', '')} ({act.shortcut().toString()})")
            btn_action.triggered.connect(act.trigger)
            tb.addAction(btn_action)
        tb.addSeparator()
        stack = self.session.undo_stack
        for name, label, can, text_changed in (("undo", "Undo", stack.canUndoChanged, stack.undoTextChanged),
                                               ("redo", "Redo", stack.canRedoChanged, stack.redoTextChanged)):
            act = QAction(label, self)
            act.setEnabled(False)
            act.triggered.connect(a[name].trigger)
            can.connect(act.setEnabled)
            keys = a[name].shortcut().toString()
            text_changed.connect(lambda t, act=act, label=label, keys=keys:
                                 act.setToolTip(plain_tooltip(f"{label} {t} ({keys})") if t else f"{label} ({keys})"))
            act.setToolTip(f"{label} ({keys})")
            tb.addAction(act)
        tb.addSeparator()
        for name, label in (("add_pane", "+ Pane"), ("zoom_out", "A−"), ("zoom_in", "A+")):
            act = QAction(label, self)
            act.setToolTip(f"{a[name].text().replace('&', '')} ({a[name].shortcut().toString()})")
            act.triggered.connect(a[name].trigger)
            tb.addAction(act)
        tb.addAction(a["sync_scroll"])
        tb.addAction(a["dark"])
        a["sync_scroll"].setIconText("Sync")
        a["dark"].setIconText("Dark")
        self.toolbar = tb

    # appearance ----------------------------------------------------------------------------------------
    def apply_scheme(self) -> None:
        self.scheme = style.scheme(self.dark)
        app = QApplication.instance()
        if app is not None:
            app.setPalette(style.palette_for(self.scheme))
            app.setStyleSheet(style.style_sheet(self.scheme))
        for pane in self.panes:
            pane.apply_scheme(self.scheme)
        self.splitter.update_gutters()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not getattr(self, "_sized_docks", True):
            self._sized_docks = True
            QTimer.singleShot(0, self._size_docks)

    def _size_docks(self) -> None:
        w = self.width()
        self.resizeDocks([self.docks["library"], self.docks["passage"]],
                         [max(240, int(w * 0.17)), max(300, int(w * 0.21))], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["library"], self.docks["themes"]], [42, 58], Qt.Orientation.Vertical)
        self._equalize()

    def refresh_fonts(self) -> None:
        """A font was added (CJK fallback): lay the panes out again so it is used."""
        for pane in self.panes:
            qdoc = pane.view.document()
            qdoc.setDefaultFont(style.reading_font(pane.font_size))
            qdoc.markContentsDirty(0, qdoc.characterCount())
            pane.view.invalidate_geometry()
            pane.update()
        self.splitter.update_gutters()

    # panes ---------------------------------------------------------------------------------------------
    @property
    def panes(self) -> list[DocumentPane]:
        return [self.splitter.widget(i) for i in range(self.splitter.count())
                if isinstance(self.splitter.widget(i), DocumentPane)]

    def add_pane(self, doc_id: str | None = None, *, index: int | None = None, top_offset: int | None = None,
                 activate: bool = True, on_ready=None, ask_password: bool = True) -> DocumentPane:
        pane = DocumentPane(self.session, dark=self.dark, font_size=self.font_size)
        pane.context_actions = [self.actions_by_name[n] for n in ("highlight", "note", "code", "link",
                                                                  "copy_cited", "delete_annotation")]
        pane.activated.connect(self.set_active_pane)
        pane.scrolled.connect(lambda p=pane: self._pane_scrolled(p))
        pane.documentChanged.connect(self._pane_document_changed)
        pane.closeRequested.connect(self.close_pane)
        pane.viewStateChanged.connect(lambda _p: self._state_dirty())  # pages or text, zoom: saved
        pane.annotationActivated.connect(lambda _id: self._show_passage_dock())
        if self.related_dock is not None:
            pane.selectionChanged.connect(lambda _p: self._related_timer.start())
        if index is None:
            self.splitter.addWidget(pane)
        else:
            self.splitter.insertWidget(index, pane)
        self._equalize()
        if doc_id:
            pane.open_document(doc_id, top_offset=top_offset, on_ready=on_ready, ask_password=ask_password)
        if activate or self.active_pane is None:
            self.set_active_pane(pane)
        self.paneAdded.emit(pane)
        self._state_dirty()
        return pane

    def _equalize(self) -> None:
        n = self.splitter.count()
        if n:
            total = max(self.splitter.width(), 600)
            self.splitter.setSizes([total // n] * n)

    def close_pane(self, pane: DocumentPane) -> None:
        if len(self.panes) <= 1:
            pane.set_document(None)
            return
        was_active = pane is self.active_pane
        i = self.panes.index(pane)
        pane.hide()
        pane.setParent(None)
        pane.deleteLater()
        if was_active:
            rest = self.panes
            self.active_pane = None
            self.set_active_pane(rest[min(i, len(rest) - 1)])
        self._equalize()
        self._after_panes_changed()

    def close_active_pane(self) -> None:
        if self.active_pane is not None:
            self.close_pane(self.active_pane)

    def add_pane_action(self) -> None:
        shown = {p.doc_id for p in self.panes}
        nxt = next((e.id for e in self.session.corpus.entries if e.id not in shown), None)
        index = self.panes.index(self.active_pane) + 1 if self.active_pane in self.panes else None
        self.add_pane(nxt, index=index)

    def swap_panes(self) -> None:
        panes = self.panes
        if len(panes) < 2 or self.active_pane not in panes:
            return
        i = panes.index(self.active_pane)
        j = i + 1 if i + 1 < len(panes) else i - 1
        a, b = panes[i], panes[j]
        da, db = a.doc, b.doc
        ta, tb = a.top_offset(), b.top_offset()
        a.set_document(db, top_offset=tb)
        b.set_document(da, top_offset=ta)
        self.set_active_pane(b)

    def next_pane(self, step: int = 1) -> None:
        panes = self.panes
        if not panes:
            return
        i = panes.index(self.active_pane) if self.active_pane in panes else -1
        pane = panes[(i + (step if isinstance(step, int) and step else 1)) % len(panes)]
        pane.view.setFocus()
        self.set_active_pane(pane)

    def prev_pane(self) -> None:
        self.next_pane(-1)

    def set_active_pane(self, pane: DocumentPane) -> None:
        if pane is self.active_pane or pane not in self.panes:
            return
        self.active_pane = pane
        for p in self.panes:
            p.set_active(p is pane)
        self.annotations_dock.set_document(pane.doc_id)

    def _pane_document_changed(self, pane: DocumentPane) -> None:
        if pane is self.active_pane:
            self.annotations_dock.set_document(pane.doc_id)
        self._after_panes_changed()

    def _after_panes_changed(self) -> None:
        self.library_dock.set_shown(p.doc_id for p in self.panes)
        names = [self.session.entry_label(p.doc_id) for p in self.panes if p.doc_id]
        self.setWindowTitle(qt_safe("nkreader — " + " | ".join(names) if names else "nkreader"))
        self.splitter.update_gutters()
        self._state_dirty()

    def _pane_scrolled(self, pane: DocumentPane) -> None:
        for g in self.splitter.gutters_of(pane):
            g.update()
        if self.sync_scroll and not self._syncing:
            self._syncing = True
            try:
                src = pane.view.verticalScrollBar()
                frac = src.value() / src.maximum() if src.maximum() else 0.0
                for other in self.panes:
                    if other is not pane:
                        sb = other.view.verticalScrollBar()
                        sb.setValue(round(frac * sb.maximum()))
            finally:
                self._syncing = False
        self._state_dirty()

    def pane_showing(self, doc_id: str) -> DocumentPane | None:
        if self.active_pane is not None and self.active_pane.doc_id == doc_id:
            return self.active_pane
        return next((p for p in self.panes if p.doc_id == doc_id), None)

    def open_in(self, doc_id: str, where: str = "active", on_ready=None) -> DocumentPane:
        """Show a document: "active" pane, a "new" pane, or "reuse" a pane already showing it."""
        if where == "reuse":
            pane = self.pane_showing(doc_id)
            if pane is not None:
                if on_ready:
                    on_ready(pane)
                return pane
            where = "active"
        if where == "new" or not self.panes:
            index = self.panes.index(self.active_pane) + 1 if self.active_pane in self.panes else None
            pane = self.add_pane(None, index=index)
        else:
            pane = self.active_pane or self.panes[0]
        if pane.doc_id == doc_id:
            if on_ready:
                on_ready(pane)
        else:
            pane.open_document(doc_id, on_ready=on_ready)
        self.set_active_pane(pane)
        return pane

    def _pane_for(self, doc_id: str, avoid: DocumentPane | None = None) -> DocumentPane:
        """A pane showing ``doc_id``, else a neighbour of ``avoid`` (or a new pane) switched to it."""
        pane = next((p for p in self.panes if p.doc_id == doc_id and p is not avoid), None)
        if pane is not None:
            return pane
        panes = self.panes
        if avoid in panes and len(panes) > 1:
            i = panes.index(avoid)
            pane = panes[i + 1] if i + 1 < len(panes) else panes[i - 1]
        elif avoid in panes:
            pane = self.add_pane(None, index=panes.index(avoid) + 1, activate=False)
        else:
            pane = self.active_pane or (panes[0] if panes else self.add_pane(None))
        pane.open_document(doc_id)
        return pane

    # navigation ------------------------------------------------------------------------------------------
    def show_annotation(self, ann_id: str) -> None:
        ann = self.session.annotation(ann_id)
        if ann is None:
            return
        pane = self.pane_showing(ann["doc_id"])
        if pane is None:
            pane = self.open_in(ann["doc_id"], "active")

        def go(p):
            p.activate_annotation(ann_id, scroll=True)

        if pane.doc_id == ann["doc_id"]:
            go(pane)
        else:
            pane.open_document(ann["doc_id"], on_ready=go)

    def show_link(self, link_id: str) -> None:
        """Bring both ends of a link into view, level with each other, in neighbouring panes."""
        link = self.store.get("links", link_id)
        if link is None:
            return
        s, t = self.session.annotation(link["source"]), self.session.annotation(link["target"])
        if s is None or t is None:
            return
        ps = self.pane_showing(s["doc_id"])
        pt = next((p for p in self.panes if p.doc_id == t["doc_id"] and p is not ps), None)
        if ps is None and pt is None:
            ps = self.active_pane or self.panes[0]
            ps.open_document(s["doc_id"])
        if ps is None:
            ps = self._pane_for(s["doc_id"], avoid=pt)
        if pt is None:
            pt = self._pane_for(t["doc_id"], avoid=ps)
        for pane, ann in ((ps, s), (pt, t)):
            if pane.doc_id == ann["doc_id"]:
                pane.scroll_to_span(ann["target"]["start"], ann["target"]["end"], 0.35)
        self.session.set_current(s["id"])
        self.splitter.update_gutters()

    def show_hit(self, doc_id: str, start: int, end: int) -> None:
        def go(p):
            p.scroll_to_span(start, end)
            p.select_span(start, end)
            p.view.setFocus()

        pane = self.pane_showing(doc_id)
        if pane is not None:
            go(pane)
        else:
            self.open_in(doc_id, "active", on_ready=go)

    def theme_step_all(self, step: int) -> None:
        for pane in self.panes:
            pane.theme_step(step)

    def theme_next(self) -> None:
        if self.active_pane:
            self.active_pane.theme_step(+1)

    def theme_prev(self) -> None:
        if self.active_pane:
            self.active_pane.theme_step(-1)

    def theme_clear(self) -> None:
        self.session.set_active_theme("")

    # editing -------------------------------------------------------------------------------------------
    def _pane_with_focus(self) -> DocumentPane | None:
        w = QApplication.focusWidget()
        while w is not None:
            if isinstance(w, DocumentPane):
                return w
            w = w.parentWidget()
        return self.active_pane

    def _exact_annotation(self, pane: DocumentPane, span) -> dict | None:
        a, b = span
        return next((x for x in pane.annotations_in_selection()
                     if x["target"]["start"] == a and x["target"]["end"] == b), None)

    def highlight_selection(self, color: str | None = None, *, pane: DocumentPane | None = None) -> str | None:
        """Highlight the active pane's selection (or recolour the highlight it is). Returns its id."""
        if not isinstance(color, str):
            color = None
        pane = pane or self._pane_with_focus()
        if pane is None or pane.doc is None:
            return None
        span = pane.selection_span()
        if span is None:
            current = self.session.annotation(self.session.current_id) if self.session.current_id else None
            if color and current and current["doc_id"] == pane.doc_id:
                self.session.push(commands.set_color(self.session, current["id"], color))
                return current["id"]
            self.statusBar().showMessage("Select some text first, then press H (or 1–5 for a colour).", 5000)
            return None
        existing = self._exact_annotation(pane, span)
        if existing is not None:
            if color and color != existing.get("color"):
                self.session.push(commands.set_color(self.session, existing["id"], color))
            self.session.set_current(existing["id"])
            return existing["id"]
        themes = [self.session.active_theme] if self.session.active_theme else []
        cmd = commands.AddHighlight(self.session, pane.doc_id, span[0], span[1],
                                    color=color or HIGHLIGHT_COLORS[0], themes=themes)
        if not self.session.push(cmd):
            return None
        pane.clear_selection()
        self.session.set_current(cmd.ann_id)
        return cmd.ann_id

    def highlight_color_1(self): return self.highlight_selection(HIGHLIGHT_COLORS[0])
    def highlight_color_2(self): return self.highlight_selection(HIGHLIGHT_COLORS[1])
    def highlight_color_3(self): return self.highlight_selection(HIGHLIGHT_COLORS[2])
    def highlight_color_4(self): return self.highlight_selection(HIGHLIGHT_COLORS[3])
    def highlight_color_5(self): return self.highlight_selection(HIGHLIGHT_COLORS[4])

    def _current_or_new(self) -> str | None:
        pane = self._pane_with_focus()
        if pane is not None and pane.selection_span() is not None:
            return self.highlight_selection(pane=pane)
        if pane is not None and self.session.current_id:
            ann = self.session.annotation(self.session.current_id)
            if ann and ann["doc_id"] == pane.doc_id:
                return ann["id"]
        self.statusBar().showMessage("Select some text first.", 5000)
        return None

    def note_selection(self) -> None:
        ann_id = self._current_or_new()
        if ann_id:
            self._show_passage_dock()
            self.passage_dock.note.setFocus()

    def code_selection(self) -> None:
        ann_id = self._current_or_new()
        if ann_id:
            self._show_passage_dock()
            self.passage_dock.add_theme.setFocus()

    def delete_current(self) -> None:
        pane = self._pane_with_focus()
        ann = None
        if pane is not None:
            hits = pane.annotations_in_selection()
            if len(hits) == 1:
                ann = hits[0]
        if ann is None and self.session.current_id:
            ann = self.session.annotation(self.session.current_id)
        if ann is None:
            self.statusBar().showMessage("Click a highlight first, then press Delete.", 5000)
            return
        self.session.push(commands.DeleteAnnotation(self.session, ann["id"]))

    def undo(self) -> None:
        self.session.undo_stack.undo()

    def redo(self) -> None:
        self.session.undo_stack.redo()

    def copy_with_citation(self) -> None:
        pane = self._pane_with_focus()
        if pane is None or pane.doc is None:
            return
        span = pane.selection_span()
        if span is None:
            return
        para = pane.doc.paragraph_at(span[0])
        meta = pane.doc.metadata
        where = [meta.citation or meta.author_label]
        if para:
            where.append(f"¶{para.number}")
            if para.page is not None:
                where.append(f"p. {para.page_label or para.page}")
        text = f"“{pane.doc.text[span[0]:span[1]]}” ({', '.join(where)})"
        QGuiApplication.clipboard().setText(text)
        self.statusBar().showMessage("Copied with citation.", 3000)

    # linking ----------------------------------------------------------------------------------------------
    def _end_of(self, pane: DocumentPane) -> dict | None:
        """What a link end would be in this pane: its selection, else its current highlight."""
        if pane.doc is None:
            return None
        span = pane.selection_span()
        if span is not None:
            existing = self._exact_annotation(pane, span)
            if existing:
                return {"ann_id": existing["id"], "doc_id": pane.doc_id, "start": span[0], "end": span[1]}
            return {"ann_id": None, "doc_id": pane.doc_id, "start": span[0], "end": span[1]}
        ann = self.session.annotation(self.session.current_id) if self.session.current_id else None
        if ann and ann["doc_id"] == pane.doc_id:
            t = ann["target"]
            return {"ann_id": ann["id"], "doc_id": pane.doc_id, "start": t["start"], "end": t["end"]}
        return None

    def _describe_end(self, end: dict) -> tuple[str, str]:
        doc = self.session.document(end["doc_id"])
        para = doc.paragraph_at(end["start"])
        meta = doc.metadata
        label = (meta.citation or meta.author_label) + (f", ¶{para.number}" if para else "")
        return label, doc.text[end["start"]:end["end"]]

    def link_selection(self) -> None:
        pane = self._pane_with_focus()
        if pane is None:
            return
        here = self._end_of(pane)
        if here is None:
            self.statusBar().showMessage("Select a passage (or click a highlight) first, then press L.", 5000)
            return
        source = None
        if self.pending_link and self.pending_link["doc_id"] != here["doc_id"]:
            source = self.pending_link
        elif self.pending_link is None:
            # a selection waiting in another pane links at once
            for other in self.panes:
                if other is not pane and other.doc_id and other.doc_id != pane.doc_id and other.selection_span():
                    source = self._end_of(other)
                    break
        if source is None:
            self.pending_link = here
            label, _ = self._describe_end(here)
            self.link_state.setText(f"Linking from {label} — select a passage in another pane and press L (Esc cancels)")
            self.statusBar().showMessage("Now select the passage to link to, in another pane, and press L.", 8000)
            return
        self.pending_link = None
        self.link_state.setText("")
        choice = self.ask_link(source, here)
        if choice is None:
            return
        link_type, note = choice
        self.link_ends(source, here, link_type, note)

    def ask_link(self, source: dict, target: dict) -> tuple[str, str] | None:
        """The link type and note, from the user (tests replace this)."""
        sl, sq = self._describe_end(source)
        tl, tq = self._describe_end(target)
        dlg = LinkDialog(self, sl, sq, tl, tq)
        if dlg.exec() != LinkDialog.DialogCode.Accepted:
            return None
        return dlg.link_type, dlg.note.toPlainText()

    def link_ends(self, source: dict, target: dict, link_type: str = "same-issue", note: str = "") -> str | None:
        """Link two passages (highlighting them first if they are not yet): one undo step."""
        with commands.macro(self.session, f"Link passages ({link_type})"):
            ids = []
            for end in (source, target):
                ann_id = end.get("ann_id")
                if not ann_id:
                    themes = [self.session.active_theme] if self.session.active_theme else []
                    cmd = commands.AddHighlight(self.session, end["doc_id"], end["start"], end["end"],
                                                color=HIGHLIGHT_COLORS[2], themes=themes)
                    if not self.session.push(cmd):
                        return None
                    ann_id = cmd.ann_id
                ids.append(ann_id)
            cmd = commands.AddLink(self.session, ids[0], ids[1], link_type, note)
            ok = self.session.push(cmd)
        for p in self.panes:
            p.clear_selection()
        if ok:
            self.session.set_current(ids[1])
            self.statusBar().showMessage(f"Linked: {style.LINK_LABELS.get(link_type, link_type)}.", 4000)
            return cmd.link_id
        return None

    def cancel_mode(self) -> None:
        pane = self._pane_with_focus()
        if self.pending_link:
            self.pending_link = None
            self.link_state.setText("")
            self.statusBar().showMessage("Linking cancelled.", 3000)
        elif pane is not None and pane.find_bar.isVisible():
            pane.close_find()
        elif self.session.active_theme:
            self.session.set_active_theme("")
        elif pane is not None:
            pane.clear_selection()
            self.session.set_current("")

    # themes ------------------------------------------------------------------------------------------------
    def new_theme(self) -> None:
        self.docks["themes"].show()
        self.theme_dock.new_theme_dialog()

    # find and search -------------------------------------------------------------------------------------------
    def find_in_pane(self) -> None:
        pane = self._pane_with_focus()
        if pane is not None:
            pane.open_find()

    def find_next(self) -> None:
        pane = self._pane_with_focus()
        if pane is not None:
            pane.find_step(+1)

    def find_prev(self) -> None:
        pane = self._pane_with_focus()
        if pane is not None:
            pane.find_step(-1)

    def search_corpus(self) -> None:
        dock = self.docks["search"]
        dock.show()
        dock.raise_()
        text = ""
        pane = self._pane_with_focus()
        if pane is not None and pane.selection_span():
            a, b = pane.selection_span()
            if b - a < 80:
                text = pane.doc.text[a:b]
        self.search_dock.focus_query(text)

    # view --------------------------------------------------------------------------------------------------
    def set_font_size(self, size: float) -> None:
        self.font_size = max(style.MIN_FONT_SIZE, min(style.MAX_FONT_SIZE, float(size)))
        for pane in self.panes:
            pane.set_font_size(self.font_size)
        QTimer.singleShot(0, self.splitter.update_gutters)
        self._state_dirty()

    def zoom_in(self) -> None:
        self.set_font_size(self.font_size + 1)

    def zoom_out(self) -> None:
        self.set_font_size(self.font_size - 1)

    def zoom_reset(self) -> None:
        self.set_font_size(style.DEFAULT_FONT_SIZE)

    def toggle_dark(self, checked: bool | None = None) -> None:
        self.dark = bool(checked) if isinstance(checked, bool) else not self.dark
        self.actions_by_name["dark"].setChecked(self.dark)
        self.apply_scheme()
        self._state_dirty()

    def toggle_sync(self, checked: bool | None = None) -> None:
        self.sync_scroll = bool(checked) if isinstance(checked, bool) else not self.sync_scroll
        self.actions_by_name["sync_scroll"].setChecked(self.sync_scroll)
        self._state_dirty()

    def toggle_page_view(self, checked: bool | None = None) -> None:
        toggle_page_view(self, checked)

    def toggle_presentation(self, checked: bool | None = None) -> None:
        on = bool(checked) if isinstance(checked, bool) else self._presentation is None
        if on and self._presentation is None:
            self._presentation = {"state": self.saveState(STATE_VERSION), "font": self.font_size,
                                  "full": self.isFullScreen()}
            for dock in self.docks.values():
                dock.hide()
            self.toolbar.hide()
            self.set_font_size(self.font_size + 6)
            self.showFullScreen()
        elif not on and self._presentation is not None:
            saved, self._presentation = self._presentation, None
            if not saved["full"]:
                self.showNormal()
            self.toolbar.show()
            self.restoreState(saved["state"], STATE_VERSION)
            self.set_font_size(saved["font"])
        self.actions_by_name["presentation"].setChecked(self._presentation is not None)

    def _focus_dock(self, name: str, widget: QWidget) -> None:
        dock = self.docks[name]
        dock.show()
        dock.raise_()
        widget.setFocus()

    def focus_library(self) -> None:
        self._focus_dock("library", self.library_dock.list)

    def focus_themes(self) -> None:
        self._focus_dock("themes", self.theme_dock.tree)

    def focus_passage(self) -> None:
        self._focus_dock("passage", self.passage_dock.note)

    def focus_annotations(self) -> None:
        self._focus_dock("annotations", self.annotations_dock.list)

    def _show_passage_dock(self) -> None:
        dock = self.docks["passage"]
        if not dock.isVisible():
            dock.show()
        dock.raise_()

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        rows = []
        for spec in ACTIONS:
            action = self.actions_by_name[spec.name]
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
            if keys:
                rows.append((spec.menu, spec.text.replace("&", ""), keys))
        rows += [("Find", "Next / previous match in the find bar", "Enter, Shift+Enter"),
                 ("Passage", "Save the note being written", "Ctrl+Enter"),
                 ("Library", "Open the chosen document in a new pane", "Ctrl+Enter"),
                 ("Themes", "Rename the chosen theme / delete it", "F2, Delete"),
                 ("Link dialog", "Choose agrees / disputes / extends / same issue", "1, 2, 3, 4")]
        return rows

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self, self.shortcut_rows()).exec()

    # saving ---------------------------------------------------------------------------------------------------
    def _session_changed(self, kinds) -> None:
        self.splitter.update_gutters()
        self._update_save_label()
        if self.matrix_view is not None and self.docks["matrix"].isVisible() and kinds & {"themes", "annotations", "corpus"}:
            self.matrix_view.refresh()

    def _save_state_changed(self, text: str) -> None:
        if text:
            self.banner.label.setText(text)
            self.banner.retry.setEnabled(not self.store.readonly)
            self.banner.show()
        elif self.store.readonly:
            self.banner.label.setText("This library is open read-only, so nothing you change here is saved "
                                      "(it is kept in this window until you close it).")
            self.banner.retry.setEnabled(False)
            self.banner.show()
        else:
            self.banner.hide()
            self.statusBar().showMessage("All changes saved.", 4000)
        self._update_save_label()

    def _update_save_label(self) -> None:
        n = self.store.pending
        if self.store.readonly:
            self.save_state.setText(f"Read-only · {n} unsaved" if n else "Read-only")
        elif n:
            self.save_state.setText(f"⚠ {n} unsaved")
        else:
            self.save_state.setText("Saved")

    def retry_save(self) -> bool:
        ok = self.store.retry()
        self._update_save_label()
        if ok:
            self.banner.hide()
        return ok

    def save_pending_copy(self, path: str | Path | None = None) -> Path | None:
        if not isinstance(path, (str, Path)):
            name, _ = QFileDialog.getSaveFileName(self, "Save a copy of the unsaved changes",
                                                  str(Path.home() / "nkreader-unsaved.json"), "JSON (*.json)")
            if not name:
                return None
            path = name
        path = Path(path)
        data = {"nkreader_unsaved": 1, "changes": self.store.pending_records()}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
        self.statusBar().showMessage(f"Saved a copy of the unsaved changes to {path}", 8000)
        return path

    def _state_dirty(self) -> None:
        if hasattr(self, "_state_timer"):
            self._state_timer.start()

    def window_state(self) -> dict:
        panes = []
        for p in self.panes:
            if p.doc_id is None and p.locked_doc_id:  # an encrypted one not reopened at start-up
                panes.append({"doc": p.locked_doc_id, "top": 0, "paged": False})
            elif p.doc_id is None and p.opening():  # still being opened: where it was going
                doc_id, top = p.opening()
                panes.append({"doc": doc_id, "top": top, "paged": False, **self._restoring_views.get(p, {})})
            else:
                panes.append({"doc": p.doc_id, "top": p.top_offset() or 0, **p.view_state()})
        active = self.panes.index(self.active_pane) if self.active_pane in self.panes else 0
        return {
            "version": STATE_VERSION,
            "panes": panes,
            "active": active,
            "sizes": self.splitter.sizes(),
            "font_size": self.font_size,
            "dark": self.dark,
            "sync": self.sync_scroll,
            "geometry": bytes(self.saveGeometry().toBase64()).decode("ascii"),
            "dock_state": bytes(self.saveState(STATE_VERSION).toBase64()).decode("ascii")
            if self._presentation is None else self._state.get("dock_state", ""),
            "theme": self.session.active_theme,
        }

    def save_window_state(self) -> None:
        self._state = self.window_state()
        self.store.set_setting(STATE_KEY, self._state)

    def _restore_panes(self, state: dict) -> None:
        known = set(self.session.corpus.ids)
        panes = [p for p in state.get("panes", []) if isinstance(p, dict)]
        if not panes:
            entries = self.session.corpus.entries
            named = [e.id for e in entries if e.metadata.authors] or [e.id for e in entries]
            panes = [{"doc": d, "top": 0} for d in named[:2]]
            while len(panes) < 2:
                panes.append({"doc": None, "top": 0})
        for spec in panes:
            doc = spec.get("doc") if spec.get("doc") in known else None
            # the page view again (and its zoom) once the document is open; an encrypted PDF is not
            # reopened (no password question at start-up): its pane stays empty and says so
            view = {"paged": spec.get("paged") is True, "zoom": spec.get("zoom")}
            pane = self.add_pane(doc, top_offset=int(spec.get("top") or 0) if doc else None, activate=False,
                                 on_ready=(lambda p, v=view: self._restore_view(p, v)) if view["paged"] else None,
                                 ask_password=False)
            if view["paged"] and pane.doc is None:  # saved as it is if the window closes before it opens
                self._restoring_views[pane] = {k: v for k, v in view.items() if v is not None}
                pane.documentChanged.connect(lambda p: self._restoring_views.pop(p, None))
        active = state.get("active", 0)
        panes_now = self.panes
        if panes_now:
            self.set_active_pane(panes_now[min(max(int(active or 0), 0), len(panes_now) - 1)])
        sizes = state.get("sizes")
        if isinstance(sizes, list) and len(sizes) == len(panes_now) and all(isinstance(s, int) and s > 0 for s in sizes):
            QTimer.singleShot(0, lambda: self.splitter.setSizes(sizes))
        theme = state.get("theme")
        if theme and self.session.theme(theme):
            self.session.active_theme = theme

    def _restore_view(self, pane: DocumentPane, view: dict) -> None:
        self._restoring_views.pop(pane, None)
        pane.apply_view_state(view)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.passage_dock.commit_note()
        if self.store.pending and not self._closing_ok:
            box = message(self, "Unsaved changes",
                          f"{self.store.pending} change(s) could not be saved to the library.",
                          icon=QMessageBox.Icon.Warning,
                          buttons=QMessageBox.StandardButton.Retry | QMessageBox.StandardButton.Save
                          | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                          informative="Retry saving, save a copy of them to a file, or close and lose them.")
            box.button(QMessageBox.StandardButton.Save).setText("Save a copy…")
            answer = box.exec()
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Retry and not self.retry_save():
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Save and self.save_pending_copy() is None:
                event.ignore()
                return
        self._state_timer.stop()
        self.save_window_state()
        cancel_all(2000)
        super().closeEvent(event)
