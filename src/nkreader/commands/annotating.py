"""``nkreader highlight`` and ``nkreader notes``: annotate from a script, read the notes back."""

from __future__ import annotations


def register(sub, common) -> None:
    p = sub.add_parser("highlight", parents=[common], help="highlight a quote in a document")
    p.add_argument("doc", help="document id (or a unique prefix)")
    p.add_argument("--quote", required=True, help="the exact text to highlight")
    p.add_argument("--note", default="", help="a note to attach")
    p.add_argument("--theme", action="append", default=[], help="a theme name (repeatable)")
    p.set_defaults(func=run_highlight)
    p = sub.add_parser("notes", parents=[common], help="list highlights and notes")
    p.add_argument("--doc", default=None, help="only this document")
    p.add_argument("--all-layers", action="store_true", help="include imported classmates' layers")
    p.set_defaults(func=run_notes)


def annotation_view(lib, ann: dict) -> dict:
    """An annotation as scripts see it: flat, with theme names and a citation."""
    themes = [lib.theme(t) for t in ann.get("themes", [])]
    target = ann["target"]
    return {
        "id": ann["id"],
        "doc_id": ann["doc_id"],
        "quote": target["exact"],
        "start": target["start"],
        "end": target["end"],
        "page": target.get("page"),
        "note": ann.get("note", ""),
        "themes": [t["name"] for t in themes if t],
        "color": ann.get("color"),
        "creator": ann.get("creator"),
        "layer": ann.get("layer", ""),
        "status": ann.get("status", "anchored"),
        "citation": lib.citation(ann) if ann["doc_id"] in lib.corpus.ids else None,
        "created": ann.get("created"),
        "modified": ann.get("modified"),
    }


def run_highlight(args, ctx) -> int:
    lib = ctx.library
    ann = lib.highlight_quote(args.doc, args.quote, note=args.note, themes=args.theme)
    view = annotation_view(lib, ann)
    ctx.emit(view, f"Highlighted {view['citation']}: \"{view['quote']}\" ({view['id']})")
    return 0


def run_notes(args, ctx) -> int:
    lib = ctx.library
    doc_id = lib.corpus.entry(args.doc).id if args.doc else None
    anns = lib.annotations(doc_id, layer=None if args.all_layers else "")
    views = [annotation_view(lib, a) for a in anns]
    lines = []
    for v in views:
        themes = f" [{', '.join(v['themes'])}]" if v["themes"] else ""
        lines.append(f"{v['citation']}{themes}: \"{v['quote']}\"")
        if v["note"]:
            lines.append(f"    note: {v['note']}")
    ctx.emit(views, "\n".join(lines) if lines else "No highlights yet.")
    return 0
