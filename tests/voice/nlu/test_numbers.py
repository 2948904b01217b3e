"""Korean and English numerals read from the language tables."""

from __future__ import annotations

import pytest

from oneteam.model import Home
from oneteam.voice.nlu.lexicon_build import build_lexicon
from oneteam.voice.nlu.numbers import NumeralReader


@pytest.fixture(scope="module")
def korean(nlu_home: Home) -> NumeralReader:
    return build_lexicon(nlu_home, "ko").numerals


@pytest.fixture(scope="module")
def english(nlu_home: Home) -> NumeralReader:
    return build_lexicon(nlu_home, "en").numerals


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("24", 24),
        ("24.5", 24.5),
        ("이십사", 24),
        ("십팔", 18),
        ("십", 10),
        ("백", 100),
        ("삼십", 30),
        ("오십오", 55),
        ("구십구", 99),
        ("영", 0),
    ],
)
def test_sino_korean_and_digits(korean: NumeralReader, word: str, value: float) -> None:
    assert korean.read(word) == value


@pytest.mark.parametrize(
    ("word", "value"),
    [
        ("한", 1),
        ("하나", 1),
        ("두", 2),
        ("세", 3),
        ("네", 4),
        ("열", 10),
        ("열한", 11),
        ("열두", 12),
        ("스물네", 24),
        ("스무", 20),
        ("스물다섯", 25),
        ("서른", 30),
        ("마흔둘", 42),
    ],
)
def test_native_korean(korean: NumeralReader, word: str, value: float) -> None:
    assert korean.read(word) == value


@pytest.mark.parametrize("word", ["이삼", "불", "세탁", "스물스물", "", "몇"])
def test_words_that_are_not_numbers(korean: NumeralReader, word: str) -> None:
    assert korean.read(word) is None
    assert not korean.is_numeral(word)


@pytest.mark.parametrize(
    ("word", "value"), [("twentytwo", 22), ("seven", 7), ("thirty", 30), ("nineteen", 19)]
)
def test_english_number_words(english: NumeralReader, word: str, value: float) -> None:
    assert english.read(word) == value


def test_english_has_no_sino_numbers(english: NumeralReader) -> None:
    assert english.read("이십") is None
