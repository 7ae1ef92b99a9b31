"""The reader window (PySide6). Imports the core, never the other way round.

Importing this package first works around a PySide6 bug: PySide6/shiboken6 6.12.0 on Python 3.11
returns ``None`` from every void method (``setPen``, ``setText``, ``setValue`` …) without a new
reference, so each call takes one reference from ``None``, and ``Signal.emit`` does the same with
``True``; a window that paints for a minute makes hundreds of thousands of such calls and the
interpreter aborts with "Fatal Python error: none_dealloc" (or "bool_dealloc"). Python 3.12+ makes
these singletons immortal, which hides the bug. Where the leak is measured, the reference counts of
``None``, ``True`` and ``False`` are raised far out of reach (2**40), which is what 3.12 does.
"""

from __future__ import annotations

import sys

NONE_REFCOUNT_GUARD = False


def _guard_none_refcount() -> bool:
    if sys.version_info >= (3, 12):
        return False
    try:
        from PySide6.QtCore import QPoint
    except ImportError:  # pragma: no cover - PySide6 is a dependency
        return False
    point = QPoint()
    before = sys.getrefcount(None)
    for _ in range(64):
        point.setX(1)
    if before - sys.getrefcount(None) < 32:
        return False  # a fixed PySide6
    import ctypes

    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40
    return True


NONE_REFCOUNT_GUARD = _guard_none_refcount()
