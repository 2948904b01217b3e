"""Reading spoken numbers from language tables: digits, Sino-Korean (이십사), native (스물네, 세).

The reader knows no language: it is built from a `numerals.yaml` with four tables.
`sino_digits` and `sino_units` read place-value numbers (이십사 = 2×10 + 4, 백 = 100);
`native_ones` and `native_tens` read counting words as tens + ones (스물 + 네 = 24,
`twenty` + `two` = 22). `determiners` count as one only right before a unit (`an hour`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

_LOGGER = logging.getLogger(__name__)

_DIGITS = re.compile(r"^\d+(?:\.\d+)?$")


@dataclass(frozen=True, slots=True, kw_only=True)
class NumeralReader:
    """Turns a numeral word (spaces removed) into its value, or None when it is not one."""

    sino_digits: Mapping[str, int] = field(default_factory=dict)
    """Place-value digits: 일 → 1, 이 → 2."""
    sino_units: Mapping[str, int] = field(default_factory=dict)
    """Place multipliers: 십 → 10, 백 → 100."""
    native_ones: Mapping[str, int] = field(default_factory=dict)
    """Counting words below ten (or twenty): 하나/한 → 1, `three` → 3."""
    native_tens: Mapping[str, int] = field(default_factory=dict)
    """Counting tens: 스물/스무 → 20, `thirty` → 30."""
    determiners: Mapping[str, int] = field(default_factory=dict)
    """Words read as one only before a unit: `a`, `an`."""

    def read(self, word: str) -> float | None:
        """The value of `word`: '24' → 24, '이십사' → 24, '스물네' → 24, 'twentytwo' → 22."""
        word = word.strip().lower().replace(",", "")
        if not word:
            return None
        if _DIGITS.match(word):
            return float(word)
        native = self._native(word)
        if native is not None:
            return native
        return self._sino(word)

    def is_numeral(self, word: str) -> bool:
        """Whether `word` reads as a number."""
        return self.read(word) is not None

    def _native(self, word: str) -> float | None:
        """Tens word then ones word, each optional, together covering `word`."""
        for tens_word, tens in (*self.native_tens.items(), ("", 0)):
            if not word.startswith(tens_word):
                continue
            rest = word[len(tens_word) :]
            if rest == "":
                return float(tens) if tens_word else None
            ones = self.native_ones.get(rest)
            if ones is not None and (tens == 0 or ones < 10):
                return float(tens + ones)
        return None

    def _sino(self, word: str) -> float | None:
        """Place-value reading: a digit before a unit multiplies it (이십 = 20), alone it adds."""
        if not self.sino_digits or not all(ch in self.sino_digits or ch in self.sino_units for ch in word):
            return None
        total, digit = 0, None
        for ch in word:
            if ch in self.sino_units:
                total += (1 if digit is None else digit) * self.sino_units[ch]
                digit = None
            elif digit is not None:
                return None  # two digits in a row (이삼) is not a number people say
            else:
                digit = self.sino_digits[ch]
        return float(total + (digit or 0))
