"""A parse plus the home into a result: which devices, which commands, or which question.

Safety first: an utterance acts only when it names a device, a device type, a room with
"all", or something only some devices have (a temperature, a compartment), and says what to
do. Anything off-topic, or about a thing the home lacks, is `none`; an ambiguous target is
`clarify`, never a guess.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

from oneteam.model import Device, DeviceType, Home
from oneteam.voice.nlu.clauses import Clause
from oneteam.voice.nlu.intent import Intent, actions_for, intent_of
from oneteam.voice.nlu.lexicon import Kind
from oneteam.voice.nlu.parse import Parsed
from oneteam.voice.nlu.questions import answers, asked_attribute, attribute_of, only_asks, wants_query
from oneteam.voice.nlu.result import (
    Action,
    ClarifyResult,
    CommandResult,
    NoneResult,
    QueryResult,
    Result,
    ScheduleCancelResult,
    ScheduleListResult,
    ScheduleResult,
)

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Group:
    """One target as said: named devices, or a type (in some rooms), or rooms alone, or every
    device (`every`: 모든 기기, 거실 빼고 다) — less what was excluded (빼고, 제외하고)."""

    devices: tuple[str, ...] = ()
    rooms: tuple[str, ...] = ()
    type: DeviceType | None = None
    every: bool = False
    except_rooms: tuple[str, ...] = ()
    except_devices: tuple[str, ...] = ()

    def keeps(self, device: Device) -> bool:
        """Whether an exclusion leaves `device` in."""
        return device.id not in self.except_devices and device.room not in self.except_rooms


class Resolver:
    """Resolves parses against one home."""

    def __init__(self, home: Home) -> None:
        self._home = home
        self._by_type: dict[DeviceType, list[Device]] = {}
        for device in home.devices.values():
            self._by_type.setdefault(device.type, []).append(device)
        self._context: str | None = None
        self._exclusion_follows = False
        self._focus: tuple[str, ...] = ()

    def resolve(self, parsed: Parsed, context_room: str | None, focus: tuple[str, ...] = ()) -> Result:
        """The result of one parsed utterance heard in `context_room` (None when unknown);
        `focus`: the devices the conversation is about (a question just answered, a question
        asked back), used when the utterance names none."""
        call = copy.copy(self)  # the call's own context: conversations resolve from many threads
        call._context, call._focus = context_room, focus
        call._exclusion_follows = parsed.exclusion_follows
        return call._resolve(parsed, context_room)

    def _resolve(self, parsed: Parsed, context_room: str | None) -> Result:  # noqa: PLR0911 - the order of precedence
        if parsed.has(Kind.OFFTOPIC) or parsed.has(Kind.ABSENT) or parsed.names_unknown_mode:
            return NoneResult()  # also a scene or mode by a name the home does not have
        if parsed.has(Kind.BOOKING) and parsed.delay_s is None and parsed.at is None:
            return self._bookings(parsed)
        if parsed.is_negated and not parsed.is_question:
            return NoneResult()  # 끄지 마, 불이 안 켜져 (a report, not a question)
        if parsed.names_elsewhere and (parsed.asks_state or parsed.is_tell or parsed.is_question):
            return NoneResult()  # 강남 미세먼지 어때: a place that is not this home
        if parsed.asks_state or parsed.is_tell:
            # Asked in a state form or to be told: answer it or do nothing, never act. A negated
            # state question ("안 꺼졌지?") asks the same thing.
            return self._query(parsed, context_room) or NoneResult()
        if parsed.is_negated:
            return NoneResult()
        if wants_query(parsed):
            query = self._query(parsed, context_room)
            if query is not None:
                return query
        if only_asks(parsed) or (parsed.is_statement and not parsed.is_request):
            return NoneResult()
        if parsed.has_unknown_verb and not parsed.has(Kind.ACTION) and not parsed.has(Kind.DIRECTED):
            return NoneResult()  # "이불 개 줘": the verb says what to do, and it is not ours
        return self._commands(parsed, context_room)

    def _bookings(self, parsed: Parsed) -> Result:
        """예약 뭐 있어? (list), 아까 예약 취소해 줘 (cancel the latest): bookings themselves."""
        devices = tuple(d for g in self._all_groups(parsed) for d in self._group_ids(g))
        actions = {s.value for s in parsed.senses(Kind.ACTION)}
        if actions & {"stop", "off"} or parsed.has(Kind.CANCEL):
            if parsed.has(Kind.ALL):
                return ScheduleCancelResult(which="all", devices=devices)
            if devices and not parsed.has(Kind.RECENT):
                return ScheduleCancelResult(which="devices", devices=devices)
            return ScheduleCancelResult(which="latest", devices=devices)
        if parsed.is_question or parsed.is_tell or parsed.has(Kind.LISTING) or parsed.is_phrase:
            return ScheduleListResult(devices=devices)
        return NoneResult()

    def _all_groups(self, parsed: Parsed) -> list[_Group]:
        return [g for clause in parsed.clauses for g in self._groups(clause)]

    def _group_ids(self, group: _Group) -> list[str]:
        if group.devices:
            return list(group.devices)
        if group.type is not None:
            return [
                d.id for d in self._by_type.get(group.type, []) if not group.rooms or d.room in group.rooms
            ]
        return [d.id for d in self._home.devices.values() if d.room in group.rooms]

    def _commands(self, parsed: Parsed, context_room: str | None) -> Result:
        actions: list[Action] = []
        previous: list[Device] = []
        # Rooms the sentence names anywhere break a tie before the speaker's room does
        # ("에어컨 끄고 공기청정기 켜 줘": the purifier's room is the air conditioner's too).
        named_rooms = self._named_rooms(parsed)
        is_booking = parsed.has(Kind.BOOKING)
        unnamed = False
        for clause in parsed.clauses:
            intent = intent_of(
                clause,
                is_request=parsed.is_request,
                is_booking=is_booking,
                feature_switched=parsed.feature_switched,
            )
            if not intent.has_cue or (intent.aspect == "mode" and not intent.modes and not intent.quantities):
                continue  # "캠핑 모드로 해 줘": a mode this home's devices do not have
            groups = self._groups(clause)
            rooms = (*dict.fromkeys(d.room for d in previous), *named_rooms, context_room)
            is_all = clause.has(Kind.ALL) or any(g.every for g in groups)
            targets = self._targets(groups, intent, is_all, rooms, previous)
            if isinstance(targets, ClarifyResult):
                return targets
            if not groups and not targets and not intent.names_something and intent.actions:
                unnamed = True  # "그거 꺼 줘": something to do, nothing it is done to
            is_strict = all(not g.devices and g.type is None for g in groups) and bool(groups)
            for device in targets:
                found = actions_for(device, intent, is_strict=is_strict)
                actions.extend(a for a in found if a not in actions)
            previous = targets or previous
        if not actions:
            # "그거 꺼 줘", "저거 켜" (반말's bare ending is a request too unless it asks or reports)
            bare_request = not (parsed.is_question or parsed.is_statement or parsed.is_negated)
            if unnamed and (parsed.is_request or bare_request):
                able = [d for d in self._home.devices.values() if self._focus_ok(d)]
                # Only the devices that can do it are offered ("이어서 해 줘": what pauses).
                capable = [
                    d
                    for d in able
                    if any(
                        actions_for(
                            d, intent_of(c, is_request=True, feature_switched=parsed.feature_switched)
                        )
                        for c in parsed.clauses
                    )
                ]
                return ClarifyResult(candidates=tuple(d.id for d in capable or able))
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
                if mention.has(Kind.ROOM) or self._names_room(self._home.devices[device.value]):
                    rooms.append(self._home.devices[device.value].room)
            elif room is not None:
                rooms.append(room.value)
        return tuple(dict.fromkeys(rooms))

    def _names_room(self, device: Device) -> bool:
        """Whether the device is known by its room ("거실 에어컨"): then naming it names the room.
        A device known by itself ("티비") says nothing about where another one is meant."""
        room = self._home.rooms.get(device.room or "")
        return room is not None and all(any(r in name for r in room.names) for name in device.names)

    def _focus_ok(self, device: Device) -> bool:
        return not self._focus or device.id in self._focus

    def _groups(self, clause: Clause) -> list[_Group]:  # noqa: PLR0912, PLR0915 - one pass over the mentions
        """Targets in the order said; rooms said before a type or device belong to it; what
        was said right before an exclusion word is left out of the rest."""
        groups: list[_Group] = []
        rooms: list[str] = []
        except_rooms: list[str] = []
        except_devices: list[str] = []
        every = False
        excluding = False
        last_end = -1
        for mention in clause.mentions:
            device = mention.first(Kind.DEVICE)
            kind = (
                mention.first(Kind.TYPE)
                or mention.first(Kind.ACTIVITY)
                or mention.first(Kind.FEATURE)
                or mention.first(Kind.PURPOSE)
            )
            if excluding and (device is not None or mention.has(Kind.ROOM)):
                if device is not None and device.value in self._home.devices:
                    except_devices.append(device.value)  # "except the bedroom light"
                elif (room := mention.first(Kind.ROOM)) is not None:
                    except_rooms.append(room.value)  # "except the kitchen"
                last_end = mention.end
                continue
            excluding = False
            if mention.has(Kind.EXCEPT) and self._exclusion_follows:
                excluding = True
                continue
            if mention.has(Kind.EXCEPT):
                except_rooms.extend(rooms)
                rooms = []
                if groups and groups[-1].devices and last_end == mention.start:
                    except_devices.extend(groups.pop().devices)  # 안방 에어컨 빼고
                elif groups and groups[-1].type is not None and last_end == mention.start:
                    dropped = groups.pop()  # 작은방 불 빼고
                    except_devices.extend(self._group_ids(dropped))
                continue
            if mention.has(Kind.HERE) and self._context is not None:
                rooms.append(self._context)
            elif mention.has(Kind.ANY):
                every = True
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
            last_end = mention.end
        if every and not groups:
            groups.append(_Group(rooms=tuple(rooms), every=True))
            rooms = []
        if (except_rooms or except_devices) and not groups and not rooms:
            groups.append(_Group(every=True))  # 거실 빼고 다 꺼
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
        if except_rooms or except_devices:
            groups = [
                _Group(
                    devices=g.devices,
                    rooms=g.rooms,
                    type=g.type,
                    every=g.every,
                    except_rooms=tuple(except_rooms),
                    except_devices=tuple(except_devices),
                )
                for g in groups
            ]
        return groups

    def _pick(
        self, pool: list[Device], is_all: bool, rooms: tuple[str | None, ...]
    ) -> list[Device] | ClarifyResult:
        """All of `pool` when asked for all or when it is one device; else the ones in the
        first of `rooms` that has any (the rooms said earlier in the sentence, then the
        speaker's room); else ask back."""
        if self._focus:
            focused = [d for d in pool if d.id in self._focus]
            if focused:
                return focused  # the devices just asked about or asked back ("둘 다")
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
            if self._focus:
                return [self._home.devices[d] for d in self._focus if d in self._home.devices]
            if not intent.names_something:
                return []
            able = [d for d in self._home.devices.values() if actions_for(d, intent)]
            return self._pick(able, False, rooms)
        out: list[Device] = []
        said: list[str | None] = []
        for group in groups:
            # A room said for an earlier target is the first guess for a later one
            # ("안방 불하고 에어컨" is the bedroom's air conditioner); a device known by itself
            # ("티비랑 에어컨") says no room.
            chosen = self._group_devices(group, intent, is_all, (*dict.fromkeys(said), *rooms))
            if isinstance(chosen, ClarifyResult):
                return chosen
            out.extend(d for d in chosen if d not in out)
            said.extend(group.rooms)
            said.extend(d.room for d in chosen if group.devices and self._names_room(d))
        return out

    def _group_devices(
        self, group: _Group, intent: Intent, is_all: bool, rooms: tuple[str | None, ...]
    ) -> list[Device] | ClarifyResult:
        if group.devices:
            return [self._home.devices[d] for d in group.devices]
        if group.type is not None:
            pool = [d for d in self._by_type.get(group.type, []) if group.keeps(d)]
            if group.except_rooms or group.except_devices:
                is_all = True  # "거실 빼고 불 꺼": every one that is left
            if group.rooms:
                in_rooms = [d for d in pool if d.room in group.rooms]
                if in_rooms or len(pool) != 1:
                    return in_rooms or ClarifyResult(candidates=tuple(d.id for d in pool))
            return self._pick(pool, is_all, rooms)
        able = [
            d
            for d in self._home.devices.values()
            if (d.room in group.rooms or (group.every and not group.rooms))
            and group.keeps(d)
            and actions_for(d, intent, is_strict=True)
        ]
        if is_all or len(able) <= 1:
            return able
        return ClarifyResult(candidates=tuple(d.id for d in able))

    # -- questions ---------------------------------------------------------------------------

    def _query(self, parsed: Parsed, context_room: str | None) -> Result | None:
        attribute = asked_attribute(parsed)
        if attribute is None:
            return None
        groups = self._all_groups(parsed)
        pool = [self._home.devices[d] for group in groups for d in self._group_ids(group)]
        named = any(g.devices or g.type is not None for g in groups)
        if not groups and self._focus:
            pool = [self._home.devices[d] for d in self._focus if d in self._home.devices]
            named = True
        if not named and not parsed.has(Kind.ASPECT) and attribute != "current_temperature":
            # A state verb alone ("거실에서 뭐 해?", "언제 끝나?") does not say which device.
            return None
        if not pool and not groups:
            pool = list(self._home.devices.values())
        # Asking about a room, or about nothing named, is asking what it is there now.
        room_only = all(not g.devices and g.type is None for g in groups)
        if attribute == "temperature" and (parsed.has(Kind.NOW) or room_only):
            attribute = "current_temperature"
        answering = [d for d in {d.id: d for d in pool}.values() if answers(d, attribute)]
        measuring = [d for d in answering if attribute in d.spec.queries]
        # The room's temperature comes from a device that measures it, never from the fridge
        # unless the fridge was named (a kitchen with only a fridge has no room thermometer).
        answering = (
            measuring if (measuring or (attribute == "current_temperature" and not named)) else answering
        )
        if not answering:
            return None
        chosen = self._pick(answering, False, (context_room,))
        if isinstance(chosen, ClarifyResult):
            return chosen
        device = chosen[0]
        compartments = parsed.senses(Kind.COMPARTMENT)
        target = compartments[0].value if compartments and device.spec.compartments else None
        return QueryResult(device=device.id, attribute=attribute_of(device, attribute), target=target)
