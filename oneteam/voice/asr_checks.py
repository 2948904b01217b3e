"""When the command grammar's reading of an utterance is kept, and when it gives way to free-form.

The packaged Korean model has no `[unk]` word, so a grammar decoder forces any speech onto command
words; these tests tell a command read in grammar from speech the grammar only half fits.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from oneteam.voice.normalize import spell_out_recognised_numbers

_MAX_COMMAND_WORDS = 14
_MAX_COMMAND_S = 8.0
MIN_WORD_CONFIDENCE = 0.5
"""A grammar reading with a word the decoder gives less than even odds is speech the grammar only
half fits (the grammar forced a word onto it), so the utterance is read free-form. The decoder's
reading of such speech also changes with what the process decoded before (Picovoice's
out-of-context clip reads 나/날/딸 게 커피 를 줘 or 나 하게 커피 를 줘 by turn, 를 at 0.49 in every one),
so the garbage syllables alone made the fallback depend on test order."""
_MAX_DISAGREEMENT = 0.6
"""Character edit distance between the biased and free-form readings, over the biased length,
above which the grammar is taken to have forced speech it does not cover onto command words."""


def _compact(text: str) -> str:
    """Text for comparing readings: numbers as words, no spaces."""
    return re.sub(r"\s+", "", spell_out_recognised_numbers(text))


def is_too_long(biased_text: str, audio_s: float) -> bool:
    """Commands are short; a long stretch of grammar words is speech forced onto the grammar."""
    return len(biased_text.split()) > _MAX_COMMAND_WORDS or audio_s > _MAX_COMMAND_S


def is_weak(biased_text: str, free_text: str, audio_s: float) -> bool:
    """Whether the grammar's reading should give way to the free-form one."""
    if not biased_text:
        return bool(free_text)
    if is_too_long(biased_text, audio_s):
        return True
    biased, free = _compact(biased_text), _compact(free_text)
    return Levenshtein.distance(biased, free) / max(1, len(biased)) > _MAX_DISAGREEMENT
