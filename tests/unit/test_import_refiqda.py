"""Importing REFI-QDA .qdpx and .qdc: round trip, idempotence, other tools' files, hostile archives and XML."""

import stat
import zipfile

import pytest

from nkreader.core.exports import export
from nkreader.core.imports import ImportRejected, import_file
from nkreader.core.imports.qdc import read_codebook
from nkreader.core.library import Library
from nkreader.core.store import KINDS

NS = 'xmlns="urn:QDA-XML:project:1.0"'


def snapshot(lib) -> dict:
    return {k: sorted(lib.store.all(k), key=lambda r: r["id"]) for k in KINDS if k != "meta"}


def populate(lib):
    a = lib.highlight_quote("suh", "refugee status", note="Suh's key term\nsecond line", themes=["Refugee status"])
    b = lib.highlight_quote("bell", "forcibly repatriate", themes=["Refugee status", "China"])
    c = lib.highlight_quote("kwon", "human security", themes=["Human security"])
    d = lib.highlight_quote("civil", "北朝鮮問題における市民社会の役割と課題")
    t = lib.theme_by_name("Refugee status")
    lib.update_theme(t["id"], memo="who counts", description="legal category", color="#112233")
    lib.add_theme("Non-refoulement", parent=t["id"], color="#445566")
    lib.link(b["id"], a["id"], "disputes", "China's view")
    lib.link(c["id"], d["id"], "same-issue")
    return a, b, c, d


def comparable(lib, layer=None, *, colors=True):
    themes = {t["id"]: t for t in lib.store.all("themes")}
    anns = lib.annotations(layer=layer)
    key = {a["id"]: (a["doc_id"], a["target"]["start"], a["target"]["end"]) for a in anns}
    out_anns = {key[a["id"]]: (a["target"], a["note"], sorted(themes[t]["name"] for t in a["themes"]),
                               a["status"], a["fingerprint"]) for a in anns}
    links = sorted((key[l["source"]], key[l["target"]], l["type"], l["note"]) for l in lib.links(layer=layer))
    tdata = sorted((t["name"], t["color"] if colors else "", t.get("description", ""), t.get("memo", ""),
                    themes[t["parent"]]["name"] if t.get("parent") else None) for t in themes.values())
    return out_anns, links, tdata


def test_round_trip_into_an_empty_store(library, corpus_dir, tmp_path):
    populate(library)
    out = tmp_path / "mine.qdpx"
    export(library, "qdpx", out)
    with Library.open(corpus_dir, tmp_path / "other") as other:
        report = import_file(other, out)
        assert report.added == {"annotations": 4, "links": 2, "themes": 4, "layers": 1}
        assert report.orphans == 0 and not report.skipped, report.skipped
        layer = other.store.all("layers")[0]
        assert comparable(other, layer=layer["id"]) == comparable(library)
        again = import_file(other, out)
        assert not again.changed


def test_our_own_project_coming_back_changes_nothing(library, tmp_path):
    populate(library)
    out = tmp_path / "mine.qdpx"
    export(library, "qdpx", out)
    before = snapshot(library)
    report = import_file(library, out)
    assert not report.changed and report.already_present >= 4
    assert snapshot(library) == before


def test_reanchors_by_their_source_text(tmp_path):
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    theirs.mkdir()
    ours.mkdir()
    text = "Intro line here.\n\nBrokers move people across the river at night for money.\n"
    (theirs / "a.txt").write_text(text, encoding="utf-8")
    (ours / "a.txt").write_text("A preface we added.\n\n" + text, encoding="utf-8")
    with Library.open(theirs, tmp_path / "d1") as lib:
        lib.highlight_quote("a", "across the river at night")
        export(lib, "qdpx", tmp_path / "x.qdpx")
    with Library.open(ours, tmp_path / "d2") as lib:
        report = import_file(lib, tmp_path / "x.qdpx", creator="Jo")
        ann = lib.annotations(layer=None)[0]
        doc = lib.document("a")
        t = ann["target"]
        assert doc.text[t["start"]:t["end"]] == "across the river at night" and ann["status"] == "anchored"
        assert report.moved == 1 and report.layers[0]["name"] == "Jo"


def _qdpx(path, qde: str, members: dict | None = None):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.qde", qde)
        for name, data in (members or {}).items():
            zf.writestr(name, data)
    return path


def test_a_project_from_another_tool(library, tmp_path):
    doc = library.document("bell")
    text = doc.text
    s = text.index("forcibly repatriate")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project {NS} name="Seminar" creatingUserGUID="11111111-1111-1111-1111-111111111111">
  <Users><User guid="11111111-1111-1111-1111-111111111111" name="Mina"/></Users>
  <CodeBook><Codes>
    <Code guid="22222222-2222-2222-2222-222222222222" name="Return" isCodable="true" color="#FF0000">
      <Description>forced return</Description>
      <Code guid="33333333-3333-3333-3333-333333333333" name="Refoulement" isCodable="true"/>
    </Code>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="44444444-4444-4444-4444-444444444444" name="{doc.path.name}" plainTextPath="internal://bell.txt">
      <PlainTextSelection guid="55555555-5555-5555-5555-555555555555" startPosition="{s}" endPosition="{s + 19}"
          creatingUser="11111111-1111-1111-1111-111111111111">
        <Description>selection memo</Description>
        <Coding guid="66666666-6666-6666-6666-666666666666"><CodeRef targetGUID="33333333-3333-3333-3333-333333333333"/></Coding>
        <NoteRef targetGUID="77777777-7777-7777-7777-777777777777"/>
      </PlainTextSelection>
      <PlainTextSelection guid="88888888-8888-8888-8888-888888888888" startPosition="0" endPosition="10"/>
    </TextSource>
    <PictureSource guid="99999999-9999-9999-9999-999999999999" name="photo.png"/>
  </Sources>
  <Notes><Note guid="77777777-7777-7777-7777-777777777777" name="n"><PlainTextContent>Mina's note</PlainTextContent></Note></Notes>
  <Links><Link guid="aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa" name="Agrees" direction="Associative"
      originGUID="55555555-5555-5555-5555-555555555555" targetGUID="88888888-8888-8888-8888-888888888888"/></Links>
</Project>"""
    path = _qdpx(tmp_path / "mina.qdpx", qde, {"sources/bell.txt": text.encode("utf-8")})
    report = import_file(library, path)
    assert report.layers[0]["name"] == "Mina"
    assert report.added == {"annotations": 2, "links": 1, "themes": 2, "layers": 1}
    assert any("PictureSource" in s for s in report.skipped)
    anns = {a["target"]["exact"]: a for a in library.annotations(layer=None)}
    a = anns["forcibly repatriate"]
    assert a["doc_id"] == "bell-fattig" and a["note"] == "selection memo\n\nMina's note"
    assert [library.theme(t)["name"] for t in a["themes"]] == ["Refoulement"]
    child = library.theme_by_name("Refoulement")
    assert library.theme(child["parent"])["name"] == "Return"
    assert library.theme_by_name("Return")["color"] == "#ff0000"
    assert library.theme_by_name("Return")["description"] == "forced return"
    assert library.links(layer=None)[0]["type"] == "agrees"


def test_codebook_import_adds_themes_once(library, tmp_path):
    library.add_theme("China", color="#010101", description="ours")
    qdc = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="other">
  <Codes>
    <Code guid="22222222-2222-2222-2222-222222222222" name="china" isCodable="true" color="#FF0000"><Description>theirs</Description></Code>
    <Code guid="33333333-3333-3333-3333-333333333333" name="Brokers" isCodable="true" color="#00ff00">
      <Code guid="44444444-4444-4444-4444-444444444444" name="Fees" isCodable="true"/>
    </Code>
  </Codes>
</CodeBook>"""
    path = tmp_path / "codes.qdc"
    path.write_text(qdc, encoding="utf-8")
    report = import_file(library, path)
    assert report.added["themes"] == 2 and report.themes_matched == ["China"] and report.layers == []
    assert library.theme_by_name("China")["description"] == "ours"
    fees = library.theme_by_name("Fees")
    assert library.theme(fees["parent"])["name"] == "Brokers"
    before = snapshot(library)
    assert not import_file(library, path).changed
    assert snapshot(library) == before
    nodes = read_codebook(path)
    assert [n["name"] for n in nodes] == ["china", "Brokers"] and nodes[1]["children"][0]["name"] == "Fees"


def test_codebook_round_trip(library, corpus_dir, tmp_path):
    populate(library)
    export(library, "qdc", tmp_path / "c.qdc")
    with Library.open(corpus_dir, tmp_path / "other") as other:
        import_file(other, tmp_path / "c.qdc")
        ours = sorted((t[0], t[1], t[2], t[4]) for t in comparable(library)[2])
        theirs = sorted((t[0], t[1], t[2], t[4]) for t in comparable(other)[2])
        assert theirs == ours  # name, colour, description, parent (a .qdc has no memo)


# hostile archives and XML ---------------------------------------------------------------------

def _rejects(lib, path, match):
    before = snapshot(lib)
    with pytest.raises(ImportRejected, match=match):
        import_file(lib, path)
    assert snapshot(lib) == before


MINIMAL = f'<?xml version="1.0"?><Project {NS} name="p"/>'


@pytest.fixture
def busy(library):
    library.highlight_quote("suh", "refugee status", themes=["Law"])
    return library


@pytest.mark.parametrize("name", ["../evil.txt", "sources/../../evil.txt", "..\\evil.txt"])
def test_path_traversal_is_refused(busy, tmp_path, name):
    path = _qdpx(tmp_path / "t.qdpx", MINIMAL, {name: b"x"})
    _rejects(busy, path, "climbs out")
    assert not (tmp_path.parent / "evil.txt").exists()


@pytest.mark.parametrize("name", ["/etc/passwd", "C:/Windows/evil.txt", "\\\\server\\share\\x"])
def test_absolute_names_are_refused(busy, tmp_path, name):
    path = _qdpx(tmp_path / "a.qdpx", MINIMAL, {name: b"x"})
    _rejects(busy, path, "absolute")


def test_symlink_members_are_refused(busy, tmp_path):
    path = tmp_path / "l.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", MINIMAL)
        info = zipfile.ZipInfo("sources/link.txt")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    _rejects(busy, path, "symbolic link")


def test_zip_bomb_is_refused(busy, tmp_path):
    path = tmp_path / "bomb.qdpx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("project.qde", MINIMAL)
        zf.writestr("sources/zeros.txt", b"\0" * (40 * 1024 * 1024))
    assert path.stat().st_size < 1024 * 1024
    _rejects(busy, path, "zip bomb")


def test_too_many_members_is_refused(busy, tmp_path, monkeypatch):
    from nkreader.core.imports import guards

    monkeypatch.setattr(guards, "MAX_ZIP_MEMBERS", 50)
    path = _qdpx(tmp_path / "many.qdpx", MINIMAL, {f"sources/{i}.txt": b"x" for i in range(60)})
    _rejects(busy, path, "limit is 50")


def test_member_larger_than_its_header_says_is_stopped(busy, tmp_path, monkeypatch):
    from nkreader.core.imports import guards

    monkeypatch.setattr(guards, "MAX_ZIP_MEMBER", 1000)
    path = _qdpx(tmp_path / "big.qdpx", MINIMAL + " " * 5000)
    _rejects(busy, path, "unpack to")


def test_not_a_zip_and_no_project(busy, tmp_path):
    path = tmp_path / "junk.qdpx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip")
    _rejects(busy, path, "not a readable zip")
    path = tmp_path / "empty.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    _rejects(busy, path, "no project.qde")


def test_entity_bomb_is_refused(busy, tmp_path):
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
            ' <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
            ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n]>\n'
            f'<Project {NS} name="&lol3;"/>')
    _rejects(busy, _qdpx(tmp_path / "lol.qdpx", bomb), "entity bomb")
    path = tmp_path / "lol.qdc"
    path.write_text(bomb.replace("Project", "CodeBook"), encoding="utf-8")
    _rejects(busy, path, "entity bomb")


def test_external_entity_is_refused(busy, tmp_path):
    xxe = ('<?xml version="1.0"?>\n<!DOCTYPE p [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
           f'<Project {NS} name="&xxe;"/>')
    _rejects(busy, _qdpx(tmp_path / "xxe.qdpx", xxe), "DTD or entities")


def test_malformed_xml_and_bad_positions(busy, tmp_path):
    _rejects(busy, _qdpx(tmp_path / "m.qdpx", "<Project><unclosed>"), "not well-formed")
    bad = (f'<Project {NS} name="p"><Sources><TextSource guid="44444444-4444-4444-4444-444444444444" name="x">'
           '<PlainTextContent>some text here</PlainTextContent>'
           '<PlainTextSelection guid="55555555-5555-5555-5555-555555555555" startPosition="abc" endPosition="4"/>'
           '</TextSource></Sources></Project>')
    _rejects(busy, _qdpx(tmp_path / "p.qdpx", bad), "not a whole number")
    _rejects(busy, _qdpx(tmp_path / "w.qdpx", '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>'), "not a REFI-QDA project")


def test_external_source_paths_are_never_read(busy, tmp_path):
    qde = (f'<Project {NS} name="p"><Sources><TextSource guid="44444444-4444-4444-4444-444444444444" '
           'name="secret" plainTextPath="file:///etc/passwd">'
           '<PlainTextSelection guid="55555555-5555-5555-5555-555555555555" startPosition="0" endPosition="4"/>'
           '</TextSource></Sources></Project>')
    report = import_file(busy, _qdpx(tmp_path / "ext.qdpx", qde))
    assert any("outside the archive" in w for w in report.warnings)
    imported = busy.annotations(layer=None)
    assert all("root:" not in a["target"]["exact"] for a in imported)
