"""Numbers as said, with their units: `24도`, `이십사 도로`, `스물네 도`, `1시간 반`, `-18`, `6:30`.

Numbers are read before phrases are matched, so a unit word (도, 분) is taken as a unit only
right after a number (`불도` keeps its particle). Which words are units, signs and "to/by"
markers comes from the language YAML.
"""

from __future__ import annotations

from dataclasses import dataclass

from oneteam.voice.nlu.lexicon import Kind, Lexicon, Sense, key
from oneteam.voice.nlu.tokens import NOUN_ROLES, Role, Token

_NUMERAL_ROLES = frozenset({Role.NUMBER, Role.NUMERAL, Role.DETERMINER})


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number as said, with its unit if one followed."""

    value: float
    unit: str | None
    is_absolute: bool
    """`24도로` (to 24) rather than `2도` (by 2)."""
    start: int
    end: int
    alternatives: tuple[float, ...] = ()
    """Other readings, when a particle glued before it may be a digit (에어컨이십사도: 14 or 24)."""


def _senses_at(tokens: tuple[Token, ...], index: int, lexicon: Lexicon) -> tuple[Sense, ...]:
    if 0 <= index < len(tokens):
        return lexicon.words.get(key(tokens[index].surface), ())
    return ()


def _has_sense(tokens: tuple[Token, ...], index: int, lexicon: Lexicon, kind: Kind) -> bool:
    return any(s.kind is kind for s in _senses_at(tokens, index, lexicon))


def _read_number(tokens: tuple[Token, ...], i: int, lexicon: Lexicon) -> tuple[float | None, int, bool]:
    """(value, end, needs_unit) of the numeral starting at token i, or (None, i, False)."""
    token, reader = tokens[i], lexicon.numerals
    if i > 0 and tokens[i - 1].role is Role.PREFIX and tokens[i - 1].end == token.start:
        return None, i, False  # 제일 (most), 제이 (the second): a prefix makes it a word, not a number
    if token.role in _NUMERAL_ROLES:
        # Kiwi splits 스물네 into 스물/NR + 네/MM and 이십사 into three NR: read the run whole.
        end = i + 1
        # Spoken numbers may be spaced ("스물 네", "이십 사"); digits must touch.
        while (
            end < len(tokens)
            and tokens[end].role in _NUMERAL_ROLES
            and (
                tokens[end].start == tokens[end - 1].end or Role.NUMBER not in (token.role, tokens[end].role)
            )
        ):
            end += 1
        for stop in range(end, i, -1):
            value = reader.read("".join(t.lemma for t in tokens[i:stop]))
            if value is not None:
                return value, stop, token.role is Role.DETERMINER and stop == i + 1
        return None, i, False
    if token.role is Role.WORD:  # English number words
        if token.surface in reader.determiners:
            return float(reader.determiners[token.surface]), i + 1, True
        for end in (i + 3, i + 2, i + 1):  # "twenty two", "twenty-two"
            span = tokens[i:end]
            if end > len(tokens) or any(t.role is not Role.WORD and t.surface != "-" for t in span):
                continue
            value = reader.read("".join(t.surface for t in span if t.role is Role.WORD))
            if value is not None:
                return value, end, False
    return None, i, False


def _fused(token: Token, lexicon: Lexicon) -> tuple[float, str, bool] | None:
    """(value, unit, is_absolute) of a number and unit Kiwi read as one unknown noun
    ("이십도", "이십도로"), or None."""
    if token.role not in NOUN_ROLES or len(token.surface) < 2:
        return None
    word, grammar = token.surface, lexicon.grammar
    # At least two syllables of number: a single one fused with a unit is mostly another word
    # ("일시정지" is not one o'clock).
    for cut in range(len(word) - 1, 1, -1):
        value = lexicon.numerals.read(word[:cut])
        if value is None:
            continue
        rest = word[cut:]
        for unit_word, unit in grammar.units.items():
            tail = rest[len(unit_word) :]
            if rest.startswith(unit_word) and (tail == "" or tail in grammar.absolute_after):
                return value, unit, tail != ""
    return None


def _glued_syllable(tokens: tuple[Token, ...], i: int) -> Token | None:
    """The one-syllable particle or ending written right against token `i`, if there is one."""
    if i == 0:
        return None
    before = tokens[i - 1]
    if (
        before.end != tokens[i].start
        or not (before.role is Role.PARTICLE or before.is_verb)
        or len(before.surface) != 1
    ):
        return None
    return before


def _glued_readings(tokens: tuple[Token, ...], i: int, end: int, lexicon: Lexicon) -> tuple[float, ...]:
    """Readings with the glued one-syllable particle before a number taken as its first digit:
    in "에어컨이십사도" Kiwi reads 이 as the subject particle, but a speaker may have said 이십사."""
    if tokens[i].role not in (Role.NUMERAL, Role.NUMBER):
        return ()
    before = _glued_syllable(tokens, i)
    if before is None:
        return ()
    if before.surface not in lexicon.numerals.sino_digits or tokens[i].role is Role.NUMBER:
        return ()
    value = lexicon.numerals.read(before.surface + "".join(t.lemma for t in tokens[i:end]))
    return (value,) if value is not None else ()


def _glued_readings_fused(tokens: tuple[Token, ...], i: int, lexicon: Lexicon) -> tuple[float, ...]:
    """The same for a number Kiwi fused with its unit ("이" + "십사도로")."""
    before = _glued_syllable(tokens, i)
    if before is None:
        return ()
    fused = _fused(Token(before.surface + tokens[i].surface, "", tokens[i].role, 0, 0), lexicon)
    return (fused[0],) if fused is not None else ()


def _is_half(token: Token, lexicon: Lexicon) -> bool:
    return lexicon.grammar.units.get(key(token.surface)) == "half"


def unit_after(tokens: tuple[Token, ...], j: int, lexicon: Lexicon) -> tuple[str | None, int]:
    """The unit starting at token j and the index after it, or (None, j)."""
    for width in (2, 1):
        if j + width <= len(tokens):
            word = key("".join(t.surface for t in tokens[j : j + width]))
            unit = lexicon.grammar.units.get(word)
            if unit is not None:
                return unit, j + width
    return None, j


def _clock(tokens: tuple[Token, ...], end: int) -> bool:
    """Whether `7` at tokens[end - 1] is followed by `:30`."""
    return end + 1 < len(tokens) and tokens[end].surface == ":" and tokens[end + 1].role is Role.NUMBER


def read_quantities(tokens: tuple[Token, ...], lexicon: Lexicon, consumed: list[bool]) -> list[Quantity]:
    """Every number with its unit; marks their tokens consumed."""
    out: list[Quantity] = []
    i = 0
    while i < len(tokens):
        value, end, needs_unit = (None, i, False) if consumed[i] else _read_number(tokens, i, lexicon)
        if value is None:
            fused = None if consumed[i] else _fused(tokens[i], lexicon)
            if fused is not None:
                after = tokens[i + 1].lemma if i + 1 < len(tokens) else ""
                is_absolute = fused[2] or after in lexicon.grammar.absolute_after
                glued = _glued_readings_fused(tokens, i, lexicon)
                out.append(Quantity(fused[0], fused[1], is_absolute, i, i + 1, glued))
                consumed[i] = True
            i += 1
            continue
        if _clock(tokens, end):  # 6:30
            minute = lexicon.numerals.read(tokens[end + 1].surface) or 0
            out.append(Quantity(value, "oclock", True, i, end))
            out.append(Quantity(minute, "minute", True, end, end + 2))
            consumed[i : end + 2] = [True] * (end + 2 - i)
            i = end + 2
            continue
        unit, stop = unit_after(tokens, end, lexicon)
        alternatives = _glued_readings(tokens, i, end, lexicon)
        if unit is None and needs_unit:
            i += 1
            continue
        if unit is None and (
            _has_sense(tokens, i - 1, lexicon, Kind.AT) or _has_sense(tokens, end, lexicon, Kind.PERIOD)
        ):
            unit = "oclock"  # "at 7", "7 pm"
        start = i
        if _has_sense(tokens, i - 1, lexicon, Kind.NEGATIVE):
            value, start = -value, i - 1
        if unit == "hour" and start > 0 and _is_half(tokens[start - 1], lexicon):
            value, start = value / 2, start - 1  # "half an hour"
        after = tokens[stop].lemma if stop < len(tokens) else ""
        is_absolute = after in lexicon.grammar.absolute_after or _has_sense(
            tokens, start - 1, lexicon, Kind.ABSOLUTE
        )
        out.append(Quantity(value, unit, is_absolute, start, stop, alternatives))
        if unit in ("hour", "oclock") and stop < len(tokens) and _is_half(tokens[stop], lexicon):
            out.append(Quantity(30, "minute", True, stop, stop + 1))  # 1시간 반, 7시 반
            stop += 1
        consumed[start:stop] = [True] * (stop - start)
        i = stop
    return out
