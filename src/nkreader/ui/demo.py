"""A demonstration library and a screenshot of the window (for the README and visual checks).

    python -m nkreader.ui.demo --screenshot docs/screenshot.png [--dark] [--data DIR]

Builds a temporary store (unless --data is given) with a few themes, highlights, notes and
cross-author links on the bundled corpus, opens the window, and saves ``QWidget.grab()``.
Run it under Xvfb for a real X11 rendering: ``xvfb-run -s "-screen 0 1600x1000x24" python -m ...``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

THEMES = (
    ("Humanitarian framing", "#3b74d6", "Defectors as a human-rights and refugee question"),
    ("China's repatriation", "#d64545", "Forced return of North Koreans found in China"),
    ("Routes and third countries", "#b8860b", "How people travel: China, South-East Asia, Mongolia"),
)

HIGHLIGHTS = (
    # doc, quote, theme, note, colour
    ("suh-2002", "this issue is basically of a humanitarian nature", "Humanitarian framing",
     "Suh's starting point: a humanitarian, not a political, question.", None),
    ("suh-2002", "Requesting refugee status for them in the context of international law is therefore palpable",
     "Humanitarian framing", "", None),
    ("suh-2002", "Reaching South Korea via a third country seems to have become a common method of defection",
     "Routes and third countries", "", None),
    ("suh-2002", "China cannot afford to deal with the issue unilaterally", "China's repatriation",
     "Why Beijing will not budge: its ties with Pyongyang.", None),
    ("bell-fattig", "there is no international framework for how to respond", "Humanitarian framing",
     "B&F: the gap is institutional, not moral.", None),
    ("bell-fattig", "a majority of refugees attempt to travel through China until they reach South-East Asia",
     "Routes and third countries", "", None),
    ("bell-fattig", "China continues to forcibly repatriate all North Koreans found within its borders",
     "China's repatriation", "Compare Suh ¶7 on China's position.", None),
    ("bell-fattig", "North Korean refugees are not only vulnerable to forced repatriation", "China's repatriation",
     "", None),
    ("bell-fattig", "Push factors", None, "", "#f6d365"),
)

LINKS = (
    (0, 4, "extends", "Both call it a protection problem; B&F add that no framework exists."),
    (2, 5, "agrees", "Same route through China to a third country."),
    (3, 6, "same-issue", "China's relation to the North explains the repatriations."),
    (1, 7, "disputes", "Refugee status 'palpable' for Suh; B&F show it is denied in practice."),
)


def populate(lib) -> None:
    ids = {}
    for name, color, description in THEMES:
        ids[name] = (lib.theme_by_name(name) or lib.add_theme(name, color=color, description=description))["id"]
    anns = []
    for doc, quote, theme, note, color in HIGHLIGHTS:
        themes = [ids[theme]] if theme else []
        anns.append(lib.highlight_quote(doc, quote, themes=themes, note=note, color=color))
    for a, b, kind, note in LINKS:
        lib.link(anns[a]["id"], anns[b]["id"], kind, note)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nkreader.ui.demo")
    parser.add_argument("--screenshot", type=Path, default=Path("docs/screenshot.png"))
    parser.add_argument("--data", type=Path, default=None, help="store folder (default: a temporary one)")
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--size", default="1600x1000")
    parser.add_argument("--current", type=int, default=6, help="index of the highlight shown in the passage dock")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QTimer

    from nkreader.core.library import Library
    from nkreader.ui.app import application, cover_families
    from nkreader.ui.fonts import CjkFontLoader
    from nkreader.ui.main_window import MainWindow

    app = application()
    tmp = None
    data = args.data
    if data is None:
        tmp = tempfile.TemporaryDirectory(prefix="nkreader-demo-")
        data = Path(tmp.name) / "data"
    lib = Library.open(None, data)
    if not lib.annotations():
        populate(lib)
    w, h = (int(x) for x in args.size.split("x"))
    window = MainWindow(lib, restore=False)
    window.resize(w, h)
    if args.dark:
        window.toggle_dark(True)
    window.show()
    CjkFontLoader(cover_families(), window).ensure()

    def arrange():
        window._equalize()
        left, right = window.panes
        anns = lib.annotations()
        current = [a for a in anns if a["doc_id"] == "bell-fattig"]
        target = next((a for a in current if "forcibly" in a["target"]["exact"]), current[0])
        window.session.set_current(target["id"])
        suh = lib.document("suh-2002").text
        left.scroll_to_offset(suh.index("Reaching South Korea"), fraction=0.04)
        right.scroll_to_offset(lib.document("bell-fattig").paragraphs[2].start)
        window.session.set_active_theme("")
        window.annotations_dock.set_document("bell-fattig")
        window.set_active_pane(right)
        QTimer.singleShot(800, shoot)  # theme suggestions and ribbons settled

    def shoot():
        args.screenshot.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(args.screenshot))
        print(f"saved {args.screenshot}")
        window._closing_ok = True
        window.close()
        app.quit()

    QTimer.singleShot(200, arrange)
    app.exec()
    lib.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
