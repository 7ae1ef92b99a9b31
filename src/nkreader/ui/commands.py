"""Every edit the window makes, as an undoable command on the session's QUndoStack.

A command does its work in ``redo`` (which ``QUndoStack.push`` calls at once) through the
``Library`` service, and reverses it in ``undo`` by putting back the records it saved beforehand.
A command whose first ``redo`` is refused (a ValueError/KeyError from the library, e.g. a theme
name taken) marks itself obsolete, so the stack drops it, and sets ``error`` for the user.
"""

from __future__ import annotations

import copy

from PySide6.QtGui import QUndoCommand

from nkreader.core.library import now_iso


class _Command(QUndoCommand):
    kinds: tuple[str, ...] = ("annotations",)

    def __init__(self, session, text: str):
        super().__init__(text)
        self.session = session
        self.error: str | None = None
        self._done_once = False

    @property
    def lib(self):
        return self.session.library

    @property
    def store(self):
        return self.session.library.store

    def redo(self) -> None:
        try:
            self._redo(first=not self._done_once)
        except (ValueError, KeyError) as exc:
            if not self._done_once:
                self.error = str(exc.args[0]) if exc.args else str(exc)
                self.setObsolete(True)
                return
            raise
        self._done_once = True
        self.session.notify(*self.kinds)

    def undo(self) -> None:
        self._undo()
        self.session.notify(*self.kinds)

    def _redo(self, first: bool) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _undo(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


def _short(text: str, n: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# annotations -----------------------------------------------------------------------------------
class AddHighlight(_Command):
    def __init__(self, session, doc_id: str, start: int, end: int, *, color: str | None = None,
                 themes=(), note: str = ""):
        super().__init__(session, "Highlight")
        self.args = (doc_id, start, end)
        self.kwargs = {"color": color, "themes": list(themes), "note": note}
        self.record: dict | None = None

    def _redo(self, first: bool) -> None:
        if self.record is None:
            self.record = self.lib.highlight(*self.args, **self.kwargs)
            self.setText(f"Highlight “{_short(self.record['target']['exact'])}”")
        else:
            self.store.put("annotations", self.record)

    def _undo(self) -> None:
        self.lib.delete_annotation(self.record["id"])

    @property
    def ann_id(self) -> str | None:
        return self.record["id"] if self.record else None


class DeleteAnnotation(_Command):
    kinds = ("annotations", "links")

    def __init__(self, session, ann_id: str):
        super().__init__(session, "Delete highlight")
        self.ann_id = ann_id
        self.record = None
        self.links: list[dict] = []

    def _redo(self, first: bool) -> None:
        rec = self.lib.annotation(self.ann_id)
        if rec is None:
            raise KeyError(f"no highlight {self.ann_id}")
        self.record = rec
        self.links = [l for l in self.lib.links(layer=None) if self.ann_id in (l["source"], l["target"])]
        self.setText(f"Delete highlight “{_short(rec['target']['exact'])}”")
        self.lib.delete_annotation(self.ann_id)

    def _undo(self) -> None:
        self.store.put("annotations", self.record)
        if self.links:
            self.store.put_many("links", self.links)


class UpdateAnnotation(_Command):
    """Change a highlight's note, colour or themes (the old values come back on undo)."""

    def __init__(self, session, ann_id: str, text: str = "Edit highlight", **fields):
        super().__init__(session, text)
        self.ann_id = ann_id
        self.new = copy.deepcopy(fields)
        self.old: dict | None = None

    def _redo(self, first: bool) -> None:
        rec = self.lib.annotation(self.ann_id)
        if rec is None:
            raise KeyError(f"no highlight {self.ann_id}")
        if self.old is None:
            self.old = {k: copy.deepcopy(rec.get(k)) for k in self.new}
            self.old["modified"] = rec.get("modified")
        self.lib.update_annotation(self.ann_id, **self.new)

    def _undo(self) -> None:
        rec = self.lib.annotation(self.ann_id)
        if rec is not None:
            rec.update(copy.deepcopy(self.old))
            self.store.put("annotations", rec)


def set_note(session, ann_id: str, note: str) -> UpdateAnnotation:
    return UpdateAnnotation(session, ann_id, "Edit note", note=note)


def set_color(session, ann_id: str, color: str) -> UpdateAnnotation:
    return UpdateAnnotation(session, ann_id, "Change colour", color=color)


def set_themes(session, ann_id: str, theme_ids: list[str]) -> UpdateAnnotation:
    return UpdateAnnotation(session, ann_id, "Change themes", themes=list(dict.fromkeys(theme_ids)))


# themes ------------------------------------------------------------------------------------------
class AddTheme(_Command):
    kinds = ("themes",)

    def __init__(self, session, name: str, color: str | None = None, description: str = "", memo: str = ""):
        super().__init__(session, f"New theme “{_short(name)}”")
        self.kwargs = {"color": color, "description": description, "memo": memo}
        self.name = name
        self.record: dict | None = None

    def _redo(self, first: bool) -> None:
        if self.record is None:
            self.record = self.lib.add_theme(self.name, **self.kwargs)
        else:
            self.store.put("themes", self.record)

    def _undo(self) -> None:
        self.store.delete("themes", self.record["id"])

    @property
    def theme_id(self) -> str | None:
        return self.record["id"] if self.record else None


class UpdateTheme(_Command):
    kinds = ("themes",)

    def __init__(self, session, theme_id: str, text: str = "Edit theme", **fields):
        super().__init__(session, text)
        self.theme_id = theme_id
        self.new = dict(fields)
        self.old: dict | None = None

    def _redo(self, first: bool) -> None:
        theme = self.lib.theme(self.theme_id)
        if theme is None:
            raise KeyError(f"no theme {self.theme_id}")
        if self.old is None:
            self.old = {k: theme.get(k) for k in self.new}
        self.lib.update_theme(self.theme_id, **self.new)

    def _undo(self) -> None:
        theme = self.lib.theme(self.theme_id)
        if theme is not None:
            theme.update(self.old)
            self.store.put("themes", theme)


class _ThemeRemoval(_Command):
    kinds = ("themes", "annotations")

    def __init__(self, session, theme_id: str, text: str):
        super().__init__(session, text)
        self.theme_id = theme_id
        self.theme: dict | None = None
        self.coded: list[dict] = []

    def _snapshot(self) -> None:
        theme = self.lib.theme(self.theme_id)
        if theme is None:
            raise KeyError(f"no theme {self.theme_id}")
        self.theme = theme
        self.coded = [a for a in self.store.all("annotations") if self.theme_id in a.get("themes", [])]

    def _undo(self) -> None:
        self.store.put("themes", self.theme)
        if self.coded:
            self.store.put_many("annotations", self.coded)


class DeleteTheme(_ThemeRemoval):
    def __init__(self, session, theme_id: str):
        theme = session.theme(theme_id)
        super().__init__(session, theme_id, f"Delete theme “{_short(theme['name']) if theme else theme_id}”")

    def _redo(self, first: bool) -> None:
        self._snapshot()
        self.lib.delete_theme(self.theme_id)


class MergeThemes(_ThemeRemoval):
    def __init__(self, session, source_id: str, into_id: str):
        src, dst = session.theme(source_id), session.theme(into_id)
        super().__init__(session, source_id,
                         f"Merge “{_short(src['name']) if src else source_id}” into “{_short(dst['name']) if dst else into_id}”")
        self.into_id = into_id

    def _redo(self, first: bool) -> None:
        if self.into_id == self.theme_id:
            raise ValueError("a theme cannot be merged into itself")
        if self.lib.theme(self.into_id) is None:
            raise KeyError(f"no theme {self.into_id}")
        self._snapshot()
        self.lib.merge_themes(self.theme_id, self.into_id)


# links --------------------------------------------------------------------------------------------
class AddLink(_Command):
    kinds = ("links",)

    def __init__(self, session, source_id: str, target_id: str, link_type: str = "same-issue", note: str = ""):
        super().__init__(session, f"Link passages ({link_type})")
        self.args = (source_id, target_id, link_type, note)
        self.record: dict | None = None

    def _redo(self, first: bool) -> None:
        if self.record is None:
            self.record = self.lib.link(*self.args)
        else:
            self.store.put("links", self.record)

    def _undo(self) -> None:
        self.lib.delete_link(self.record["id"])

    @property
    def link_id(self) -> str | None:
        return self.record["id"] if self.record else None


class RecordedLink(_Command):
    """A link someone else made (the related dock): already in the store, undone by deleting it."""

    kinds = ("links",)

    def __init__(self, session, link: dict):
        super().__init__(session, "Accept related passage as a link")
        self.record = dict(link)

    def _redo(self, first: bool) -> None:
        if not first:
            self.store.put("links", self.record)

    def _undo(self) -> None:
        self.lib.delete_link(self.record["id"])


class UpdateLink(_Command):
    kinds = ("links",)

    def __init__(self, session, link_id: str, **fields):
        super().__init__(session, "Edit link")
        self.link_id = link_id
        self.new = dict(fields)
        self.old: dict | None = None

    def _redo(self, first: bool) -> None:
        if "type" in self.new and self.new["type"] not in self.session.link_types:
            raise ValueError(f"link type must be one of {', '.join(self.session.link_types)}")
        link = self.store.get("links", self.link_id)
        if link is None:
            raise KeyError(f"no link {self.link_id}")
        if self.old is None:
            self.old = {k: link.get(k) for k in self.new}
        self.lib.update_link(self.link_id, **self.new, modified=now_iso())

    def _undo(self) -> None:
        link = self.store.get("links", self.link_id)
        if link is not None:
            link.update(self.old)
            self.store.put("links", link)


class DeleteLink(_Command):
    kinds = ("links",)

    def __init__(self, session, link_id: str):
        super().__init__(session, "Delete link")
        self.link_id = link_id
        self.record: dict | None = None

    def _redo(self, first: bool) -> None:
        rec = self.store.get("links", self.link_id)
        if rec is None:
            raise KeyError(f"no link {self.link_id}")
        self.record = rec
        self.lib.delete_link(self.link_id)

    def _undo(self) -> None:
        self.store.put("links", self.record)


def macro(session, text: str):
    """``with macro(session, "Link passages"):`` groups commands into one undo step."""

    class _Macro:
        def __enter__(self):
            session.undo_stack.beginMacro(text)
            return self

        def __exit__(self, *exc):
            session.undo_stack.endMacro()
            return False

    return _Macro()
