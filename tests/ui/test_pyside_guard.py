"""PySide6 6.12.0 on Python 3.11 takes a reference from None on every void call; importing nkreader.ui
guards against the interpreter aborting (see nkreader/ui/__init__.py)."""

from __future__ import annotations

import subprocess
import sys


def test_a_long_session_of_void_calls_does_not_abort():
    code = (
        "import nkreader.ui\n"
        "from PySide6.QtCore import QObject, Signal\n"
        "from PySide6.QtGui import QColor\n"
        "class S(QObject):\n"
        "    changed = Signal(bool)\n"
        "s = S()\n"
        "s.changed.connect(lambda v: None)\n"
        "c = QColor('#888')\n"
        "for _ in range(300000):\n"
        "    c.setAlpha(1)\n"
        "    s.changed.emit(True)\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "ok"
