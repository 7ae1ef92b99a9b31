"""Shared fixtures: a headless Qt platform, the bundled corpus and a fresh library store."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


@pytest.fixture
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def library(corpus_dir, data_dir):
    from nkreader.core.library import Library

    lib = Library.open(corpus_dir, data_dir)
    yield lib
    lib.close()
