"""Export and import from the window: the dialog's choices reach the real exporters and importers."""

import json

from PySide6.QtWidgets import QMenu

from nkreader.core.library import Library
from nkreader.ui import exchange


def _classmate_file(corpus_dir, tmp_path):
    """Mina's library with one highlight, exported as W3C JSON-LD to tmp_path/mina.jsonld."""
    classmate = Library.open(corpus_dir, tmp_path / "classmate")
    classmate.highlight_quote("kwon", "human security", note="central idea", creator="Mina")
    exchange.run_export(classmate, {"fmt": "w3c", "out": tmp_path / "mina.jsonld", "by": "document",
                                    "doc": None, "theme": None, "all_layers": False})
    classmate.close()


def test_export_dialog_options_write_a_debate_brief(qtbot, library, tmp_path):
    library.highlight_quote("suh", "refugee status", note="law", themes=["Refugee status"])
    library.highlight_quote("bell", "forcibly repatriate", themes=["Refugee status"])
    dialog = exchange.ExportDialog(library)
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("md"))
    dialog.by.setCurrentIndex(dialog.by.findData("theme"))
    dialog.path.setText(str(tmp_path / "brief.txt"))
    dialog._format_changed()
    opts = dialog.options()
    assert opts["out"].suffix == ".md" and opts["by"] == "theme"
    summary = exchange.run_export(library, opts)
    text = opts["out"].read_text(encoding="utf-8")
    assert summary["path"] == str(opts["out"])
    assert "Refugee status" in text and "Suh 2002" in text and "Bell and Fattig 2014" in text


def test_arrangement_only_for_reading_formats(qtbot, library):
    dialog = exchange.ExportDialog(library)
    qtbot.addWidget(dialog)
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    assert not dialog.by.isEnabled()
    dialog.format.setCurrentIndex(dialog.format.findData("html"))
    assert dialog.by.isEnabled()


def test_import_makes_a_layer_that_can_be_hidden(qtbot, corpus_dir, tmp_path):
    _classmate_file(corpus_dir, tmp_path)
    mine = Library.open(corpus_dir, tmp_path / "mine")
    result = exchange.run_import(mine, tmp_path / "mina.jsonld")
    assert result["summary"]
    layers = mine.store.all("layers")
    assert len(layers) == 1
    assert mine.annotations() == [] and len(mine.annotations(layer=layers[0]["id"])) == 1
    exchange.set_layer_visible(mine, layers[0]["id"], False)
    assert exchange.hidden_layers(mine) == {layers[0]["id"]}
    exchange.set_layer_visible(mine, layers[0]["id"], True)
    assert exchange.hidden_layers(mine) == set()
    mine.close()


def test_hostile_import_is_refused_and_changes_nothing(qtbot, library, tmp_path):
    bomb = tmp_path / "deep.jsonld"
    bomb.write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    before = json.dumps([library.store.all(k) for k in ("annotations", "links", "themes", "layers")])
    try:
        exchange.run_import(library, bomb)
    except ValueError as exc:
        assert "deep" in str(exc).lower() or "nest" in str(exc).lower()
    else:  # pragma: no cover - the import must refuse this
        raise AssertionError("a 5000-deep JSON was accepted")
    after = json.dumps([library.store.all(k) for k in ("annotations", "links", "themes", "layers")])
    assert before == after


def test_window_has_export_import_and_shows_visible_layers(qtbot, corpus_dir, tmp_path):
    from nkreader.ui.main_window import MainWindow

    _classmate_file(corpus_dir, tmp_path)
    mine = Library.open(corpus_dir, tmp_path / "mine")
    exchange.run_import(mine, tmp_path / "mina.jsonld")
    window = MainWindow(mine, restore=False)
    qtbot.addWidget(window)
    assert {"export", "import"} <= set(window.actions_by_name)
    layer = mine.store.all("layers")[0]
    assert [a["layer"] for a in window.session.annotations("kwon-2023")] == [layer["id"]]
    exchange._toggle_layer(window, layer["id"], False)
    assert window.session.annotations("kwon-2023") == []
    menu = QMenu()
    exchange.build_layers_menu(menu, window)
    entries = [a for a in menu.actions() if a.isCheckable()]
    assert len(entries) == 1 and not entries[0].isChecked() and "(1)" in entries[0].text()
    window.close()
    mine.close()


def test_codebook_round_trip_from_the_themes_menu(qtbot, make_window, corpus_dir, tmp_path, answer_dialog):
    lib = Library.open(corpus_dir, tmp_path / "data")
    w = make_window(lib, restore=False)
    assert {"import_codebook", "export_codebook"} <= set(w.actions_by_name)
    assert w.actions_by_name["import_codebook"] in w._menus["Themes"].actions()
    lib.add_theme("Forced repatriation", color="#d64545", description="China returns those it finds")
    written = exchange.export_codebook_from_window(w, tmp_path / "ours.qdc")
    assert written.read_text(encoding="utf-8").count("<Code ") == 1
    # a classmate's codebook adds a theme and completes ours; nothing is deleted
    (tmp_path / "theirs.toml").write_text(
        '[[theme]]\nname = "Forced repatriation"\nmemo = "seen in three authors"\n\n'
        '[[theme]]\nname = "Brokers"\ncolor = "#b8860b"\ndescription = "who guides the crossing"\n', encoding="utf-8")
    seen = []
    answer_dialog(seen)
    report = exchange.import_codebook_into_window(w, tmp_path / "theirs.toml")
    assert report == {"added": ["Brokers"], "updated": ["Forced repatriation"], "unchanged": []}
    assert seen[0][:2] == ("Codebook imported", "theirs.toml: 1 new theme, 1 completed (description, memo or "
                                                "colour), 0 already there.")
    names = [w.theme_dock.tree.topLevelItem(i).text(0) for i in range(w.theme_dock.tree.topLevelItemCount())]
    assert names == ["Brokers", "Forced repatriation"]
    # a broken file is refused and changes nothing
    (tmp_path / "broken.qdc").write_text("<CodeBook", encoding="utf-8")
    before = lib.themes()
    seen.clear()
    answer_dialog(seen)
    assert exchange.import_codebook_into_window(w, tmp_path / "broken.qdc") is None
    assert seen[0][0] == "Codebook not imported" and "nothing was changed" in seen[0][1]
    assert lib.themes() == before
