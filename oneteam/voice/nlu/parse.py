"""Tokens into a parse: phrases found, numbers with units, time, mood, and clauses.

The parse knows no language: every word it reacts to comes from the lexicon. What it does
know is the shape of a request: numbers carry units, a time of day or a delay makes it a
schedule, a verb's connective ending (끄고 …) or a conjunction starts another clause, and
endings or question words give the mood.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from oneteam.voice.nlu.clauses import Clause, clauses, frame_ends, has_verb
from oneteam.voice.nlu.forms import has_question_force, read_forms
from oneteam.voice.nlu.lexicon import Kind, Lexicon, Sense, key
from oneteam.voice.nlu.mention import Mention
from oneteam.voice.nlu.quantities import Quantity, read_quantities, unit_after
from oneteam.voice.nlu.tokens import Role, Token

_LOGGER = logging.getLogger(__name__)

TIME_UNITS = {"hour": 3600, "minute": 60, "second": 1}
# "몇 도야?" asks for a temperature, "몇 번이야?" for a channel.
_UNIT_ASPECTS = {"degree": "temperature", "number": "channel", "percent": "brightness"}

_NOUN_ONLY = frozenset({Kind.ABSENT, Kind.OFFTOPIC})


@dataclass(frozen=True, slots=True, kw_only=True)
class Parsed:
    """Everything the resolver needs from one utterance."""

    clauses: tuple[Clause, ...]
    mentions: tuple[Mention, ...]
    is_question: bool
    is_request: bool
    is_tell: bool
    is_phrase: bool = False
    """No final ending: a bare noun phrase ("세탁기 남은 시간", "TV 볼륨")."""
    is_statement: bool = False
    """"에어컨 켰어", "청소기 돌렸어?": a report or a question about the past, not a request."""
    is_negated: bool = False
    """"끄지 마", "don't": the person asks for nothing to be done."""
    delay_s: int | None = None
    at: str | None = None
    asks_state: bool = False
    """A state asked in a verb form (작동 중이야, 켜져 있어, 껐니, 꺼졌는지 확인해 줘): never acts."""
    feature_switched: frozenset[str] = frozenset()
    """Device types whose on/off needs their feature named (lexicon.grammar.feature_switched)."""
    names_unknown_mode: bool = False
    """"외출 모드", "party mode": a mode or scene by a name the home does not know."""
    names_elsewhere: bool = False
    """A place name the home does not know, with no room or device of ours ("강남 미세먼지")."""
    exclusion_follows: bool = False
    """What an exclusion word leaves out comes after it ("except the kitchen"), not before (거실 빼고)."""
    has_unknown_verb: bool = False
    """A verb the lexicon does not know ("이불 개 줘"): what it asks is not something we do."""

    def has(self, kind: Kind) -> bool:
        """Whether any phrase has this kind."""
        return any(m.has(kind) for m in self.mentions)

    def senses(self, kind: Kind) -> list[Sense]:
        """Every sense of this kind, in order."""
        return [s for m in self.mentions for s in m.senses if s.kind is kind]


def _digit_names(
    tokens: tuple[Token, ...], text: str, lexicon: Lexicon, consumed: list[bool]
) -> list[Mention]:
    """Phrases that begin with a number ("1단", "둘 다") are found before numbers are read."""
    out = []
    for i, token in enumerate(tokens):
        if token.role not in (Role.NUMBER, Role.NUMERAL, Role.DETERMINER) or consumed[i]:
            continue
        for end in (i + 3, i + 2):
            if end <= len(tokens):
                senses = lexicon.words.get(key(text[token.start : tokens[end - 1].end]))
                if senses:
                    out.append(Mention(senses, i, end))
                    consumed[i:end] = [True] * (end - i)
                    break
    return out


def _phrases(  # noqa: PLR0912 - one branch per way a phrase is found
    tokens: tuple[Token, ...], text: str, lexicon: Lexicon, consumed: list[bool]
) -> list[Mention]:
    """The longest known phrase at each place, then verb base forms."""
    out: list[Mention] = []
    i, n = 0, len(tokens)
    while i < n:
        token = tokens[i]
        if consumed[i] or token.is_ending:
            i += 1
            continue
        found = None
        for end in range(min(n, i + lexicon.max_span), i, -1):
            if any(consumed[i:end]):
                continue
            senses = lexicon.words.get(key(text[token.start : tokens[end - 1].end]))
            is_one_verb = token.is_verb and all(t.is_ending for t in tokens[i + 1 : end])
            if senses and is_one_verb and any(s.kind in _NOUN_ONLY for s in senses):
                senses = None  # 차 (cold) is not 차 (a car): things are nouns, not verbs
            if senses:
                found = Mention(senses, i, end)
                break
        if found is None and (token.is_verb or token.role is Role.ROOT):
            senses = lexicon.lemmas.get(token.lemma, ())
            if (
                not senses
                and token.role is Role.ROOT
                and i + 1 < n
                and tokens[i + 1].role in (Role.VERB_SUFFIX, Role.SUFFIX)
            ):
                senses = lexicon.lemmas.get(token.lemma + tokens[i + 1].lemma, ())  # 시원 + 하
            if senses:
                found = Mention(senses, i, i + 1)
        if found is None and token.role is Role.NOUN and lexicon.fuzzy is not None:
            corrected = lexicon.fuzzy.correct(token.surface)  # 불륨 → 볼륨
            if corrected is not None:
                found = Mention(lexicon.words[key(corrected)], i, i + 1)
        if found is not None:
            out.append(found)
            i = found.end
        else:
            i += 1
    return out


def _modifier_verb(mention: Mention, tokens: tuple[Token, ...], lexicon: Lexicon) -> Mention | None:
    """`켜는 법`, `켜는 게 좋을까`: a verb that modifies a noun is not asked for; dropped then.
    `켤 수 있어?` stays a request."""
    if not any(mention.has(k) for k in (Kind.ACTION, Kind.DIRECTED)) or not has_verb(tokens, mention):
        return mention
    following = tokens[mention.end : mention.end + 2]
    if (
        not following
        or following[0].role not in (Role.MODIFIER_ENDING, Role.NOMINAL_ENDING)
        or following[0].lemma not in lexicon.grammar.nominal_endings
    ):
        return mention
    if len(following) > 1 and following[1].lemma in lexicon.grammar.ability_nouns:
        return mention
    if following[0].role is Role.NOMINAL_ENDING and all(
        t.role is Role.SENTENCE_MARK for t in tokens[mention.end + 1 :]
    ):
        return mention  # a to-do said as a noun at the very end: "에어컨 끄기", "불 켜기"
    senses = tuple(s for s in mention.senses if s.kind not in (Kind.ACTION, Kind.DIRECTED))
    return Mention(senses, mention.start, mention.end) if senses else None


def _activity_done(mention: Mention, tokens: tuple[Token, ...], lexicon: Lexicon) -> Mention:
    """`빨래해`, `청소하자`: an activity noun with its light verb right after asks to do it,
    unless a pre-final ending makes it a statement (`빨래했어`, `청소해야겠다`). The same for
    going on with one (`계속해`, `이어서 해`, `마저 해`)."""
    activity = mention.first(Kind.ACTIVITY) or mention.first(Kind.CONTINUE)
    if activity is None or mention.end >= len(tokens):
        return mention
    after = mention.end
    while after < len(tokens) - 1 and tokens[after].role is Role.ADVERB:  # 청소 좀 해, 빨래 빨리 해
        after += 1
    verb = tokens[after]
    if verb.lemma not in lexicon.grammar.light_verbs or not (verb.is_verb or verb.role is Role.VERB_SUFFIX):
        return mention
    if any(t.role is Role.PREFINAL_ENDING for t in tokens[mention.end : after + 3]):
        return mention  # 빨래했어, 청소해야겠다: the light verb's own endings
    senses = tuple(Sense(s.kind, s.value, "done") if s is activity else s for s in mention.senses)
    return Mention(senses, mention.start, mention.end)


def _terse_activity(mentions: list[Mention], tokens: tuple[Token, ...]) -> list[Mention]:
    """Typed without a verb ("건조기 표준 코스로 건조"), an activity said last after the thing or
    the course it runs on asks to do it, as "건조해" does."""
    said = [t for t in tokens if t.role is not Role.SENTENCE_MARK]
    if not mentions or any(t.is_verb or t.role is Role.FINAL_ENDING for t in said):
        return mentions
    last = mentions[-1]
    activity = last.first(Kind.ACTIVITY) or last.first(Kind.CONTINUE)  # 건조기 계속: go on with it
    named = any(m.has(Kind.DEVICE) or m.has(Kind.TYPE) or m.has(Kind.MODE) for m in mentions[:-1])
    if activity is None or last.end < len(said) or not named:
        return mentions
    senses = tuple(Sense(s.kind, s.value, "done") if s is activity else s for s in last.senses)
    return [*mentions[:-1], Mention(senses, last.start, last.end)]


def _unit_aspects(mentions: list[Mention], tokens: tuple[Token, ...], lexicon: Lexicon) -> list[Mention]:
    """`몇 도` asks for a temperature: a question word before a unit names what is asked."""
    out = []
    for mention in mentions:
        out.append(mention)
        if mention.has(Kind.QUESTION):
            unit, _ = unit_after(tokens, mention.end, lexicon)
            if unit in _UNIT_ASPECTS:
                out.append(Mention((Sense(Kind.ASPECT, _UNIT_ASPECTS[unit]),), mention.end, mention.end + 1))
    return out


def _to_24h(hour: int, period: str | None, unmarked: Mapping[int, str]) -> int:
    """Spoken hour and part of day → 24-hour clock (오후 3시 → 15, 밤 11시 → 23, 밤 12시 → 0);
    an hour said without one takes the part the language data gives it (`unmarked_hours`)."""
    hour %= 24
    if period is None and hour in unmarked:
        period = unmarked[hour]
    if period == "am":
        return 0 if hour == 12 else hour
    if period == "pm":
        return hour + 12 if hour < 12 else hour
    if period == "night":
        if hour == 12:
            return 0
        return hour + 12 if 6 <= hour < 12 else hour
    return hour


def _time(
    quantities: list[Quantity], mentions: list[Mention], unmarked: Mapping[int, str]
) -> tuple[int | None, str | None, list[Quantity]]:
    """(delay_s, at, the quantities left for values)."""
    quantities = [q for q in quantities if q.unit != "count"]  # 에어컨 두 대: how many, not a value
    oclock = next((q for q in quantities if q.unit == "oclock"), None)
    if oclock is not None:
        minute_q = next(
            (q for q in quantities if q.unit == "minute" and 0 <= q.start - oclock.end <= 1), None
        )
        period = next((s.value for m in mentions for s in m.senses if s.kind is Kind.PERIOD), None)
        hour = _to_24h(int(oclock.value), period, unmarked)
        minute = int(minute_q.value) if minute_q is not None else 0
        rest = [q for q in quantities if q is not oclock and q is not minute_q]
        return None, f"{hour:02d}:{minute % 60:02d}", rest
    clock = next((s.value for m in mentions for s in m.senses if s.kind is Kind.CLOCK), None)
    if clock is not None:
        return None, clock, [q for q in quantities if q.unit not in TIME_UNITS]
    durations = [q for q in quantities if q.unit in TIME_UNITS]
    if durations and any(m.has(Kind.AFTER) or m.has(Kind.BEFORE) for m in mentions):
        delay = sum(q.value * TIME_UNITS[q.unit or "second"] for q in durations)
        return round(delay), None, [q for q in quantities if q.unit not in TIME_UNITS]
    return None, None, [q for q in quantities if q.unit not in TIME_UNITS]


def _mood(tokens: tuple[Token, ...], mentions: list[Mention], lexicon: Lexicon) -> tuple[bool, bool, bool]:
    """(is_question, is_request, is_tell)."""
    grammar = lexicon.grammar
    is_question = has_question_force(tokens, lexicon)
    for mention in mentions:
        sense = mention.first(Kind.QUESTION)
        if sense is not None and (sense.extra != "start" or mention.start == 0):
            is_question = True
    is_request = any(m.has(Kind.REQUEST) for m in mentions) or any(
        (t.role is Role.AUXILIARY and t.lemma in grammar.request_auxiliaries)
        or (t.role is Role.FINAL_ENDING and t.lemma in grammar.request_endings)
        for t in tokens
    )
    is_tell = any(m.has(Kind.TELL) for m in mentions)
    return is_question, is_request, is_tell


def _negation(
    tokens: tuple[Token, ...], mentions: list[Mention], lexicon: Lexicon
) -> tuple[list[Mention], bool]:
    """(mentions, is_negated). "끄지 마" asks for nothing; "키지 말고 꺼" asks for what follows
    (the negated act is dropped); "꺼 주면 안 될까?" is a polite request, not a negation."""
    grammar = lexicon.grammar
    negated = any(m.has(Kind.NEGATION) for m in mentions)
    asks = has_question_force(tokens, lexicon)
    for index, token in enumerate(tokens):
        if token.role is Role.ADVERB and token.lemma in grammar.negation_adverbs:
            before = tokens[index - 1] if index > 0 else None
            if (
                before is not None
                and before.role is Role.CONNECTIVE_ENDING
                and before.lemma in grammar.conditional_endings
            ):
                continue  # 꺼 주면 안 될까?
            if not any(m.start == index + 1 and _acts(m) for m in mentions):
                continue  # 소리가 안 들려 좀 키워 줘: 안 negates hearing, not the request
            negated = True
        elif token.lemma in grammar.negation_auxiliaries and (
            token.role is Role.AUXILIARY
            or (token.role is Role.VERB and index > 0 and tokens[index - 1].role is Role.CONNECTIVE_ENDING)
        ):  # 끄지 마; 돌릴까 말까 (Kiwi may tag this 말 as a verb)
            if asks and not any(m.end <= index and m.has(Kind.ACTION) for m in mentions):
                continue  # 안방 좀 춥지 않니?: a question whether it is, not a refusal
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            later = [m for m in mentions if m.start > index and m.has(Kind.ACTION)]
            if following is not None and following.lemma in grammar.clause_endings and later:
                mentions = [_drop_acts(m) if m.end <= index and m.has(Kind.ACTION) else m for m in mentions]
                continue
            negated = True
    return mentions, negated


def _acts(mention: Mention) -> bool:
    return any(mention.has(k) for k in (Kind.ACTION, Kind.DIRECTED, Kind.STATE, Kind.ACTIVITY, Kind.MODE))


def _drop_acts(mention: Mention) -> Mention:
    senses = tuple(s for s in mention.senses if s.kind not in (Kind.ACTION, Kind.DIRECTED))
    return Mention(senses or (Sense(Kind.NEGATION, "dropped"),), mention.start, mention.end)


def _unknown_mode(tokens: tuple[Token, ...], mentions: list[Mention]) -> bool:
    """A word no phrase covers, right before the word for "mode" (외출 모드, party mode)."""
    covered = {i for m in mentions for i in range(m.start, m.end)}
    for mention in mentions:
        aspect = mention.first(Kind.ASPECT)
        if aspect is None or aspect.value != "mode" or mention.has(Kind.MODE) or mention.start == 0:
            continue
        before = mention.start - 1
        if before not in covered and tokens[before].role in (Role.NOUN, Role.FOREIGN):
            return True
    return False


_OURS = (Kind.DEVICE, Kind.ROOM, Kind.TYPE, Kind.HERE, Kind.ANY, Kind.ALL)


def _elsewhere(tokens: tuple[Token, ...], mentions: list[Mention]) -> bool:
    """A proper noun no phrase covers (a district, a town) while nothing of the home is named:
    the air or temperature asked about is somewhere else."""
    if any(m.has(kind) for m in mentions for kind in _OURS):
        return False
    covered = {i for m in mentions for i in range(m.start, m.end)}
    return any(token.proper and index not in covered for index, token in enumerate(tokens))


def _unknown_verb(tokens: tuple[Token, ...], mentions: list[Mention], lexicon: Lexicon) -> bool:
    """A main verb (not an auxiliary, light verb or copula) that no phrase covers."""
    covered = {i for m in mentions for i in range(m.start, m.end)}
    grammar = lexicon.grammar
    for index, token in enumerate(tokens):
        if token.role is not Role.VERB or index in covered:
            continue
        if token.lemma in grammar.light_verbs:
            continue
        if (
            token.lemma in grammar.request_auxiliaries
            and index > 0
            and tokens[index - 1].role is Role.CONNECTIVE_ENDING
        ):
            continue  # 켜 줘 (an auxiliary Kiwi tagged as a verb); 이불 줘 is "give", not ours
        if token.lemma in lexicon.lemmas or token.lemma in grammar.know_verbs:
            continue
        return True
    return False


def parse(tokens: tuple[Token, ...], text: str, lexicon: Lexicon) -> Parsed:
    """The parse of one tokenized utterance."""
    consumed = [False] * len(tokens)
    digit_names = _digit_names(tokens, text, lexicon, consumed)
    quantities = read_quantities(tokens, lexicon, consumed)
    mentions = sorted([*digit_names, *_phrases(tokens, text, lexicon, consumed)], key=lambda m: m.start)
    mentions = _terse_activity([_activity_done(m, tokens, lexicon) for m in mentions], tokens)
    # A filler (그 뭐냐) is no part of the request: its question form asks nothing.
    fillers = {i for m in mentions if m.has(Kind.FILLER) for i in range(m.start, m.end)}
    said = tuple(t for i, t in enumerate(tokens) if i not in fillers) if fillers else tokens
    mentions = [m for m in mentions if not m.has(Kind.FILLER)]
    forms = read_forms(tokens, mentions, lexicon, question=has_question_force(said, lexicon))
    mentions = forms.mentions
    mentions = [kept for m in mentions if (kept := _modifier_verb(m, tokens, lexicon)) is not None]
    mentions = _unit_aspects(mentions, tokens, lexicon)
    delay_s, at, values = _time(quantities, mentions, lexicon.grammar.unmarked_hours)
    is_question, is_request, is_tell = _mood(said, mentions, lexicon)
    grammar = lexicon.grammar
    mentions, is_negated = _negation(tokens, mentions, lexicon)
    # The past inside a condition (다 돌았으면 …) does not make the request a report.
    main_from = max(frame_ends(tokens, lexicon), default=0)
    is_statement = any(
        t.role is Role.PREFINAL_ENDING and t.lemma in grammar.statement_markers for t in tokens[main_from:]
    )
    return Parsed(
        clauses=clauses(tokens, mentions, values, lexicon),
        mentions=tuple(mentions),
        is_question=is_question,
        is_request=is_request,
        is_tell=is_tell,
        is_negated=is_negated,
        is_statement=is_statement,
        is_phrase=not any(t.role is Role.FINAL_ENDING for t in tokens),
        delay_s=delay_s,
        at=at,
        asks_state=forms.asks_state,
        has_unknown_verb=_unknown_verb(tokens, mentions, lexicon),
        names_unknown_mode=_unknown_mode(tokens, mentions),
        names_elsewhere=_elsewhere(tokens, mentions),
        feature_switched=lexicon.grammar.feature_switched,
        exclusion_follows=lexicon.grammar.exclusion_follows,
    )
