"""A parse plus the home into a result: which devices, which commands, or which question.

Safety first: an utterance acts only when it names a device, a device type, a room with
"all", or something only some devices have (a temperature, a compartment), and says what to
do. Anything off-topic, or about a thing the home lacks, is `none`; an ambiguous target is
`clarify`, never a guess.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from oneteam.model import Device, DeviceType, Home
from oneteam.voice.nlu.intent import Intent, actions_for, intent_of
from oneteam.voice.nlu.lexicon import Kind
from oneteam.voice.nlu.parse import Clause, Parsed
from oneteam.voice.nlu.result import (
    Action,
    ClarifyResult,
    CommandResult,
    NoneResult,
    QueryResult,
    Result,
    ScheduleResult,
)

_LOGGER = logging.getLogger(__name__)

_STRONG_ACTIONS = frozenset({"on", "off", "start", "pause", "stop", "return_to_base", "up", "down"})


@dataclass(frozen=True, slots=True)
class _Group:
    """One target as said: named devices, or a type (in some rooms), or rooms alone."""

    devices: tuple[str, ...] = ()
    rooms: tuple[str, ...] = ()
    type: DeviceType | None = None


class Resolver:
    """Resolves parses against one home."""

    def __init__(self, home: Home) -> None:
        self._home = home
        self._by_type: dict[DeviceType, list[Device]] = {}
        for device in home.devices.values():
            self._by_type.setdefault(device.type, []).append(device)

    def resolve(self, parsed: Parsed, context_room: str | None) -> Result:
        """The result of one parsed utterance heard in `context_room` (None when unknown)."""
        if parsed.has(Kind.OFFTOPIC) or parsed.has(Kind.ABSENT) or parsed.is_negated:
            return NoneResult()
        if self._wants_query(parsed):
            query = self._query(parsed, context_room)
            if query is not None:
                return query
        if self._only_asks(parsed) or (parsed.is_statement and not parsed.is_request):
            return NoneResult()
        return self._commands(parsed, context_room)

    def _commands(self, parsed: Parsed, context_room: str | None) -> Result:
        actions: list[Action] = []
        previous: list[Device] = []
        # Rooms the sentence names anywhere break a tie before the speaker's room does
        # ("에어컨 끄고 공기청정기 켜 줘": the purifier's room is the air conditioner's too).
        named_rooms = self._named_rooms(parsed)
        for clause in parsed.clauses:
            intent = intent_of(clause, is_request=parsed.is_request)
            if not intent.has_cue:
                continue
            groups = self._groups(clause)
            rooms = (*dict.fromkeys(d.room for d in previous), *named_rooms, context_room)
            targets = self._targets(groups, intent, clause.has(Kind.ALL), rooms, previous)
            if isinstance(targets, ClarifyResult):
                return targets
            is_strict = all(not g.devices and g.type is None for g in groups) and bool(groups)
            for device in targets:
                found = actions_for(device, intent, is_strict=is_strict)
                actions.extend(a for a in found if a not in actions)
            previous = targets or previous
        if not actions:
            return NoneResult()
        if parsed.delay_s is not None or parsed.at is not None:
            return ScheduleResult(actions=tuple(actions), delay_s=parsed.delay_s, at=parsed.at)
        return CommandResult(actions=tuple(actions))

    # -- targets ---------------------------------------------------------------------------

    def _named_rooms(self, parsed: Parsed) -> tuple[str | None, ...]:
        rooms: list[str | None] = []
        for mention in parsed.mentions:
            device = mention.first(Kind.DEVICE)
            room = mention.first(Kind.ROOM)
            if device is not None and device.value in self._home.devices:
                rooms.append(self._home.devices[device.value].room)
            elif room is not None:
                rooms.append(room.value)
        return tuple(dict.fromkeys(rooms))

    def _groups(self, clause: Clause) -> list[_Group]:
        """Targets in the order said; rooms said before a type or device belong to it."""
        groups: list[_Group] = []
        rooms: list[str] = []
        for mention in clause.mentions:
            device = mention.first(Kind.DEVICE)
            kind = mention.first(Kind.TYPE) or mention.first(Kind.ACTIVITY) or mention.first(Kind.FEATURE)
            if device is not None and device.value in self._home.devices:
                found = self._home.devices[device.value]
                if rooms and found.room is not None:
                    groups.append(_Group(rooms=(*rooms, found.room), type=found.type))
                else:
                    groups.append(_Group(devices=(found.id,)))
                rooms = []
            elif kind is not None:
                groups.append(_Group(rooms=tuple(rooms), type=DeviceType(kind.value)))
                rooms = []
            elif mention.has(Kind.COMPARTMENT):
                groups.append(_Group(rooms=tuple(rooms), type=DeviceType.REFRIGERATOR))
                rooms = []
            elif (room := mention.first(Kind.ROOM)) is not None:
                rooms.append(room.value)
        if not groups:
            # A course or mode that only one kind of device has names it: "이불 빨래 돌려 줘".
            owners = {s.extra for m in clause.mentions for s in m.senses if s.kind is Kind.MODE}
            if len(owners) == 1:
                groups.append(_Group(rooms=tuple(rooms), type=DeviceType(owners.pop())))
                rooms = []
        if rooms:
            open_types = [i for i, g in enumerate(groups) if g.type is not None and not g.rooms]
            for index in open_types:
                # "the lights in the bedroom", "에어컨 안방 거": the room came after.
                groups[index] = _Group(rooms=tuple(rooms), type=groups[index].type)
            if not groups:
                groups.append(_Group(rooms=tuple(rooms)))
        return groups

    def _pick(
        self, pool: list[Device], is_all: bool, rooms: tuple[str | None, ...]
    ) -> list[Device] | ClarifyResult:
        """All of `pool` when asked for all or when it is one device; else the ones in the
        first of `rooms` that has any (the rooms said earlier in the sentence, then the
        speaker's room); else ask back."""
        if is_all or len(pool) <= 1:
            return pool
        for room in rooms:
            here = [d for d in pool if room is not None and d.room == room]
            if here:
                return here
        return ClarifyResult(candidates=tuple(d.id for d in pool))

    def _targets(
        self,
        groups: list[_Group],
        intent: Intent,
        is_all: bool,
        rooms: tuple[str | None, ...],
        previous: list[Device],
    ) -> list[Device] | ClarifyResult:
        if not groups:
            if previous:
                return previous
            if not intent.names_something:
                return []
            able = [d for d in self._home.devices.values() if actions_for(d, intent)]
            return self._pick(able, False, rooms)
        out: list[Device] = []
        for group in groups:
            # A room said for an earlier target is the first guess for a later one
            # ("안방 불하고 에어컨" is the bedroom's air conditioner).
            said = tuple(dict.fromkeys(d.room for d in out))
            chosen = self._group_devices(group, intent, is_all, (*said, *rooms))
            if isinstance(chosen, ClarifyResult):
                return chosen
            out.extend(d for d in chosen if d not in out)
        return out

    def _group_devices(
        self, group: _Group, intent: Intent, is_all: bool, rooms: tuple[str | None, ...]
    ) -> list[Device] | ClarifyResult:
        if group.devices:
            return [self._home.devices[d] for d in group.devices]
        if group.type is not None:
            pool = self._by_type.get(group.type, [])
            if group.rooms:
                in_rooms = [d for d in pool if d.room in group.rooms]
                if in_rooms or len(pool) != 1:
                    return in_rooms or ClarifyResult(candidates=tuple(d.id for d in pool))
            return self._pick(pool, is_all, rooms)
        able = [
            d
            for d in self._home.devices.values()
            if d.room in group.rooms and actions_for(d, intent, is_strict=True)
        ]
        if is_all or len(able) <= 1:
            return able
        return ClarifyResult(candidates=tuple(d.id for d in able))

    # -- questions ---------------------------------------------------------------------------

    @staticmethod
    def _wants_query(parsed: Parsed) -> bool:
        if not (parsed.is_question or parsed.is_tell):
            # A bare noun phrase naming what to know ("세탁기 남은 시간") asks for it.
            return parsed.is_phrase and parsed.has(Kind.ASPECT) and not any(c.has_cue for c in parsed.clauses)
        if parsed.is_request and not parsed.is_tell:
            return False
        actions = {s.value for s in parsed.senses(Kind.ACTION)}
        asks = parsed.has(Kind.QUESTION) or parsed.has(Kind.STATE) or parsed.is_tell
        return asks or not (actions & _STRONG_ACTIONS)

    @staticmethod
    def _only_asks(parsed: Parsed) -> bool:
        """A question that is not a request acts only on an explicit verb ("에어컨 켤까?");
        "세탁 다 됐어?" must not start the washer."""
        if not parsed.is_question or parsed.is_request:
            return False
        actions = {s.value for s in parsed.senses(Kind.ACTION)}
        return not (actions & _STRONG_ACTIONS) and not parsed.has(Kind.DIRECTED)

    def _query(self, parsed: Parsed, context_room: str | None) -> Result | None:
        attribute = self._attribute(parsed)
        if attribute is None:
            return None
        groups = [g for clause in parsed.clauses for g in self._groups(clause)]
        pool: list[Device] = []
        for group in groups:
            if group.devices:
                pool.extend(self._home.devices[d] for d in group.devices)
            elif group.type is not None:
                typed = self._by_type.get(group.type, [])
                pool.extend(d for d in typed if not group.rooms or d.room in group.rooms)
            else:
                pool.extend(d for d in self._home.devices.values() if d.room in group.rooms)
        named = any(g.devices or g.type is not None for g in groups)
        if not named and not parsed.has(Kind.ASPECT):
            # A state verb alone ("거실에서 뭐 해?", "언제 끝나?") does not say which device.
            return None
        if not groups:
            pool = list(self._home.devices.values())
        # Asking about a room, or about nothing named, is asking what it is there now.
        room_only = all(not g.devices and g.type is None for g in groups)
        if attribute == "temperature" and (parsed.has(Kind.NOW) or room_only):
            attribute = "current_temperature"
        answering = [d for d in {d.id: d for d in pool}.values() if self._answers(d, attribute)]
        measuring = [d for d in answering if attribute in d.spec.queries]
        # The room's temperature comes from a device that measures it, not from the fridge.
        answering = measuring or answering
        if not answering:
            return None
        chosen = self._pick(answering, False, (context_room,))
        if isinstance(chosen, ClarifyResult):
            return chosen
        device = chosen[0]
        compartments = parsed.senses(Kind.COMPARTMENT)
        target = compartments[0].value if compartments and device.spec.compartments else None
        return QueryResult(device=device.id, attribute=self._attribute_of(device, attribute), target=target)

    @staticmethod
    def _answers(device: Device, attribute: str) -> bool:
        queries = device.spec.queries
        if attribute == "current_temperature":
            return "current_temperature" in queries or "temperature" in queries
        return attribute in queries

    @staticmethod
    def _attribute_of(device: Device, attribute: str) -> str:
        if attribute == "current_temperature" and attribute not in device.spec.queries:
            return "temperature"
        return attribute

    @staticmethod
    def _attribute(parsed: Parsed) -> str | None:
        aspects = parsed.senses(Kind.ASPECT)
        if aspects:
            return aspects[0].value
        states = parsed.senses(Kind.STATE)
        if states:
            return states[0].value
        if {s.value for s in parsed.senses(Kind.ACTION)} & {"on", "off"}:
            return "power"
        return None
