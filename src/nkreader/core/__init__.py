"""The model layer: pure Python, never imports Qt (tests/unit/test_layering.py enforces it)."""
