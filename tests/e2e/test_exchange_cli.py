"""``nkreader export`` and ``nkreader import`` as a script uses them: real processes, real files."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

FORMATS = {"md": "notes.md", "html": "notes.html", "pdf": "handout.pdf", "w3c": "notes.jsonld",
           "qdpx": "project.qdpx", "qdc": "codes.qdc", "csv": "highlights.csv"}


def nk(data_dir, *args):
    env = dict(os.environ, NKREADER_DATA=str(data_dir))
    return subprocess.run([sys.executable, "-m", "nkreader", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.fixture
def annotated(tmp_path):
    data = tmp_path / "mine"
    for doc, quote, theme, note in (("suh-2002", "refugee status", "Refugee status", "# not a heading"),
                                    ("bell-fattig", "forcibly repatriate", "Refugee status", "=HYPERLINK(\"x\")"),
                                    ("kwon-2023", "human security", "Human security", "<script>x</script>")):
        r = nk(data, "highlight", doc, "--quote", quote, "--theme", theme, "--note", note)
        assert r.returncode == 0, r.stderr
    return data


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_every_format_exports(annotated, tmp_path, fmt):
    out = tmp_path / FORMATS[fmt]
    r = nk(annotated, "export", "--format", fmt, "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["format"] == fmt and summary["path"] == str(out)
    assert out.stat().st_size > 0
    if fmt == "qdpx":
        assert "project.qde" in zipfile.ZipFile(out).namelist()


def test_by_theme_with_filters(annotated, tmp_path):
    out = tmp_path / "brief.md"
    r = nk(annotated, "export", "--format", "md", "--out", str(out), "--by", "theme", "--theme", "refugee status")
    assert r.returncode == 0, r.stderr
    assert "by theme" in r.stdout and "2 passages" in r.stdout
    text = out.read_text(encoding="utf-8")
    assert "## Refugee status" in text and "Human security" not in text
    r = nk(annotated, "export", "--format", "html", "--out", str(tmp_path / "s.html"), "--doc", "suh")
    assert r.returncode == 0 and "1 passages" in r.stdout


def test_import_merges_a_classmate_and_is_idempotent(annotated, tmp_path):
    out = tmp_path / "mine.jsonld"
    assert nk(annotated, "export", "--format", "w3c", "--out", str(out)).returncode == 0
    classmate = tmp_path / "classmate"
    r = nk(classmate, "import", str(out), "--creator", "Sam")
    assert r.returncode == 0, r.stderr
    assert "layer(s) of Sam" in r.stdout and "Added 3 highlight(s)" in r.stdout
    r = nk(classmate, "import", str(out), "--creator", "Sam", "--json")
    report = json.loads(r.stdout)
    assert report["added"]["annotations"] == 0 and report["unchanged"] >= 3
    notes = json.loads(nk(classmate, "notes", "--all-layers", "--json").stdout)
    assert sorted(n["quote"] for n in notes) == ["forcibly repatriate", "human security", "refugee status"]
    assert {n["creator"] for n in notes} == {"Sam"}
    assert json.loads(nk(classmate, "notes", "--json").stdout) == []  # their layer, not the reader's own


def test_qdpx_round_trip_through_the_cli(annotated, tmp_path):
    out = tmp_path / "p.qdpx"
    assert nk(annotated, "export", "--format", "qdpx", "--out", str(out)).returncode == 0
    other = tmp_path / "other"
    r = nk(other, "import", str(out), "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["added"] == {"annotations": 3, "links": 0, "themes": 2, "layers": 1}
    dry = json.loads(nk(other, "import", str(out), "--dry-run", "--json").stdout)
    assert dry["dry_run"] is True and dry["added"]["annotations"] == 0


def test_hostile_imports_fail_clearly_and_change_nothing(annotated, tmp_path):
    before = nk(annotated, "notes", "--all-layers", "--json").stdout
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    bomb = tmp_path / "evil.qdpx"
    with zipfile.ZipFile(bomb, "w") as zf:
        zf.writestr("project.qde", '<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>')
        zf.writestr("../../escape.txt", "x")
    for path, message in ((deep, "nested too deeply"), (bomb, "climbs out"), (tmp_path / "nope.jsonld", "No such file")):
        r = nk(annotated, "import", str(path))
        assert r.returncode == 2, (path, r.stdout, r.stderr)
        assert message in r.stderr and "Traceback" not in r.stderr
    assert nk(annotated, "notes", "--all-layers", "--json").stdout == before


def test_bad_export_arguments_fail_clearly(annotated, tmp_path):
    r = nk(annotated, "export", "--format", "md", "--out", str(tmp_path / "x.md"), "--theme", "no such theme")
    assert r.returncode == 2 and "No theme named" in r.stderr and "Traceback" not in r.stderr
    r = nk(annotated, "export", "--format", "docx", "--out", str(tmp_path / "x.docx"))
    assert r.returncode == 2 and "invalid choice" in r.stderr
    r = nk(annotated, "export", "--format", "md", "--out", str(tmp_path))
    assert r.returncode == 2 and "is a folder" in r.stderr
