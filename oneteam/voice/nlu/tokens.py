"""Text into tokens: Kiwi morphology for Korean, a plain word split for English.

Kiwi takes about a second and ~250 MB to load, so one analyser per process is built lazily and
shared by every home. Names (`퓨리케어`, `로봇청소기`) are kept whole so that spaceless input
("거실불켜줘") and unusual names split where a person would split them: the language's words as
Kiwi user words, each home's own names per analysis, in that home only.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

_LOGGER = logging.getLogger(__name__)

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


_KIWI_LOCK = threading.RLock()
"""One analysis at a time, and guards the analyser's set-up: conversations call in from worker
threads, and every home of the process shares the one analyser."""
_KIWI_OPTIONS: dict[str, Any] = {"load_multi_dict": False, "load_default_dict": False}
"""The multi-word dictionary (12 MB of compound proper nouns) and the default dictionary of proper
nouns are not needed for home requests and cost most of Kiwi's start-up."""
_PRESTARTED: list[threading.Thread] = []
_PRESTARTED_KIWI: list[Any] = []


def prestart() -> None:
    """Start loading Kiwi's model in a thread now, for a short-lived command that will need it
    after its other imports (`oneteam understand`); the shared analyser takes it over."""
    if _PRESTARTED or _ANALYSER.kiwi is not None:
        return

    def load() -> None:
        from kiwipiepy import Kiwi

        # No tokenize here: the analyser's tables (half a second) are built once, on the first
        # analysis after the language's words are added; building them now would be thrown away.
        _PRESTARTED_KIWI.append(Kiwi(**_KIWI_OPTIONS))

    thread = threading.Thread(target=load, name="kiwi-prestart", daemon=True)
    _PRESTARTED.append(thread)
    thread.start()


def _fresh_kiwi() -> Any:
    """The prestarted analyser (once), or a new one."""
    if _PRESTARTED:
        _PRESTARTED[0].join()
        if _PRESTARTED_KIWI:
            return _PRESTARTED_KIWI.pop()
    from kiwipiepy import Kiwi

    return Kiwi(**_KIWI_OPTIONS)


class _Analyser:
    """The process's one Kiwi, shared by every home (a Kiwi holds ~250 MB and takes a second to
    build). Only the language's own words are added to it as user words; a home's names are
    kept whole per analysis instead (`KoreanTokenizer`), so one home's "뽀송이" never changes how
    another home's sentences split."""

    def __init__(self) -> None:
        self.kiwi: Any = None
        self.generation = 0
        """Moves when user words are added: what was judged against the analyser is judged again."""
        self._judged: set[str] = set()
        self._nouns: dict[str, bool] = {}

    def load(self, shared_words: Sequence[str]) -> Any:
        """The analyser, with `shared_words` it does not already read as one noun added."""
        with _KIWI_LOCK:
            if self.kiwi is None:
                self.kiwi = _fresh_kiwi()
            new = [w for w in shared_words if w not in self._judged]
            if new or self.generation == 0:
                # Only words Kiwi does not already read as one noun are added: a user word also
                # shifts Kiwi's guesses around it ("세탁기" added again made "시작해줘" one noun).
                unknown = [w for w, noun in _one_nouns(self.kiwi, new).items() if not noun]
                for word in unknown:
                    self.kiwi.add_user_word(word, "NNG", 0)
                self._judged.update(new)
                self._nouns.clear()
                self.generation += 1
                _LOGGER.info("Kiwi loaded with %d of %d language words as user words", len(unknown), len(new))
            return self.kiwi

    def one_noun(self, word: str) -> bool:
        """Whether the analyser (as loaded) reads `word` alone as one noun; asked once a process."""
        with _KIWI_LOCK:
            known = self._nouns.get(word)
            if known is None:
                tokens = self.kiwi.tokenize(word)
                known = self._nouns[word] = len(tokens) == 1 and str(tokens[0].tag).startswith("NN")
            return known


_ANALYSER = _Analyser()


def _one_nouns(kiwi: Any, words: Sequence[str]) -> dict[str, bool]:
    """Whether Kiwi as shipped reads each word as one noun. Asking means analysing, which builds
    Kiwi's tables — and adding a user word afterwards makes it build them again (0.5 s each), so
    the answers are kept in a small file per Kiwi version; a short command then builds once."""
    known = _noun_cache()
    missing = [w for w in words if w not in known]
    for word in missing:
        tokens = kiwi.tokenize(word)
        known[word] = len(tokens) == 1 and str(tokens[0].tag).startswith("NN")
    if missing:
        _save_noun_cache(known)
    return {w: known[w] for w in words}


def _noun_cache_path() -> Path:
    from kiwipiepy import __version__ as kiwi_version

    base = os.environ.get("ONETEAM_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    if not os.environ.get("ONETEAM_CACHE_DIR"):
        root = root / "oneteam"
    options = "-".join(f"{k}={v}" for k, v in sorted(_KIWI_OPTIONS.items()))
    return root / f"kiwi-{kiwi_version}-{options}-nouns.json"


_NOUNS: dict[str, bool] = {}
_NOUNS_LOADED: list[bool] = []


def _noun_cache() -> dict[str, bool]:
    if not _NOUNS_LOADED:
        _NOUNS_LOADED.append(True)
        try:
            data = json.loads(_noun_cache_path().read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            _LOGGER.debug("no Kiwi noun cache: %s", exc)
        else:
            if isinstance(data, dict):
                _NOUNS.update({k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, bool)})
    return _NOUNS


def _save_noun_cache(known: dict[str, bool]) -> None:
    """Written whole through a temporary file (another process may read it at the same time);
    a cache that cannot be written only costs the next start half a second."""
    path = _noun_cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(known, ensure_ascii=False, sort_keys=True), encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        _LOGGER.debug("Kiwi noun cache not written: %s", exc)


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
        with _KIWI_LOCK:
            _ANALYSER.kiwi.tokenize("불")

    def _names(self) -> re.Pattern[str] | None:
        """The home's names to keep whole, as one pattern (longest first), judged once against
        the shared analyser (again if words were added to it since)."""
        ready = self._ready
        if ready is None or ready[0] != _ANALYSER.generation:
            _ANALYSER.load(self._shared_words)
            split = sorted(
                (w for w in self._user_words if not _ANALYSER.one_noun(w)), key=lambda w: (-len(w), w)
            )
            pattern = re.compile("|".join(re.escape(w) for w in split)) if split else None
            ready = self._ready = (_ANALYSER.generation, tuple(split), pattern)
        return ready[2]

    def tokenize(self, text: str) -> tuple[Token, ...]:
        """The text's tokens, with this home's names found in it kept whole."""
        names = self._names()
        spans = tuple((m.start(), m.end()) for m in names.finditer(text)) if names is not None else ()
        return _kept_analysis(text, spans, _ANALYSER.generation) if self._cached else _analysis(text, spans)


ANALYSES_KEPT = 16384
"""Analyses kept per process, every home's together: an analysis depends only on the text and the
home names found in it, so homes share entries ("거실 불 꺼 줘" is analysed once for all of them)
and the memory stays bounded however many homes the process serves."""


def _analysis(text: str, spans: tuple[tuple[int, int], ...]) -> tuple[Token, ...]:
    """Kiwi's analysis of `text`, each of `spans` (a home's name) read as one noun."""
    with _KIWI_LOCK:  # one analysis at a time: conversations call in from worker threads
        kiwi = _ANALYSER.kiwi
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
