"""``nkreader list``, ``nkreader show DOC`` and ``nkreader add FILE…``: what is in the corpus, one
document's paragraphs, and copying the reader's own documents into the library."""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub, common) -> None:
    p = sub.add_parser("list", parents=[common], help="list the corpus documents")
    p.set_defaults(func=run_list)
    p = sub.add_parser("show", parents=[common], help="print a document's paragraphs")
    p.add_argument("doc", help="document id (or a unique prefix)")
    p.set_defaults(func=run_show)
    p = sub.add_parser("add", parents=[common], help="copy documents (.txt, .md, .pdf, .epub) into the library")
    p.add_argument("files", nargs="+", type=Path, help="the files to add")
    p.set_defaults(func=run_add)


def _meta(doc_id, meta) -> dict:
    return {
        "id": doc_id,
        "title": meta.title,
        "authors": list(meta.authors),
        "year": meta.year,
        "venue": meta.venue,
        "language": meta.language,
        "citation": meta.citation,
        "note": meta.note,
    }


def run_list(args, ctx) -> int:
    lib = ctx.library
    rows = []
    for entry in lib.corpus.entries:
        row = _meta(entry.id, entry.metadata)
        row["file"] = entry.path.name
        row["annotations"] = len(lib.store.all("annotations", doc_id=entry.id))
        rows.append(row)
    lines = [f"{r['id']:<16} {r['citation'] or '-':<22} {r['title']}" for r in rows]
    ctx.emit(rows, "\n".join(lines))
    return 0


def run_show(args, ctx) -> int:
    doc = ctx.library.document(args.doc)
    data = _meta(doc.id, doc.metadata)
    data.update({
        "kind": doc.kind,
        "encoding": doc.encoding,
        "fingerprint": doc.fingerprint,
        "warnings": list(doc.warnings),
        "paragraphs": [
            {"number": p.number, "start": p.start, "end": p.end, "page": p.page,
             "page_label": p.page_label, "text": doc.text[p.start:p.end]}
            for p in doc.paragraphs
        ],
    })
    head = f"{doc.metadata.author_label} ({doc.metadata.year or 'n.d.'}). {doc.metadata.title}"
    body = [head, ""]
    body += [f"[{w}]" for w in doc.warnings]
    for p in doc.paragraphs:
        page = f" p.{p.page_label or p.page}" if p.page is not None else ""
        body.append(f"¶{p.number}{page}  {doc.text[p.start:p.end]}")
        body.append("")
    ctx.emit(data, "\n".join(body))
    return 0


def run_add(args, ctx) -> int:
    """Exit status 0 when every file was added, 1 when some were refused (each says why)."""
    problems: dict[str, str] = {}
    added = ctx.library.add_documents(args.files, problems)
    rows = [{**_meta(e.id, e.metadata), "file": e.path.name} for e in added]
    for path, reason in problems.items():
        print(f"nkreader: not added: {reason}", file=sys.stderr)
    lines = [f"added {r['id']:<16} {r['citation'] or '-':<22} {r['title']}" for r in rows]
    ctx.emit({"added": rows, "refused": [{"file": p, "reason": r} for p, r in problems.items()]},
             "\n".join(lines))
    return 1 if problems else 0
