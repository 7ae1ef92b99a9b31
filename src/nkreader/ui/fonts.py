"""A font for Japanese, Chinese and Korean when the system has none.

Qt shows CJK text as empty boxes without a CJK font (this machine has none; a student's laptop
may lack one too). PyMuPDF ships one, but importing PyMuPDF costs ~0.6 s, so:

1. if the system already has a CJK font, nothing is done;
2. else a copy cached from an earlier run is loaded (a file read, a few ms);
3. else, after the window is on screen, PyMuPDF is imported *in a worker thread*, the font's bytes
   are cached for next time, and the font is added on the GUI thread.

The font is then registered as a substitute for the reading and interface families, so Qt falls
back to it for the characters those fonts lack.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont, QFontDatabase

CACHE_NAME = "cjk-fallback.otf"
_loaded_family: str | None = None


def system_cjk_family() -> str | None:
    ws = QFontDatabase.WritingSystem
    for system in (ws.Japanese, ws.SimplifiedChinese, ws.Korean, ws.TraditionalChinese):
        families = QFontDatabase.families(system)
        if families:
            return families[0]
    return None


def cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("nkreader", appauthor=False))


def _install(data: bytes, families_to_cover: list[str]) -> str | None:
    global _loaded_family
    font_id = QFontDatabase.addApplicationFontFromData(data)
    if font_id < 0:
        return None
    fams = QFontDatabase.applicationFontFamilies(font_id)
    if not fams:
        return None
    family = fams[0]
    _substitute(families_to_cover, family)
    _loaded_family = family
    return family


def _substitute(families: list[str], fallback: str) -> None:
    for f in families:
        if fallback.casefold() not in (x.casefold() for x in QFont.substitutes(f)):
            QFont.insertSubstitution(f, fallback)


def load_cached(families_to_cover: list[str], directory: Path | None = None) -> str | None:
    path = (directory or cache_dir()) / CACHE_NAME
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return _install(data, families_to_cover) if data else None


def font_bytes_from_pymupdf() -> bytes:
    """The CJK font PyMuPDF ships (heavy import: call it off the GUI thread)."""
    from nkreader.core import pdf

    getter = getattr(pdf, "cjk_font_bytes", None)
    if getter is not None:
        return bytes(getter())
    return bytes(pdf.load_pymupdf().Font("cjk").buffer)


class CjkFontLoader(QObject):
    loaded = Signal(str)

    def __init__(self, families_to_cover: list[str], parent=None, directory: Path | None = None):
        super().__init__(parent)
        self.families = families_to_cover
        self.directory = directory
        self.task = None

    def ensure(self) -> str | None:
        """Make a CJK font available; returns its family now, or None if it arrives later (``loaded``)."""
        family = _loaded_family or system_cjk_family() or load_cached(self.families, self.directory)
        if family:
            if family != system_cjk_family():
                _substitute(self.families, family)
            return family
        from nkreader.ui.workers import start_task

        directory = self.directory or cache_dir()

        def work(task):
            data = font_bytes_from_pymupdf()
            try:
                directory.mkdir(parents=True, exist_ok=True)
                tmp = directory / (CACHE_NAME + ".tmp")
                tmp.write_bytes(data)
                tmp.replace(directory / CACHE_NAME)
            except OSError:
                pass
            return data

        def done(data):
            family = _install(data, self.families)
            if family:
                self.loaded.emit(family)

        self.task = start_task(work, title="Loading a font for Japanese, Chinese and Korean", on_result=done,
                               on_error=lambda _t: None)
        return None
