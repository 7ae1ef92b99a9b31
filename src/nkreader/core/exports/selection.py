"""Which records an exchange export (W3C, REFI-QDA) carries: the same filters as the reading views."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Selection:
    annotations: list[dict]
    links: list[dict]
    themes: list[dict]
    layers: dict[str, dict]


def select(lib, *, doc: str | None = None, theme: str | None = None, all_layers: bool = False) -> Selection:
    """The reader's own records (or every layer's), limited to one document and/or one theme.

    Links are kept when both their ends are; themes are the whole codebook, or with ``theme`` that
    theme, its sub-themes and its ancestors (so parent references stay valid).
    """
    doc_id = lib.corpus.entry(doc).id if doc else None
    all_themes = {t["id"]: t for t in lib.store.all("themes")}
    keep_themes = set(all_themes)
    anns = lib.annotations(doc_id, layer=None if all_layers else "")
    if theme:
        rec = lib.theme_by_name(theme)
        if rec is None:
            names = ", ".join(t["name"] for t in lib.themes()) or "none yet"
            raise ValueError(f"No theme named '{theme}' (themes: {names})")
        sub = {rec["id"]}
        grew = True
        while grew:
            grew = False
            for t in all_themes.values():
                if t.get("parent") in sub and t["id"] not in sub:
                    sub.add(t["id"])
                    grew = True
        anns = [a for a in anns if sub & set(a.get("themes", []))]
        keep_themes = set(sub)
        cur, seen = all_themes.get(rec.get("parent") or ""), set()
        while cur is not None and cur["id"] not in seen:
            seen.add(cur["id"])
            keep_themes.add(cur["id"])
            cur = all_themes.get(cur.get("parent") or "")
    ids = {a["id"] for a in anns}
    links = [l for l in lib.links(layer=None if all_layers else "") if l["source"] in ids and l["target"] in ids]
    themes = sorted((all_themes[t] for t in keep_themes), key=lambda t: (str(t.get("name", "")).casefold(), t["id"]))
    layers = {l["id"]: l for l in lib.store.all("layers")}
    return Selection(annotations=anns, links=links, themes=themes, layers=layers)
