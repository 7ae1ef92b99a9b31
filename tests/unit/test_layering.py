"""The import contract: the core never imports Qt; each third-party library stays behind one module."""

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "nkreader"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_core_never_imports_qt():
    offenders = [p for p in (SRC / "core").rglob("*.py") if {"PySide6", "shiboken6"} & _imports(p)]
    assert offenders == []


def test_tinydb_only_in_store_modules():
    users = {p.name for p in SRC.rglob("*.py") if "tinydb" in _imports(p)}
    assert users <= {"store.py", "storage.py"}, users


def test_pymupdf_only_in_pdf_module():
    users = {str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if {"pymupdf", "fitz"} & _imports(p)}
    allowed = {"core/pdf.py"}
    extra = users - allowed
    # exports may render a PDF handout through their own single module
    assert all(u.startswith("core/exports/pdf") for u in extra), users


def test_cli_start_path_imports_neither_qt_nor_pymupdf():
    code = (
        "import sys; from nkreader import cli; cli.build_parser();"
        "import nkreader.core.library;"
        "bad=[m for m in ('PySide6','pymupdf','fitz') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
