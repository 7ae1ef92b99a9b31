"""Anchors find their text again after the document changes, or say they are orphans."""

from hypothesis import given, strategies as st

from nkreader.core.anchors import TextAnchor, anchor_span, find_quote, resolve

TEXT = (
    "North Korean defectors in China are basically under the jurisdiction of the Chinese "
    "government. China cannot afford to deal with the issue unilaterally. Sending the "
    "defectors to a third country seems to have been the only viable option for China."
)


def _span(text, quote):
    s = text.index(quote)
    return s, s + len(quote)


def test_anchor_records_quote_context_and_position():
    s, e = _span(TEXT, "the only viable option")
    a = anchor_span(TEXT, s, e, page=3)
    assert a.exact == "the only viable option"
    assert TEXT.endswith(a.suffix) or a.suffix in TEXT
    assert a.prefix == TEXT[s - len(a.prefix) : s]
    assert (a.start, a.end, a.page) == (s, e, 3)


def test_selectors_round_trip():
    s, e = _span(TEXT, "third country")
    a = anchor_span(TEXT, s, e, page=12)
    sels = a.selectors()
    assert {x["type"] for x in sels} == {"TextQuoteSelector", "TextPositionSelector", "FragmentSelector"}
    assert TextAnchor.from_selectors(sels) == a
    assert TextAnchor.from_dict(a.to_dict()) == a


def test_unchanged_text_resolves_exactly():
    s, e = _span(TEXT, "unilaterally")
    assert resolve(anchor_span(TEXT, s, e), TEXT).status == "exact"


def test_inserted_text_moves_the_anchor():
    s, e = _span(TEXT, "the only viable option")
    a = anchor_span(TEXT, s, e)
    edited = "A new opening sentence was added by the editor. " + TEXT
    r = resolve(a, edited)
    assert r.status == "moved"
    assert edited[r.start : r.end] == "the only viable option"


def test_repeated_quote_is_disambiguated_by_context():
    quote = "China"
    starts = [i for i in range(len(TEXT)) if TEXT.startswith(quote, i)]
    s = starts[-1]
    a = anchor_span(TEXT, s, s + len(quote))
    edited = "China. " + TEXT
    r = resolve(a, edited)
    assert r.start == s + len("China. ")


def test_changed_whitespace_and_quote_marks_normalise():
    text = "He said \u201cthe issue is basically of a humanitarian nature\u201d in 2002."
    a = anchor_span(text, text.index("\u201c"), text.index("\u201d") + 1)
    edited = 'He said "the issue is  basically\nof a humanitarian nature" in 2002.'
    r = resolve(a, edited)
    assert r.status == "normalised"
    assert edited[r.start : r.end].startswith('"the issue')
    assert edited[r.start : r.end].endswith('nature"')


def test_re_ocr_typos_re_anchor_fuzzily():
    s, e = _span(TEXT, "China cannot afford to deal with the issue unilaterally.")
    a = anchor_span(TEXT, s, e)
    ocr = TEXT.replace("afford", "aff0rd").replace("unilaterally", "unilateraly")
    r = resolve(a, ocr)
    assert r.status == "fuzzy"
    assert "aff0rd to deal" in ocr[r.start : r.end]


def test_removed_passage_is_an_orphan():
    s, e = _span(TEXT, "Sending the defectors to a third country")
    a = anchor_span(TEXT, s, e)
    r = resolve(a, "An entirely different text about the weather in Seoul and nothing else at all.")
    assert r.status == "orphan" and not r.found


def test_find_quote_ignores_line_breaks_and_curly_quotes():
    text = "the \u2018Underground\nRailroad\u2019 used to spirit"
    s, e = find_quote(text, "the 'Underground Railroad' used")
    assert text[s:e] == "the \u2018Underground\nRailroad\u2019 used"
    assert find_quote(text, "not there") is None
    assert find_quote(text, "   ") is None


@given(st.text(min_size=1, max_size=200), st.data())
def test_any_span_resolves_to_itself(text, data):
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    r = resolve(anchor_span(text, start, end), text)
    assert (r.status, r.start, r.end) == ("exact", start, end)


def test_fuzzy_match_never_cuts_a_word():
    text = "Brokers and human trafficking shape every crossing of the border into China today."
    a = anchor_span(text, text.index("Brokers"), text.index(" into"))
    edited = "Intro. " + text.replace("trafficking", "traffiking").replace("crossing", "crosing")
    r = resolve(a, edited)
    assert r.status == "fuzzy"
    got = edited[r.start : r.end]
    assert got.startswith("Brokers") and got.split()[-1] in {"border", "the", "of"}
