"""Text into tokens: Kiwi morphology for Korean, a plain word split for English.

Kiwi takes about a second and ~250 MB to load, so one analyser per process is built lazily and
shared by every home. Names (`퓨리케어`, `로봇청소기`) are kept whole so that spaceless input
("거실불켜줘") and unusual names split where a person would split them: the language's words as
Kiwi user words, each home's own names per analysis, in that home only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from oneteam.voice.nlu.kiwi_analyser import ANALYSER, KIWI_LOCK

_HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
_ENGLISH_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|[^\sa-z\d]")


class Role(StrEnum):
    """What a token does in its sentence: the parser reads only this, never a tokenizer's own
    tag set, so another analyser plugs in by giving its tags a role (`_KIWI_ROLES` for Kiwi)."""

    NOUN = "noun"
    BOUND_NOUN = "bound_noun"
    """A noun that needs a modifier: 중 (작동 중), 거 (켜진 거), 수 (켤 수)."""
    PRONOUN = "pronoun"
    NUMERAL = "numeral"
    """A number said as a word (이십사, 다섯)."""
    NUMBER = "number"
    """Digits (24)."""
    DETERMINER = "determiner"
    """A word before a noun, numerals included (세 시, 두 대)."""
    ADVERB = "adverb"
    CONJUNCTION = "conjunction"
    VERB = "verb"
    ADJECTIVE = "adjective"
    AUXILIARY = "auxiliary"
    """A verb after another (켜 줘, 켜져 있어)."""
    COPULA = "copula"
    """이다 (… 중이야)."""
    NEGATIVE_COPULA = "negative_copula"
    """아니다."""
    FINAL_ENDING = "final_ending"
    """Ends the sentence and says its mood (켜라, 켜니)."""
    CONNECTIVE_ENDING = "connective_ending"
    """Joins to what follows (끄고, 꺼졌는지, 끝났으면)."""
    PREFINAL_ENDING = "prefinal_ending"
    """Tense or guess inside the verb (껐-, -겠-)."""
    MODIFIER_ENDING = "modifier_ending"
    """Makes the verb modify a noun (켜진, 켤)."""
    NOMINAL_ENDING = "nominal_ending"
    """Makes the verb a noun (끄기)."""
    PARTICLE = "particle"
    PREFIX = "prefix"
    VERB_SUFFIX = "verb_suffix"
    """Makes a noun a verb (청소 + 하)."""
    SUFFIX = "suffix"
    ROOT = "root"
    """A stem that is not a word alone (깨끗 in 깨끗하게)."""
    FOREIGN = "foreign"
    """Latin letters inside Korean text (TV, ac)."""
    WORD = "word"
    """A word of a language without morphology here (English)."""
    SENTENCE_MARK = "sentence_mark"
    """. ? ! at the end of a sentence."""
    SYMBOL = "symbol"
    INTERJECTION = "interjection"
    OTHER = "other"


VERBAL_ROLES = frozenset({Role.VERB, Role.ADJECTIVE, Role.AUXILIARY, Role.COPULA, Role.NEGATIVE_COPULA})
ENDING_ROLES = frozenset(
    {
        Role.FINAL_ENDING,
        Role.CONNECTIVE_ENDING,
        Role.PREFINAL_ENDING,
        Role.MODIFIER_ENDING,
        Role.NOMINAL_ENDING,
        Role.PARTICLE,
        Role.VERB_SUFFIX,
        Role.SUFFIX,
    }
)
NOUN_ROLES = frozenset({Role.NOUN, Role.BOUND_NOUN})

# Kiwi's tag set (the Sejong tags, https://github.com/bab2min/kiwipiepy#품사-태그) → role. The one
# place that knows it; a tag with a suffix ("VV-I", irregular) takes its base tag's role.
_KIWI_ROLES: dict[str, Role] = {
    "NNG": Role.NOUN,
    "NNP": Role.NOUN,
    "NA": Role.NOUN,
    "NNB": Role.BOUND_NOUN,
    "NP": Role.PRONOUN,
    "NR": Role.NUMERAL,
    "SN": Role.NUMBER,
    "MM": Role.DETERMINER,
    "MAG": Role.ADVERB,
    "MAJ": Role.CONJUNCTION,
    "VV": Role.VERB,
    "VA": Role.ADJECTIVE,
    "VX": Role.AUXILIARY,
    "VCP": Role.COPULA,
    "VCN": Role.NEGATIVE_COPULA,
    "EF": Role.FINAL_ENDING,
    "EC": Role.CONNECTIVE_ENDING,
    "EP": Role.PREFINAL_ENDING,
    "ETM": Role.MODIFIER_ENDING,
    "ETN": Role.NOMINAL_ENDING,
    "XPN": Role.PREFIX,
    "XSV": Role.VERB_SUFFIX,
    "XSA": Role.SUFFIX,
    "XSN": Role.SUFFIX,
    "XSM": Role.SUFFIX,
    "XR": Role.ROOT,
    "SL": Role.FOREIGN,
    "SF": Role.SENTENCE_MARK,
    "IC": Role.INTERJECTION,
}


_KIWI_PROPER = frozenset({"NNP"})


def kiwi_role(tag: str) -> Role:
    """The role of a Kiwi tag: particles (J…) and the remaining symbols (S…, W_…) by family."""
    base = tag.split("-", 1)[0]
    role = _KIWI_ROLES.get(base)
    if role is not None:
        return role
    if base.startswith("J"):
        return Role.PARTICLE
    if base.startswith(("S", "W_")):
        return Role.SYMBOL
    return Role.OTHER


@dataclass(frozen=True, slots=True)
class Token:
    """One morpheme (Korean) or word (English)."""

    surface: str
    """The text as written, lower case."""
    lemma: str
    """The base form (`꺼` → `끄`); the surface for English."""
    role: Role
    start: int
    end: int
    tag: str = ""
    """The tokenizer's own tag (Kiwi's `VV-I`), for debugging only: the parser reads `role`."""
    proper: bool = False
    """A proper noun (a place, a person): said of somewhere else, it is not about this home."""

    @property
    def is_verb(self) -> bool:
        """A verb, adjective, auxiliary or copula (whose lemma is what counts)."""
        return self.role in VERBAL_ROLES

    @property
    def is_ending(self) -> bool:
        """An ending, particle or suffix, which never starts a phrase."""
        return self.role in ENDING_ROLES


def language_of(text: str) -> str:
    """`ko` when the text has any Hangul, else `en`."""
    return "ko" if _HANGUL.search(text) else "en"


class KoreanTokenizer:
    """Kiwi for one home: the process's one analyser, with this home's names kept whole.

    `user_words`: the home's own names. Those the shared analyser would split ("뽀송이" → 뽀송 +
    이) are found in each text (longest first) and handed to Kiwi as spans it must read as one
    noun (`pretokenized`), for this home's analyses only. `shared_words`: the language's words,
    the same for every home, added to the shared analyser once. `cache_size` 0 analyses every
    text afresh (benchmarks); otherwise analyses come from the process's cache (`ANALYSES_KEPT`)."""

    def __init__(
        self, user_words: Sequence[str] = (), *, shared_words: Sequence[str] = (), cache_size: int = 4096
    ) -> None:
        self._user_words = tuple(sorted(set(user_words)))
        self._shared_words = tuple(sorted(set(shared_words)))
        self._ready: tuple[int, tuple[str, ...], re.Pattern[str] | None] | None = None
        self._cached = cache_size > 0

    @property
    def kept_whole(self) -> tuple[str, ...]:
        """This home's names kept whole per analysis (the ones the shared analyser splits)."""
        self._names()
        return self._ready[1] if self._ready is not None else ()

    def warm_up(self) -> None:
        """Load Kiwi now rather than on the first utterance; one analysis builds its tables."""
        self._names()
        with KIWI_LOCK:
            ANALYSER.kiwi.tokenize("불")

    def _names(self) -> re.Pattern[str] | None:
        """The home's names to keep whole, as one pattern (longest first), judged once against
        the shared analyser (again if words were added to it since)."""
        ready = self._ready
        if ready is None or ready[0] != ANALYSER.generation:
            ANALYSER.load(self._shared_words)
            split = sorted(
                (w for w in self._user_words if not ANALYSER.one_noun(w)), key=lambda w: (-len(w), w)
            )
            pattern = re.compile("|".join(re.escape(w) for w in split)) if split else None
            ready = self._ready = (ANALYSER.generation, tuple(split), pattern)
        return ready[2]

    def tokenize(self, text: str) -> tuple[Token, ...]:
        """The text's tokens, with this home's names found in it kept whole."""
        names = self._names()
        spans = tuple((m.start(), m.end()) for m in names.finditer(text)) if names is not None else ()
        return _kept_analysis(text, spans, ANALYSER.generation) if self._cached else _analysis(text, spans)


ANALYSES_KEPT = 16384
"""Analyses kept per process, every home's together: an analysis depends only on the text and the
home names found in it, so homes share entries ("거실 불 꺼 줘" is analysed once for all of them)
and the memory stays bounded however many homes the process serves."""


def _analysis(text: str, spans: tuple[tuple[int, int], ...]) -> tuple[Token, ...]:
    """Kiwi's analysis of `text`, each of `spans` (a home's name) read as one noun."""
    with KIWI_LOCK:  # one analysis at a time: conversations call in from worker threads
        kiwi = ANALYSER.kiwi
        if not spans:
            return _tokens(text, kiwi.tokenize(text))
        ((forced, forced_score),) = kiwi.analyze(text, top_n=1, pretokenized=[(*s, "NNG") for s in spans])
        ((plain, plain_score),) = kiwi.analyze(text, top_n=1)
    # A forced span also changes how Kiwi scores the words around it ("… 9번으로 하고 작은방"
    # read 하고 as a quoting particle), so Kiwi's own reading is kept when it is at least as
    # likely and cuts at the names' edges, with each name's pieces joined into one noun.
    tokens = _tokens(text, plain)
    if plain_score >= forced_score and all(_cut_at(tokens, start, end) for start, end in spans):
        return _joined(text, tokens, spans)
    return _tokens(text, forced)


@lru_cache(maxsize=ANALYSES_KEPT)
def _kept_analysis(text: str, spans: tuple[tuple[int, int], ...], generation: int) -> tuple[Token, ...]:
    """`_analysis`, kept; `generation` is the analyser's (its words changed: analysed again)."""
    return _analysis(text, spans)


def _tokens(text: str, analysed: Sequence[Any]) -> tuple[Token, ...]:
    """Kiwi's tokens as ours."""
    out = []
    for tok in analysed:
        start, end = int(tok.start), int(tok.start + tok.len)
        tag = str(tok.tag)
        proper = tag in _KIWI_PROPER
        out.append(
            Token(text[start:end].lower(), str(tok.form).lower(), kiwi_role(tag), start, end, tag, proper)
        )
    return tuple(out)


def _cut_at(tokens: Sequence[Token], start: int, end: int) -> bool:
    """Whether the tokens overlapping start…end begin at start and end at end."""
    inside = [t for t in tokens if t.start < end and t.end > start]
    return bool(inside) and inside[0].start == start and max(t.end for t in inside) == end


def _joined(text: str, tokens: Sequence[Token], spans: Sequence[tuple[int, int]]) -> tuple[Token, ...]:
    """`tokens` with those inside each span replaced by the span as one noun."""
    out: list[Token] = []
    spans = sorted(spans)
    for token in tokens:
        span = next(((s, e) for s, e in spans if s <= token.start < e), None)
        if span is None:
            out.append(token)
        elif not out or out[-1].start != span[0]:
            word = text[span[0] : span[1]].lower()
            out.append(Token(word, word, Role.NOUN, span[0], span[1], "NNG"))
    return tuple(out)


class EnglishTokenizer:
    """Lower-cased words, numbers and punctuation marks; the same for every home, so results are
    kept in one cache per process (`cache_size` 0: none)."""

    def __init__(self, *, cache_size: int = 4096) -> None:
        self._cached = cache_size > 0

    def warm_up(self) -> None:
        """Nothing to load."""

    def tokenize(self, text: str) -> tuple[Token, ...]:
        """The text's words."""
        return _english_kept(text) if self._cached else _english(text)


def _english(text: str) -> tuple[Token, ...]:
    """English words: no analyser, no home names."""
    lowered = text.lower()
    out = []
    for match in _ENGLISH_TOKEN.finditer(lowered):
        word = match.group(0)
        word = word.replace("'", "") if word.endswith("'s") else word
        if word[0].isdigit():
            role = Role.NUMBER
        elif word[0].isalpha():
            role = Role.WORD
        elif word in "?":
            role = Role.SENTENCE_MARK
        else:
            role = Role.SYMBOL
        out.append(Token(word, word, role, match.start(), match.end()))
    return tuple(out)


_english_kept = lru_cache(maxsize=ANALYSES_KEPT)(_english)
