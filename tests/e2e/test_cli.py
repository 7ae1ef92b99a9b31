"""The command line as a script uses it: real processes, the real corpus, a real store folder."""

import json
import os
import subprocess
import sys

import pytest


def nk(data_dir, *args, corpus=None):
    env = dict(os.environ, NKREADER_DATA=str(data_dir))
    cmd = [sys.executable, "-m", "nkreader", *args]
    if corpus:
        cmd += ["--corpus", str(corpus)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)


def test_list_shows_the_five_bundled_articles(data_dir):
    r = nk(data_dir, "list", "--json")
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert len(docs) == 5
    by_id = {d["id"]: d for d in docs}
    assert by_id["suh-2002"]["authors"] == ["Suh Dong-man"]
    assert by_id["bell-fattig"]["authors"] == ["Markus Bell", "Geoffrey Fattig"]
    # where the text names no author we say so instead of inventing one
    assert by_id["interview"]["authors"] == [] and "names neither" in by_id["interview"]["note"]
    assert by_id["civil-society"]["authors"] == []


def test_show_prints_numbered_paragraphs_with_spans(data_dir):
    r = nk(data_dir, "show", "bell", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    paras = doc["paragraphs"]
    assert [p["number"] for p in paras] == list(range(1, len(paras) + 1))
    assert not any("= MR 45" in p["text"] for p in paras)
    assert any("the exchange between the powers of the region" in p["text"] for p in paras)


def test_highlight_then_notes_round_trip(data_dir):
    quote = "the only viable option for China"
    r = nk(data_dir, "highlight", "suh-2002", "--quote", quote, "--note", "China's constraint",
           "--theme", "China's role", "--json")
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["quote"] == quote and made["themes"] == ["China's role"]
    r = nk(data_dir, "notes", "--json")
    assert r.returncode == 0, r.stderr
    notes = json.loads(r.stdout)
    assert len(notes) == 1
    n = notes[0]
    assert (n["id"], n["quote"], n["note"], n["themes"]) == (made["id"], quote, "China's constraint", ["China's role"])
    assert n["citation"].startswith("Suh 2002, ¶")
    show = json.loads(nk(data_dir, "show", "suh-2002", "--json").stdout)
    para = next(p for p in show["paragraphs"] if p["start"] <= n["start"] < p["end"])
    assert n["citation"] == f"Suh 2002, ¶{para['number']}"


def test_highlight_of_a_missing_quote_fails_clearly(data_dir):
    r = nk(data_dir, "highlight", "suh-2002", "--quote", "words that are nowhere in the article")
    assert r.returncode != 0
    assert "not found" in r.stderr and "Traceback" not in r.stderr
    assert json.loads(nk(data_dir, "notes", "--json").stdout) == []


def test_unknown_document_fails_clearly(data_dir):
    r = nk(data_dir, "show", "no-such-doc")
    assert r.returncode == 2 and "No document" in r.stderr and "Traceback" not in r.stderr


def test_check_lists_orphans_after_the_text_changes(data_dir, tmp_path, corpus_dir):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("First paragraph about brokers and trafficking.\n\n"
                                  "Second paragraph on China and repatriation.\n", encoding="utf-8")
    assert nk(data_dir, "highlight", "a", "--quote", "brokers and trafficking", corpus=corpus).returncode == 0
    assert nk(data_dir, "highlight", "a", "--quote", "China and repatriation", corpus=corpus).returncode == 0
    r = nk(data_dir, "check", "--json", corpus=corpus)
    assert r.returncode == 0 and json.loads(r.stdout)["orphans"] == []
    # a new edition: the first passage is gone, the second moved
    (corpus / "a.txt").write_text("A new preface.\n\nSecond paragraph on China and repatriation.\n", encoding="utf-8")
    r = nk(data_dir, "check", "--json", corpus=corpus)
    report = json.loads(r.stdout)
    assert r.returncode == 1
    assert [o["quote"] for o in report["orphans"]] == ["brokers and trafficking"]
    assert [m["quote"] for m in report["moved"]] == ["China and repatriation"]
    # the orphan is kept, never dropped
    notes = json.loads(nk(data_dir, "notes", "--json", corpus=corpus).stdout)
    assert {n["quote"]: n["status"] for n in notes} == {
        "brokers and trafficking": "orphan", "China and repatriation": "anchored"}


def test_show_of_an_encrypted_pdf_fails_clearly(data_dir, tmp_path):
    pytest.importorskip("pymupdf")
    from pdf_samples import write_locked_pdf

    corpus = tmp_path / "locked-corpus"
    corpus.mkdir()
    write_locked_pdf(corpus / "locked.pdf", "Secret seminar notes.")
    r = nk(data_dir, "show", "locked", corpus=corpus)
    assert r.returncode == 2, r.stdout
    assert r.stderr.strip() == "nkreader: locked.pdf is encrypted: a password is needed"
    assert "Traceback" not in r.stderr and "Secret" not in r.stdout


def test_add_copies_documents_into_the_library_and_names_the_refused(data_dir, tmp_path):
    essay = tmp_path / "Seminar essay.md"
    essay.write_text("# Seminar essay\n\nBrokers and the Tumen river crossing.\n", encoding="utf-8")
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04")
    r = nk(data_dir, "add", str(essay), str(tmp_path / "slides.pptx"), "--json")
    assert r.returncode == 1  # one refused
    out = json.loads(r.stdout)
    assert [a["id"] for a in out["added"]] == ["seminar-essay"]
    assert out["refused"] == [{"file": str(tmp_path / "slides.pptx"),
                               "reason": "slides.pptx is not a kind of file nkreader reads "
                                         "(.txt, .md, .markdown, .pdf, .epub)."}]
    assert "not added: slides.pptx" in r.stderr
    essay.unlink()
    r = nk(data_dir, "highlight", "seminar-essay", "--quote", "Tumen river", "--json")
    assert r.returncode == 0, r.stderr
    listed = json.loads(nk(data_dir, "list", "--json").stdout)
    assert [d["id"] for d in listed][-1] == "seminar-essay" and listed[-1]["annotations"] == 1
