"""Written Korean → spoken Korean, in front of every speech engine.

Numbers are read the way a Korean speaker reads them, which depends on what follows: a native
number before native counters (3시 → 세 시, 1시간 반 → 한 시간 반, 20개 → 스무 개) and a Sino-Korean
number otherwise (24도 → 이십사 도, 30분 → 삼십 분, 2단 → 이 단). Symbols become words (50% →
오십 퍼센트), a minus before degrees becomes 영하, dates read as year-month-day (2024-06-03 →
이천이십사 년 유월 삼 일), phone numbers digit by digit with 공 for zero, and abbreviations as
they are said (TV → 티비, LG → 엘지). The words live in lang/<language>/normalize.yaml.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml


@dataclass(frozen=True, slots=True, kw_only=True)
class Readings:
    """The language data of one language's number and unit reading."""

    sino_digits: tuple[str, ...]
    sino_small_units: tuple[str, ...]
    sino_big_units: tuple[str, ...]
    native_ones_before_counter: tuple[str, ...]
    native_ones: tuple[str, ...]
    native_tens: tuple[str, ...]
    native_twenty_before_counter: str
    phone_digits: tuple[str, ...]
    point: str
    below_zero: str
    minus: str
    native_counters: tuple[str, ...]
    native_max: int
    months: dict[int, str]
    date_words: dict[str, str]
    time_words: dict[str, str]
    symbol_units: dict[str, str]
    abbreviations: dict[str, str]
    letters: dict[str, str]


@cache
def readings(language: str = "ko") -> Readings:
    """The reading tables of `language` (loaded once)."""
    path = resources.files("oneteam.voice") / "lang" / language / "normalize.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    fields: dict[str, Any] = {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in data.items()
        if key in Readings.__dataclass_fields__
    }
    return Readings(**fields)


def sino(number: int, language: str = "ko") -> str:
    """A whole number in Sino-Korean (24 → 이십사, 10000 → 만, 12345 → 만 이천삼백사십오)."""
    table = readings(language)
    if number < 0:
        return f"{table.minus} {sino(-number, language)}"
    if number == 0:
        return table.sino_digits[0]
    groups: list[str] = []
    big = 0
    while number:
        number, group = divmod(number, 10_000)
        if group:
            words = _sino_group(group, table)
            # 만, not 일만: a lone 1 before 만 is not read (but 억 and 조 keep 일).
            if big == 1 and group == 1:
                words = ""
            groups.append(words + table.sino_big_units[big])
        big += 1
    return " ".join(reversed(groups))


def _sino_group(number: int, table: Readings) -> str:
    """1..9999 in Sino-Korean, without a leading 일 before 십, 백 and 천 (110 → 백십)."""
    words = ""
    for place in (3, 2, 1, 0):
        digit = number // 10**place % 10
        if digit == 0:
            continue
        if place == 0 or digit != 1:
            words += table.sino_digits[digit]
        words += table.sino_small_units[place]
    return words


def native(number: int, *, before_counter: bool, language: str = "ko") -> str:
    """1..99 in native Korean (3 → 세 before a counter, 셋 alone; 20 → 스무 before a counter)."""
    table = readings(language)
    tens, ones = divmod(number, 10)
    if ones == 0 and tens == 2 and before_counter:
        return table.native_twenty_before_counter
    ones_words = table.native_ones_before_counter if before_counter else table.native_ones
    return table.native_tens[tens] + ones_words[ones]


def digits(text: str, language: str = "ko") -> str:
    """Digits read one by one, 0 as 공 (010 → 공일공)."""
    table = readings(language)
    return "".join(table.phone_digits[int(char)] for char in text if char.isdigit())


_PHONE = re.compile(r"(?<![\d.])(0\d{1,2})[- .](\d{3,4})[- .](\d{4})(?![\d.])")
_DATE = re.compile(r"(?<![\d.])(\d{4})[-./](\d{1,2})[-./](\d{1,2})(?![\d.])")
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])")
_NUMBER = re.compile(r"(?P<minus>-)?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?P<after>\s*)")
_LATIN = re.compile(r"[A-Za-z][A-Za-z\-]*")


def has_readings(language: str) -> bool:
    """Whether reading tables exist for `language` (Korean has them; other languages are read as written)."""
    return (resources.files("oneteam.voice") / "lang" / language / "normalize.yaml").is_file()


def normalize(text: str, language: str = "ko") -> str:
    """The text as it is spoken: every number, unit and abbreviation in words."""
    if not has_readings(language):
        # The engine's own voice for that language reads digits and symbols itself.
        return " ".join(text.split())
    table = readings(language)
    text = _PHONE.sub(lambda m: " ".join(digits(group, language) for group in m.groups()), text)
    text = _DATE.sub(lambda m: _date(m, table, language), text)
    text = _CLOCK.sub(lambda m: _clock(m, table), text)
    text = _LATIN.sub(lambda m: _latin(m.group(0), table), text)
    text = _replace_numbers(text, table, language)
    return re.sub(r"\s{2,}", " ", text).strip()


def _date(match: re.Match[str], table: Readings, language: str) -> str:
    year, month, day = (int(group) for group in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0)
    words = table.date_words
    spoken_year = f"{sino(year, language)} {words['year']}"
    return f"{spoken_year} {_month(month, table, language)} {sino(day, language)} {words['day']}"


def _month(month: int, table: Readings, language: str) -> str:
    return table.months.get(month) or f"{sino(month, language)} {table.date_words['month']}"


def _clock(match: re.Match[str], table: Readings) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 24 or minute > 59:
        return match.group(0)
    words = table.time_words
    spoken = f"{hour}{words['hour']}"
    return f"{spoken} {minute}{words['minute']}" if minute else spoken


def _latin(word: str, table: Readings) -> str:
    if word in table.abbreviations:
        return table.abbreviations[word]
    if word.isupper() and len(word) <= 5:
        return "".join(table.letters.get(char, char) for char in word)
    return word


def _replace_numbers(text: str, table: Readings, language: str) -> str:
    out: list[str] = []
    position = 0
    for match in _NUMBER.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        rest = text[position:]
        spoken, used = _number(match, rest, table, language)
        before = " " if out and out[-1][-1:].isalnum() else ""
        # A particle right after a symbol unit stays on it (81%예요 → 팔십일 퍼센트예요).
        after = "" if used and text[position + used : position + used + 1].isalnum() else " "
        out.append(f"{before}{spoken}{after}")
        position += used
    out.append(text[position:])
    return "".join(out)


def _number(match: re.Match[str], rest: str, table: Readings, language: str) -> tuple[str, int]:
    """The spoken number and unit, and how many characters of `rest` the unit used."""
    whole = int(match.group("int").replace(",", ""))
    fraction = match.group("frac")
    unit, used = _unit(rest, table)
    counter = next((c for c in table.native_counters if rest.startswith(c)), None) if not unit else None
    if counter and fraction is None and 0 < whole <= table.native_max and not match.group("minus"):
        words = native(whole, before_counter=True, language=language)
    else:
        words = sino(whole, language)
        if fraction:
            words += f" {table.point} " + " ".join(table.sino_digits[int(d)] for d in fraction)
    if match.group("minus"):
        degrees = unit == "도" or rest.startswith("도")
        words = f"{table.below_zero if degrees else table.minus} {words}"
    is_month = rest.startswith(table.date_words["month"]) and fraction is None
    if is_month and whole in table.months:
        # 6월 and 10월 lose a sound: 유월, 시월.
        return table.months[whole], len(table.date_words["month"])
    return (f"{words} {unit}", used) if unit else (words, 0)


def _unit(rest: str, table: Readings) -> tuple[str, int]:
    """A symbol unit at the start of `rest` (longest first) as a word, and its length."""
    for symbol in sorted(table.symbol_units, key=len, reverse=True):
        if rest.startswith(symbol):
            after = rest[len(symbol) : len(symbol) + 1]
            # "5m" is metres, "5min" is minutes, but "5 mugs" is not a unit.
            if symbol[-1].isalpha() and after.isalpha() and after.isascii():
                continue
            return table.symbol_units[symbol], len(symbol)
    return "", 0


def spell_out_recognised_numbers(text: str, language: str = "ko") -> str:
    """Vosk's bracketed numbers as Sino-Korean words (`[64] 년` → `육십사 년`, `(천)` → `천`)."""
    text = re.sub(r"[\[(]?(\d+)[\])]?", lambda m: sino(int(m.group(1)), language), text)
    return re.sub(r"[\[\]()]", "", text)
