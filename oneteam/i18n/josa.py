"""Korean particles (조사) chosen by the final sound of the word they follow.

A Hangul syllable has a final consonant (받침) when (code - 0xAC00) % 28 != 0; index 8 is ㄹ,
which takes 로 where other finals take 으로. Digits and Latin letters are read aloud to decide:
`24` ends in 사 (no final), `10` in 십 (final ㅂ), `TV` in 비 (no final); a Latin word is read
as a word (`owner` 오너, `admin` 어드민). The particle pairs and the sounds of digits, letters and
word endings live in josa.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL_INDEX = 8  # position of ㄹ among the 28 final-consonant slots
_ANY_FINAL = "*"  # stands for "some final consonant other than ㄹ"


@dataclass(frozen=True, slots=True)
class _Rules:
    pairs: dict[str, tuple[str, str]]
    """Either form of a particle → (after a final consonant, after a vowel)."""
    digit_finals: dict[str, str]
    place_finals: dict[int, str]
    letter_finals: dict[str, str]
    word_finals: tuple[tuple[str, str], ...]
    """A Latin word's endings → its final sound, longest first."""
    rieul: str
    directional: tuple[str, str]
    """The 으로/로 pair, which treats a final ㄹ like a vowel."""


@cache
def _rules() -> _Rules:
    data = yaml.safe_load((resources.files("oneteam.i18n") / "josa.yaml").read_text(encoding="utf-8"))
    pairs: dict[str, tuple[str, str]] = {}
    for consonant_form, vowel_form in data["pairs"]:
        pairs[consonant_form] = pairs[vowel_form] = (consonant_form, vowel_form)
    directional = next(pair for pair in pairs.values() if pair[1] == "로")
    return _Rules(
        pairs=pairs,
        digit_finals={str(k): str(v) for k, v in data["digit_finals"].items()},
        place_finals={int(k): str(v) for k, v in data["place_finals"].items()},
        letter_finals={str(k): str(v) for k, v in data["letter_finals"].items()},
        word_finals=tuple(
            sorted(((str(k), str(v)) for k, v in data["word_finals"].items()), key=lambda kv: -len(kv[0]))
        ),
        rieul=str(data["rieul"]),
        directional=directional,
    )


_ASCII_DIGITS = frozenset("0123456789")
_ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _final(word: str) -> str:
    """The final consonant of how `word` is read aloud ('' for none, `*` for one other than ㄹ)."""
    rules = _rules()
    if word.rstrip().endswith("%"):
        return ""  # read 퍼센트
    stripped = word.rstrip(" .,!?)]}\"'°")
    if not stripped:
        return ""
    last = stripped[-1]
    code = ord(last)
    if _HANGUL_FIRST <= code <= _HANGUL_LAST:
        index = (code - _HANGUL_FIRST) % 28
        return "" if index == 0 else rules.rieul if index == _RIEUL_INDEX else _ANY_FINAL
    if last in _ASCII_DIGITS:  # not str.isdigit(): superscripts like ³ are digits to it
        return _number_final(stripped, rules)
    if last.isalpha():
        return _latin_final(stripped, rules)
    return ""


def _latin_final(text: str, rules: _Rules) -> str:
    """A Latin word is read as a word ("owner" 오너); capitals and single letters are spelled
    ("TV" 티비, "LG" 엘지)."""
    word = text[len(text.rstrip(_ASCII_LETTERS)) :]
    if len(word) >= 2 and not word.isupper():
        lower = word.lower()
        return next((final for end, final in rules.word_finals if lower.endswith(end)), "")
    return rules.letter_finals.get(text[-1].lower(), "")


def _number_final(text: str, rules: _Rules) -> str:
    digits = text[len(text.rstrip("0123456789")) :]
    if digits[-1] != "0":
        return rules.digit_finals[digits[-1]]
    if not digits.strip("0"):
        return rules.digit_finals["0"]
    zeros = len(digits) - len(digits.rstrip("0"))
    return rules.place_finals[min(zeros, max(rules.place_finals))]


def has_final_consonant(word: str) -> bool:
    """Whether `word`, read aloud, ends in a consonant (받침)."""
    return _final(word) != ""


def attach(word: str, particle: str) -> str:
    """`word` with the form of `particle` that fits it: attach('에어컨', '를') → '에어컨을'."""
    rules = _rules()
    final = _final(word)
    pair = rules.pairs.get(particle)
    if pair is None:
        return word + particle
    if pair == rules.directional:
        return word + (pair[0] if final not in ("", rules.rieul) else pair[1])
    return word + (pair[0] if final else pair[1])
