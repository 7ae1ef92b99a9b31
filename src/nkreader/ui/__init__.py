"""The reader window (PySide6). Imports the core, never the other way round."""
