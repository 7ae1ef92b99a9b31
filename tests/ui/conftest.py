"""Fixtures for the window tests: a library on a temporary store, a shown main window, tiny corpora."""

from __future__ import annotations

import json
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def ui_library(tmp_path):
    from nkreader.core.library import Library

    lib = Library.open(REPO / "corpus", tmp_path / "data")
    yield lib
    try:
        lib.close()
    except Exception:
        pass


@pytest.fixture
def session(qtbot, ui_library):
    from nkreader.ui.session import Session

    return Session(ui_library)


@pytest.fixture
def make_window(qtbot):
    """make_window(library) → a shown MainWindow (closed at the end of the test)."""
    from nkreader.ui.main_window import MainWindow

    made = []

    def make(library, *, restore=True, size=(1500, 900)):
        w = MainWindow(library, restore=restore)
        w._closing_ok = True  # no "unsaved changes" question blocking a test's teardown
        qtbot.addWidget(w)
        w.resize(*size)
        w.show()
        qtbot.waitExposed(w)
        w._equalize()
        qtbot.wait(10)
        made.append(w)
        return w

    yield make
    for w in made:
        w._closing_ok = True


@pytest.fixture
def window(make_window, ui_library):
    return make_window(ui_library)


def write_corpus(folder: Path, docs: dict[str, str], titles: dict[str, str] | None = None,
                 authors: dict[str, list[str]] | None = None) -> Path:
    """A small corpus folder: {stem: text} plus a metadata.toml naming authors and titles."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for stem, text in docs.items():
        (folder / f"{stem}.txt").write_text(text, encoding="utf-8")
        title = (titles or {}).get(stem, stem.title())
        who = (authors or {}).get(stem, [f"Author {stem}"])
        q = json.dumps  # a JSON string is a valid TOML basic string
        lines += ["[[document]]", f"id = {q(stem)}", f"file = {q(stem + '.txt')}", f"title = {q(title)}",
                  "authors = [" + ", ".join(q(a) for a in who) + "]", "year = 2020",
                  f"citation = {q((who[0] if who else stem) + ' 2020')}", ""]
    (folder / "metadata.toml").write_text("\n".join(lines), encoding="utf-8")
    return folder


@pytest.fixture
def corpus_writer():
    return write_corpus


@pytest.fixture
def small_corpus(tmp_path):
    return write_corpus(tmp_path / "corpus", {
        "alpha": "Alpha opens here 😀 with an emoji.\n\nSecond paragraph of alpha talks about borders and refugees.\n\n"
                 + "\n\n".join(f"Alpha filler paragraph {i} about repatriation and China." for i in range(60)),
        "beta": "Beta starts. 한국어 텍스트 and e\u0301 combining.\n\nBeta agrees that borders matter for refugees.\n\n"
                + "\n\n".join(f"Beta filler paragraph {i} on resettlement in the South." for i in range(60)),
    })


def _answer_the_next_dialog(seen: list):
    """Close the next modal message box (a real one) with OK, noting what it said."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def close():
        box = QApplication.activeModalWidget()
        if box is None:
            QTimer.singleShot(10, close)
            return
        seen.append((box.windowTitle(), box.text(), box.informativeText()))
        box.accept()

    QTimer.singleShot(0, close)


@pytest.fixture
def answer_dialog():
    """answer_dialog(seen) → the next modal message box is closed with OK, what it said put in seen."""
    return _answer_the_next_dialog
