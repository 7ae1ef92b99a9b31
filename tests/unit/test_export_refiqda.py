"""REFI-QDA export: the .qdpx opened as a zip and its XML checked against the QDA-XML rules."""

import re
import uuid
import zipfile
from xml.etree import ElementTree as ET

import pytest

from nkreader.core.exports import export

P = "{urn:QDA-XML:project:1.0}"
C = "{urn:QDA-XML:codebook:1.0}"
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RGB = re.compile(r"^#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$")
# the order of ProjectType's children in Project.xsd
PROJECT_ORDER = ["Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Links", "Sets", "Graphs",
                 "Description", "NoteRef"]


@pytest.fixture
def coded(library):
    lib = library
    a = lib.highlight_quote("suh", "refugee status", note="legal <status> & \"rights\"", themes=["Refugee status"])
    b = lib.highlight_quote("bell", "forcibly repatriate", themes=["Refugee status", "China"])
    c = lib.highlight_quote("suh", "Spanish Embassy", themes=["China"])
    parent = lib.theme_by_name("Refugee status")
    child = lib.add_theme("Non-refoulement", parent=parent["id"], description="principle", color="#123456")
    lib.update_annotation(c["id"], themes=[child["id"]])
    lib.update_theme(parent["id"], memo="what counts as a refugee")
    lib.link(b["id"], a["id"], "disputes", "China says economic migrants")
    return lib, a, b, c


def _project(path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        root = ET.fromstring(zf.read("project.qde"))
        files = {n: zf.read(n) for n in names if n.startswith("sources/")}
    return names, root, files


def test_qdpx_layout_and_xml(coded, tmp_path):
    lib, a, b, c = coded
    out = tmp_path / "p.qdpx"
    summary = export(lib, "qdpx", out)
    assert summary["annotations"] == 3 and summary["links"] == 1 and summary["sources"] == 2
    names, root, files = _project(out)
    assert "project.qde" in names
    assert all(n == "project.qde" or n.startswith("sources/") for n in names)
    assert root.tag == f"{P}Project" and root.get("name") and GUID.match(root.get("creatingUserGUID"))
    order = [child.tag.replace(P, "") for child in root]
    assert order == sorted(order, key=PROJECT_ORDER.index)

    users = {u.get("guid"): u.get("name") for u in root.iter(f"{P}User")}
    assert root.get("creatingUserGUID") in users

    codes = {c_.get("guid"): c_ for c_ in root.iter(f"{P}Code")}
    for code in codes.values():
        assert GUID.match(code.get("guid")) and code.get("name") and code.get("isCodable") == "true"
        assert RGB.match(code.get("color"))
    refugee = next(c_ for c_ in codes.values() if c_.get("name") == "Refugee status")
    nested = [c_.get("name") for c_ in refugee.findall(f"{P}Code")]
    assert nested == ["Non-refoulement"]
    assert refugee.find(f"{P}Code/{P}Description").text == "principle"

    notes = {n.get("guid"): n.find(f"{P}PlainTextContent").text for n in root.iter(f"{P}Note")}
    assert notes[refugee.find(f"{P}NoteRef").get("targetGUID")] == "what counts as a refugee"

    sources = root.findall(f"{P}Sources/{P}TextSource")
    by_sel = {}
    for src in sources:
        assert GUID.match(src.get("guid"))
        path = src.get("plainTextPath")
        assert path == f"internal://{src.get('guid')}.txt"
        text = files[f"sources/{src.get('guid')}.txt"].decode("utf-8")
        doc_id = re.search(r"\[nkreader id: ([^;]+);", src.find(f"{P}Description").text).group(1)
        assert text == lib.document(doc_id).text
        for sel in src.findall(f"{P}PlainTextSelection"):
            s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert 0 <= s < e <= len(text) and GUID.match(sel.get("guid"))
            assert sel.get("creatingUser") in users
            by_sel[sel.get("guid")] = (text[s:e], sel)
    quotes = sorted(q for q, _ in by_sel.values())
    assert quotes == ["Spanish Embassy", "forcibly repatriate", "refugee status"]
    sel_a = next(sel for q, sel in by_sel.values() if q == "refugee status")
    code_refs = [r.get("targetGUID") for r in sel_a.iter(f"{P}CodeRef")]
    assert [codes[g].get("name") for g in code_refs] == ["Refugee status"]
    assert all(GUID.match(co.get("guid")) for co in sel_a.findall(f"{P}Coding"))
    assert notes[sel_a.find(f"{P}NoteRef").get("targetGUID")] == "legal <status> & \"rights\""

    links = root.findall(f"{P}Links/{P}Link")
    assert len(links) == 1
    link = links[0]
    assert link.get("name") == "disputes" and link.get("direction") == "OneWay"
    assert by_sel[link.get("originGUID")][0] == "forcibly repatriate"
    assert by_sel[link.get("targetGUID")][0] == "refugee status"
    assert notes[link.find(f"{P}NoteRef").get("targetGUID")] == "China says economic migrants"


def test_exporting_twice_gives_the_same_guids(coded, tmp_path):
    lib = coded[0]
    export(lib, "qdpx", tmp_path / "1.qdpx")
    export(lib, "qdpx", tmp_path / "2.qdpx")
    g1 = sorted(e.get("guid") for e in _project(tmp_path / "1.qdpx")[1].iter() if e.get("guid"))
    g2 = sorted(e.get("guid") for e in _project(tmp_path / "2.qdpx")[1].iter() if e.get("guid"))
    assert g1 == g2 and len(set(g1)) == len(g1)


def test_orphans_are_left_out_and_counted(library, tmp_path):
    a = library.highlight_quote("suh", "refugee status")
    library.update_annotation(a["id"], status="orphan")
    summary = export(library, "qdpx", tmp_path / "o.qdpx")
    assert summary["annotations"] == 0 and summary["skipped"]["orphans"] == 1


def test_qdc_codebook(coded, tmp_path):
    lib = coded[0]
    out = tmp_path / "codes.qdc"
    assert export(lib, "qdc", out)["themes"] == 3
    root = ET.fromstring(out.read_bytes())
    assert root.tag == f"{C}CodeBook"
    top = root.findall(f"{C}Codes/{C}Code")
    assert sorted(c_.get("name") for c_ in top) == ["China", "Refugee status"]
    refugee = next(c_ for c_ in top if c_.get("name") == "Refugee status")
    child = refugee.find(f"{C}Code")
    assert child.get("name") == "Non-refoulement" and child.find(f"{C}Description").text == "principle"
    for code in root.iter(f"{C}Code"):
        uuid.UUID(code.get("guid"))
        assert code.get("isCodable") == "true" and RGB.match(code.get("color"))


def test_qdc_with_no_themes_is_a_clear_error(library, tmp_path):
    with pytest.raises(ValueError, match="no themes"):
        export(library, "qdc", tmp_path / "none.qdc")
    assert not (tmp_path / "none.qdc").exists()


def test_control_characters_and_surrogates_never_make_invalid_xml(library, tmp_path):
    ann = library.highlight_quote("suh", "refugee status", note="bell \x07 and form feed \x0c end",
                                  themes=["Theme \x01 one"])
    out = tmp_path / "c.qdpx"
    export(library, "qdpx", out)
    root = _project(out)[1]
    texts = [n.find(f"{P}PlainTextContent").text for n in root.iter(f"{P}Note")]
    assert texts == ["bell  and form feed  end"]
