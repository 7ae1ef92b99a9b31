"""The window's view of the library: cached reads, change signals, the undo stack, the current passage.

Every pane and dock reads through ``Session`` and every edit goes through an undo command
(``ui/commands.py``) pushed with ``Session.push``; after each change the session emits ``changed``
with the kinds that changed, and each widget refreshes what it shows.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QColor, QUndoStack

from nkreader.core.library import HIGHLIGHT_COLORS, LINK_TYPES, Library, reading_order
from nkreader.core.model import Document
from nkreader.ui.keeping_store import KeepingStore

PATCH_LIMIT = 200  # an edit that wrote more highlights than this (an import) re-reads them all


class Session(QObject):
    #: a set of kinds: "annotations", "themes", "links", "corpus" (documents added)
    changed = Signal(object)
    #: the passage shown in the passage dock (annotation id or "")
    currentChanged = Signal(str)
    #: the theme chosen in the theme sidebar ("" for none)
    activeThemeChanged = Signal(str)
    #: a message for the status bar
    message = Signal(str)
    #: saving failed (text), or saving works again ("")
    saveStateChanged = Signal(str)
    #: an edit was refused (e.g. a duplicate theme name): text for the user
    editRefused = Signal(str)

    def __init__(self, library: Library, parent: QObject | None = None):
        super().__init__(parent)
        store = library.store
        if not isinstance(store, KeepingStore):
            store = KeepingStore(store)
            library.store = store
        self.library = library
        self.store: KeepingStore = store
        store.on_failure.append(self._save_failed)
        store.on_saved.append(lambda: self.saveStateChanged.emit(""))
        self.undo_stack = QUndoStack(self)
        self._ann_cache: dict[str, list[dict]] = {}
        self._ann_by_id: dict[str, dict] | None = None
        self._themes: list[dict] | None = None
        self._theme_by_id: dict[str, dict] | None = None
        self._colors: dict[tuple, QColor] = {}
        self._links: list[dict] | None = None
        self.current_id = ""
        self.active_theme = ""

    # reads -----------------------------------------------------------------------------------
    @property
    def corpus(self):
        return self.library.corpus

    def document(self, doc_id: str, password: str | None = None) -> Document:
        """The opened document; ``password`` for an encrypted PDF (raises ``PasswordRequired``)."""
        return self.library.document(doc_id, password)

    def is_loaded(self, doc_id: str) -> bool:
        return self.corpus.is_open(doc_id)

    def all_annotations(self) -> list[dict]:
        """Every annotation of every layer in reading order, read from the store once per change.

        The window's other reads (a document's highlights, one highlight by id, the counts in the
        library dock, the theme suggestions) are drawn from this one copy: each read of the store
        copies the records it returns, and at 10k highlights the separate reads an edit set off
        took ~0.3 s of the GUI thread. The records are the session's: read, never change them.
        """
        if self._ann_by_id is None:
            anns = self.library.annotations(layer=None)
            self._ann_by_id = {a["id"]: a for a in anns}
        return list(self._ann_by_id.values())

    def annotations(self, doc_id: str) -> list[dict]:
        """A document's highlights, those of hidden classmates' layers left out."""
        if doc_id not in self._ann_cache:
            from nkreader.ui.exchange import hidden_layers

            hidden = hidden_layers(self.library)
            if self._ann_by_id is None:
                self.all_annotations()
            by_doc: dict[str, list[dict]] = {}
            for a in self._ann_by_id.values():
                if not a.get("layer") or a["layer"] not in hidden:
                    by_doc.setdefault(a["doc_id"], []).append(a)
            self._ann_cache = by_doc  # every document's at once: one pass serves them all
            self._ann_cache.setdefault(doc_id, [])
        return self._ann_cache[doc_id]

    def annotation(self, ann_id: str) -> dict | None:
        if self._ann_by_id is None:
            self.all_annotations()
        # (one written a moment ago, before the change was announced, is read from the store)
        return self._ann_by_id.get(ann_id) or self.library.annotation(ann_id)

    def themes(self) -> list[dict]:
        if self._themes is None:
            self._themes = self.library.themes()
            self._theme_by_id = {t["id"]: t for t in self._themes}
        return self._themes

    def theme(self, theme_id: str) -> dict | None:
        if self._themes is None:
            self.themes()
        return self._theme_by_id.get(theme_id)

    def links(self) -> list[dict]:
        if self._links is None:
            self._links = self.library.links()
        return self._links

    def links_of(self, ann_id: str) -> list[dict]:
        return [l for l in self.links() if ann_id in (l["source"], l["target"])]

    def links_between(self, doc_a: str, doc_b: str) -> list[tuple[dict, dict, dict]]:
        """(link, end in doc_a, end in doc_b) for every link joining the two documents."""
        out = []
        for link in self.links():
            s, t = self.annotation(link["source"]), self.annotation(link["target"])
            if not s or not t:
                continue
            if s["doc_id"] == doc_a and t["doc_id"] == doc_b:
                out.append((link, s, t))
            elif t["doc_id"] == doc_a and s["doc_id"] == doc_b:
                out.append((link, t, s))
        return out

    def color_of(self, ann: dict) -> QColor:
        """A highlight's colour: its first theme's colour, else the colour it was given.

        Asked for every highlight at every repaint: the colours are kept, by themes and colour.
        """
        key = (tuple(ann.get("themes", ())), ann.get("color") or "")
        color = self._colors.get(key)
        if color is None:
            color = self._colors[key] = self._color_of(ann)
        return QColor(color)

    def _color_of(self, ann: dict) -> QColor:
        for theme_id in ann.get("themes", []):
            theme = self.theme(theme_id)
            if theme and QColor(theme.get("color", "")).isValid():
                return QColor(theme["color"])
        c = QColor(ann.get("color") or HIGHLIGHT_COLORS[0])
        return c if c.isValid() else QColor(HIGHLIGHT_COLORS[0])

    def theme_names(self, ann: dict) -> list[str]:
        return [t["name"] for t in (self.theme(i) for i in ann.get("themes", [])) if t]

    def citation(self, ann: dict) -> str:
        try:
            return self.library.citation(ann)
        except Exception:  # a document that is gone: still say something useful
            return ann.get("doc_id", "?")

    def entry_label(self, doc_id: str) -> str:
        try:
            meta = self.corpus.entry(doc_id).metadata
        except Exception:
            return doc_id
        return meta.citation or meta.author_label

    def reanchor(self, doc: Document) -> list[dict]:
        """Place this document's highlights on its current text (it may have changed since they
        were made: a corrected file, a new edition). Moved ones are updated; those that cannot be
        placed become orphans, kept and listed, never dropped. Returns the orphans."""
        from nkreader.core.anchors import TextAnchor, anchor_span, resolve

        changed, orphans = [], []
        for ann in self.library.annotations(doc.id, layer=None):
            target = ann["target"]
            stale = ann.get("fingerprint") != doc.fingerprint or ann.get("status") == "orphan"
            if not stale and 0 <= target["start"] < target["end"] <= len(doc.text):
                continue
            res = resolve(TextAnchor.from_dict(target), doc.text)
            if not res.found:
                orphans.append(ann)
                if ann.get("status") != "orphan":
                    changed.append({**ann, "status": "orphan"})
                continue
            page = doc.page_at(res.start).number if doc.paginated else None
            new = anchor_span(doc.text, res.start, res.end, page)
            changed.append({**ann, "target": new.to_dict(), "fingerprint": doc.fingerprint, "status": "anchored"})
        if changed:
            self.store.put_many("annotations", changed)
            self.invalidate({"annotations"})
        if orphans:
            n = len(orphans)
            self.message.emit(f"{n} highlight{'s' if n != 1 else ''} in {self.entry_label(doc.id)} could not be "
                              "placed in its current text; they are kept and listed with ⚠ in Highlights.")
        return orphans

    # changes -----------------------------------------------------------------------------------
    def invalidate(self, kinds) -> None:
        kinds = set(kinds)
        if "annotations" in kinds:
            self._ann_cache.clear()
            touched = self.store.take_touched("annotations")
            if self._ann_by_id is not None and len(touched) <= PATCH_LIMIT:
                self._patch_annotations(touched)
            else:
                self._ann_by_id = None  # read afresh when next asked for
        if "themes" in kinds:
            self._themes = self._theme_by_id = None
            self._colors.clear()
        if "links" in kinds:
            self._links = None

    def _patch_annotations(self, ids: set[str]) -> None:
        """Bring the copy of the records up to date with the few an edit wrote (re-reading all of
        them after each edit took ~0.1 s per 10k highlights)."""
        if not ids:
            return
        by_id = self._ann_by_id
        for ann_id in ids:
            rec = self.store.get("annotations", ann_id)
            if rec is None:
                by_id.pop(ann_id, None)
            else:
                by_id[ann_id] = rec
        ordered = sorted(by_id.values(), key=reading_order)  # (timsort: near-sorted is cheap)
        self._ann_by_id = {a["id"]: a for a in ordered}

    def notify(self, *kinds: str) -> None:
        self.invalidate(kinds)
        if self.current_id and "annotations" in kinds and self.annotation(self.current_id) is None:
            self.set_current("")
        if self.active_theme and "themes" in kinds and self.theme(self.active_theme) is None:
            self.set_active_theme("")
        self.changed.emit(set(kinds))

    def push(self, command) -> bool:
        """Run an edit (an undo command) and put it on the undo stack; ``False`` if it was refused."""
        self.undo_stack.push(command)
        error = getattr(command, "error", None)
        if error:
            self.editRefused.emit(error)
            return False
        return True

    def set_current(self, ann_id: str) -> None:
        ann_id = ann_id or ""
        if ann_id != self.current_id:
            self.current_id = ann_id
            self.currentChanged.emit(ann_id)

    def set_active_theme(self, theme_id: str) -> None:
        theme_id = theme_id or ""
        if theme_id != self.active_theme:
            self.active_theme = theme_id
            self.activeThemeChanged.emit(theme_id)

    def _save_failed(self, exc) -> None:
        n = self.store.pending
        self.saveStateChanged.emit(
            f"Not saved: {exc} Your {n} change{'s' if n != 1 else ''} "
            f"{'are' if n != 1 else 'is'} kept in this window; retry, or save a copy before closing."
        )

    @property
    def readonly(self) -> bool:
        return bool(self.store.readonly)

    link_types = LINK_TYPES
