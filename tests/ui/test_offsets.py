"""Code points (core) ↔ UTF-16 positions (Qt): the slice the core means is the text Qt selects."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtGui import QTextCursor, QTextDocument

from nkreader.ui.offsets import OffsetMap, from_qt, insert_text, to_qt

SAMPLES = [
    "a", " ", "\n", "\r\n", "\r", "\t",
    "😀", "👩‍👩‍👧", "🇰🇷", "𝔸", "𠀋",  # astral: emoji, ZWJ sequence, flags, math, CJK ext. B
    "한", "국", "\u1100\u1161\u11a8",  # Hangul syllables and conjoining jamo
    "e\u0301", "\u0301", "\u0308\u0323",  # combining marks
    "北朝鮮", "ダッポクシャ", "“", "”", "\u2028", "\u00ad", "\ufeff",
]

texts = st.lists(
    st.one_of(
        st.sampled_from(SAMPLES),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=4),
    ),
    max_size=40,
).map("".join)

QT_BREAKS = str.maketrans({"\u2029": "\n", "\u2028": "\n", "\ufdd0": "\n", "\ufdd1": "\n"})


def qt_document(text: str) -> QTextDocument:
    doc = QTextDocument()
    insert_text(QTextCursor(doc), text)
    return doc


def as_qt_sees(s: str) -> str:
    """What QTextCursor.selectedText gives for a code-point slice: every line break one \\n."""
    return s.replace("\r\n", "\n").replace("\r", "\n").translate(QT_BREAKS)


def boundary(text: str, i: int) -> int:
    """Snap a code-point offset off the middle of a CRLF pair (a selection never splits one)."""
    if 0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n":
        return i - 1
    return i


@settings(max_examples=300, deadline=None)
@given(texts, st.data())
def test_code_point_slice_is_what_qt_selects(qapp, text, data):
    doc = qt_document(text)
    m = OffsetMap(text)
    assert m.length_qt == doc.characterCount() - 1
    a = boundary(text, data.draw(st.integers(0, len(text)), label="a"))
    b = boundary(text, data.draw(st.integers(0, len(text)), label="b"))
    a, b = min(a, b), max(a, b)
    cursor = QTextCursor(doc)
    cursor.setPosition(m.to_qt(a))
    cursor.setPosition(m.to_qt(b), QTextCursor.KeepAnchor)
    assert as_qt_sees(cursor.selectedText()) == as_qt_sees(text[a:b])
    # and back: the selection Qt reports converts to the same code-point span
    assert (m.from_qt(cursor.selectionStart()), m.from_qt(cursor.selectionEnd())) == (a, b)


@settings(max_examples=200, deadline=None)
@given(texts, st.data())
def test_every_qt_position_maps_into_the_text(text, data):
    m = OffsetMap(text)
    u = data.draw(st.integers(0, m.length_qt), label="u")
    cp = m.from_qt(u)
    assert 0 <= cp <= len(text)
    back = m.to_qt(cp)
    assert back == u or (back == u - 1 and ord(text[cp]) > 0xFFFF)  # u was inside a surrogate pair


def test_known_values():
    text = "a😀b\r\nc한e\u0301"
    # a=0 😀=1 b=2 \r=3 \n=4 c=5 한=6 e=7 ◌́=8 end=9
    assert [to_qt(text, i) for i in range(10)] == [0, 1, 3, 4, 4, 5, 6, 7, 8, 9]
    assert [from_qt(text, u) for u in range(10)] == [0, 1, 1, 2, 3, 5, 6, 7, 8, 9]
    assert to_qt(text, -5) == 0 and to_qt(text, 99) == 9
    assert OffsetMap("plain").identity


def test_leading_byte_order_marks_survive(qapp):
    for text in ("\ufeffab", "\ufffeab", "\ufeff", "\ufeff\ufeff😀"):
        doc = qt_document(text)
        assert doc.characterCount() - 1 == OffsetMap(text).length_qt
        assert doc.toPlainText() == text


def test_large_text_is_fast_enough():
    text = ("Defectors 😀 cross the border.\r\n" * 20000)
    m = OffsetMap(text)
    for cp in range(0, len(text), 997):
        assert m.from_qt(m.to_qt(cp)) in (cp, cp - 1)
