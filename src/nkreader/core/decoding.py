"""Turning the bytes of a text file into one ``str``, correctly or with a clear warning.

Order of decisions (first that holds wins):

1. a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
2. UTF-32 / UTF-16 without a BOM, recognised by the pattern of NUL bytes;
3. strict UTF-8;
4. UTF-8 with a few broken bytes (most non-ASCII bytes form valid UTF-8 sequences):
   decoded with U+FFFD and a warning, never re-read as a legacy code page (that would
   turn every good character into mojibake);
5. legacy encodings, scored by how plausible the decoded text is (Korean CP949/EUC-KR,
   Japanese Shift_JIS/EUC-JP, Chinese GB18030/Big5, Western cp1252/Latin-1), with
   charset-normalizer consulted for everything else (Cyrillic, Greek, ...);
6. UTF-8 with U+FFFD for what is left, and a warning.

Whatever the path, newlines become ``\\n`` and NUL characters are removed (with a warning).
``charset_normalizer`` is imported only when step 5 needs it.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = ["DecodedText", "decode_text", "describe_encoding"]


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str  # a Python codec name: "utf-8", "utf-8-sig", "utf-16-le", "cp949", ...
    warnings: list[str] = field(default_factory=list)


_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16-le": "UTF-16 LE",
    "utf-16-be": "UTF-16 BE",
    "utf-32-le": "UTF-32 LE",
    "utf-32-be": "UTF-32 BE",
    "cp949": "Korean (CP949)",
    "euc-kr": "Korean (EUC-KR)",
    "shift_jis": "Japanese (Shift_JIS)",
    "cp932": "Japanese (Windows-31J)",
    "euc-jp": "Japanese (EUC-JP)",
    "gb18030": "Chinese (GB18030)",
    "big5": "Chinese (Big5)",
    "cp1252": "Western (Windows-1252)",
    "latin-1": "Western (ISO-8859-1)",
    "cp1250": "Central European (Windows-1250)",
    "cp1251": "Cyrillic (Windows-1251)",
    "cp1253": "Greek (Windows-1253)",
    "cp1254": "Turkish (Windows-1254)",
}


def describe_encoding(encoding: str) -> str:
    """A name for people: ``cp949`` → ``Korean (CP949)``."""
    return _NAMES.get(encoding, encoding)


def decode_text(data: bytes) -> DecodedText:
    """Decode ``data``; newlines normalised to ``\\n``; NULs removed (with a warning)."""
    text, encoding, warnings = _decode(bytes(data))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    nuls = text.count("\x00")
    if nuls:
        text = text.replace("\x00", "")
        warnings.append(f"contained {nuls} NUL character{'s' if nuls != 1 else ''}; removed")
    return DecodedText(text, encoding, warnings)


# ---------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str, list[str]]:
    if not data:
        return "", "utf-8", []
    for bom, enc in _BOMS:
        if data.startswith(bom):
            body = data[len(bom) :]
            codec = "utf-8" if enc == "utf-8-sig" else enc
            return _decode_unicode(body, codec, enc)

    wide = _sniff_wide(data)
    if wide:
        try:
            return data.decode(wide), wide, []
        except UnicodeDecodeError:
            pass

    try:
        return data.decode("utf-8"), "utf-8", []
    except UnicodeDecodeError:
        pass

    broken = _broken_utf8(data)
    if broken is not None:
        return broken

    guess = _guess_legacy(data)
    if guess is not None:
        return guess

    text = data.decode("utf-8", errors="replace")
    bad = _count_invalid_utf8(data)
    return text, "utf-8", [_invalid_warning(bad)]


def _decode_unicode(body: bytes, codec: str, label: str) -> tuple[str, str, list[str]]:
    try:
        return body.decode(codec), label, []
    except UnicodeDecodeError:
        text = body.decode(codec, errors="replace")
        n = text.count("\ufffd") - body.decode(codec, errors="ignore").count("\ufffd")
        return (
            text,
            label,
            [
                f"contained {n} invalid {describe_encoding(label)} sequence{'s' if n != 1 else ''}; "
                "shown as \ufffd"
            ],
        )


def _invalid_warning(n: int) -> str:
    return f"contained {n} byte{'s' if n != 1 else ''} that {'are' if n != 1 else 'is'} not valid UTF-8; shown as \ufffd"


def _sniff_wide(data: bytes) -> str | None:
    """UTF-32 or UTF-16 without a BOM, recognised by where the NUL bytes fall."""
    n = len(data)
    if n < 8 or 0 not in data[:4096]:
        return None
    sample = data[:4096]
    if n % 4 == 0 and len(sample) >= 8:
        quads = [sample[i : i + 4] for i in range(0, len(sample) - 3, 4)]
        le = sum(1 for q in quads if q[2] == 0 and q[3] == 0 and (q[0] or q[1]))
        be = sum(1 for q in quads if q[0] == 0 and q[1] == 0 and (q[2] or q[3]))
        if le >= 0.9 * len(quads):
            return "utf-32-le"
        if be >= 0.9 * len(quads):
            return "utf-32-be"
    if n % 2:
        return None
    even = sample[0::2]
    odd = sample[1::2]
    z_even = even.count(0) / len(even)
    z_odd = odd.count(0) / len(odd)
    # Text mostly in ASCII/Latin: one byte of each pair is NUL. Text in CJK has few NULs,
    # so it is left to strict UTF-8 / detection.
    if z_odd >= 0.3 and z_even <= 0.05:
        return "utf-16-le"
    if z_even >= 0.3 and z_odd <= 0.05:
        return "utf-16-be"
    return None


_UTF8_SEQ = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]"
    rb"|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _count_invalid_utf8(data: bytes) -> int:
    """Bytes that are not part of a valid UTF-8 sequence (each becomes one lone surrogate)."""
    escaped = data.decode("utf-8", errors="surrogateescape")
    return sum(1 for ch in escaped if "\udc80" <= ch <= "\udcff")


def _broken_utf8(data: bytes) -> tuple[str, str, list[str]] | None:
    """UTF-8 with a few bad bytes: keep UTF-8, mark the bad bytes, say so."""
    valid = len(_UTF8_SEQ.findall(data))
    if valid < 2:
        return None
    bad = _count_invalid_utf8(data)
    if valid < 2 * bad:
        return None
    text = data.decode("utf-8", errors="replace")
    return text, "utf-8", [_invalid_warning(bad)]


# --- legacy encodings ------------------------------------------------------------------------

# Candidate codecs, in order of preference when scores tie.
_CANDIDATES = ("cp949", "cp932", "euc_jp", "gb18030", "big5", "cp1252", "latin-1")
_FAMILY = {
    "cp949": "ko",
    "cp932": "ja",
    "euc_jp": "ja",
    "gb18030": "zh",
    "big5": "zh",
    "cp1252": "latin",
    "latin-1": "latin",
}
_ACCEPT = 0.55  # mean plausibility per non-ASCII character needed to accept a guess


# Frequent Hangul syllables of modern Korean prose. Bytes in another encoding read as CP949 give
# syllables that are valid but rare (뻢, 뮝, 멞 ...), which is how Shift_JIS is told from CP949.
_COMMON_HANGUL = frozenset(
    "이다의는에을하고가한기지로서사를대정도인자리아수일어국시구적나여부들과상해제주전보장위원게으있문동연성그우라면만경소관화"
    "공중방조생것민세미비년내개업신선회오유교마거실계무학식용분발물간치행야결요각된단모말안저남북통탈착운영당날속후때체력명본"
    "외산현강금목청표차권양진노두심감입출반변특활건설될됩했합니까습였던며겠음임함럼렇런떤떻또더터토포프피필평편품풍효히흥희허"
    "혁협형호홍환황획훈휴흐흔흘배백범법벌별병복봉불빈빛삼새색석섬섭센셨손송숙순술쉬스승십싸쓰씨악알암압앞애액약억언얼엄없엇었"
    "엔역열염엽예옥온올옮와완왔왜욕울움웃워월웨윤율은응익잉잎작잔잘잠잡재쟁절점접족존졸종좋좌죄죽준줄즉즐증직질짐집짓징짜짝째"
    "쪽찌찬참창찾채책처천철첫초촌총최추축춘충취측친칠침칭카커컴케코콘크큰클키타탁탄탐탑태택텔톤투트틀티파판팔패퍼페폐폭푸플할"
    "항핵향헌험혀혈혜혹혼확훨휘흑흙흰힘갈갑값갔같객갤걱걸검겁겨격견겸곡곤곧골곳곽광괜괴군굴굳굶궁귀규균극근글급긍긴길김깊깨께"
    "꼬꼭꽃꾸꿈끄끈끊끌끝끼낙난납낫났낭낮냈냐너넓넘넣네넷녀녁념녕녹논놀농높놓누눈뉴느늘능늦님닥닫달담답닿댁덕덜덤독돈돌돼되둘"
    "둥뒤드득든듯등디따딸땅떠떨똑뚜뛰뜨뜻띠락란람랑랐래랜램략량러럽렀레렌려련렬령례록론롭뢰료루룹류륙률르른름릇린릴림립막많맑"
    "맛망맞매맥맨맹머먹먼멀메멸몇몰몸몹못몽묘묵묻뭐뭔므믿밀및밑바박밖받밝밤밥밭버번벗베벤벽볼봄붉붙브빌빠빨빵빼뻐뽑뿌뿐쁘삐살"
    "삶샘셋셔션솔쇄쇠숨숫쉽슬슴싣싫싱싶쌀쌓써썼쏘쓴씀씩씬"
)


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


def _is_kana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u30ff"


def _is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"


def _is_cjk_punct(ch: str) -> bool:
    return "\u3000" <= ch <= "\u303f" or "\uff01" <= ch <= "\uff5e" or "\u2460" <= ch <= "\u24ff"


def _encodable(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
        return True
    except UnicodeEncodeError:
        return False


_TOP: dict[str, frozenset[str]] = {}


def _top(language: str) -> frozenset[str]:
    """The most frequent characters of a language (charset-normalizer's table), if available."""
    if language not in _TOP:
        try:
            from charset_normalizer.constant import FREQUENCIES

            _TOP[language] = frozenset(FREQUENCIES.get(language, ()))
        except ImportError:  # pragma: no cover - the scores then rest on the rules alone
            _TOP[language] = frozenset()
    return _TOP[language]


def _jis_level1(ch: str) -> bool:
    """A kanji of JIS X 0208 level 1 (the common ones): Shift_JIS lead byte 0x88-0x98."""
    try:
        b = ch.encode("shift_jis")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0x88 <= b[0] <= 0x98


_WESTERN_PUNCT = set("\u2018\u2019\u201a\u201c\u201d\u201e\u2013\u2014\u2026\u2022\u20ac\u2122\u00a0\u00a9\u00ae\u00b0\u00a7\u00b7\u00ab\u00bb\u00bf\u00a1\u00a3\u00bd\u00bc\u00be\u00b1\u00d7\u00f7\u00b2\u00b3\u00b9\u00ba\u00aa\u00b5\u00a2\u00a5")


def _char_score(ch: str, family: str) -> float:
    """How plausible one non-ASCII character is as a decoding in ``family``."""
    cat = unicodedata.category(ch)
    if cat in ("Cc", "Co", "Cs", "Cn"):
        return -3.0
    if family == "ko":
        if _is_hangul(ch):
            if ch in _COMMON_HANGUL:
                return 2.0
            return 0.3 if _encodable(ch, "euc_kr") else -1.0
        if _is_han(ch):
            return 0.3
        if _is_cjk_punct(ch) or ch in _WESTERN_PUNCT:
            return 1.0
        if _is_kana(ch):
            return 0.0
        return -0.5
    if family == "ja":
        if _is_kana(ch):
            return 2.0
        if _is_han(ch):
            return (1.0 if _jis_level1(ch) else 0.5) + (0.8 if ch in _top("Japanese") else 0.0)
        if _is_cjk_punct(ch) or ch in _WESTERN_PUNCT:
            return 1.0
        if "\uff61" <= ch <= "\uff9f":  # half-width katakana: rare in real text
            return -0.5
        return -0.5
    if family == "zh":
        if _is_han(ch):
            common = _encodable(ch, "gb2312") or _encodable(ch, "big5")
            return (0.8 if common else -0.5) + (0.8 if ch in _top("Chinese") else 0.0)
        if _is_cjk_punct(ch):
            return 1.0
        if _is_hangul(ch) or _is_kana(ch):
            return -0.5
        return -0.5
    # latin
    if ch in _WESTERN_PUNCT:
        return 1.0
    if cat.startswith("L") and ("\u00c0" <= ch <= "\u024f"):
        return 1.0
    return -0.5


_SAMPLE = 20_000  # non-ASCII characters scored per candidate: enough, and fast on big files


def _plausibility(text: str, family: str) -> float:
    scores: list[float] = []
    run = 0
    for ch in text:
        if ord(ch) < 128:
            run = 0
            continue
        s = _char_score(ch, family)
        if family == "latin":
            # Western text puts accented letters inside words of ASCII letters; CJK bytes read
            # as cp1252 give long runs of accented letters and symbols.
            run += 1
            if run >= 3:
                s = min(s, -0.5)
        scores.append(s)
        if len(scores) >= _SAMPLE:
            break
    if not scores:
        return 1.0
    return sum(scores) / len(scores)


def _refine(codec: str, data: bytes) -> str:
    """The narrowest standard name that decodes the data the same way."""
    narrower = {"cp949": "euc-kr", "cp932": "shift_jis", "euc_jp": "euc-jp"}
    n = narrower.get(codec)
    if n:
        try:
            if data.decode(n) == data.decode(codec):
                return n
        except UnicodeDecodeError:
            pass
    if codec == "cp1252" and not any(0x80 <= b <= 0x9F for b in data):
        return "latin-1"
    if codec == "euc_jp":
        return "euc-jp"
    return codec


def _guess_legacy(data: bytes) -> tuple[str, str, list[str]] | None:
    best: tuple[float, int, str, str] | None = None
    for rank, codec in enumerate(_CANDIDATES):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        score = _plausibility(text, _FAMILY[codec])
        key = (score, -rank)
        if best is None or key > (best[0], best[1]):
            best = (score, -rank, codec, text)
    if best is not None and best[0] >= _ACCEPT:
        codec = _refine(best[2], data)
        return best[3], codec, [f"is not UTF-8; read as {describe_encoding(codec)}"]

    detected = _charset_normalizer(data)
    if detected is not None:
        return detected

    latin = _latin_fallback(data)
    if latin is not None:
        codec, text = latin
        return (
            text,
            codec,
            [f"is not UTF-8; read as {describe_encoding(codec)}, a guess: some characters may be wrong"],
        )
    return None


def _latin_fallback(data: bytes) -> tuple[str, str] | None:
    """cp1252, else Latin-1, when the text reads as Western apart from a few stray controls."""
    for codec in ("cp1252", "latin-1"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        visible = "".join(c for c in text if unicodedata.category(c) != "Cc")
        if _plausibility(visible, "latin") > 0:
            return _refine(codec, data), text
    return None


_WORD = re.compile(r"\w+")


def _mixed_scripts(text: str) -> bool:
    """A word mixing Latin with Cyrillic or Greek letters ("Zьrich"): a wrong code page."""
    for word in _WORD.findall(text[:20000]):
        if word.isascii():
            continue
        latin = any(c.isascii() and c.isalpha() or "\u00c0" <= c <= "\u024f" for c in word)
        other = any("\u0370" <= c <= "\u04ff" for c in word)
        if latin and other:
            return True
    return False


def _charset_normalizer(data: bytes) -> tuple[str, str, list[str]] | None:
    try:
        import charset_normalizer
    except ImportError:  # optional: without it, only the candidates above are tried
        return None
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        return None
    least = min(m.chaos for m in matches)
    tied = [m for m in matches if m.chaos <= least + 0.01]
    # Among equally clean readings prefer the Windows code pages: far more common in files.
    result = next((m for m in tied if m.encoding.startswith("cp125")), tied[0])
    codec = codecs.lookup(result.encoding).name
    if codec.startswith("utf"):
        return None
    try:
        text = data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None
    if result.chaos > 0.2:
        return None
    if any(unicodedata.category(c) in ("Cc", "Co") for c in text if c not in "\n\r\t\f\x00"):
        return None
    if _mixed_scripts(text):
        return None
    return text, codec, [f"is not UTF-8; read as {describe_encoding(codec)} (detected), a guess: some characters may be wrong"]
