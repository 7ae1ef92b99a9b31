"""decode_text: every encoding a seminar file comes in, decoded right or with a clear warning."""

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nkreader.core.decoding import decode_text, describe_encoding

KOREAN = "북한이탈주민의 정착 지원은 통일부의 중요한 과제이다. 하나원은 탈북자에게 교육을 제공한다."
JAPANESE = "北朝鮮問題における市民社会の役割と課題 : 脱北者問題への多角的な取り組みを事例に"
KATAKANA = "キタチョウセン モンダイ ニ オケル シミン シャカイ ノ ヤクワリ ト カダイ"
CURLY = "Crisis International, \u201crefugees from the North almost all fail to integrate.\u201d It couldn\u2019t \u2013 the North\u2019s \u2018ordinary\u2019 people."
LATIN1 = "Café société, naïve façade: déjà vu in Zürich, Ångström, señor."
MIXED = "Defectors (탈북자, 脱北者) \u201cordinary\u201d lives \u2014 emoji 🙂 and combining e\u0301."


# --- byte-order marks -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bom, codec, expected",
    [
        (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    ],
)
def test_bom_is_honoured_and_stripped(bom, codec, expected):
    result = decode_text(bom + MIXED.encode(codec))
    assert result.text == MIXED
    assert result.encoding == expected
    assert result.warnings == []


def test_utf32_le_bom_is_not_mistaken_for_utf16():
    data = codecs.BOM_UTF32_LE + "ab".encode("utf-32-le")
    assert decode_text(data).text == "ab"


# --- UTF-16 / UTF-32 without BOM -------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_wide_encodings_without_bom(codec):
    sample = "North Korean defectors \u2013 탈북자 \u2013 reach Seoul.\n" * 3
    result = decode_text(sample.encode(codec))
    assert result.text == sample
    assert result.encoding == codec


# --- UTF-8 ----------------------------------------------------------------------------------------


def test_plain_utf8_no_warning():
    result = decode_text(MIXED.encode("utf-8"))
    assert (result.text, result.encoding, result.warnings) == (MIXED, "utf-8", [])


def test_empty_bytes():
    result = decode_text(b"")
    assert result.text == "" and result.warnings == []


def test_invalid_bytes_in_utf8_are_marked_and_reported():
    data = CURLY.encode("utf-8") + b" \xff\xfe broken " + KOREAN.encode("utf-8")
    result = decode_text(data)
    assert result.encoding == "utf-8"
    assert CURLY in result.text and KOREAN in result.text  # good characters are not re-read as cp1252
    assert "\ufffd" in result.text
    assert result.warnings == ["contained 2 bytes that are not valid UTF-8; shown as \ufffd"]


def test_single_invalid_byte_message_is_singular():
    result = decode_text("naïve “x” ".encode() + b"\x80")
    assert result.warnings == ["contained 1 byte that is not valid UTF-8; shown as \ufffd"]


def test_invalid_sequence_after_bom_is_reported():
    result = decode_text(codecs.BOM_UTF8 + b"abc \xff def")
    assert result.encoding == "utf-8-sig"
    assert "\ufffd" in result.text and result.warnings


# --- legacy encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sample, codec, expected",
    [
        (KOREAN, "cp949", "euc-kr"),
        ("탈북자", "cp949", "euc-kr"),
        ("북한", "euc_kr", "euc-kr"),
        ("똠방각하 펲시콜라", "cp949", "cp949"),  # syllables only in the CP949 extension
        (JAPANESE, "shift_jis", "shift_jis"),
        (KATAKANA, "shift_jis", "shift_jis"),
        ("北朝鮮", "shift_jis", "shift_jis"),
        ("脱北者問題", "shift_jis", "shift_jis"),
        ("①髙橋さん", "cp932", "cp932"),  # NEC/IBM extensions: Windows-31J
        (JAPANESE, "euc_jp", "euc-jp"),
        (CURLY, "cp1252", "cp1252"),
        ("\u2019", "cp1252", "cp1252"),
        (LATIN1, "latin-1", "latin-1"),
        ("é", "latin-1", "latin-1"),
    ],
)
def test_legacy_encodings_round_trip(sample, codec, expected):
    result = decode_text(sample.encode(codec))
    assert result.text == sample
    assert result.encoding == expected
    # never silent: the user is told the file was not UTF-8 and how it was read
    assert result.warnings == [f"is not UTF-8; read as {describe_encoding(expected)}"]


def test_korean_with_english_and_newlines_in_cp949():
    sample = "Interview\r\n\r\n북한 이탈주민 3만 명 시대, 정착 지원의 과제\r\nSeoul, 2023\r\n"
    result = decode_text(sample.encode("cp949"))
    assert result.text == sample.replace("\r\n", "\n")


def test_seed_japanese_titles_in_shift_jis(corpus_dir):
    seed = next(p for p in corpus_dir.glob("*.txt") if "Other Title" in p.read_text(encoding="utf-8"))
    text = seed.read_text(encoding="utf-8").replace("\u2022", "*")  # the bullet has no Shift_JIS code
    result = decode_text(text.encode("shift_jis"))
    assert result.text == text
    assert result.encoding == "shift_jis"


def test_seed_curly_quotes_in_cp1252(corpus_dir):
    seed = next(p for p in corpus_dir.glob("*.txt") if "\u201cbeastly\u201d" in p.read_text(encoding="utf-8"))
    text = seed.read_text(encoding="utf-8")
    result = decode_text(text.encode("cp1252"))
    assert result.text == text
    assert result.encoding == "cp1252"


def test_cp1252_c1_range_that_latin1_would_garble():
    # 0x93/0x94 are curly quotes in cp1252 and invisible controls in Latin-1.
    result = decode_text(b"\x93ordinary\x94 North Koreans")
    assert result.text == "\u201cordinary\u201d North Koreans"


def test_undefined_cp1252_bytes_fall_back_to_latin1_with_warning():
    result = decode_text("Zürich ".encode("latin-1") + b"\x81")
    assert result.text.startswith("Zürich")
    assert result.warnings  # never silent


# --- newlines and NULs -----------------------------------------------------------------------------


def test_crlf_and_cr_become_lf():
    assert decode_text(b"a\r\nb\rc\n").text == "a\nb\nc\n"


def test_crlf_in_utf16():
    assert decode_text("a\r\nb".encode("utf-16")).text == "a\nb"


def test_nul_characters_removed_with_warning():
    result = decode_text(b"North\x00 Korea\x00")
    assert result.text == "North Korea"
    assert result.warnings == ["contained 2 NUL characters; removed"]


# --- properties ------------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))))
def test_utf8_always_round_trips(text):
    # (text full of NULs is UTF-16 in disguise and is covered by the tests above)
    result = decode_text(text.encode("utf-8"))
    expected = text.replace("\r\n", "\n").replace("\r", "\n")
    if expected.startswith("\ufeff"):
        expected = expected[1:]
    assert result.text == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_never_silently_garbled(data):
    result = decode_text(data)
    assert isinstance(result.text, str)
    valid_utf8 = True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        valid_utf8 = False
    has_bom = data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if not valid_utf8 and not has_bom and not result.encoding.startswith(("utf-16", "utf-32")):
        assert result.warnings, (data, result)
