"""The ``nkreader`` command: the window with no sub-command, scriptable sub-commands otherwise.

Sub-commands live one per module in ``nkreader.commands``; each module has ``register(sub)``
which adds its parser and sets ``func=run``, and ``run(args, ctx) -> int``. Heavy imports
(Qt, PyMuPDF) happen inside ``run`` so that ``nkreader list`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from pathlib import Path

import nkreader
from nkreader import commands


class CommandContext:
    """What a sub-command needs: its options, the library (opened on first use), and output."""

    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.json = bool(getattr(args, "json", False))
        self._library = None

    @property
    def library(self):
        if self._library is None:
            from nkreader.core.library import Library

            self._library = Library.open(self.args.corpus, self.args.data, readonly=self.readonly)
            for message in self._library.store.messages:
                print(f"nkreader: {message}", file=sys.stderr)
        return self._library

    @property
    def readonly(self) -> bool:
        return bool(getattr(self.args, "readonly_ok", False))

    def emit(self, data, text: str | None = None) -> None:
        """Print ``data`` as JSON with --json, else ``text`` (or a plain rendering of data)."""
        if self.json:
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
        elif text is not None:
            sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
        else:
            sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")

    def close(self) -> None:
        if self._library is not None:
            self._library.close()


def _command_modules():
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{commands.__name__}.{info.name}")


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, default=argparse.SUPPRESS,
                        help="folder of documents (default: the bundled corpus)")
    common.add_argument("--data", type=Path, default=argparse.SUPPRESS,
                        help="library store folder (default: $NKREADER_DATA or the user data dir)")
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                        help="print machine-readable JSON")
    parser = argparse.ArgumentParser(
        prog="nkreader", parents=[common],
        description="Read several authors side by side; highlight, code by theme, link passages.",
    )
    parser.add_argument("--version", action="version", version=f"nkreader {nkreader.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        module.register(sub, common)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name, default in (("corpus", None), ("data", None), ("json", False)):
        if not hasattr(args, name):
            setattr(args, name, default)
    if args.command is None:
        from nkreader.ui.app import run_app

        return run_app(corpus_dir=args.corpus, data=args.data)
    ctx = CommandContext(args)
    from nkreader.core.model import DocumentError

    try:
        return int(args.func(args, ctx) or 0)
    except DocumentError as exc:
        print(f"nkreader: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a clear message, not a traceback, for expected failures
        from nkreader.core.store import StoreError

        if isinstance(exc, (StoreError, ValueError, KeyError, OSError)):
            print(f"nkreader: {exc}", file=sys.stderr)
            return 2
        raise
    finally:
        ctx.close()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
