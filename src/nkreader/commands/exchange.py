"""``nkreader export`` and ``nkreader import``: notes, briefs and exchange files in and out."""

from __future__ import annotations

from pathlib import Path

EXPORT_FORMATS = ("md", "html", "pdf", "w3c", "qdpx", "qdc", "csv")


def register(sub, common) -> None:
    p = sub.add_parser(
        "export", parents=[common], help="export notes, a debate brief, or an exchange file",
        description="Write the reader's highlights, notes, themes and links in one format: Markdown, "
                    "HTML or PDF (by document, or by theme as a debate brief), W3C Web Annotation "
                    "JSON-LD, a REFI-QDA project (.qdpx) or codebook (.qdc), or CSV.")
    p.add_argument("--format", "-f", required=True, choices=EXPORT_FORMATS, help="output format")
    p.add_argument("--out", "-o", required=True, type=Path, help="file to write")
    p.add_argument("--by", choices=("document", "theme"), default="document",
                   help="md/html/pdf: notes per document, or a debate brief per theme (default: document)")
    p.add_argument("--doc", default=None, help="only this document (id or unique prefix)")
    p.add_argument("--theme", default=None, help="only passages on this theme (name)")
    p.add_argument("--all-layers", action="store_true", help="include classmates' imported layers")
    p.set_defaults(func=run_export)

    p = sub.add_parser(
        "import", parents=[common], help="merge a classmate's W3C JSON-LD, .qdpx or .qdc",
        description="Merge a W3C Web Annotation JSON-LD file or a REFI-QDA project as a separate layer "
                    "named after its creator (a .qdc codebook adds its codes as themes). Nothing of "
                    "yours is changed; importing the same file twice adds nothing.")
    p.add_argument("file", type=Path, help="the file to import")
    p.add_argument("--format", "-f", choices=("w3c", "qdpx", "qdc"), default=None,
                   help="the file's format (default: from its name and content)")
    p.add_argument("--creator", default=None, help="name the layer after this person instead of the file's creator")
    p.add_argument("--dry-run", action="store_true", help="report what would be merged; change nothing")
    p.set_defaults(func=run_import)


def run_export(args, ctx) -> int:
    from nkreader.core.exports import export

    summary = export(ctx.library, args.format, args.out, by=args.by, doc=args.doc, theme=args.theme,
                     all_layers=args.all_layers)
    counts = [f"{summary[k]} {k}" for k in ("passages", "annotations", "links", "themes", "sources")
              if k in summary]
    text = f"Wrote {summary['path']} ({args.format}" + (f", by {args.by}" if args.format in ("md", "html", "pdf") else "")
    text += f"): {', '.join(counts)}." if counts else ")."
    skipped = summary.get("skipped") or {}
    if any(skipped.values()):
        text += (f"\nLeft out {skipped.get('orphans', 0)} orphaned highlight(s) and "
                 f"{skipped.get('missing_documents', 0)} on missing documents (no valid position to export).")
    ctx.emit(summary, text)
    return 0


def run_import(args, ctx) -> int:
    from nkreader.core.imports import import_file

    report = import_file(ctx.library, args.file, fmt=args.format, creator=args.creator, dry_run=args.dry_run)
    data = report.to_dict()
    data["dry_run"] = bool(args.dry_run)
    text = report.summary()
    if args.dry_run:
        text = "Dry run (nothing written):\n" + text
    ctx.emit(data, text)
    return 0
