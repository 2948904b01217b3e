"""Verb forms that turn a command word into a question about state, and complaints.

Korean marks whether something is asked to happen or asked about by the form of the verb, not
by the verb: 작동해 (start it) but 작동 중이야 (is it running?), 켜 줘 but 켜져 있어 (is it on?),
껐니 (did you turn it off → is it off?), 꺼졌는지 확인해 줘 (check whether it is off). Each of
these makes the utterance ask (`asks_state`), and the action word becomes the state it asks about.
An adjective said as a description ("너무 밝아") is a complaint: the wanted direction is the
opposite. Which words play these parts comes from the grammar YAML.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from oneteam.voice.nlu.lexicon import Kind, Lexicon, Sense
from oneteam.voice.nlu.mention import Mention
from oneteam.voice.nlu.tokens import Role, Token

_FLIP = {"up": "down", "down": "up"}
# What a form replaces when it turns an action into a state.
_ACTING = (Kind.ACTION, Kind.DIRECTED, Kind.ASPECT)


@dataclass(frozen=True, slots=True)
class Forms:
    """Mentions after reading verb forms, and what the forms say about the utterance."""

    mentions: list[Mention]
    asks_state: bool
    """A progressive, resultative or perfective question, or an embedded question to check."""


def _tail(tokens: tuple[Token, ...], start: int, lexicon: Lexicon) -> list[Token]:
    """The endings and auxiliaries right after a word (켜 + 져 있 어, 끝 + 났 니)."""
    out = []
    for token in tokens[start:]:
        if (
            token.is_ending
            or token.role is Role.AUXILIARY
            or token.lemma in lexicon.grammar.request_auxiliaries
        ):
            out.append(token)
        else:
            break
    return out


def _state_of(
    mention: Mention, tokens: tuple[Token, ...], table: dict[str, str] | None, default: str | None
) -> str | None:
    """The attribute a mention asks about in this form: by its verb (끝나), its action, its state."""
    lemma = tokens[mention.start].lemma
    if table is not None and mention.end - mention.start == 1 and lemma in table:
        return table[lemma]
    for sense in mention.senses:
        if sense.kind in (Kind.STATE, Kind.ACTION) and table is not None and sense.value in table:
            return table[sense.value]
    state = mention.first(Kind.STATE)
    if state is not None:
        return state.value
    return default


def _as_state(mention: Mention, attribute: str) -> Mention:
    kept = tuple(s for s in mention.senses if s.kind not in (*_ACTING, Kind.STATE, Kind.MODE))
    kept = tuple(Sense(s.kind, s.value) if s.kind is Kind.ACTIVITY else s for s in kept)
    return Mention((*kept, Sense(Kind.STATE, attribute)), mention.start, mention.end)


def _without_action(mention: Mention) -> Mention | None:
    kept = tuple(s for s in mention.senses if s.kind not in (Kind.ACTION, Kind.DIRECTED))
    return Mention(kept, mention.start, mention.end) if kept else None


def _is_actionish(mention: Mention) -> bool:
    return any(mention.has(k) for k in (Kind.ACTION, Kind.STATE, Kind.ACTIVITY))


def _progressive(mention: Mention, tokens: tuple[Token, ...], lexicon: Lexicon) -> bool:
    """작동 중, 돌아가는 중, 충전하고 있는 중: the word, perhaps a modifier ending, then 중."""
    index = mention.end
    while index < len(tokens) and (tokens[index].is_ending or tokens[index].role is Role.AUXILIARY):
        index += 1
    if index >= len(tokens):
        return False
    token = tokens[index]
    return token.role in (Role.BOUND_NOUN, Role.NOUN) and token.lemma in lexicon.grammar.progressive_nouns


def _embedded_question(tokens: tuple[Token, ...], mentions: list[Mention], lexicon: Lexicon) -> bool:
    """꺼졌는지 확인해 줘, 켜졌나 봐 줘, 켜져 있는지 알아?: a question ending inside the sentence
    followed by a verb of knowing or checking."""
    grammar = lexicon.grammar
    tell_starts = {m.start for m in mentions if m.has(Kind.TELL)}
    for index, token in enumerate(tokens):
        if token.role is not Role.CONNECTIVE_ENDING or token.lemma not in grammar.embedded_question_endings:
            continue
        for following in range(index + 1, min(len(tokens), index + 4)):
            nxt = tokens[following]
            if following in tell_starts or (nxt.is_verb and nxt.lemma in grammar.know_verbs):
                return True
            if not (nxt.role is Role.ADVERB or nxt.is_ending):
                break
    return False


def has_question_force(tokens: tuple[Token, ...], lexicon: Lexicon) -> bool:
    """A question by its final ending or mark (fillers left out by the caller)."""
    grammar = lexicon.grammar
    words = [t for t in tokens if t.role is not Role.SENTENCE_MARK]
    return (
        any(t.role is Role.SENTENCE_MARK and t.surface == "?" for t in tokens)
        or any(t.role is Role.FINAL_ENDING and t.lemma in grammar.question_endings for t in tokens)
        # Said aloud there is no "?", and Kiwi then often reads a final 니/나 as connective.
        or (
            bool(words)
            and words[-1].role is Role.CONNECTIVE_ENDING
            and words[-1].lemma in grammar.question_endings
        )
    )


def _complaint(
    mention: Mention, previous: Mention | None, tokens: tuple[Token, ...], lexicon: Lexicon
) -> Mention:
    """덜 춥게 (flip a goal), 너무 밝아 (a description: the wanted direction is the opposite)."""
    directed = mention.first(Kind.DIRECTED)
    if directed is None:
        return mention
    flip = previous is not None and previous.end == mention.start and previous.has(Kind.LESSENING)
    head = tokens[mention.start]
    is_lemma_match = mention.end - mention.start == 1 and (head.is_verb or head.role is Role.ROOT)
    describes = False
    if is_lemma_match:
        index = mention.end
        while index < len(tokens) and tokens[index].role in (Role.VERB_SUFFIX, Role.SUFFIX):
            index += 1
        after = tokens[index] if index < len(tokens) else None
        is_goal = after is not None and (
            (after.role is Role.CONNECTIVE_ENDING and after.lemma == "게")
            or (after.role is Role.AUXILIARY and after.lemma == "지")
        )
        describes = not is_goal
    if not (flip or describes):
        return mention
    direction = _FLIP.get(directed.extra, directed.extra) if flip != describes else directed.extra
    kind = Kind.COMPLAINT if describes else Kind.DIRECTED
    senses = tuple(Sense(kind, s.value, direction) if s is directed else s for s in mention.senses)
    return Mention(senses, mention.start, mention.end)


def _ongoing(tail: list[Token], lexicon: Lexicon) -> bool:
    """-고 있-: a connective 고 then the auxiliary 있."""
    grammar = lexicon.grammar
    return any(
        first.role is Role.CONNECTIVE_ENDING
        and first.lemma in grammar.clause_endings
        and second.role is Role.AUXILIARY
        and second.lemma in grammar.progressive_auxiliaries
        for first, second in itertools.pairwise(tail)
    )


def _is_fact(tokens: tuple[Token, ...], index: int, lexicon: Lexicon) -> bool:
    """켜져 있는 거야?, 끈 거 맞지?: a modifier on "the fact" that ends the sentence is the
    sentence's own predicate, not a description of something else."""
    if index >= len(tokens) or tokens[index].lemma not in lexicon.grammar.fact_nouns:
        return False
    rest = [t for t in tokens[index + 1 :] if t.role not in (Role.SENTENCE_MARK, Role.COPULA)]
    return len(rest) <= 2 and all(t.is_ending or t.is_verb for t in rest)


def _lone_progressive(tokens: tuple[Token, ...], mentions: list[Mention], lexicon: Lexicon) -> Mention | None:
    """로봇청소기 일하는 중?: an act the lexicon does not know, said as ongoing, still asks
    whether the device is running."""
    if not any(m.has(Kind.DEVICE) or m.has(Kind.TYPE) for m in mentions):
        return None
    covered = {i for m in mentions for i in range(m.start, m.end)}
    for index, token in enumerate(tokens):
        if index == 0 or index in covered or token.lemma not in lexicon.grammar.progressive_nouns:
            continue
        if token.role is Role.BOUND_NOUN and tokens[index - 1].role in (
            Role.MODIFIER_ENDING,
            Role.NOUN,
            Role.VERB_SUFFIX,
        ):
            return Mention((Sense(Kind.STATE, "run_state"),), index, index + 1)
    return None


def _surface(tokens: tuple[Token, ...]) -> str:
    """The text the tokens cover (Kiwi gives an ending the span of the syllable it is in)."""
    out, end = [], -1
    for token in tokens:
        if token.start >= end:
            out.append(token.surface)
            end = token.end
    return "".join(out)


def _goal(mention: Mention, tail: list[Token], tokens: tuple[Token, ...], lexicon: Lexicon) -> Mention | None:
    """켜지게, 꺼지게, 돌아가게 (+ 예약해/해 줘): a state verb with the goal ending 게 asks for
    the act that brings that state about."""
    goals = lexicon.grammar.goal_states
    lemma = tokens[mention.start].lemma
    if lemma not in goals:
        lemma = _surface(tokens[mention.start : mention.end])  # 꺼지 said as 끄 + 어 + 지
    if lemma not in goals or not mention.has(Kind.STATE):
        return None
    if not any(t.role in (Role.CONNECTIVE_ENDING, Role.FINAL_ENDING) and t.lemma == "게" for t in tail):
        return None
    kept = tuple(s for s in mention.senses if s.kind is not Kind.STATE)
    return Mention((*kept, Sense(Kind.ACTION, goals[lemma])), mention.start, mention.end)


def read_forms(  # noqa: PLR0912, PLR0915 - one branch per verb form
    tokens: tuple[Token, ...], mentions: list[Mention], lexicon: Lexicon, *, question: bool
) -> Forms:
    """Mentions with progressive/resultative/perfective forms read as states, and complaints
    marked; `question`: the utterance has question force (by its ending, "?" or intonation word)."""
    grammar = lexicon.grammar
    embedded = _embedded_question(tokens, mentions, lexicon)
    asks = embedded
    out: list[Mention] = []
    previous: Mention | None = None
    # past_after[i]: a past marker at or after token i (one pass, so long input stays linear)
    past_after = [False] * (len(tokens) + 1)
    for index in range(len(tokens) - 1, -1, -1):
        token = tokens[index]
        past_after[index] = past_after[index + 1] or (
            token.role is Role.PREFINAL_ENDING and token.lemma in grammar.past_markers
        )
    for mention in mentions:
        current: Mention | None = _complaint(mention, previous, tokens, lexicon)
        previous = mention
        assert current is not None
        if current.has(Kind.MODE) and not current.has(Kind.ACTION) and _progressive(current, tokens, lexicon):
            current, asks = _as_state(current, "mode"), True  # 냉방 중이야?: which mode, not set it
            out.append(current)
            continue
        if not _is_actionish(current) or current.has(Kind.DEVICE):
            out.append(current)
            continue
        tail = _tail(tokens, current.end, lexicon)
        goal = None if past_after[current.end] else _goal(current, tail, tokens, lexicon)
        if goal is not None:
            # 꺼지게 예약해, 꺼지게 해 줘: the state wanted, so the act that brings it (꺼지게 해
            # 줬어? asks about the past and stays a state)
            out.append(goal)
            continue
        auxiliaries = {t.lemma for t in tail if t.role is Role.AUXILIARY}
        if auxiliaries & grammar.request_auxiliaries or any(
            t.lemma in grammar.request_auxiliaries for t in tail
        ):
            out.append(current)  # 꺼 주시겠어요?, 켜 주셨으면: a request, however it is dressed
            continue
        has_past = any(t.role is Role.PREFINAL_ENDING and t.lemma in grammar.past_markers for t in tail) or (
            # 끈 거 맞지?: a past modifier on "the fact"
            bool(tail)
            and tail[-1].role is Role.MODIFIER_ENDING
            and tail[-1].lemma in grammar.past_modifiers
            and question
        )
        later_past = past_after[current.end]
        modifies = (
            bool(tail)
            and tail[-1].role is Role.MODIFIER_ENDING
            and not _is_fact(tokens, current.end + len(tail), lexicon)
        )
        if tail and tail[-1].role is Role.CONNECTIVE_ENDING and tail[-1].lemma in grammar.frame_endings:
            # 켜져 있으면 꺼 줘, 켜져 있는데 꺼: a condition or background, not what is asked
            out.append(_without_action(current) or current)
            continue
        if current.has(Kind.ACTION) and any(
            t.role in (Role.CONNECTIVE_ENDING, Role.FINAL_ENDING) and t.lemma == "게" for t in tail
        ):
            out.append(current)  # 꺼지게 예약해, 켜지게 해 줘: the act, wanted
            continue
        if _progressive(current, tokens, lexicon):
            attribute = _state_of(current, tokens, dict(grammar.progressive_states), "run_state")
            current, asks = _as_state(current, attribute or "run_state"), True
        elif _ongoing(tail, lexicon):
            # 청소하고 있어요?, 돌리고 있어?: -고 있- is an ongoing act, asked about
            attribute = _state_of(current, tokens, dict(grammar.progressive_states), "run_state")
            current, asks = _as_state(current, attribute or "run_state"), True
        elif modifies and not has_past and auxiliaries & grammar.resultative_auxiliaries:
            current = _without_action(current)  # 켜진 거 다 꺼: "the ones that are on" names, not asks
        elif (
            auxiliaries & grammar.resultative_auxiliaries
            and _is_actionish(current)
            and (question or has_past or embedded or auxiliaries & grammar.state_auxiliaries)
        ):
            # 켜져 있어, 열어 놨니, 돌리고 있어?: the state the act left (or is in)
            attribute = _state_of(current, tokens, dict(grammar.perfective_states), None) or _state_of(
                current, tokens, dict(grammar.progressive_states), None
            )
            current = _as_state(current, attribute) if attribute else _without_action(current)
            asks = True
        elif (has_past or (later_past and current.has(Kind.ACTION))) and (
            question
            or embedded
            or (
                has_past
                and tail[-1].role is Role.FINAL_ENDING
                and current.has(Kind.STATE)
                and not current.has(Kind.ACTION)
            )
        ):
            # 껐니?, 다 끝났니?, (불) 끄고 나왔니?; and a state verb in the past (다 끝났어) said to
            # the home is a check, whatever the intonation
            attribute = _state_of(current, tokens, dict(grammar.perfective_states), None)
            if attribute is not None:
                current, asks = _as_state(current, attribute), True
            else:
                current = _without_action(current)  # 돌렸어?: a past act, nothing to do
        if current is not None:
            out.append(current)
    if not asks:
        lone = _lone_progressive(tokens, out, lexicon)
        if lone is not None:
            out.append(lone)
            asks = True
    return Forms(sorted(out, key=lambda m: m.start), asks)
