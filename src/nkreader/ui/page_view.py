"""The page view: a PDF (or EPUB) page by page as printed, with selection and highlights on it.

``PageView(session_or_library, parent)`` shows the pages of a paginated ``Document``:

* pages are rendered by one background thread (``PageRenderer``: PyMuPDF is not thread-safe, so
  one thread owns the open file) into a bounded LRU cache of images; the GUI thread only draws;
  a page not rendered yet is drawn from a cached image at another zoom, or as a blank sheet;
* zoom: ``set_zoom("fit-width" | "fit-page" | percent)``; 100 % is 96 pixels per inch;
  a page is never rendered past ``core.pdf_pages.MAX_PIXELS`` (a huge page is drawn from a
  capped image, scaled);
* selecting: dragging over the words selects the text between them as a code-point span of
  ``Document.text`` (``selection_span()``, signal ``spanSelected(start, end)``);
* highlights: ``set_annotations(anns)`` (or, with a ``Session``, its annotations of the
  document, followed as they change) are drawn as translucent bands in their colours over the
  words their span covers; clicking one selects it (``annotationClicked``);
* links: only http, https and mailto, after a confirmation (``confirm_link``), and links to
  other pages of this document; file, launch and javascript links (and links into other files)
  are never followed — the user is told why.

Every offset is a code point of ``Document.text``: the word boxes carry their spans (see
``core.pdf_pages``), so this view never converts to Qt's UTF-16 positions.
"""

from __future__ import annotations

import atexit
import sys
import threading
import weakref
from bisect import bisect_right
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QObject, QPoint, QPointF, QRectF, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QColor, QDesktopServices, QGuiApplication, QImage, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractScrollArea, QComboBox, QFrame, QHBoxLayout, QLabel, QMenu, QMessageBox, QToolButton,
    QToolTip, QVBoxLayout, QWidget,
)

from nkreader.core.model import Document, DocumentError
from nkreader.core.pdf_pages import MAX_PIXELS, PageLayout, PageLink, safe_uri
from nkreader.ui import style
from nkreader.ui.safety import message, plain_tooltip, safe_url

__all__ = ["PageView", "PageRenderer", "PageBar", "ZOOM_STEPS", "PIXELS_PER_POINT_100", "page_view_panel"]

#: 100 % shows a page at 96 pixels per inch (a point is 1/72 inch).
PIXELS_PER_POINT_100 = 96.0 / 72.0
ZOOM_STEPS = (25, 33, 50, 67, 75, 90, 100, 110, 125, 150, 175, 200, 250, 300, 400)
MIN_ZOOM, MAX_ZOOM = 10.0, 800.0
PAGE_GAP = 14  # pixels between pages
PAGE_MARGIN = 18  # pixels around the pages
CACHE_BYTES = 192 * 1024 * 1024  # rendered images kept (about 40 A4 pages at 150 %)
LAYOUT_CACHE = 96  # pages of word boxes kept
DRAG_THRESHOLD = 4


def _scale_key(scale: float) -> int:
    return int(round(scale * 1000))


# =============================================================================================
# The rendering thread
# =============================================================================================

_renderers: "weakref.WeakSet[PageRenderer]" = weakref.WeakSet()


class _SwitchInterval:
    """The interpreter's GIL switch interval, shortened while a renderer works, restored when idle.

    PyMuPDF holds the GIL in every call (one MuPDF context), and the renderer's own Python (word
    boxes mapped onto the text) holds it too: with Python's default 5 ms interval, the GUI thread
    can wait up to 5 ms for its turn to draw a page just rendered. ``sys.setswitchinterval`` is
    process-wide, so it is shortened only while at least one renderer has work, and the previous
    value is put back when the last one goes idle (unless someone else changed it meanwhile).
    bench/bench_pdf.py measures it (``--switch-interval MS``, 0 for the default): a page shown after
    scrolling to it at 100 % on a 300-page PDF, the medians of seven runs each, ranged 6.2–10.6 ms
    with 5 ms and 4.9–6.5 ms with 1 ms (first page on screen unchanged, 17–22 ms).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holders: set[int] = set()
        self._saved: float | None = None
        self._set: float | None = None

    def hold(self, who: object, interval: float | None) -> None:
        if interval is None:
            return
        with self._lock:
            if id(who) in self._holders:
                return
            self._holders.add(id(who))
            if self._set is None and sys.getswitchinterval() > interval:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(interval)
                self._set = sys.getswitchinterval()

    def release(self, who: object) -> None:
        with self._lock:
            if id(who) not in self._holders:
                return
            self._holders.discard(id(who))
            if not self._holders and self._set is not None:
                if abs(sys.getswitchinterval() - self._set) < 1e-7:  # still ours: put the old one back
                    sys.setswitchinterval(self._saved)
                self._saved = self._set = None


switch_interval = _SwitchInterval()


@atexit.register
def _stop_all() -> None:  # pragma: no cover - at interpreter exit
    for r in list(_renderers):
        r.stop(wait=0.5)


class PageRenderer(QObject):
    """One thread that owns the open document: opens it, renders pages, extracts word boxes.

    Requests are queued with a priority (lower first) and replace any pending request with the
    same key; ``retain(keys)`` drops pending work no longer wanted (pages scrolled past).
    Results arrive in the GUI thread through the signals, tagged with the generation given to
    ``open`` so that results for a document no longer shown are ignored.
    """

    opened = Signal(object)  # (generation, {"sizes": [...], "repaired": bool})
    failed = Signal(object)  # (generation, page index or -1, message)
    rendered = Signal(object)  # (generation, index, scale key, QImage, capped)
    laidOut = Signal(object)  # (generation, index, PageLayout)
    tiled = Signal(object)  # (generation, index, scale key, clip in points, QImage): a part of a page

    #: The GIL switch interval while this thread has work (None: leave the interpreter's), restored
    #: when it goes idle: see ``_SwitchInterval``.
    SWITCH_INTERVAL: float | None = 0.001

    def __init__(self) -> None:
        super().__init__()
        self._cv = threading.Condition()
        self._jobs: dict[tuple, tuple[float, int, tuple]] = {}
        self._seq = 0
        self._stopping = False
        self._source = None
        self._doc: Document | None = None
        self._gen = -1
        self.busy = threading.Event()
        self._taken = threading.Event()  # the GUI thread has taken the last urgent image
        self._thread: threading.Thread | None = None  # started with the first request
        _renderers.add(self)

    def _start(self) -> None:
        """Start the thread (a pane that only ever shows texts never starts one)."""
        self._thread = threading.Thread(target=self._run, name="nkreader-pages", daemon=True)
        self._thread.start()

    # --- requests (GUI thread) ----------------------------------------------------------------
    def _put(self, key: tuple, priority: float, job: tuple) -> None:
        with self._cv:
            if self._stopping:
                return
            if self._thread is None:
                self._start()
            self._seq += 1
            old = self._jobs.get(key)
            if old is None or priority < old[0] or old[2] != job:
                self._jobs[key] = (priority, self._seq, job)
            self._cv.notify()

    def open(self, generation: int, doc: Document, password: str | None = None) -> None:
        with self._cv:
            self._jobs.clear()
        self._put(("open",), -1.0, ("open", generation, doc, password))

    def request_render(self, generation: int, index: int, scale: float, priority: float,
                       max_pixels: int = MAX_PIXELS) -> None:
        self._put(("render", index, _scale_key(scale)), priority, ("render", generation, index, scale, max_pixels))

    def request_tile(self, generation: int, index: int, scale: float, clip: tuple[float, float, float, float],
                     priority: float, max_pixels: int = MAX_PIXELS) -> None:
        """A part of a page (``clip`` in points) at ``scale``: for a huge page, whose whole image is capped."""
        self._put(("tile", index), priority, ("tile", generation, index, scale, tuple(clip), max_pixels))

    def request_layout(self, generation: int, index: int, priority: float) -> None:
        self._put(("layout", index), priority, ("layout", generation, index))

    def retain(self, keys: set[tuple]) -> None:
        """Forget pending renders and layouts whose key is not in ``keys``."""
        with self._cv:
            for key in [k for k in self._jobs if k[0] != "open" and k not in keys]:
                del self._jobs[key]

    def pending(self) -> int:
        with self._cv:
            return len(self._jobs)

    def idle(self) -> bool:
        return self.pending() == 0 and not self.busy.is_set()

    def stop(self, wait: float = 2.0) -> None:
        with self._cv:
            self._stopping = True
            self._jobs.clear()
            self._cv.notify_all()
        thread = self._thread
        if wait and thread is not None and thread.is_alive() and threading.current_thread() is not thread:
            thread.join(wait)

    # --- the thread ---------------------------------------------------------------------------------
    def _emit(self, signal_name: str, payload: Any) -> bool:
        try:
            getattr(self, signal_name).emit(payload)
            return True
        except RuntimeError:  # the QObject is gone: nobody listens any more
            with self._cv:
                self._stopping = True
            return False

    def _run(self) -> None:
        try:
            while True:
                with self._cv:
                    if not self._jobs:
                        switch_interval.release(self)  # idle: the interpreter's interval again
                    while not self._jobs and not self._stopping:
                        self._cv.wait()
                    if self._stopping:
                        return
                    key = min(self._jobs, key=lambda k: self._jobs[k][:2])
                    prio, _seq, job = self._jobs.pop(key)
                    self.busy.set()
                switch_interval.hold(self, self.SWITCH_INTERVAL)
                try:
                    self._do(job, urgent=prio < 10)
                except Exception as exc:  # never let the thread die: report and go on
                    self._emit("failed", (job[1], job[2] if job[0] != "open" else -1, str(exc) or type(exc).__name__))
                finally:
                    self.busy.clear()
        finally:
            switch_interval.release(self)
            self._close_source()

    def _close_source(self) -> None:
        if self._source is not None:
            try:
                self._source.close()
            except Exception:
                pass
            self._source = None

    def taken(self) -> None:
        """Called by the GUI thread when it has an urgent image (see ``_do``)."""
        self._taken.set()

    def _do(self, job: tuple, urgent: bool = False) -> None:
        kind, gen = job[0], job[1]
        if kind == "open":
            from nkreader.core.pdf_pages import PageSource

            _, gen, doc, password = job
            self._close_source()
            self._gen, self._doc = gen, doc
            try:
                self._source = PageSource(doc.path, password=password, kind=doc.kind)
            except DocumentError as exc:
                self._emit("failed", (gen, -1, str(exc)))
                return
            self._emit("opened", (gen, {"sizes": list(self._source.sizes), "repaired": self._source.repaired}))
            return
        if gen != self._gen or self._source is None:
            return
        if kind in ("render", "tile"):
            clip = job[4] if kind == "tile" else None
            _, gen, index, scale = job[:4]
            max_pixels = job[-1]
            try:
                r = self._source.render(index, scale, max_pixels=max_pixels, clip=clip)
            except DocumentError as exc:
                if kind == "render":
                    self._emit("failed", (gen, index, str(exc)))
                return  # a part that cannot be rendered: the whole page's image stays
            # RGB32 is what the raster engine draws without converting: a paint is then a plain copy
            image = QImage(r.samples, r.width, r.height, r.stride, QImage.Format.Format_RGB888).convertToFormat(
                QImage.Format.Format_RGB32)
            self._taken.clear()
            if kind == "tile":
                self._emit("tiled", (gen, index, _scale_key(scale), clip, image))
            else:
                self._emit("rendered", (gen, index, _scale_key(scale), image, r.capped))
            if urgent:
                # A page the user is looking at: let the GUI thread draw it before the next job
                # (word extraction holds the GIL for milliseconds at a time inside MuPDF).
                self._taken.wait(0.05)
        elif kind == "layout":
            _, gen, index = job
            self._emit("laidOut", (gen, index, self._source.layout(index, self._doc)))


# =============================================================================================
# The view
# =============================================================================================


class PageView(QAbstractScrollArea):
    spanSelected = Signal(int, int)  # a selection was made by the mouse (code points, end exclusive)
    selectionChanged = Signal()
    annotationClicked = Signal(str)
    pageChanged = Signal(int)  # 0-based index of the page at the top of the view
    zoomChanged = Signal(object)  # "fit-width", "fit-page" or a percent
    message = Signal(str)  # for the status bar
    documentReady = Signal()  # page sizes known: the view can scroll and select
    linkBlocked = Signal(str)  # a link that is never followed was clicked (why)
    focused = Signal()  # the view got the keyboard focus
    wordsReady = Signal(int)  # a page's word boxes arrived: spans on it have a place (see span_y_viewport)

    def __init__(self, session_or_library=None, parent: QWidget | None = None, *, dark: bool = False):
        super().__init__(parent)
        self.setObjectName("pageView")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.viewport().setMouseTracking(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
        self.session = None
        self.library = None
        if session_or_library is not None and hasattr(session_or_library, "color_of"):
            self.session = session_or_library
            self.library = getattr(session_or_library, "library", None)
            session_or_library.changed.connect(self._session_changed)
            session_or_library.currentChanged.connect(lambda _id: self.viewport().update())
        else:
            self.library = session_or_library
        self.scheme = style.scheme(dark)
        self.doc: Document | None = None
        self.password: str | None = None
        self.error = ""
        self.repaired = False
        self.sizes: list[tuple[float, float]] = []  # points
        self.zoom: str | float = "fit-width"
        self.scale = PIXELS_PER_POINT_100  # pixels per point
        self.max_pixels = MAX_PIXELS
        self.cache_bytes = CACHE_BYTES
        self.context_actions: list[QAction] = []
        self.context_actions_for = None  # or a callable giving them when the menu opens
        self._matches: list[tuple[int, int]] = []
        self._match_index = -1
        self._generation = 0
        self._tops: list[float] = []  # y of each page in content pixels
        self._content_w = 0.0
        self._content_h = 0.0
        self._images: OrderedDict[tuple[int, int], tuple[QImage, bool]] = OrderedDict()
        self._image_bytes = 0
        self._tiles: dict[int, tuple[int, tuple[float, float, float, float], QImage]] = {}  # sharp parts of huge pages
        self._layouts: OrderedDict[int, PageLayout] = OrderedDict()
        self._page_errors: dict[int, str] = {}
        self._anns: list[dict] = []
        self._ann_pages: dict[int, list[dict]] = {}
        self._current = ""
        self._selection: tuple[int, int] | None = None
        self._press: QPoint | None = None
        self._drag_anchor: tuple[int, int] | None = None  # (page, word index)
        self._dragging = False
        self._pending_offset: tuple[int, float] | None = None  # where to go once pages/words are known
        self._moving = 0  # > 0 while the view scrolls itself (a relayout): the pending place is kept
        self._last_page = -1
        self.renderer = PageRenderer()
        self.renderer.opened.connect(self._opened)
        self.renderer.failed.connect(self._failed)
        self.renderer.rendered.connect(self._rendered)
        self.renderer.laidOut.connect(self._laid_out)
        self.renderer.tiled.connect(self._tiled)
        renderer = self.renderer
        self.destroyed.connect(lambda *_: renderer.stop(wait=0))
        self._request_timer = QTimer(self)
        self._request_timer.setSingleShot(True)
        self._request_timer.setInterval(0)
        self._request_timer.timeout.connect(self._request_visible)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(60)
        self._resize_timer.timeout.connect(self._relayout_keep_place)
        self.verticalScrollBar().valueChanged.connect(self._scrolled)
        self.horizontalScrollBar().valueChanged.connect(lambda _v: self._schedule())
        self.verticalScrollBar().setSingleStep(40)
        self.horizontalScrollBar().setSingleStep(40)
        self._copy = QAction("Copy", self)
        self._copy.setShortcut(QKeySequence.StandardKey.Copy)
        self._copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self._copy.triggered.connect(self.copy)
        self.addAction(self._copy)

    # --- documents ---------------------------------------------------------------------------
    def set_document(self, doc: Document | None, *, password: str | None = None) -> None:
        """Show ``doc`` (a PDF or EPUB); pages appear as the renderer delivers them."""
        self._generation += 1
        self.doc = doc
        self.password = password
        self.error = ""
        self.repaired = False
        self.sizes = []
        self._tops = []
        self._images.clear()
        self._image_bytes = 0
        self._tiles.clear()
        self._layouts.clear()
        self._page_errors.clear()
        self._selection = None
        self._drag_anchor = None
        self._pending_offset = None
        self._last_page = -1
        self._ann_pages = {}
        self.renderer.retain(set())
        if doc is not None:
            if not doc.paginated or doc.kind not in ("pdf", "epub"):
                self.error = "This document has no pages to show: it is a text, read it in the text view."
            else:
                self.renderer.open(self._generation, doc, password)
            if self.session is not None:
                self._load_session_annotations()
            else:  # annotations given before the document, for it, are kept
                self._anns = [a for a in self._anns if a.get("doc_id") in (None, doc.id)]
                self._index_annotations()
        self._relayout()
        self.viewport().update()

    def ready(self) -> bool:
        return bool(self.sizes)

    def page_count(self) -> int:
        return len(self.sizes)

    def _opened(self, payload) -> None:
        gen, info = payload
        if gen != self._generation:
            return
        self.sizes = info["sizes"]
        self.repaired = info["repaired"]
        if self.repaired:
            name = self.doc.path.name if self.doc else "The file"
            self.message.emit(f"{name} was damaged and has been repaired: some pages may be blank.")
        self._relayout()
        if self._pending_offset is not None:
            cp, fraction = self._pending_offset
            self.scroll_to_offset(cp, fraction)
        self.documentReady.emit()
        self._schedule()

    def _failed(self, payload) -> None:
        gen, index, text = payload
        if gen != self._generation:
            return
        if index < 0:
            self.error = text
            self.message.emit(text)
        else:
            self._page_errors[index] = text
        self.viewport().update()

    # --- annotations ---------------------------------------------------------------------------------
    def set_annotations(self, anns: list[dict]) -> None:
        """The highlights to draw: annotation records with ``target`` start/end (orphans skipped)."""
        self._anns = [a for a in anns if a.get("status", "anchored") != "orphan" and a.get("target")]
        self._index_annotations()
        self.viewport().update()

    def annotations(self) -> list[dict]:
        return list(self._anns)

    def set_matches(self, matches: list[tuple[int, int]], current: int = -1) -> None:
        """Find-in-pane hits to mark (code-point spans), ``current`` the one stepped to."""
        self._matches = list(matches)
        self._match_index = current
        self.viewport().update()

    def _load_session_annotations(self) -> None:
        if self.session is None or self.doc is None:
            return
        self._anns = [a for a in self.session.annotations(self.doc.id) if a.get("status", "anchored") != "orphan"]
        self._index_annotations()

    def _session_changed(self, kinds) -> None:
        if kinds & {"annotations", "themes"} and self.doc is not None:
            self._load_session_annotations()
            self.viewport().update()

    def _index_annotations(self) -> None:
        self._ann_pages = {}
        doc = self.doc
        if doc is None or not doc.pages:
            return
        for ann in self._anns:
            t = ann["target"]
            for index in self._pages_of(t["start"], t["end"]):
                self._ann_pages.setdefault(index, []).append(ann)
        for anns in self._ann_pages.values():  # long ones first, so short ones show on top
            anns.sort(key=lambda a: -(a["target"]["end"] - a["target"]["start"]))

    def _pages_of(self, start: int, end: int) -> list[int]:
        """Indices of the pages whose text overlaps [start, end)."""
        doc = self.doc
        if doc is None or not doc.pages:
            return []
        first = doc.page_at(start)
        last = doc.page_at(max(start, end - 1))
        lo = max(0, (first.number if first else 1) - 2)
        hi = min(len(doc.pages), (last.number if last else 1) + 1)
        return [i for i in range(lo, hi) if doc.pages[i].start < end and doc.pages[i].end > start]

    def _color_of(self, ann: dict) -> QColor:
        if self.session is not None:
            return self.session.color_of(ann)
        lib = self.library
        if lib is not None:
            for theme_id in ann.get("themes", []):
                theme = lib.theme(theme_id) if hasattr(lib, "theme") else None
                if theme and QColor(theme.get("color", "")).isValid():
                    return QColor(theme["color"])
        c = QColor(ann.get("color") or "#f6d365")
        return c if c.isValid() else QColor("#f6d365")

    @property
    def current_id(self) -> str:
        return self.session.current_id if self.session is not None else self._current

    def set_current(self, ann_id: str) -> None:
        if self.session is not None:
            self.session.set_current(ann_id)
        else:
            self._current = ann_id or ""
        self.viewport().update()

    def annotation_at(self, cp: int) -> dict | None:
        hits = [a for a in self._anns if a["target"]["start"] <= cp < a["target"]["end"]]
        return min(hits, key=lambda a: a["target"]["end"] - a["target"]["start"]) if hits else None

    # --- appearance --------------------------------------------------------------------------------
    def apply_scheme(self, scheme: style.Scheme) -> None:
        self.scheme = scheme
        self.viewport().update()

    # --- zoom and geometry ------------------------------------------------------------------------
    def set_zoom(self, zoom: str | float | int) -> None:
        """``"fit-width"``, ``"fit-page"`` or a percentage (100 = 96 pixels per inch)."""
        if isinstance(zoom, str):
            z = zoom.strip().lower().replace(" ", "-").replace("_", "-")
            if z.endswith("%"):
                zoom = float(z[:-1])
            elif z not in ("fit-width", "fit-page"):
                raise ValueError(f"unknown zoom {zoom!r}: use 'fit-width', 'fit-page' or a percentage")
            else:
                zoom = z
        if not isinstance(zoom, str):
            zoom = max(MIN_ZOOM, min(MAX_ZOOM, float(zoom)))
        if zoom == self.zoom:
            return
        self.zoom = zoom
        page = self.current_page()
        self._relayout_keep_place()
        if zoom == "fit-page" and page >= 0:
            self.scroll_to_page(page)  # the whole page in sight
        self.zoomChanged.emit(self.zoom)

    def zoom_percent(self) -> float:
        return self.scale / PIXELS_PER_POINT_100 * 100.0

    def zoom_in(self) -> None:
        now = self.zoom_percent()
        self.set_zoom(next((z for z in ZOOM_STEPS if z > now + 0.5), ZOOM_STEPS[-1]))

    def zoom_out(self) -> None:
        now = self.zoom_percent()
        self.set_zoom(next((z for z in reversed(ZOOM_STEPS) if z < now - 0.5), ZOOM_STEPS[0]))

    def _compute_scale(self) -> float:
        if isinstance(self.zoom, (int, float)):
            return float(self.zoom) / 100.0 * PIXELS_PER_POINT_100
        if not self.sizes:
            return self.scale
        vp = self.viewport()
        width = max(50, vp.width() - 2 * PAGE_MARGIN)
        widest = max(w for w, _h in self.sizes) or 1.0
        s = width / widest
        if self.zoom == "fit-page":
            height = max(50, vp.height() - 2 * PAGE_MARGIN)
            index = max(0, self.current_page())
            w, h = self.sizes[index] if index < len(self.sizes) else self.sizes[0]
            s = min(width / max(w, 1.0), height / max(h, 1.0))
        return max(MIN_ZOOM / 100 * PIXELS_PER_POINT_100, min(MAX_ZOOM / 100 * PIXELS_PER_POINT_100, s))

    def _relayout(self) -> None:
        self._moving += 1
        try:
            self._relayout_now()
        finally:
            self._moving -= 1

    def _relayout_now(self) -> None:
        self.scale = self._compute_scale()
        y = float(PAGE_MARGIN)
        tops = []
        widest = 0.0
        for w, h in self.sizes:
            tops.append(y)
            y += h * self.scale + PAGE_GAP
            widest = max(widest, w * self.scale)
        self._tops = tops
        self._content_h = (y - PAGE_GAP + PAGE_MARGIN) if self.sizes else 0.0
        self._content_w = widest + 2 * PAGE_MARGIN
        vp = self.viewport()
        vbar, hbar = self.verticalScrollBar(), self.horizontalScrollBar()
        vbar.setPageStep(max(1, vp.height()))
        hbar.setPageStep(max(1, vp.width()))
        vbar.setRange(0, max(0, int(self._content_h - vp.height())))
        hbar.setRange(0, max(0, int(self._content_w - vp.width())))
        self._schedule()
        self.viewport().update()

    def _place(self) -> tuple[int, float] | None:
        """Where the view is: (page index, fraction of that page) at the top of the viewport."""
        if not self._tops:
            return None
        top = self.verticalScrollBar().value()
        i = max(0, bisect_right(self._tops, top) - 1)
        h = self.sizes[i][1] * self.scale + PAGE_GAP
        return i, max(0.0, min(1.0, (top - self._tops[i]) / h if h else 0.0))

    def _relayout_keep_place(self) -> None:
        place = self._place()
        self._relayout()
        if place is not None:
            i, frac = place
            h = self.sizes[i][1] * self.scale + PAGE_GAP
            self._moving += 1
            try:
                self.verticalScrollBar().setValue(int(self._tops[i] + frac * h))
            finally:
                self._moving -= 1

    def page_rect(self, index: int) -> QRectF:
        """Page ``index`` in viewport pixels."""
        w, h = self.sizes[index]
        pw, ph = w * self.scale, h * self.scale
        x = max(PAGE_MARGIN, (max(self.viewport().width(), self._content_w) - pw) / 2) - self.horizontalScrollBar().value()
        y = self._tops[index] - self.verticalScrollBar().value()
        return QRectF(x, y, pw, ph)

    def visible_pages(self) -> list[int]:
        if not self._tops:
            return []
        top = self.verticalScrollBar().value()
        bottom = top + self.viewport().height()
        first = max(0, bisect_right(self._tops, top) - 1)
        out = []
        for i in range(first, len(self._tops)):
            if self._tops[i] > bottom:
                break
            if self._tops[i] + self.sizes[i][1] * self.scale >= top:
                out.append(i)
        return out

    def _visible_height(self, index: int) -> float:
        r = self.page_rect(index)
        return max(0.0, min(r.bottom(), self.viewport().height()) - max(r.top(), 0.0))

    def current_page(self) -> int:
        """The page at the top of the view (-1 before the document is ready)."""
        place = self._place()
        if place is None:
            return -1
        i, frac = place
        h = self.sizes[i][1] * self.scale
        # a page scrolled mostly out of sight gives way to the next one
        if i + 1 < len(self.sizes) and (1 - frac) * (h + PAGE_GAP) < 0.25 * self.viewport().height():
            return i + 1
        return i

    def _to_page(self, pos: QPointF | QPoint, *, clamp: bool = False) -> tuple[int, float, float] | None:
        """Viewport position → (page index, x, y in points); None off the pages unless ``clamp``."""
        if not self._tops:
            return None
        p = QPointF(pos)
        y = p.y() + self.verticalScrollBar().value()
        i = max(0, bisect_right(self._tops, y) - 1)
        r = self.page_rect(i)
        if not r.contains(p):
            if not clamp:
                return None
            if p.y() > r.bottom() and i + 1 < len(self.sizes):
                i += 1  # in the gap below a page: the top of the next one
                r = self.page_rect(i)
        x_pt = (min(max(p.x(), r.left()), r.right()) - r.left()) / self.scale
        y_pt = (min(max(p.y(), r.top()), r.bottom()) - r.top()) / self.scale
        return i, x_pt, y_pt

    # --- scrolling ---------------------------------------------------------------------------------
    def _scrolled(self, _value: int) -> None:
        if not self._moving:
            # scrolled by the user (or by a scroll_to_* call, which sets its own pending place after
            # this): a place still waiting for its words must not pull the view back later
            self._pending_offset = None
        self._request_visible()  # at once: the renderer starts before this frame is painted
        self.viewport().update()
        page = self.current_page()
        if page != self._last_page:
            self._last_page = page
            self.pageChanged.emit(page)

    def scroll_to_page(self, index: int, fraction: float = 0.0) -> None:
        if not self._tops:
            return
        self._pending_offset = None  # this place wins over one still waiting for its words
        index = max(0, min(index, len(self._tops) - 1))
        y = self._tops[index] - PAGE_MARGIN + fraction * self.sizes[index][1] * self.scale
        self.verticalScrollBar().setValue(int(max(0, y)))

    def scroll_to_offset(self, cp: int, fraction: float = 0.0) -> None:
        """Bring the text at code point ``cp`` into view, ``fraction`` of the way down the viewport."""
        self.scroll_to_span(cp, cp + 1, fraction)

    def scroll_to_span(self, start: int, end: int, fraction: float = 0.3) -> None:
        doc = self.doc
        if doc is None or not doc.pages:
            return
        if not self._tops:
            self._pending_offset = (start, fraction)
            return
        self._pending_offset = None
        pages = self._pages_of(start, max(end, start + 1)) or [doc.page_at(start).number - 1]
        index = pages[0]
        layout = self._layouts.get(index)
        if layout is None:
            self.scroll_to_page(index)
            self._pending_offset = (start, fraction)  # refined when the words arrive
            self._want_layout(index, 0)
            return
        rects = layout.rects(start, max(end, start + 1))
        if not rects:
            ws = [w for w in layout.words if w.mapped and w.end > start]
            y_pt = min((w.y0 for w in ws), default=0.0)
        else:
            y_pt = rects[0][1]
        y = self._tops[index] + y_pt * self.scale
        self.verticalScrollBar().setValue(int(max(0, y - self.viewport().height() * fraction - 24)))
        if rects:  # and sideways when zoomed in
            x = self.page_rect(index).left() + self.horizontalScrollBar().value() + rects[0][0] * self.scale
            hbar = self.horizontalScrollBar()
            if not (hbar.value() <= x <= hbar.value() + self.viewport().width() - 40):
                hbar.setValue(int(x - 40))

    def top_offset(self) -> int | None:
        """The code point of the first text at the top of the view (for switching views)."""
        doc = self.doc
        if doc is None or not doc.pages or not self._tops:
            return None
        if self.verticalScrollBar().value() == 0:
            return 0
        i, frac = self._place()
        layout = self._layouts.get(i)
        page = doc.pages[i]
        if layout is None:
            return page.start + int(frac * (page.end - page.start))
        y_pt = (self.verticalScrollBar().value() - self._tops[i]) / self.scale
        below = [w.start for w in layout.words if w.mapped and w.y1 >= y_pt]
        if below:
            return min(below)
        # the top of the view is below this page's last words: the next page's first ones
        if i + 1 < len(doc.pages):
            nxt = self._layouts.get(i + 1)
            starts = [w.start for w in nxt.words if w.mapped] if nxt is not None else []
            return min(starts) if starts else doc.pages[i + 1].start
        return page.end

    def span_y_viewport(self, start: int, end: int) -> tuple[float, float] | None:
        """Top and bottom, in viewport pixels, of the words of [start, end) on the pages whose word
        boxes are known (None when none is: a page not laid out yet, or the span off every page)."""
        if self.doc is None or not self._tops:
            return None
        top = bottom = None
        for i in self._pages_of(start, max(end, start + 1)):
            layout = self._layouts.get(i)
            if layout is None or i >= len(self._tops):
                continue
            rects = layout.rects(start, max(end, start + 1))
            if not rects:
                continue
            y = self._tops[i] - self.verticalScrollBar().value()
            t = y + min(r[1] for r in rects) * self.scale
            b = y + max(r[3] for r in rects) * self.scale
            top = t if top is None else min(top, t)
            bottom = b if bottom is None else max(bottom, b)
        return None if top is None else (top, bottom)

    def is_span_visible(self, start: int, end: int) -> bool:
        for i in self.visible_pages():
            layout = self._layouts.get(i)
            if layout is None:
                continue
            r = self.page_rect(i)
            for x0, y0, x1, y1 in layout.rects(start, end):
                if r.top() + y1 * self.scale > 0 and r.top() + y0 * self.scale < self.viewport().height():
                    return True
        return False

    # --- rendering requests -----------------------------------------------------------------------------
    def _schedule(self) -> None:
        if not self._request_timer.isActive():
            self._request_timer.start()
        self.viewport().update()

    def _render_scale(self) -> float:
        return self.scale * self.devicePixelRatioF()

    def _want_layout(self, index: int, priority: float) -> None:
        if index not in self._layouts:
            self.renderer.request_layout(self._generation, index, priority)

    def _request_visible(self) -> None:
        if not self.sizes or self.doc is None:
            return
        visible = self.visible_pages()
        if not visible:
            return
        scale = self._render_scale()
        key = _scale_key(scale)
        keep: set[tuple] = set()
        wanted = sorted(visible, key=lambda i: -self._visible_height(i))  # the most of it in sight first
        ahead = [i for i in (visible[-1] + 1, visible[0] - 1, visible[-1] + 2) if 0 <= i < len(self.sizes)]
        for rank, i in enumerate(wanted):
            if (i, key) not in self._images and i not in self._page_errors:
                self.renderer.request_render(self._generation, i, scale, rank, self.max_pixels)
            keep.add(("render", i, key))
            if i not in self._layouts:
                self.renderer.request_layout(self._generation, i, 10 + rank)
            keep.add(("layout", i))
        for i in [i for i in self._tiles if i not in visible]:
            del self._tiles[i]  # only the pages in sight keep a sharp part
        for rank, i in enumerate(wanted):
            hit = self._images.get((i, key))
            if hit is not None and hit[1]:  # capped: blurred at this zoom, so the part in sight sharp
                clip = self._tile_wanted(i)
                if clip is not None:
                    self.renderer.request_tile(self._generation, i, scale, clip, 5 + rank, self.max_pixels)
                keep.add(("tile", i))
        for rank, i in enumerate(ahead):
            if (i, key) not in self._images and i not in self._page_errors:
                self.renderer.request_render(self._generation, i, scale, 20 + rank, self.max_pixels)
            keep.add(("render", i, key))
            if i not in self._layouts:
                self.renderer.request_layout(self._generation, i, 30 + rank)
            keep.add(("layout", i))
        self.renderer.retain(keep)

    def _visible_part(self, index: int) -> tuple[float, float, float, float] | None:
        """The part of page ``index`` in sight, in points (x0, y0, x1, y1)."""
        r = self.page_rect(index)
        vis = r.intersected(QRectF(self.viewport().rect()))
        if vis.isEmpty():
            return None
        s = self.scale
        return ((vis.left() - r.left()) / s, (vis.top() - r.top()) / s,
                (vis.right() - r.left()) / s, (vis.bottom() - r.top()) / s)

    def _tile_wanted(self, index: int) -> tuple[float, float, float, float] | None:
        """The part of a huge page to render sharp, or None when the one held covers what is in sight."""
        part = self._visible_part(index)
        if part is None:
            return None
        key = _scale_key(self._render_scale())
        held = self._tiles.get(index)
        if held is not None and held[0] == key:
            x0, y0, x1, y1 = held[1]
            if x0 <= part[0] + 0.5 and y0 <= part[1] + 0.5 and x1 >= part[2] - 0.5 and y1 >= part[3] - 0.5:
                return None
        # a margin of a quarter of the viewport around it, so that a little scrolling stays sharp
        mx, my = self.viewport().width() / 4 / self.scale, self.viewport().height() / 4 / self.scale
        w, h = self.sizes[index]
        return (max(0.0, part[0] - mx), max(0.0, part[1] - my), min(w, part[2] + mx), min(h, part[3] + my))

    def _tiled(self, payload) -> None:
        gen, index, key, clip, image = payload
        self.renderer.taken()
        if gen != self._generation or key != _scale_key(self._render_scale()):
            return
        image.setDevicePixelRatio(self.devicePixelRatioF())
        self._tiles[index] = (key, clip, image)
        if index in self.visible_pages():
            self.viewport().update()

    def _rendered(self, payload) -> None:
        gen, index, key, image, capped = payload
        if gen != self._generation:
            self.renderer.taken()
            return
        image.setDevicePixelRatio(self.devicePixelRatioF())
        old = self._images.pop((index, key), None)
        if old is not None:
            self._image_bytes -= old[0].sizeInBytes()
        self._images[(index, key)] = (image, capped)
        self._image_bytes += image.sizeInBytes()
        self._trim_cache(protect={(i, _scale_key(self._render_scale())) for i in self.visible_pages()})
        if index in self.visible_pages():
            self.viewport().repaint()  # on screen now, before the renderer takes the GIL again
            if capped:
                self._schedule()  # a huge page: its part in sight, sharp, next
        self.renderer.taken()

    def _trim_cache(self, protect: set) -> None:
        while self._image_bytes > self.cache_bytes and len(self._images) > len(protect):
            for k in self._images:
                if k not in protect:
                    image, _ = self._images.pop(k)
                    self._image_bytes -= image.sizeInBytes()
                    break
            else:
                break

    def _laid_out(self, payload) -> None:
        gen, index, layout = payload
        if gen != self._generation:
            return
        self._layouts[index] = layout
        self._layouts.move_to_end(index)
        while len(self._layouts) > LAYOUT_CACHE:
            self._layouts.popitem(last=False)
        if self._pending_offset is not None and self.doc is not None:
            cp, fraction = self._pending_offset
            if index in self._pages_of(cp, cp + 1):
                self.scroll_to_span(cp, cp + 1, fraction)
        if index in self.visible_pages():
            self.viewport().update()
        self.wordsReady.emit(index)

    def cached_pages(self) -> list[tuple[int, int]]:
        return list(self._images)

    def cached_bytes(self) -> int:
        return self._image_bytes + sum(t[2].sizeInBytes() for t in self._tiles.values())

    def layout_of(self, index: int) -> PageLayout | None:
        return self._layouts.get(index)

    def _image_for(self, index: int) -> tuple[QImage, bool] | None:
        key = (index, _scale_key(self._render_scale()))
        hit = self._images.get(key)
        if hit is not None:
            self._images.move_to_end(key)
            return hit
        # another zoom of the same page, drawn scaled until the right one arrives
        others = [(abs(k[1] - key[1]), k) for k in self._images if k[0] == index]
        return self._images[min(others)[1]] if others else None

    # --- painting --------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        s = self.scheme
        p = QPainter(self.viewport())
        p.fillRect(self.viewport().rect(), QColor(s.gutter))
        if self.error or not self.sizes:
            p.setPen(QColor(s.muted))
            text = self.error or ("Opening…" if self.doc is not None else "No document")
            p.drawText(self.viewport().rect().adjusted(24, 24, -24, -24),
                       Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        current = self.current_id
        paper = style.LIGHT  # pages are white paper in either scheme: light-scheme marks on them
        sel_color = QColor(paper.selection)
        sel_color.setAlpha(170)
        for i in self.visible_pages():
            r = self.page_rect(i)
            p.fillRect(r.translated(1.5, 2.0), QColor(0, 0, 0, 40 if not s.dark else 90))  # a soft shadow
            p.fillRect(r, QColor("#ffffff"))
            hit = self._image_for(i)
            if hit is not None:
                image = hit[0]
                dpr = image.devicePixelRatio() or 1.0
                if abs(image.width() / dpr - r.width()) < 1.5 and abs(image.height() / dpr - r.height()) < 1.5:
                    p.drawImage(QPointF(round(r.left()), round(r.top())), image)  # 1:1, a plain copy
                else:
                    p.drawImage(r, image)  # another zoom, or a capped huge page: scaled
                tile = self._tiles.get(i)
                if tile is not None and tile[0] == _scale_key(self._render_scale()):
                    x0, y0, x1, y1 = tile[1]
                    sc = self.scale
                    target = QRectF(r.left() + x0 * sc, r.top() + y0 * sc, (x1 - x0) * sc, (y1 - y0) * sc)
                    timage = tile[2]
                    tdpr = timage.devicePixelRatio() or 1.0
                    if abs(timage.width() / tdpr - target.width()) < 1.5 and abs(timage.height() / tdpr - target.height()) < 1.5:
                        p.drawImage(QPointF(round(target.left()), round(target.top())), timage)  # sharp, 1:1
                    else:
                        p.drawImage(target, timage)
            elif i in self._page_errors:
                p.setPen(QColor("#a33"))
                p.drawText(r.adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                           self._page_errors[i])
            layout = self._layouts.get(i)
            if layout is None:
                continue
            page_span = self.doc.pages[i] if self.doc and i < len(self.doc.pages) else None
            # Marks are multiplied onto the page, as a highlighter pen: the paper takes the colour,
            # the ink stays black and readable.
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Multiply)
            p.setPen(Qt.PenStyle.NoPen)
            underlines: list[tuple[QColor, list[QRectF]]] = []
            for ann in self._ann_pages.get(i, ()):
                t = ann["target"]
                color = self._color_of(ann)
                alpha = paper.highlight_alpha + 40
                if ann.get("id") == current:
                    alpha = min(255, alpha + 70)
                fill = style.translucent(color, alpha)
                rects = [self._rect_px(r, box) for box in layout.rects(t["start"], t["end"])]
                for rr in rects:
                    p.fillRect(rr, fill)
                if ann.get("id") == current and rects:
                    underlines.append((color, rects))
            if self._matches and page_span is not None:
                search = QColor(s.search)
                for k, (a, b) in enumerate(self._matches):
                    if b <= page_span.start or a >= page_span.end:
                        continue
                    search.setAlpha(230 if k == self._match_index else 110)
                    for box in layout.rects(a, b):
                        p.fillRect(self._rect_px(r, box), search)
            if self._selection is not None:
                a, b = self._selection
                for box in layout.rects(a, b):
                    p.fillRect(self._rect_px(r, box), sel_color)
            p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
            for color, rects in underlines:  # the current highlight, underlined
                p.setPen(QPen(color.darker(160), 1.4))
                for rr in rects:
                    p.drawLine(rr.bottomLeft(), rr.bottomRight())
            p.setPen(Qt.PenStyle.NoPen)
            if not layout.has_text and page_span is not None:
                self._draw_no_text(p, r)

    def _rect_px(self, page_rect: QRectF, box) -> QRectF:
        x0, y0, x1, y1 = box
        sc = self.scale
        pad = 0.8
        return QRectF(page_rect.left() + x0 * sc - pad, page_rect.top() + y0 * sc,
                      (x1 - x0) * sc + 2 * pad, (y1 - y0) * sc)

    def _draw_no_text(self, p: QPainter, r: QRectF) -> None:
        s = self.scheme
        text = "No text layer on this page (scanned?): there is no text to select or highlight."
        fm = p.fontMetrics()
        w = min(r.width() - 16, fm.horizontalAdvance(text) + 20)
        wrapped = fm.boundingRect(0, 0, max(1, int(w) - 16), 10_000, Qt.TextFlag.TextWordWrap, text)
        band = QRectF(r.left() + (r.width() - w) / 2, r.top() + 10, w, wrapped.height() + 10)
        p.fillRect(band, QColor(s.banner))
        p.setPen(QColor(s.banner_text))
        p.drawText(band.adjusted(8, 4, -8, -4), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)

    # --- selection -------------------------------------------------------------------------------------------
    def selection_span(self) -> tuple[int, int] | None:
        """The selected text as a code-point span of ``Document.text`` (end exclusive), trimmed."""
        if self._selection is None or self.doc is None:
            return None
        a, b = self._selection
        text = self.doc.text
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        return (a, b) if b > a else None

    def selected_text(self) -> str:
        span = self.selection_span()
        return self.doc.text[span[0]:span[1]] if span and self.doc else ""

    def select_span(self, start: int, end: int) -> None:
        if self.doc is None or end <= start:
            self.clear_selection()
            return
        self._selection = (max(0, start), min(len(self.doc.text), end))
        self.selectionChanged.emit()
        self.viewport().update()

    def clear_selection(self) -> None:
        if self._selection is not None:
            self._selection = None
            self.selectionChanged.emit()
            self.viewport().update()

    def copy(self) -> None:
        text = self.selected_text()
        if text:
            QGuiApplication.clipboard().setText(text)  # plain text only

    def _word_at(self, pos, *, clamp: bool) -> tuple[int, int] | None:
        """(page, word index) of the mapped word under ``pos`` (or the nearest one, when dragging)."""
        hit = self._to_page(pos, clamp=clamp)
        if hit is None:
            return None
        i, x, y = hit
        layout = self._layouts.get(i)
        if layout is None:
            return None
        k = layout.word_at(x, y, slop=2.0 / self.scale)
        if k is not None and layout.words[k].mapped:
            return i, k
        if not clamp:
            return None
        k = layout.nearest_word(x, y)
        return (i, k) if k is not None else None

    def _span_between(self, a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
        wa = self._layouts[a[0]].words[a[1]]
        wb = self._layouts[b[0]].words[b[1]]
        return min(wa.start, wb.start), max(wa.end, wb.end)

    # --- mouse and keys -------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position().toPoint()
        self._press = pos
        self._dragging = False
        self._drag_anchor = self._word_at(pos, clamp=False)
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        pos = event.position().toPoint()
        if self._press is not None and event.buttons() & Qt.MouseButton.LeftButton:
            if not self._dragging and (pos - self._press).manhattanLength() >= DRAG_THRESHOLD:
                self._dragging = True
                if self._drag_anchor is None:
                    self._drag_anchor = self._word_at(self._press, clamp=True)
            if self._dragging and self._drag_anchor is not None:
                self._autoscroll(pos)
                here = self._word_at(pos, clamp=True)
                if here is not None and here[0] in self._layouts and self._drag_anchor[0] in self._layouts:
                    span = self._span_between(self._drag_anchor, here)
                    if span != self._selection:
                        self._selection = span
                        self.selectionChanged.emit()
                        self.viewport().update()
            event.accept()
            return
        self._hover(pos)
        super().mouseMoveEvent(event)

    def _autoscroll(self, pos: QPoint) -> None:
        vbar = self.verticalScrollBar()
        h = self.viewport().height()
        if pos.y() < 0:
            vbar.setValue(vbar.value() + pos.y())
        elif pos.y() > h:
            vbar.setValue(vbar.value() + (pos.y() - h))

    def mouseReleaseEvent(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            super().mouseReleaseEvent(event)
            return
        pos = event.position().toPoint()
        dragged = self._dragging
        self._press = None
        self._dragging = False
        if dragged:
            span = self.selection_span()
            if span is not None:
                self.spanSelected.emit(*span)
            event.accept()
            return
        self.click_at(pos)
        event.accept()

    def click_at(self, pos: QPoint) -> None:
        """A click (no drag): follow a link, select the highlight under it, or clear the selection."""
        hit = self._to_page(pos)
        if hit is not None:
            i, x, y = hit
            layout = self._layouts.get(i)
            link = layout.link_at(x, y) if layout is not None else None
            if link is not None:
                self.follow_link(link)
                return
            if layout is not None:
                k = layout.word_at(x, y, slop=1.0 / self.scale)
                if k is not None and layout.words[k].mapped:
                    w = layout.words[k]
                    cp = w.start + min(len(w.text) - 1, max(0, int((x - w.x0) / max(1e-6, w.x1 - w.x0) * len(w.text)))) \
                        if w.axis == 0 else w.start
                    ann = self.annotation_at(cp) or self.annotation_at(w.start)
                    if ann is not None:
                        self.clear_selection()
                        self.set_current(ann["id"])
                        self.annotationClicked.emit(ann["id"])
                        return
        self.clear_selection()

    def mouseDoubleClickEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self._word_at(event.position().toPoint(), clamp=False)
            if hit is not None:
                w = self._layouts[hit[0]].words[hit[1]]
                self.select_span(w.start, w.end)
                span = self.selection_span()
                if span:
                    self.spanSelected.emit(*span)
                event.accept()
                return
        super().mouseDoubleClickEvent(event)

    def _hover(self, pos: QPoint) -> None:
        hit = self._to_page(pos)
        shape = Qt.CursorShape.ArrowCursor
        if hit is not None:
            i, x, y = hit
            layout = self._layouts.get(i)
            if layout is not None:
                if layout.link_at(x, y) is not None:
                    shape = Qt.CursorShape.PointingHandCursor
                elif layout.word_at(x, y, slop=1.0) is not None:
                    shape = Qt.CursorShape.IBeamCursor
        self.viewport().setCursor(shape)

    def viewportEvent(self, event) -> bool:
        if event.type() == event.Type.ToolTip:
            hit = self._to_page(event.pos())
            layout = self._layouts.get(hit[0]) if hit else None
            link = layout.link_at(hit[1], hit[2]) if layout is not None else None
            if link is not None:
                QToolTip.showText(event.globalPos(), plain_tooltip(self._link_text(link)), self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def _link_text(self, link: PageLink) -> str:
        if link.kind == "uri":
            return f"Opens in your browser after you confirm: {link.target}"
        if link.kind == "page":
            label = self.doc.pages[link.page].label if self.doc and link.page < len(self.doc.pages) else None
            return f"Go to page {label or link.page + 1}"
        return f"Not followed: {link.reason}" + (f" ({link.target})" if link.target else "")

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            (self.zoom_in if event.angleDelta().y() > 0 else self.zoom_out)()
            event.accept()
            return
        super().wheelEvent(event)

    def keyPressEvent(self, event) -> None:
        key = event.key()
        vbar = self.verticalScrollBar()
        if key in (Qt.Key.Key_PageDown, Qt.Key.Key_Space):
            vbar.setValue(vbar.value() + int(self.viewport().height() * 0.9))
        elif key == Qt.Key.Key_PageUp:
            vbar.setValue(vbar.value() - int(self.viewport().height() * 0.9))
        elif key == Qt.Key.Key_Home and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            vbar.setValue(0)
        elif key == Qt.Key.Key_End and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            vbar.setValue(vbar.maximum())
        elif key == Qt.Key.Key_Escape and self._selection is not None:
            self.clear_selection()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def contextMenuEvent(self, event) -> None:
        menu = QMenu(self)
        actions = self.context_actions_for() if callable(self.context_actions_for) else self.context_actions
        for action in actions:
            menu.addAction(action)
        if actions:
            menu.addSeparator()
        copy = menu.addAction("Copy")
        copy.setEnabled(self.selection_span() is not None)
        copy.triggered.connect(self.copy)
        menu.addSeparator()
        for label, zoom in (("Fit width", "fit-width"), ("Fit page", "fit-page"), ("100 %", 100)):
            act = menu.addAction(label)
            act.triggered.connect(lambda _c=False, z=zoom: self.set_zoom(z))
        menu.exec(event.globalPos())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.sizes:
            if isinstance(self.zoom, str):
                self._resize_timer.start()  # a fit zoom follows the width, once the resizing pauses
            else:
                self._relayout()

    def sizeHint(self) -> QSize:
        return QSize(640, 800)

    def focusInEvent(self, event) -> None:
        super().focusInEvent(event)
        self.focused.emit()

    # --- links ---------------------------------------------------------------------------------------------
    def follow_link(self, link: PageLink) -> bool:
        """Follow ``link`` if it may be followed (and the user agrees); True when it was."""
        if link.kind == "page":
            self.scroll_to_page(link.page)
            return True
        if link.kind == "uri":
            url = safe_uri(link.target)
            qurl = safe_url(url) if url else None
            if qurl is None:
                self._blocked("a malformed link is not followed")
                return False
            if not self.confirm_link(url):
                return False
            return bool(self.open_url(qurl))
        self._blocked(link.reason or "this kind of link is never followed")
        return False

    def _blocked(self, reason: str) -> None:
        text = f"Link not followed: {reason}."
        self.linkBlocked.emit(reason)
        self.message.emit(text)

    def confirm_link(self, url: str) -> bool:
        """Ask before handing a URL to the browser (tests replace this)."""
        box = message(self, "Open link?", "This document links to:\n\n" + url + "\n\nOpen it in your web browser?",
                      icon=QMessageBox.Icon.Question,
                      buttons=QMessageBox.StandardButton.Open | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return box.exec() == QMessageBox.StandardButton.Open

    def open_url(self, url: QUrl) -> bool:
        return QDesktopServices.openUrl(url)

    # --- life ----------------------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the rendering thread (and close the file)."""
        self.renderer.stop()

    def wait_idle(self, timeout_ms: int = 5000) -> bool:
        """For tests and benchmarks: process events until the renderer has nothing left to do."""
        import time

        from PySide6.QtCore import QCoreApplication

        end = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < end:
            QCoreApplication.processEvents()
            if self._request_timer.isActive() or self._resize_timer.isActive():
                time.sleep(0.002)
                continue
            if self.renderer.idle():
                QCoreApplication.processEvents()
                if self.renderer.idle() and not self._request_timer.isActive():
                    return True
            time.sleep(0.002)
        return False


# =============================================================================================
# A bar for the page view: zoom and page
# =============================================================================================


class PageBar(QFrame):
    """Zoom (fit width, fit page, percentages), previous / next page, and where we are."""

    def __init__(self, view: PageView, parent: QWidget | None = None):
        super().__init__(parent)
        self.view = view
        self.setObjectName("pageBar")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.setSpacing(4)
        self.prev_b, self.next_b = QToolButton(), QToolButton()
        self.prev_b.setText("▲")
        self.prev_b.setToolTip("Previous page")
        self.next_b.setText("▼")
        self.next_b.setToolTip("Next page")
        self.page_label = QLabel()
        self.page_label.setTextFormat(Qt.TextFormat.PlainText)
        self.page_label.setObjectName("pageBarLabel")
        self.zoom_box = QComboBox()
        self.zoom_box.setObjectName("pageZoom")
        self.zoom_box.addItem("Fit width", "fit-width")
        self.zoom_box.addItem("Fit page", "fit-page")
        for z in (50, 75, 100, 125, 150, 200, 300, 400):
            self.zoom_box.addItem(f"{z} %", z)
        self.zoom_box.setToolTip("Zoom (Ctrl+wheel)")
        lay.addWidget(self.prev_b)
        lay.addWidget(self.next_b)
        lay.addWidget(self.page_label, 1)
        lay.addWidget(self.zoom_box)
        self.prev_b.clicked.connect(lambda: view.scroll_to_page(view.current_page() - 1))
        self.next_b.clicked.connect(lambda: view.scroll_to_page(view.current_page() + 1))
        self.zoom_box.activated.connect(lambda i: view.set_zoom(self.zoom_box.itemData(i)))
        view.pageChanged.connect(lambda _i: self.update_label())
        view.documentReady.connect(self.update_label)
        view.zoomChanged.connect(self._zoom_changed)
        self.update_label()

    def _zoom_changed(self, zoom) -> None:
        i = self.zoom_box.findData(zoom)
        if i < 0 and not isinstance(zoom, str):
            self.zoom_box.addItem(f"{zoom:g} %", zoom)
            i = self.zoom_box.count() - 1
        self.zoom_box.setCurrentIndex(max(0, i))

    def update_label(self) -> None:
        v = self.view
        n = v.page_count()
        i = v.current_page()
        if n == 0 or i < 0 or v.doc is None:
            self.page_label.setText("")
            return
        label = v.doc.pages[i].label if i < len(v.doc.pages) else None
        printed = f"p. {label} · " if label and label != str(i + 1) else ""
        self.page_label.setText(f"{printed}page {i + 1} of {n}")


def page_view_panel(session_or_library, parent: QWidget | None = None) -> tuple[QWidget, PageView, PageBar]:
    """A page view with its bar above it, in one widget (for a pane's stack)."""
    panel = QWidget(parent)
    panel.setObjectName("pageViewPanel")
    lay = QVBoxLayout(panel)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.setSpacing(0)
    view = PageView(session_or_library, panel)
    bar = PageBar(view, panel)
    lay.addWidget(bar)
    lay.addWidget(view, 1)
    return panel, view, bar
