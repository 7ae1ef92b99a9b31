"""nkreader: read several authors side by side, highlight, code by theme and link passages."""

__version__ = "0.1.0"
