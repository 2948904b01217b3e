"""Korean particles (조사) chosen by the final sound of the word they follow.

A Hangul syllable has a final consonant (받침) when (code - 0xAC00) % 28 != 0. The particle
pairs differ on that: 을/를, 이/가, 은/는, 과/와, 아/야, and 으로/로, where a final ㄹ takes 로
(`서울로`, `18도로` is read 십팔 도로). Digits and Latin letters are read aloud to decide:
`24` ends in 사 (no final), `10` in 십 (final ㅂ), `TV` in 비 (no final).
"""

from __future__ import annotations

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # index of ㄹ among final consonants

# How the last digit of a number sounds in Sino-Korean: 1 일, 2 이, 3 삼, ...; 0 is read by its
# highest non-zero place: 10 십, 100 백, 1000 천, 10000 만.
_DIGIT_FINAL = {
    "0": "ㅇ",
    "1": "ㄹ",
    "2": "",
    "3": "ㅁ",
    "4": "",
    "5": "",
    "6": "ㄱ",
    "7": "ㄹ",
    "8": "ㄹ",
    "9": "",
}
_PLACE_FINAL = {1: "ㅂ", 2: "ㄱ", 3: "", 4: "ㄴ"}  # 십, 백, 천, 만
# Latin letters as Koreans spell them aloud: only L, M, N, R end in a consonant (엘, 엠, 엔, 알).
_LETTER_FINAL = {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ"}

_PAIRS = {
    "을": ("을", "를"),
    "를": ("을", "를"),
    "이": ("이", "가"),
    "가": ("이", "가"),
    "은": ("은", "는"),
    "는": ("은", "는"),
    "과": ("과", "와"),
    "와": ("과", "와"),
    "아": ("아", "야"),
    "야": ("아", "야"),
    "이에요": ("이에요", "예요"),
    "예요": ("이에요", "예요"),
    "이랑": ("이랑", "랑"),
    "랑": ("이랑", "랑"),
}


def _final(word: str) -> str:  # noqa: PLR0911 - one early answer per kind of last character
    """The final consonant of how `word` is read aloud ('' for none), ignoring trailing marks."""
    stripped = word.rstrip(" .,!?)]}\"'%°")
    if word.rstrip().endswith("%"):
        return ""  # 퍼센트
    if not stripped:
        return ""
    last = stripped[-1]
    code = ord(last)
    if _HANGUL_FIRST <= code <= _HANGUL_LAST:
        index = (code - _HANGUL_FIRST) % 28
        return "" if index == 0 else ("ㄹ" if index == _RIEUL else "ㅇ")
    if last.isdigit():
        digits = stripped[len(stripped.rstrip("0123456789")) :]
        if last != "0":
            return _DIGIT_FINAL[last]
        zeros = len(digits) - len(digits.rstrip("0"))
        return _PLACE_FINAL.get(zeros if zeros <= 3 else 4, "ㄴ") if digits.strip("0") else "ㅇ"
    if last.isalpha():
        return _LETTER_FINAL.get(last.lower(), "")
    return ""


def has_final_consonant(word: str) -> bool:
    """Whether `word`, read aloud, ends in a consonant (받침)."""
    return _final(word) != ""


def attach(word: str, particle: str) -> str:
    """`word` with the form of `particle` that fits it: attach('에어컨', '를') → '에어컨을'."""
    final = _final(word)
    if particle in ("으로", "로"):
        return word + ("으로" if final not in ("", "ㄹ") else "로")
    pair = _PAIRS.get(particle)
    if pair is None:
        return word + particle
    return word + (pair[0] if final else pair[1])
