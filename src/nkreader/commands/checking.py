"""``nkreader check``: re-anchor every annotation and list the orphans."""

from __future__ import annotations


def register(sub, common) -> None:
    p = sub.add_parser("check", parents=[common], help="re-anchor annotations and report orphans")
    p.add_argument("--no-fix", action="store_true", help="report only; do not store new positions")
    p.set_defaults(func=run_check)


def run_check(args, ctx) -> int:
    from nkreader.commands.annotating import annotation_view

    lib = ctx.library
    report = lib.check(fix=not args.no_fix)
    def brief(ann):
        return {"id": ann["id"], "doc_id": ann["doc_id"], "quote": ann["target"]["exact"],
                "start": ann["target"]["start"], "end": ann["target"]["end"], "note": ann.get("note", "")}
    data = {
        "checked": report.checked,
        "moved": [dict(brief(a), resolution=a["resolution"], score=a["score"]) for a in report.moved],
        "orphans": [brief(a) for a in report.orphans],
        "missing_documents": report.missing_documents,
        "messages": report.messages,
        "ok": report.ok,
    }
    lines = [f"Checked {report.checked} annotations: {len(report.moved)} re-anchored, "
             f"{len(report.orphans)} orphaned."]
    lines += [f"  message: {m}" for m in report.messages]
    lines += [f"  missing document: {d}" for d in report.missing_documents]
    for a in report.orphans:
        lines.append(f"  orphan {a['id']} in {a['doc_id']}: \"{a['target']['exact'][:70]}\"")
    ctx.emit(data, "\n".join(lines))
    return 0 if report.ok else 1
