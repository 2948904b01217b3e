"""Cutting an utterance into clauses, one request each ("거실 불 끄고 | 에어컨 켜 줘"): a verb's
connective ending, a conjunction or a light verb closes a clause, a condition or background
("세탁기 끝났으면", "켜져 있는데") ends its own, and a clause with nothing to do joins the next.
`parse.py` finds the phrases and numbers first and calls `clauses()` to group them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from oneteam.voice.nlu.lexicon import Kind, Lexicon, Sense
from oneteam.voice.nlu.mention import Mention
from oneteam.voice.nlu.quantities import Quantity
from oneteam.voice.nlu.tokens import Role, Token

_TARGET_KINDS = (Kind.DEVICE, Kind.TYPE, Kind.ROOM, Kind.ACTIVITY, Kind.FEATURE, Kind.ANY, Kind.HERE)
_ACTION_KINDS = (Kind.ACTION, Kind.DIRECTED, Kind.MODE, Kind.FAN, Kind.ACTIVITY)


@dataclass(frozen=True, slots=True)
class Clause:
    """One request inside an utterance ("거실 불 끄고" | "에어컨 켜줘")."""

    mentions: tuple[Mention, ...]
    quantities: tuple[Quantity, ...]

    def senses(self, kind: Kind) -> list[Sense]:
        """Every sense of this kind, in order."""
        return [s for m in self.mentions for s in m.senses if s.kind is kind]

    def has(self, kind: Kind) -> bool:
        """Whether any phrase of the clause has this kind."""
        return any(m.has(kind) for m in self.mentions)

    @property
    def has_cue(self) -> bool:
        """Whether the clause says what to do (an action, a value, a mode)."""
        return bool(self.quantities) or any(self.has(kind) for kind in _ACTION_KINDS)


def has_verb(tokens: tuple[Token, ...], mention: Mention) -> bool:
    return any(t.is_verb for t in tokens[mention.start : mention.end])


def _clause_end(tokens: tuple[Token, ...], start: int, lexicon: Lexicon) -> int | None:
    """After an action verb and its auxiliaries (꺼 주고, 끄고), where a connective ending
    closes the clause; None when the verb ends the sentence or is followed by something else."""
    for index in range(start, len(tokens)):
        token = tokens[index]
        if token.role is Role.CONNECTIVE_ENDING and token.lemma in lexicon.grammar.clause_endings:
            return index + 1
        is_auxiliary = token.role is Role.AUXILIARY or token.lemma in lexicon.grammar.request_auxiliaries
        if not (token.is_ending or is_auxiliary):
            return None
    return None


def frame_ends(tokens: tuple[Token, ...], lexicon: Lexicon) -> set[int]:
    """Where condition or background clauses end (after 끝났으면, 켜져 있는데)."""
    grammar = lexicon.grammar
    return {
        index + 1
        for index, token in enumerate(tokens)
        if token.role is Role.CONNECTIVE_ENDING
        and token.lemma in grammar.frame_endings
        and index > 0
        # 꺼 주면 안 될까?, 켜 줬으면 좋겠어: a request, however it is dressed
        and not any(t.lemma in grammar.request_auxiliaries for t in tokens[max(0, index - 3) : index])
    }


def clauses(  # noqa: PLR0912 - cuts of four kinds, then one merge
    tokens: tuple[Token, ...], mentions: list[Mention], quantities: list[Quantity], lexicon: Lexicon
) -> tuple[Clause, ...]:
    """Split at a verb's connective ending or a conjunction; a clause with nothing to do joins the next."""
    cuts: list[int] = []
    for mention in mentions:
        if mention.has(Kind.CLAUSE):
            cuts.append(mention.start)
        elif any(mention.has(k) for k in (Kind.ACTION, Kind.DIRECTED)) and has_verb(tokens, mention):
            cut = _clause_end(tokens, mention.end, lexicon)
            if cut is not None:
                cuts.append(cut)
    grammar = lexicon.grammar
    for index in range(len(tokens) - 1):
        # "볼륨 20으로 하고 에어컨 꺼": a light verb with a connective ending closes its clause too.
        token, following = tokens[index], tokens[index + 1]
        if (
            token.is_verb
            and token.lemma in grammar.light_verbs
            and following.role is Role.CONNECTIVE_ENDING
            and following.lemma in grammar.clause_endings
        ):
            cuts.append(index + 2)
    # "세탁기 끝났으면 …", "티비 켜져 있는데 …": a condition or background ends its clause too.
    frames = frame_ends(tokens, lexicon)
    cuts.extend(frames)
    bounds = [0, *sorted(set(cuts)), len(tokens) + 1]
    raw: list[Clause] = []
    is_frame: list[bool] = []
    for low, high in itertools.pairwise(bounds):
        raw.append(
            Clause(
                tuple(m for m in mentions if low <= m.start < high and not m.has(Kind.CLAUSE)),
                tuple(q for q in quantities if low <= q.start < high),
            )
        )
        is_frame.append(high in frames)
    merged: list[Clause] = []
    pending: list[Mention] = []
    for index, clause in enumerate(raw):
        if is_frame[index]:
            # Its target is the request's only when the request names none ("켜져 있으면 꺼 줘");
            # otherwise it is about something else ("세탁기 끝났으면 건조기 돌려 줘").
            request = raw[index + 1] if index + 1 < len(raw) else None
            if request is None or not any(request.has(k) for k in _TARGET_KINDS):
                pending.extend(m for m in clause.mentions if not any(m.has(k) for k in _ACTION_KINDS))
            continue
        if not clause.has_cue:
            pending.extend(clause.mentions)
            continue
        merged.append(Clause((*pending, *clause.mentions), clause.quantities))
        pending = []
    if pending:
        if merged:
            last = merged.pop()
            merged.append(Clause((*last.mentions, *pending), last.quantities))
        else:
            merged.append(Clause(tuple(pending), ()))
    return tuple(merged)
