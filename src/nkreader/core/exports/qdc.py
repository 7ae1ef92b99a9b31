"""A REFI-QDA codebook (``.qdc``) of the library's themes, for ``core.themes.export_codebook``.

The writer itself is ``refiqda.build_codebook`` (the same one ``nkreader export --format qdc`` uses).
"""

from __future__ import annotations

from pathlib import Path

from nkreader.core.exports._text import atomic_write
from nkreader.core.exports.refiqda import build_codebook

__all__ = ["export_codebook"]


def export_codebook(lib, path: Path | str) -> Path:
    """Write every theme of the library (nested by parent) to ``path`` as a .qdc."""
    return atomic_write(path, build_codebook(lib.store.all("themes")))
