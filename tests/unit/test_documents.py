"""open_document for text and Markdown: one normalised text, real paragraphs, exact spans, clear errors."""

import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nkreader.core.documents import (
    document_from_text,
    is_furniture,
    is_page_marker,
    open_document,
    rebuild_paragraphs,
)
from nkreader.core.model import DocumentError, DocumentMetadata

LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def assert_well_formed(doc):
    """The invariants every Document keeps, whatever its source."""
    text = doc.text
    assert unicodedata.is_normalized("NFC", text)
    assert "\r" not in text and "\f" not in text
    assert [p.number for p in doc.paragraphs] == list(range(1, len(doc.paragraphs) + 1))
    assert text == "\n\n".join(doc.paragraph_text(p) for p in doc.paragraphs)
    prev_end = -1
    for p in doc.paragraphs:
        chunk = text[p.start : p.end]
        assert chunk, p
        assert chunk == chunk.strip(), p
        assert not any(c in chunk for c in LINE_BREAKS), p
        assert p.start > prev_end
        prev_end = p.end


def paras(doc):
    return [doc.paragraph_text(p) for p in doc.paragraphs]


def write(tmp_path, name, content, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(content.encode(encoding) if isinstance(content, str) else content)
    return path


# --- basics ---------------------------------------------------------------------------------------


def test_text_file_paragraphs_and_spans(tmp_path):
    path = write(tmp_path, "a.txt", "Title\n\nFirst paragraph.\n\n\n\nSecond  paragraph\twith spaces.\n")
    doc = open_document(path)
    assert paras(doc) == ["Title", "First paragraph.", "Second paragraph with spaces."]
    assert doc.text == "Title\n\nFirst paragraph.\n\nSecond paragraph with spaces."
    assert [(p.start, p.end) for p in doc.paragraphs] == [(0, 5), (7, 23), (25, 54)]
    assert doc.kind == "text" and doc.encoding == "utf-8" and doc.pages == []
    assert doc.paragraphs[0].page is None
    assert_well_formed(doc)


def test_doc_id_and_metadata_are_used(tmp_path):
    meta = DocumentMetadata(title="T", authors=("A. Author",), year=2020)
    doc = open_document(write(tmp_path, "My File.txt", "Text."), doc_id="x1", metadata=meta)
    assert doc.id == "x1" and doc.metadata is meta
    assert open_document(tmp_path / "My File.txt").id == "my-file"


def test_nfc_and_newlines(tmp_path):
    doc = open_document(write(tmp_path, "n.txt", b"Cafe\xcc\x81 one.\r\n\r\nTwo.\rThree."))
    assert doc.text == "Café one.\n\nTwo.\n\nThree."
    assert_well_formed(doc)


def test_unicode_line_separators_never_stay_inside_a_paragraph():
    doc = document_from_text("One\u2028two.\u2029Three\x0bfour\x85five.\x1cSix.")
    assert_well_formed(doc)
    assert "One two." in paras(doc)


def test_control_characters_are_removed_with_warning():
    doc = document_from_text("Bad\x07 bell\x1b.", name="x.txt")
    assert doc.text == "Bad bell."
    assert doc.warnings == ["x.txt contained 2 control characters; removed"]


def test_empty_text_has_no_paragraphs_and_a_warning():
    doc = document_from_text("\n \n\t\n", name="blank.txt")
    assert doc.text == "" and doc.paragraphs == []
    assert doc.warnings == ["blank.txt has no text to read"]


def test_curly_quotes_and_cjk_are_kept_as_they_are():
    sample = "\u201cOrdinary\u201d North Koreans \u2013 脱北者 \u2018defectors\u2019, 탈북자."
    assert paras(document_from_text(sample)) == [sample]


# --- <br> tags --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["<br>", "<BR>", "<br/>", "<br />", "<Br  />", "< br >"])
def test_br_tags_become_paragraph_breaks(tag):
    doc = document_from_text(f"One sentence.{tag}Another sentence.{tag}{tag}A third.")
    assert paras(doc) == ["One sentence.", "Another sentence.", "A third."]
    assert "<" not in doc.text


# --- hard wrapping ------------------------------------------------------------------------------------

WRAPPED = (
    "Since 2000, the number of North Koreans in the south has steadily increased. These \n"
    "individuals are living in a society that systemically disenfranchises them socially, \n"
    "economically and politically. Their numbers have grown, yet full integration remains \n"
    "merely aspirational.  \n"
    " \n"
    "What other factors, whether life in the North, or en route out, hinder adjustment to the \n"
    "South?  \n"
    "\n"
    "Many factors contribute incidences of stress long before they arrive in the South. There \n"
    "is the arrival in South Korea, a veritable parallel universe where everyone kind of looks \n"
    "Other. According to the North Koreans I met in Seoul, South Koreans were different.\n"
)


def test_hard_wrapped_lines_are_joined():
    result = paras(document_from_text(WRAPPED))
    assert len(result) == 3
    assert result[0].startswith("Since 2000") and result[0].endswith("merely aspirational.")
    assert "These individuals" in result[0] and "socially, economically" in result[0]
    assert result[1] == "What other factors, whether life in the North, or en route out, hinder adjustment to the South?"
    assert "looks Other. According" in result[2]


def test_one_long_line_per_paragraph_is_not_joined():
    long1 = "The government of China swiftly resolved the recent incident where a group of asylum seekers rushed into the grounds of an embassy. " * 2
    long2 = "Among other things, this issue is basically of a humanitarian nature in the sense that these defectors are entitled to protection. " * 2
    assert len(paras(document_from_text(long1.strip() + "\n" + long2.strip()))) == 2


def test_short_lines_stay_separate():
    doc = document_from_text("Markus Bell\nGeoffrey Fattig\nCanberra, 2014")
    assert paras(doc) == ["Markus Bell", "Geoffrey Fattig", "Canberra, 2014"]


def test_short_last_line_ending_a_sentence_starts_a_new_paragraph_in_wrapped_text():
    text = (
        "This is a long line of hard-wrapped prose that goes on and on until the margin\n"
        "and then ends here.\n"
        "A new paragraph starts without a blank line and it is long enough to wrap again\n"
        "before it finishes.\n"
    )
    assert len(paras(document_from_text(text))) == 2


def test_lowercase_continuation_is_joined_even_in_short_lines():
    assert paras(document_from_text("a very short\nwrap of text.")) == ["a very short wrap of text."]


def test_a_salutation_keeps_its_own_paragraph():
    text = "Dear colleagues,\n\nplease find the reading list below.\n\nThe first article is short,\nand the second one long."
    assert paras(document_from_text(text)) == [
        "Dear colleagues,",
        "please find the reading list below.",
        "The first article is short, and the second one long.",
    ]


def test_hyphenated_line_ends_are_joined():
    doc = document_from_text("The role of civil soci-\nety in North Korea and the North-\nKorean border.")
    assert paras(doc) == ["The role of civil society in North Korea and the North-Korean border."]


def test_cjk_lines_join_without_space():
    doc = document_from_text("北朝鮮問題における市民社会の\nの役割と課題")
    assert paras(doc) == ["北朝鮮問題における市民社会のの役割と課題"]


# --- page breaks and markers ----------------------------------------------------------------------------


def test_page_marker_between_parts_of_a_paragraph():
    text = "It is the big issues that dominate the headlines and the exchange\n\n= MR 45\n\nbetween the powers of the region."
    doc = document_from_text(text)
    assert paras(doc) == ["It is the big issues that dominate the headlines and the exchange between the powers of the region."]
    assert doc.removed == ["= MR 45"]


@pytest.mark.parametrize("marker", ["45", "- 12 -", "Page 3", "Page 3 of 10", "p. 17", "FMR 45", "xiv", "3 / 10", "|| FMR 45 ||", "45 | Forced Migration Review"])
def test_page_markers_are_removed_and_the_paragraph_rejoined(marker):
    text = f"The refugees who reach the border have few options and the\n\n{marker}\n\nmost of them turn back."
    doc = document_from_text(text)
    assert paras(doc) == ["The refugees who reach the border have few options and the most of them turn back."]
    assert doc.removed == [marker]


def test_form_feed_is_a_page_break():
    text = "A paragraph that runs over the page break of a printed text file and goes\fon after it.\fNew page."
    assert paras(document_from_text(text)) == [
        "A paragraph that runs over the page break of a printed text file and goes on after it.",
        "New page.",
    ]


def test_page_number_next_to_a_form_feed_is_removed():
    text = "End of a sentence on page one.\n12\n\fStart of page two."
    doc = document_from_text(text)
    assert paras(doc) == ["End of a sentence on page one.", "Start of page two."]


def test_page_break_mid_sentence_before_a_capital_is_rejoined():
    text = "The refugees crossed into China where they were helped by the Korean Chinese living in the\n\n- 7 -\n\nYanbian region near the border."
    assert len(paras(document_from_text(text))) == 1


def test_numbers_inside_prose_are_not_markers():
    text = "The number reached\n21,000 in 2011.\n\nIn 2002 there were\n25 asylum seekers."
    result = paras(document_from_text(text))
    assert "21,000" in result[0] and "25 asylum" in result[1]


def test_paragraph_ending_without_punctuation_then_capital_is_kept_apart():
    doc = document_from_text("Original Korean article can be found at\n\nThis year marks the anniversary.")
    assert len(doc.paragraphs) == 2


@pytest.mark.parametrize("line", ["= MR 45", "Page 3 of 10", "- 12 -"])
def test_is_page_marker_strong(line):
    assert is_page_marker(line)


@pytest.mark.parametrize("line", ["45", "2012", "FMR 45 is a journal", "The 45th page", "Article 8", "9/11", "xiv"])
def test_is_page_marker_not_without_context(line):
    assert not is_page_marker(line)


@pytest.mark.parametrize("line", ["civil", "did", "mix", "• Step 3", "* Top 10", "2012", "X", "Comments"])
def test_words_that_look_like_markers_are_kept_even_alone(line):
    doc = document_from_text(f"Some text before it.\n\n{line}\n\nSome text after it.")
    assert len(doc.paragraphs) == 3 and doc.removed == []


# --- web furniture ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Back to top",
        "Report a problem",
        "top of page",
        "bottom of page",
        "Search this article",
        "[Updated on Apr. 18] Integration of CiNii Articles into CiNii Research",
        "Featured Posts",
        "Recent Posts",
        "Search By Tags",
        "Follow Us",
        "Facebook Basic Square",
        "  • Twitter",
        "↑ Back to top",
        "Share this article",
        "Skip to main content",
        "© 2014 Forced Migration Review",
    ],
)
def test_furniture_lines(line):
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        "Bibliographic Information",
        "International Relations 2012 (169), 169_30-44, 2012",
        "DOI 10.11375/kokusaiseiji.2012.169_30",
        "Search and rescue of refugees at sea is a duty.",
        "北朝鮮問題における市民社会の役割と課題",
        "The top of the page was torn.",
    ],
)
def test_not_furniture(line):
    assert not is_furniture(line)


def test_furniture_is_removed_and_recorded():
    text = "Back to top\n\nA real paragraph.\n\nFeatured Posts\nRecent Posts\nFollow Us\n  • Instagram\n  • Facebook Basic Square\nbottom of page"
    doc = document_from_text(text)
    assert paras(doc) == ["A real paragraph."]
    assert doc.removed == ["Back to top", "Featured Posts", "Recent Posts", "Follow Us", "Instagram", "Facebook Basic Square", "bottom of page"]


def test_bullet_run_of_site_labels_is_dropped_as_a_whole():
    text = "Abstract.\n\n  • CRID\n  • NII Article ID\n  • Some Label\n    • Other Source\n  • DOI\n\nEnd."
    doc = document_from_text(text)
    assert paras(doc) == ["Abstract.", "End."]
    assert "Some Label" in doc.removed and "Other Source" in doc.removed


def test_real_bullet_lists_are_kept():
    text = "The minimums are:\n• essential food and potable water\n• basic shelter and housing\n• appropriate clothing"
    assert paras(document_from_text(text)) == [
        "The minimums are:",
        "essential food and potable water",
        "basic shelter and housing",
        "appropriate clothing",
    ]


def test_cjk_bullets_are_kept():
    text = "Other Title\n  • 北朝鮮問題における市民社会の役割と課題\n  • キタチョウセン モンダイ"
    assert paras(document_from_text(text)) == ["Other Title", "北朝鮮問題における市民社会の役割と課題", "キタチョウセン モンダイ"]


def test_rebuild_paragraphs_helper():
    result, removed = rebuild_paragraphs("Back to top\n\nOne.<br>Two.")
    assert result == ["One.", "Two."] and removed == ["Back to top"]


# --- Markdown ---------------------------------------------------------------------------------------------

MARKDOWN = """---
title: Defectors in Seoul
author: Jane Roe; John Doe
date: 2019-05-01
---

# Defectors in *Seoul*

Resettlement is **hard**: a soft
wrapped paragraph with a [link](https://example.org) and `code`.

Setext heading
--------------

- first item
- second item
  continues here
1. numbered

> A quoted paragraph
> on two lines.

<b>not interpreted</b> and a<br>break

```
code line one
```

| Year | Arrivals |
|------|----------|
| 2011 | 2,706    |

***
Final para with snake_case_name and 2*3*4.
"""


def test_markdown_paragraphs():
    doc = document_from_text(MARKDOWN, kind="markdown", path="x.md")
    assert paras(doc) == [
        "Defectors in Seoul",
        "Resettlement is hard: a soft wrapped paragraph with a link and code.",
        "Setext heading",
        "first item",
        "second item continues here",
        "1. numbered",
        "A quoted paragraph on two lines.",
        "<b>not interpreted</b> and a",
        "break",
        "code line one",
        "Year | Arrivals",
        "2011 | 2,706",
        "Final para with snake_case_name and 2*3*4.",
    ]
    assert doc.kind == "markdown"
    assert doc.metadata.title == "Defectors in Seoul"
    assert doc.metadata.authors == ("Jane Roe", "John Doe")
    assert doc.metadata.year == 2019
    assert_well_formed(doc)


def test_markdown_file_suffix(tmp_path):
    doc = open_document(write(tmp_path, "notes.md", "## Heading ##\n\nText *here*.\n"))
    assert paras(doc) == ["Heading", "Text here."]
    assert doc.kind == "markdown"
    assert doc.metadata.title == "Heading"


# --- encodings through open_document ---------------------------------------------------------------------


def test_cp949_file(tmp_path):
    text = "탈북자 정착 지원\n\n북한이탈주민의 정착 지원은 중요한 과제이다."
    doc = open_document(write(tmp_path, "ko.txt", text, "cp949"))
    assert paras(doc) == ["탈북자 정착 지원", "북한이탈주민의 정착 지원은 중요한 과제이다."]
    assert doc.encoding == "euc-kr"
    assert doc.warnings == ["ko.txt is not UTF-8; read as Korean (EUC-KR)"]
    assert doc.metadata.language == "ko"


def test_invalid_utf8_warns_with_file_name(tmp_path):
    doc = open_document(write(tmp_path, "bad.txt", "Good “text”. ".encode() + b"\xff"))
    assert doc.warnings == ["bad.txt contained 1 byte that is not valid UTF-8; shown as \ufffd"]


def test_utf16_file(tmp_path):
    doc = open_document(write(tmp_path, "w.txt", "Hello.\r\n\r\n북한.", "utf-16"))
    assert paras(doc) == ["Hello.", "북한."] and doc.encoding == "utf-16-le"


# --- errors -----------------------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(DocumentError, match=r"nothere\.txt was not found"):
        open_document(tmp_path / "nothere.txt")


def test_folder(tmp_path):
    (tmp_path / "dir.txt").mkdir()
    with pytest.raises(DocumentError, match="is a folder"):
        open_document(tmp_path / "dir.txt")


def test_empty_file(tmp_path):
    with pytest.raises(DocumentError, match=r"^empty\.txt is empty \(0 bytes\)$"):
        open_document(write(tmp_path, "empty.txt", b""))


def test_unsupported_type(tmp_path):
    with pytest.raises(DocumentError, match=r"unsupported file type '\.docx'"):
        open_document(write(tmp_path, "paper.docx", b"PK\x03\x04..."))


def test_binary_data_in_a_text_file(tmp_path):
    with pytest.raises(DocumentError, match="not a text file"):
        open_document(write(tmp_path, "blob.txt", bytes(range(256)) * 8))


def test_zip_named_txt(tmp_path):
    with pytest.raises(DocumentError, match="zip archive"):
        open_document(write(tmp_path, "z.txt", b"PK\x03\x04" + b"\x00" * 50))


# --- the import contract -----------------------------------------------------------------------------------


def test_importing_documents_does_not_import_pymupdf():
    code = (
        "import sys, nkreader.core.documents as d;"
        "d.document_from_text('One.\\n\\nTwo.');"
        "bad = [m for m in ('pymupdf', 'fitz', 'charset_normalizer', 'PySide6') if m in sys.modules];"
        "print(bad); sys.exit(bool(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# --- properties ---------------------------------------------------------------------------------------------

_pieces = st.sampled_from(
    [
        "word", "Word.", "북한", "脱北者", "“quoted”", "e\u0301", "🙂", "<br>", "<BR/>", "\n", "\n\n", "\r\n",
        " \n", "\f", "  ", "\t", "= MR 45", "\n45\n", "• ", "- ", "Back to top", "soci-", "ety", "# ", "\u2028",
        "\u00ad", "\x00", "*", "_", "`", "[x](y)", "---", "|",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_pieces, max_size=40), st.sampled_from(["text", "markdown"]))
def test_any_text_gives_a_well_formed_document(parts, kind):
    doc = document_from_text("".join(parts), kind=kind)
    assert_well_formed(doc)


def test_korean_lines_join_with_a_space():
    doc = document_from_text("북한이탈주민의 정착 지원은 중요한 과제이다. 하나원은 탈북자에게\n교육을 제공한다.")
    assert paras(doc) == ["북한이탈주민의 정착 지원은 중요한 과제이다. 하나원은 탈북자에게 교육을 제공한다."]


def test_gutenberg_style_text():
    text = (
        "CHAPTER I.\n\nTHE CROSSING\n\n"
        "It was a cold night in March when the family reached the river. The\n"
        "water was low, and the ice had broken up a week before; the guide, a\n"
        "man from Hoeryong whom nobody trusted, said they must go at once.\n\n"
        '"Now," he said. "Go now, or not at all."\n\n'
        "                                  12\n\n"
        "The next morning they were in China.\n"
    )
    doc = document_from_text(text)
    assert paras(doc) == [
        "CHAPTER I.",
        "THE CROSSING",
        "It was a cold night in March when the family reached the river. The water was low, and the ice "
        "had broken up a week before; the guide, a man from Hoeryong whom nobody trusted, said they must go at once.",
        '"Now," he said. "Go now, or not at all."',
        "The next morning they were in China.",
    ]
    assert doc.removed == ["12"]


def test_numbered_list_items_with_wrapped_continuations():
    text = (
        "Recommendations:\n1. Create UN-mandated safe havens in the region.\n"
        "2. Regulate the informal people-moving industry that currently operates with\n"
        "   impunity throughout the region.\n3. Stop forced repatriation.\n"
    )
    assert paras(document_from_text(text)) == [
        "Recommendations:",
        "1. Create UN-mandated safe havens in the region.",
        "2. Regulate the informal people-moving industry that currently operates with impunity throughout the region.",
        "3. Stop forced repatriation.",
    ]


def test_author_fields_are_split_into_names():
    from nkreader.core.documents import split_authors

    assert split_authors("Jane Roe, John Doe") == ("Jane Roe", "John Doe")
    assert split_authors("Park, Jane") == ("Jane Park",)  # surname first, one name
    assert split_authors("Park, Jane; Kim, Min-ji") == ("Jane Park", "Min-ji Kim")
    assert split_authors("Markus Bell & Geoffrey Fattig") == ("Markus Bell", "Geoffrey Fattig")
    assert split_authors("A. Roe, B. Doe and C. Poe") == ("A. Roe", "B. Doe", "C. Poe")
    assert split_authors("") == ()
