"""The codebook (TOML/JSON import and export), theme suggestions, and the theme × author matrix."""

import json

import pytest

from nkreader.cli import main
from nkreader.core import themes as T


def _codebook(lib):
    lib.add_theme("Refugee status", description="whether defectors are refugees, migrants or illegal "
                  "border crossers under international law; the Refugee Convention", color="#e6194b")
    lib.add_theme("Trafficking", description="human trafficking, brokers, forced marriage, sexual abuse")
    parent = lib.theme_by_name("Refugee status")
    lib.add_theme("Forced repatriation", description="China returns defectors to North Korea",
                  parent=parent["id"])


@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_export_import_round_trip(library, tmp_path, corpus_dir, suffix):
    from nkreader.core.library import Library

    _codebook(library)
    out = T.export_codebook(library, tmp_path / f"book{suffix}")
    assert out.exists()
    with Library.open(corpus_dir, tmp_path / "other") as other:
        report = T.import_codebook(other, out)
        assert sorted(report.added) == ["Forced repatriation", "Refugee status", "Trafficking"]
        got = {t["name"]: t for t in other.themes()}
        assert got["Refugee status"]["color"] == "#e6194b"
        assert "Refugee Convention" in got["Refugee status"]["description"]
        assert got["Forced repatriation"]["parent"] == got["Refugee status"]["id"]
        # importing again changes nothing
        again = T.import_codebook(other, out)
        assert again.added == [] and again.updated == []


def test_json_codebook_nests_children(library, tmp_path):
    _codebook(library)
    data = json.loads(T.export_codebook(library, tmp_path / "b.json").read_text(encoding="utf-8"))
    top = {n["name"]: n for n in data["themes"]}
    assert [c["name"] for c in top["Refugee status"]["children"]] == ["Forced repatriation"]


def test_import_merges_without_overwriting_the_readers_text(library, tmp_path):
    library.add_theme("Trafficking", description="my own words")
    book = tmp_path / "b.toml"
    book.write_text('[[theme]]\nname = "trafficking"\ndescription = "theirs"\nmemo = "a memo"\n\n'
                    '[[theme]]\nname = "Brokers"\ncolor = "not a colour"\nparent = "Trafficking"\n',
                    encoding="utf-8")
    report = T.import_codebook(library, book)
    assert report.added == ["Brokers"] and report.updated == ["trafficking"]
    t = library.theme_by_name("Trafficking")
    assert t["description"] == "my own words" and t["memo"] == "a memo"
    brokers = library.theme_by_name("Brokers")
    assert brokers["color"].startswith("#") and brokers["parent"] == t["id"]


@pytest.mark.parametrize("name,content", [("b.toml", "[[theme]\nname="), ("b.json", "{"), ("b.json", '{"themes": [{"color": "#000000"}]}'),
                                          ("b.csv", "name\n")])
def test_bad_codebooks_are_clear_errors(library, tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(T.CodebookError):
        T.import_codebook(library, path)


def test_suggestions_from_the_codebook_descriptions(library):
    _codebook(library)
    ann = library.highlight_quote("bell", "falling victim to human trafficking at the hands of migration brokers")
    sugg = T.suggest_themes(library)
    mine = [s for s in sugg if s.annotation_id == ann["id"]]
    assert mine and mine[0].theme == "Trafficking"
    assert mine[0].reason == "codebook"


def test_suggestions_learn_from_coded_passages(library):
    library.add_theme("Numbers")  # a name alone says little
    library.add_theme("Other")
    library.highlight_quote("suh", "there are more than 300,000 North Korean defectors in China", themes=["Numbers"])
    library.highlight_quote("suh", "there must be approximately 100,000 North Korean defectors in China", themes=["Numbers"])
    ann = library.highlight_quote("interview", "The number of North Korean defectors has reach 21,000 in the ROK")
    sugg = [s for s in T.suggest_themes(library) if s.annotation_id == ann["id"]]
    assert sugg[0].theme == "Numbers" and "coded passages" in sugg[0].reason


def test_accept_and_reject(library):
    _codebook(library)
    ann = library.highlight_quote("kwon", "the Chinese regime does not recognize North Korean defectors as refugees")
    sugg = [s for s in T.suggest_themes(library) if s.annotation_id == ann["id"]]
    assert sugg[0].theme == "Refugee status"
    T.reject_suggestion(library, ann["id"], sugg[0].theme_id)
    again = [s.theme for s in T.suggest_themes(library) if s.annotation_id == ann["id"]]
    assert "Refugee status" not in again
    T.accept_suggestion(library, ann["id"], "Forced repatriation")
    assert library.theme_by_name("Forced repatriation")["id"] in library.annotation(ann["id"])["themes"]
    # coded passages are not suggested for unless asked
    assert all(s.annotation_id != ann["id"] for s in T.suggest_themes(library))
    assert T.rejected_pairs(library) == {(ann["id"], library.theme_by_name("Refugee status")["id"])}


def test_matrix_counts_per_author(library):
    _codebook(library)
    library.highlight_quote("bell", "forcibly repatriate", themes=["Forced repatriation"])
    library.highlight_quote("kwon", "forced repatriation", themes=["Forced repatriation", "Refugee status"])
    library.highlight_quote("kwon", "human trafficking", themes=["Trafficking"])
    m = T.theme_author_matrix(library)
    labels = [c["label"] for c in m.columns]
    assert len(labels) == 5 and "Markus Bell and Geoffrey Fattig" in labels
    r = [t["name"] for t in m.themes].index("Forced repatriation")
    c_kwon = next(i for i, c in enumerate(m.columns) if "kwon-2023" in c["doc_ids"])
    assert m.counts[r][c_kwon] == 1 and sum(m.counts[r]) == 2
    cell = m.cell_annotations(library, r, c_kwon)
    assert [a["target"]["exact"] for a in cell] == ["forced repatriation"]


def test_themes_cli(tmp_path, capsys, corpus_dir):
    common = ["--corpus", str(corpus_dir), "--data", str(tmp_path / "d")]
    assert main(["themes", "add", "Trafficking", "--description", "brokers and human trafficking", *common]) == 0
    book = tmp_path / "book.toml"
    assert main(["themes", "export", "--out", str(book), *common]) == 0
    assert main(["themes", "import", str(book), "--json", *common]) == 0
    capsys.readouterr()
    assert main(["highlight", "bell", "--quote", "falling victim to human trafficking", *common]) == 0
    capsys.readouterr()
    assert main(["themes", "suggest", "--json", *common]) == 0
    sugg = json.loads(capsys.readouterr().out)
    assert sugg and sugg[0]["theme"] == "Trafficking"
    assert main(["themes", "accept", sugg[0]["annotation_id"], "Trafficking", *common]) == 0
    capsys.readouterr()
    assert main(["themes", "list", "--json", *common]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed[0]["name"] == "Trafficking" and listed[0]["passages"] == 1
    assert main(["themes", "matrix", "--json", *common]) == 0
    assert json.loads(capsys.readouterr().out)["counts"][0].count(1) == 1
    assert main(["themes", "import", str(tmp_path / "missing.toml"), *common]) != 0


def test_qdc_round_trip(library, tmp_path, corpus_dir):
    from nkreader.core.library import Library

    _codebook(library)
    out = T.export_codebook(library, tmp_path / "book.qdc")
    head = out.read_text(encoding="utf-8")
    assert "urn:QDA-XML:codebook:1.0" in head and "CodeBook" in head
    with Library.open(corpus_dir, tmp_path / "other") as other:
        report = T.import_codebook(other, out)
        assert sorted(report.added) == ["Forced repatriation", "Refugee status", "Trafficking"]
        got = {t["name"]: t for t in other.themes()}
        assert got["Forced repatriation"]["parent"] == got["Refugee status"]["id"]
        assert got["Refugee status"]["color"].lower() == "#e6194b"
    bad = tmp_path / "bad.qdc"
    bad.write_text("<NotACodeBook/>", encoding="utf-8")
    with pytest.raises(T.CodebookError):
        T.import_codebook(library, bad)


def test_profiles_with_a_terms_cache_rank_as_those_without(library):
    """The terms kept from one build to the next change nothing in the ranking, and the cache is
    left holding just the passages of the latest build."""
    _codebook(library)
    library.highlight_quote("kwon", "the Chinese regime does not recognize North Korean defectors as refugees",
                            themes=["Refugee status"])
    gone = library.highlight_quote("bell", "falling victim to human trafficking at the hands of migration brokers",
                                   themes=["Trafficking"])
    cache = {}
    themes, anns = library.themes(), library.annotations(layer=None)
    T.ThemeProfiles.from_records(themes, anns, cache)
    assert gone["target"]["exact"] + " " in cache
    library.delete_annotation(gone["id"])
    anns = library.annotations(layer=None)
    cached = T.ThemeProfiles.from_records(themes, anns, cache)
    fresh = T.ThemeProfiles.from_records(themes, anns)
    query = "brokers sell defecting women into forced marriage; China calls them illegal migrants"
    ranked = [(s.theme, round(s.score, 9), s.reason) for s in cached.rank(query)]
    assert ranked and ranked == [(s.theme, round(s.score, 9), s.reason) for s in fresh.rank(query)]
    assert set(cache) == {a["target"]["exact"] + " " for a in anns}
