"""Korean text → Hangul as it is pronounced (표준 발음법), in front of eSpeak NG's Korean voice.

eSpeak NG reads each Hangul syllable as spelled: no liaison (맞췄어요 read 맞-췄-어-요), no
nasalisation (국물 read 국-물), no tensing after obstruents (세탁기), no ㅎ aspiration or loss.
Spelling the reply the way it is said fixes that for any engine that reads Hangul letter by letter:
liaison (연음), coda neutralisation and cluster simplification, nasalisation (비음화), lateralisation
(유음화), tensing (경음화, also after a verb stem's ㄴ/ㅁ and the adnominal -(으)ㄹ, which need Kiwi's
morpheme tags), aspiration and loss of ㅎ, palatalisation (구개음화) and the vowel ㅢ. The rule tables
live in lang/ko/pronounce.yaml; this module holds the jamo arithmetic and the order of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from itertools import pairwise
from typing import Any

import yaml

__all__ = ["Syllable", "pronounce", "rules"]

_ONSETS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_VOWELS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
_CODAS = ("", *"ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ")
_FIRST, _LAST = 0xAC00, 0xD7A3
_SILENT = "ㅇ"
_H = "ㅎ"


@dataclass(slots=True)
class Syllable:
    """One Hangul syllable as three compatibility jamo (no coda: "", no onset: ㅇ)."""

    onset: str
    vowel: str
    coda: str

    @classmethod
    def of(cls, char: str) -> Syllable | None:
        """The syllable's jamo, or None for a character that is not a Hangul syllable."""
        code = ord(char) - _FIRST
        if not 0 <= code <= _LAST - _FIRST:
            return None
        onset, rest = divmod(code, 21 * 28)
        vowel, coda = divmod(rest, 28)
        return cls(_ONSETS[onset], _VOWELS[vowel], _CODAS[coda])

    def text(self) -> str:
        """The syllable written again."""
        index = (_ONSETS.index(self.onset) * 21 + _VOWELS.index(self.vowel)) * 28
        return chr(_FIRST + index + _CODAS.index(self.coda))


@dataclass(frozen=True, slots=True)
class Rules:
    """The tables of lang/<language>/pronounce.yaml."""

    neutral: dict[str, str]
    clusters: dict[str, tuple[str, str]]
    cluster_single: dict[str, str]
    cluster_before_g: dict[str, str]
    cluster_tensing: frozenset[str]
    tense: dict[str, str]
    aspirate: dict[str, str]
    aspirate_coda: dict[str, str]
    nasal: dict[str, str]
    palatal: dict[str, str]
    palatal_h_vowels: frozenset[str]
    palatal_onsets: frozenset[str]
    after_palatal: dict[str, str]
    absorbed: dict[str, frozenset[str]]
    grammatical_tags: tuple[str, ...]
    stem_tags: frozenset[str]
    stem_nasal_codas: frozenset[str]
    stem_tensing_onsets: frozenset[str]
    adnominal_tag: str
    adnominal_forms: frozenset[str]
    l_ending_heads: tuple[str, ...]
    lexical_liaison_words: tuple[str, ...]
    vowel_ui: str
    vowel_i: str
    vowel_e: str
    possessive_tag: str
    liaison_across_words: bool


@cache
def rules(language: str = "ko") -> Rules:
    """The pronunciation tables of `language` (loaded once)."""
    path = resources.files("oneteam.voice") / "lang" / language / "pronounce.yaml"
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    sets = {
        "palatal_h_vowels",
        "palatal_onsets",
        "cluster_tensing",
        "stem_tags",
        "stem_nasal_codas",
        "stem_tensing_onsets",
        "adnominal_forms",
    }
    fields: dict[str, Any] = {}
    for key, raw in data.items():
        value: Any = raw
        if key in sets:
            value = frozenset(raw)
        elif key == "clusters":
            value = {coda: (pair[0], pair[1]) for coda, pair in raw.items()}
        elif key == "absorbed":
            value = {coda: frozenset(onsets) for coda, onsets in raw.items()}
        elif isinstance(raw, list):
            value = tuple(raw)
        fields[key] = value
    return Rules(**fields)


@dataclass(slots=True)
class _Marks:
    """What Kiwi's morphemes say about each character position of the text."""

    lexical_start: set[int]
    grammatical_start: set[int]
    stem_end: set[int]
    ending_start: set[int]
    adnominal_end: set[int]
    possessive: set[int]


def _marks(text: str, table: Rules) -> _Marks:
    marks = _Marks(set(), set(), set(), set(), set(), set())
    from oneteam.voice.nlu.kiwi_analyser import ANALYSER, KIWI_LOCK

    with KIWI_LOCK:
        tokens = ANALYSER.load([]).tokenize(text)
    seen: set[int] = set()
    for token in tokens:
        tag, start, end = str(token.tag), int(token.start), int(token.start) + int(token.len) - 1
        if start not in seen:
            # A contracted syllable (켰 = 켜 + 었) starts several morphemes; the first one counts.
            seen.add(start)
            grammatical = tag.startswith(table.grammatical_tags)
            (marks.grammatical_start if grammatical else marks.lexical_start).add(start)
        if tag in table.stem_tags:
            marks.stem_end.add(end)
        if tag.startswith("E"):
            marks.ending_start.add(start)
        if tag == table.adnominal_tag and token.form in table.adnominal_forms:
            marks.adnominal_end.add(end)
        elif tag.startswith("E") and token.form.startswith(table.l_ending_heads):
            marks.adnominal_end.add(start)  # -(으)ㄹ게요, -(으)ㄹ지: 맞출게요 → 마출께요
        if tag == table.possessive_tag:
            marks.possessive.add(start)
    for word in table.lexical_liaison_words:
        found = text.find(word)
        while found >= 0:
            # The vowel-initial part inside the word starts a lexical morpheme (맛|없다).
            marks.lexical_start.update(range(found + 1, found + len(word)))
            found = text.find(word, found + 1)
    return marks


def pronounce(text: str, language: str = "ko") -> str:
    """`text` (already in words: see normalize.py) spelled as it is pronounced."""
    table = rules(language)
    syllables = {index: s for index, char in enumerate(text) if (s := Syllable.of(char)) is not None}
    if not syllables:
        return text
    marks = _marks(text, table)
    positions = sorted(syllables)
    for left, right in pairwise(positions):
        between = text[left + 1 : right]
        if between.strip():
            continue  # punctuation or other script: a new phrase starts
        _join(syllables[left], syllables[right], left, right, bool(between), marks, table)
    for index in positions:
        # Codas the joins left alone (before a pause, or ㄴ ㅁ ㅇ ㄹ) are one of the seven sounds.
        _close(syllables[index], table)
        _vowel_ui(syllables[index], index, text, marks, table)
    return "".join(syllables[i].text() if i in syllables else char for i, char in enumerate(text))


def _close(syllable: Syllable, table: Rules) -> None:
    """A coda before a pause: one of the seven sounds (닭 → 닥, 꽃 → 꼳)."""
    single = table.cluster_single.get(syllable.coda, syllable.coda)
    syllable.coda = table.neutral.get(single, single)


def _join(a: Syllable, b: Syllable, left: int, right: int, gap: bool, marks: _Marks, table: Rules) -> None:
    """Apply the rules at the meeting of `a`'s coda and `b`'s onset (`gap`: a space between)."""
    if not a.coda:
        return
    if b.onset == _SILENT:
        if not gap or table.liaison_across_words:
            _liaison(a, b, gap or right in marks.lexical_start, table)
        return
    h_coda = a.coda == _H or table.clusters.get(a.coda, ("", ""))[1] == _H
    if h_coda and _h_coda(a, b, table):
        return
    if b.onset == _H:
        _aspirate(a, b, table)
        return
    tensing: frozenset[str] = frozenset()
    if left in marks.adnominal_end:
        tensing = frozenset(table.tense)
    elif (
        not gap
        and a.coda in table.stem_nasal_codas
        and left in marks.stem_end
        and right in marks.ending_start
    ):
        tensing = table.stem_tensing_onsets
    _consonants(a, b, tensing, gap, table)


def _liaison(a: Syllable, b: Syllable, lexical: bool, table: Rules) -> None:
    """A coda before a vowel moves over (연음): 옷이 → 오시, 앉아 → 안자, 값이 → 갑씨; before a
    lexical morpheme it moves as one of the seven sounds (겉옷 → 거돗); ㅎ falls (좋아 → 조아)."""
    coda = a.coda
    if coda == _SILENT:
        return
    first, second = table.clusters.get(coda, ("", coda))
    if second == _H:
        a.coda, b.onset = "", first or _SILENT
        return
    if lexical:
        single = table.cluster_single.get(coda, coda)
        a.coda, b.onset = "", table.neutral.get(single, single)
        return
    if first:
        a.coda = first
        # After a stop that stays (ㄱ of ㄳ, ㅂ of ㅄ) the moved ㅅ is tense: 값이 → 갑씨.
        b.onset = table.tense.get(second, second) if first in table.nasal else second
        return
    a.coda = ""
    b.onset = table.palatal.get(coda, coda) if b.vowel == table.vowel_i else coda


def _h_coda(a: Syllable, b: Syllable, table: Rules) -> bool:
    """ㅎ (ㄶ, ㅀ) before a consonant: 좋다 → 조타, 많소 → 만쏘, 놓는 → 논는. True: nothing left to do."""
    rest = table.clusters[a.coda][0] if a.coda in table.clusters else ""
    if b.onset in table.aspirate:
        a.coda, b.onset = rest, table.aspirate[b.onset]
        return True
    if b.onset in table.tense:  # the one lenis onset without an aspirated partner: ㅅ → ㅆ
        a.coda, b.onset = rest, table.tense[b.onset]
        return True
    # Before ㄴ the ㅎ is heard as ㄴ (놓는 → 논는); ㅀ keeps its ㄹ for 유음화 (뚫는 → 뚤른).
    a.coda = rest or ("ㄴ" if b.onset == "ㄴ" else table.neutral[_H])
    return False


def _aspirate(a: Syllable, b: Syllable, table: Rules) -> None:
    """A stop before ㅎ: one aspirated onset (축하 → 추카, 닫히다 → 다치다, 넓히다 → 널피다)."""
    keep, mover = table.clusters.get(a.coda, ("", a.coda))
    sound = table.aspirate_coda.get(mover)
    if sound is None:
        return  # ㄴ ㅁ ㅇ ㄹ + ㅎ: the ㅎ stays (전화)
    if mover in table.palatal and b.vowel in table.palatal_h_vowels:
        sound = table.aspirate_coda[table.palatal[mover]]
    a.coda, b.onset = keep, sound


def _consonants(a: Syllable, b: Syllable, tensing: frozenset[str], gap: bool, table: Rules) -> None:
    """Coda meets a consonant: 비음화, 유음화, 경음화, then the coda as one of seven sounds. Across a
    space the ㄹ rules stay out: they belong inside a word (신라 → 실라, but 티비를 냉방 is not 랭방)."""
    coda, onset = a.coda, b.onset
    if onset == "ㄱ" and coda in table.cluster_before_g:
        single = table.cluster_before_g[coda]
    else:
        single = table.cluster_single.get(coda, coda)
    base = table.neutral.get(single, single)
    obstruent = base in table.nasal or coda in table.cluster_tensing
    if onset in ("ㄴ", "ㅁ") and base in table.nasal:
        base = table.nasal[base]  # 국물 → 궁물, 합니다 → 함니다
    elif onset == "ㄹ" and not gap:
        if base in table.nasal:
            base, b.onset = table.nasal[base], "ㄴ"  # 백로 → 뱅노
        elif base in ("ㅁ", "ㅇ"):
            b.onset = "ㄴ"  # 종로 → 종노
        elif base == "ㄴ":
            base = "ㄹ"  # 신라 → 실라
    elif base == "ㄹ" and onset == "ㄴ" and not gap:
        b.onset = "ㄹ"  # 칼날 → 칼랄
    elif onset in table.tense and (obstruent or onset in tensing):
        b.onset = table.tense[onset]  # 세탁기 → 세탁끼, 할 수 → 할 쑤, 신고 → 신꼬
    a.coda = "" if b.onset in table.absorbed.get(base, ()) else base


def _vowel_ui(syllable: Syllable, index: int, text: str, marks: _Marks, table: Rules) -> None:
    """ㅢ: 에 as the possessive particle, ㅣ after a consonant or inside a word (희망 → 히망); a
    y-vowel after ㅈ ㅉ ㅊ loses its y (다쳐 → 다처)."""
    if syllable.onset in table.palatal_onsets:
        syllable.vowel = table.after_palatal.get(syllable.vowel, syllable.vowel)
    if syllable.vowel != table.vowel_ui:
        return
    if index in marks.possessive:
        syllable.vowel = table.vowel_e
    elif syllable.onset != _SILENT or (index > 0 and Syllable.of(text[index - 1]) is not None):
        syllable.vowel = table.vowel_i
