"""Shared test set-up: Qt runs offscreen (no display needed) in every test that imports it."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
