"""``nkreader related`` and ``nkreader themes``: related passages by other authors; the codebook."""

from __future__ import annotations

import sys


def register(sub, common) -> None:
    p = sub.add_parser("related", parents=[common],
                       help="passages in other documents that address the same issue as a quote")
    p.add_argument("doc", help="document id (or a unique prefix)")
    p.add_argument("--quote", required=True, help="the passage, quoted exactly (whitespace and case may differ)")
    p.add_argument("--top", type=int, default=5, help="how many passages (default 5)")
    p.add_argument("--no-feedback", action="store_true", help="ignore dismissals and accepted links")
    p.add_argument("--dismiss", type=int, default=None, metavar="RANK",
                   help="dismiss the suggestion at this rank (1-based) for this quote, then list again")
    p.set_defaults(func=run_related)

    t = sub.add_parser("themes", parents=[common], help="the codebook: list, add, import, export, suggest")
    tsub = t.add_subparsers(dest="themes_command", metavar="ACTION")
    x = tsub.add_parser("list", parents=[common], help="themes with their passage counts")
    x.set_defaults(func=run_themes_list)
    x = tsub.add_parser("add", parents=[common], help="add a theme")
    x.add_argument("name")
    x.add_argument("--color", default=None, help="#rrggbb")
    x.add_argument("--description", default="")
    x.add_argument("--memo", default="")
    x.add_argument("--parent", default=None, help="parent theme name")
    x.set_defaults(func=run_themes_add)
    x = tsub.add_parser("import", parents=[common], help="merge a codebook (.toml, .json, .qdc)")
    x.add_argument("file")
    x.set_defaults(func=run_themes_import)
    x = tsub.add_parser("export", parents=[common], help="write the codebook (.toml, .json, .qdc)")
    x.add_argument("--out", required=True)
    x.set_defaults(func=run_themes_export)
    x = tsub.add_parser("suggest", parents=[common], help="suggest themes for highlighted passages")
    x.add_argument("--doc", default=None, help="only this document's highlights")
    x.add_argument("--top", type=int, default=3, help="suggestions per passage (default 3)")
    x.add_argument("--all", action="store_true", help="also passages that already have a theme")
    x.add_argument("--text", default=None, help="suggest for this text instead of the highlights")
    x.set_defaults(func=run_themes_suggest)
    x = tsub.add_parser("accept", parents=[common], help="code a passage with a suggested theme")
    x.add_argument("annotation")
    x.add_argument("theme")
    x.set_defaults(func=run_themes_accept)
    x = tsub.add_parser("reject", parents=[common], help="never suggest this theme for this passage again")
    x.add_argument("annotation")
    x.add_argument("theme")
    x.set_defaults(func=run_themes_reject)
    x = tsub.add_parser("matrix", parents=[common], help="theme × author counts of coded passages")
    x.set_defaults(func=run_themes_matrix)
    t.set_defaults(func=run_themes_list)


def _author(lib, doc_id: str) -> str:
    meta = lib.corpus.entry(doc_id).metadata
    return meta.citation or meta.author_label


def run_related(args, ctx) -> int:
    from nkreader.core.related import dismiss, related_passages

    lib = ctx.library
    if args.top < 1:
        raise ValueError("--top must be at least 1")
    left_out: dict[str, str] = {}
    hits = related_passages(lib, args.doc, quote=args.quote, top=args.top,
                            use_feedback=not args.no_feedback, problems=left_out)
    if args.dismiss is not None:
        if not 1 <= args.dismiss <= len(hits):
            raise ValueError(f"--dismiss must be a rank between 1 and {len(hits)}")
        from nkreader.core.anchors import find_quote

        doc = lib.document(args.doc)
        s, e = find_quote(doc.text, args.quote)
        dismiss(lib, doc.id, s, e, hits[args.dismiss - 1], quote=doc.text[s:e])
        hits = related_passages(lib, args.doc, quote=args.quote, top=args.top,
                                use_feedback=not args.no_feedback)
    for message in left_out.values():
        print(f"nkreader: {message}; left out of the related passages", file=sys.stderr)
    data = [h.to_dict() for h in hits]
    lines = []
    for i, h in enumerate(hits, 1):
        where = f"¶{h.paragraph}" + (f", p. {h.page_label or h.page}" if h.page is not None else "")
        body = " ".join(h.text.split())
        body = body if len(body) <= 200 else body[:197] + "..."
        lines.append(f"{i}. {_author(lib, h.doc_id)}, {where} [{h.doc_id} {h.start}-{h.end}] score {h.score:.2f}")
        lines.append(f"   {body}")
    ctx.emit(data, "\n".join(lines) if lines else "No related passages found in the other documents.")
    return 0


def run_themes_list(args, ctx) -> int:
    lib = ctx.library
    counts = lib.theme_counts()
    names = {t["id"]: t["name"] for t in lib.themes()}
    data = []
    for t in lib.themes():
        per_doc = counts.get(t["id"], {})
        data.append({"id": t["id"], "name": t["name"], "color": t.get("color"),
                     "description": t.get("description", ""), "memo": t.get("memo", ""),
                     "parent": names.get(t.get("parent")) if t.get("parent") else None,
                     "passages": sum(per_doc.values()), "documents": per_doc})
    lines = [f"{d['name']} ({d['passages']})" + (f" — {d['description']}" if d["description"] else "")
             for d in data]
    ctx.emit(data, "\n".join(lines) if lines else "No themes yet.")
    return 0


def run_themes_add(args, ctx) -> int:
    lib = ctx.library
    parent = None
    if args.parent:
        p = lib.theme_by_name(args.parent)
        if p is None:
            raise ValueError(f"no theme named '{args.parent}'")
        parent = p["id"]
    theme = lib.add_theme(args.name, color=args.color, description=args.description, memo=args.memo,
                          parent=parent)
    ctx.emit(theme, f"Added theme {theme['name']} ({theme['color']}).")
    return 0


def run_themes_import(args, ctx) -> int:
    from nkreader.core.themes import import_codebook

    report = import_codebook(ctx.library, args.file)
    ctx.emit(report.to_dict(), f"Imported {args.file}: {len(report.added)} added, "
                               f"{len(report.updated)} updated, {len(report.unchanged)} unchanged.")
    return 0


def run_themes_export(args, ctx) -> int:
    from nkreader.core.themes import export_codebook

    path = export_codebook(ctx.library, args.out)
    n = len(ctx.library.themes())
    ctx.emit({"out": str(path), "themes": n}, f"Wrote {n} themes to {path}.")
    return 0


def run_themes_suggest(args, ctx) -> int:
    from nkreader.core.themes import suggest_for_text, suggest_themes

    lib = ctx.library
    if not lib.themes():
        print("nkreader: there are no themes yet: add or import a codebook first", file=sys.stderr)
    if args.text is not None:
        sugg = suggest_for_text(lib, args.text, top=args.top)
    else:
        doc_id = lib.corpus.entry(args.doc).id if args.doc else None
        sugg = suggest_themes(lib, doc_id=doc_id, top=args.top, include_coded=args.all)
    data = [s.to_dict() for s in sugg]
    lines = []
    for s in sugg:
        head = f"{s.annotation_id}: \"{s.quote[:60]}\" → " if s.annotation_id else ""
        lines.append(f"{head}{s.theme} ({s.score:.2f}, from {s.reason})")
    ctx.emit(data, "\n".join(lines) if lines else "No suggestions.")
    return 0


def run_themes_accept(args, ctx) -> int:
    from nkreader.core.themes import accept_suggestion

    ann = accept_suggestion(ctx.library, args.annotation, args.theme)
    ctx.emit({"annotation_id": ann["id"], "themes": ann.get("themes", [])}, f"Coded {ann['id']} with {args.theme}.")
    return 0


def run_themes_reject(args, ctx) -> int:
    from nkreader.core.themes import reject_suggestion

    rec = reject_suggestion(ctx.library, args.annotation, args.theme)
    ctx.emit(rec, f"{args.theme} will not be suggested for {args.annotation} again.")
    return 0


def run_themes_matrix(args, ctx) -> int:
    from nkreader.core.themes import theme_author_matrix

    m = theme_author_matrix(ctx.library)
    data = m.to_dict()
    if not m.themes:
        ctx.emit(data, "No themes yet.")
        return 0
    width = max(len(t["name"]) for t in m.themes)
    lines = [" " * width + " | " + " | ".join(c["label"] for c in m.columns)]
    for t, row in zip(m.themes, m.counts):
        lines.append(t["name"].ljust(width) + " | " + " | ".join(
            str(n).rjust(len(c["label"])) for n, c in zip(row, m.columns)))
    ctx.emit(data, "\n".join(lines))
    return 0
