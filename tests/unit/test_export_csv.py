"""CSV of highlights: one row each, formula-safe, UTF-8 with BOM."""

import csv
import io

import pytest

from nkreader.core.exports import export
from nkreader.core.exports.csvfile import COLUMNS, render, safe_cell
from nkreader.core.exports.view import collect


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A2)",
                                   "\t=1+1", "\r=1+1", "\x00=1+1", "\x01@x"])
def test_formula_starts_are_neutralised(value):
    cell = safe_cell(value)
    assert cell.startswith("'")
    assert "\x00" not in cell and "\x01" not in cell


@pytest.mark.parametrize("value", ["plain text", "a = b", "2024", "北朝鮮", "'already quoted"])
def test_ordinary_text_is_left_alone(value):
    assert safe_cell(value) == value


def test_numbers_stay_numbers():
    assert safe_cell(5) == 5 and safe_cell(None) == ""


def test_rows_round_trip_through_a_csv_reader(library, tmp_path):
    lib = library
    a = lib.highlight_quote("suh", "refugee status", note="=HYPERLINK(\"http://x\")\nsecond, line \"quoted\"",
                            themes=["-minus theme", "Law"])
    b = lib.highlight_quote("bell", "forcibly repatriate")
    lib.link(a["id"], b["id"], "agrees")
    out = tmp_path / "h.csv"
    export(lib, "csv", out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(rows) == 2 and list(rows[0]) == list(COLUMNS)
    suh = next(r for r in rows if r["document"] == "suh-2002")
    assert suh["quote"] == "refugee status"
    assert suh["note"] == "'=HYPERLINK(\"http://x\")\nsecond, line \"quoted\""
    assert suh["themes"] == "'-minus theme; Law"
    assert suh["citation"] == lib.citation(lib.annotation(a["id"]))
    assert suh["links"].startswith("agrees with Bell and Fattig 2014")
    bell = next(r for r in rows if r["document"] == "bell-fattig")
    assert bell["links"].startswith("Suh 2002, ¶") and bell["links"].endswith("agrees with this")
    for r in rows:
        for v in r.values():
            assert not v.startswith(("=", "+", "-", "@", "\t", "\r")), v


def test_theme_cell_starting_with_minus_is_prefixed(library):
    library.highlight_quote("suh", "refugee status", themes=["-minus theme"])
    rows = list(csv.reader(io.StringIO(render(collect(library)))))
    assert rows[1][COLUMNS.index("themes")] == "'-minus theme"
