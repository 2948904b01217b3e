"""Conversation: one sentence in, the home acts through the hub, one reply out.

`Conversation` is the hub's `ConversationAgent`: `hub.set_conversation_agent(Conversation(hub))`.
It understands the sentence (voice.nlu), carries commands out with `hub.dispatch_many`, books
schedules with `hub.scheduler`, answers questions from `hub.state`, and remembers an open
question per session and room, so that "불 꺼 줘" → "어느 것을요?" → "안방" completes the
first request.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from oneteam.hub import Hub
from oneteam.hub.scheduler import due_time
from oneteam.model import Command, Grant, OneteamError, State
from oneteam.model.conversation import ConversationReply
from oneteam.model.schedule import Schedule
from oneteam.voice.nlu import (
    Action,
    ClarifyResult,
    CommandResult,
    NoneResult,
    QueryResult,
    Result,
    ScheduleCancelResult,
    ScheduleListResult,
    ScheduleResult,
    Understander,
    commands,
    language_of,
)
from oneteam.voice.nlu.lexicon import Kind
from oneteam.voice.replies import Replies

_LOGGER = logging.getLogger(__name__)

PENDING_TTL_S = 120.0
"""How long an open question waits for its answer."""
MAX_PENDING = 1000
"""Open questions kept at most (oldest dropped first), so many sessions cannot grow memory."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    """What one sentence was understood as, after any open question was completed."""

    result: Result
    language: str
    is_follow_up: bool = False
    """True when the sentence answered an open question."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pending:
    text: str
    language: str
    room: str | None
    candidates: tuple[str, ...]
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class _Topic:
    """The devices a question was just answered about ("건조기 아직 돌아?" → "그럼 꺼 줘")."""

    devices: tuple[str, ...]
    at: float


class Conversation:
    """Understands sentences for one hub and acts on them (a `ConversationAgent`)."""

    def __init__(
        self,
        hub: Hub,
        understander: Understander | None = None,
        *,
        pending_ttl_s: float = PENDING_TTL_S,
    ) -> None:
        self._hub = hub
        self._fixed_understander = understander
        self._built_for = hub.devices_version
        self.understander = understander or Understander(hub.home_view())
        self.replies = Replies(hub.home_view())
        self._pending: OrderedDict[tuple[str, str | None], _Pending] = OrderedDict()
        self._topics: OrderedDict[tuple[str, str | None], _Topic] = OrderedDict()
        self._pending_ttl_s = pending_ttl_s
        self._lock = threading.Lock()

    # -- understanding, with follow-ups ------------------------------------------------------

    def turn(
        self,
        text: str,
        *,
        room: str | None = None,
        session: str = "",
        language: str | None = None,
        grant: Grant | None = None,
    ) -> Turn:
        """Understand one sentence; an answer to an open question completes that question. With
        `grant`, a device it does not show is as good as absent: no question about it is
        answered and no ask-back offers it (REST answers 404 for such a device)."""
        key = (session, room)
        self._follow_devices()
        with self._lock:  # turns run in worker threads (Kiwi is blocking work)
            pending = self._pending.pop(key, None)
            topic = self._topics.pop(key, None)
        now = time.monotonic()
        if pending is not None and now - pending.at > self._pending_ttl_s:
            pending = None
        focus = topic.devices if topic is not None and now - topic.at <= self._pending_ttl_s else ()
        language = language or language_of(text)
        result = self.understander.understand(text, room, focus=focus)
        turn = Turn(result=result, language=language, is_follow_up=bool(focus) and _acts(result))
        if pending is not None and isinstance(result, NoneResult | ClarifyResult) and not self._asks(text):
            completed = self._complete(pending, text)
            if completed is not None:
                turn = Turn(result=completed, language=pending.language, is_follow_up=True)
            elif any(self.understander.referents(text)):
                # It named a place or device, just not one that settles it ("다용도실"): ask again.
                again = ClarifyResult(candidates=pending.candidates)
                turn = Turn(result=again, language=pending.language, is_follow_up=True)
        if grant is not None:
            turn = replace(turn, result=self._shown(turn.result, text, room, grant))
        if isinstance(turn.result, QueryResult):
            self._remember_topic(key, _Topic(devices=(turn.result.device,), at=time.monotonic()))
        if isinstance(turn.result, ClarifyResult):
            source_text = pending.text if turn.is_follow_up and pending is not None else text
            self._remember(
                key,
                _Pending(
                    text=source_text,
                    language=turn.language,
                    room=room,
                    candidates=turn.result.candidates,
                    at=time.monotonic(),
                ),
            )
        return turn

    def _shown(self, result: Result, text: str, room: str | None, grant: Grant) -> Result:
        """`result` within what `grant` shows: a question about a hidden device becomes
        `none_not_shown`, an ask-back offers only shown devices (one left: that one is meant)."""
        if isinstance(result, QueryResult) and not self._shows(grant, result.device):
            return NoneResult(reason="not_shown")
        if not isinstance(result, ClarifyResult) or not result.candidates:
            return result
        shown = tuple(d for d in result.candidates if self._shows(grant, d))
        if shown == result.candidates:
            return result
        if not shown:
            return NoneResult(reason="not_shown")
        if len(shown) == 1:
            settled = self.understander.understand(text, room, focus=shown)
            if not isinstance(settled, NoneResult | ClarifyResult):
                return settled
        return ClarifyResult(candidates=shown)

    def _shows(self, grant: Grant | None, device_id: str) -> bool:
        if grant is None:
            return True
        try:
            return grant.shows(self._hub.device(device_id))
        except OneteamError:  # gone since: nothing to show
            return False

    def _follow_devices(self) -> None:
        """Rebuild the lexicon when devices came or went (a ThinQ appliance, an MQTT device)."""
        version = self._hub.devices_version
        if self._fixed_understander is not None or version == self._built_for:
            return
        home = self._hub.home_view()
        understander, replies = Understander(home), Replies(home)
        with self._lock:
            self.understander, self.replies, self._built_for = understander, replies, version

    def _remember_topic(self, key: tuple[str, str | None], topic: _Topic) -> None:
        with self._lock:
            self._topics[key] = topic
            while len(self._topics) > MAX_PENDING:
                self._topics.popitem(last=False)

    def _remember(self, key: tuple[str, str | None], pending: _Pending) -> None:
        with self._lock:
            self._pending[key] = pending
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)

    def _asks(self, text: str) -> bool:
        """A question of its own ("거실 불 아직 꺼져 있지 않아?") is no answer to an open one."""
        parsed = self.understander.parse(text)
        return parsed.is_question or parsed.asks_state or parsed.is_tell

    def _complete(self, pending: _Pending, answer: str) -> Result | None:
        """The open request re-read in the room the answer names ("안방", "거실 거", "the bedroom one")."""
        every = self.understander.parse(answer).senses(Kind.ALL)
        if every:
            # "전부": every device offered; "둘 다" only when two were offered (which two else?)
            counts = {int(s.extra) for s in every if s.extra.isdigit()}
            if counts and counts != {len(pending.candidates)}:
                return None
            result = self.understander.understand(pending.text, pending.room, focus=pending.candidates)
            if not isinstance(result, NoneResult | ClarifyResult):
                return result
        rooms, devices = self.understander.referents(answer)
        home = self._hub.home_view()
        chosen_rooms = [home.devices[d].room for d in devices if d in pending.candidates]
        for room in [*chosen_rooms, *rooms]:
            if room is None:
                continue
            result = self.understander.understand(pending.text, room)
            if not isinstance(result, NoneResult | ClarifyResult):
                return result
        return None

    # -- acting --------------------------------------------------------------------------------

    async def converse(
        self,
        text: str,
        *,
        room: str | None = None,
        language: str | None = None,
        session: str = "",
        source: str = "voice",
        grant: Grant | None = None,
    ) -> ConversationReply:
        """Handle one turn: understand, act through the hub, and say what happened. Commands and
        schedules are checked against `grant` before anything runs or is booked."""
        turn = await asyncio.to_thread(
            self.turn, text, room=room, session=session, language=language, grant=grant
        )
        result, lang = turn.result, turn.language
        done: list[dict[str, Any]] = []
        changed: list[str] = []
        if isinstance(result, CommandResult):
            reply = await self._command(result, lang, source, done, changed, grant)
        elif isinstance(result, ScheduleResult):
            reply = await self._schedule(result, lang, source, done, grant)
        elif isinstance(result, QueryResult):
            reply = self._answer(result, lang)
        elif isinstance(result, ClarifyResult):
            reply = self.replies.clarify(result, lang)
        elif isinstance(result, ScheduleListResult):
            reply = self._list_schedules(result, lang, grant)
        elif isinstance(result, ScheduleCancelResult):
            reply = await self._cancel_schedules(result, lang, done, grant)
        elif isinstance(result, NoneResult) and result.reason:
            reply = self.replies.none(lang, reason=result.reason)
        else:
            reply = self.replies.none(lang)
        _LOGGER.info("conversation turn: %s, %d done, %d changed", result.kind, len(done), len(changed))
        return ConversationReply(
            text=reply,
            language=lang,
            kind=result.kind,
            result=result.as_dict(),
            done=done,
            changed_devices=changed,
        )

    async def _command(
        self,
        result: CommandResult,
        lang: str,
        source: str,
        done: list[dict[str, Any]],
        changed: list[str],
        grant: Grant | None = None,
    ) -> str:
        outcomes = await self._hub.dispatch_many(
            [_with_source(c, source) for c in commands(result)], grant=grant
        )
        succeeded = []
        refusals = []
        for action, outcome in zip(result.actions, outcomes, strict=True):
            if isinstance(outcome, OneteamError):
                done.append({**action.as_dict(), "error": outcome.key})
                refusals.append(self.replies.error(outcome, lang))
            else:
                done.append(action.as_dict())
                succeeded.append(action)
                if action.device not in changed:
                    changed.append(action.device)
        parts = [self.replies.actions(succeeded, lang)] if succeeded else []
        parts.extend(dict.fromkeys(refusals))
        return " ".join(parts)

    async def _schedule(
        self,
        result: ScheduleResult,
        lang: str,
        source: str,
        done: list[dict[str, Any]],
        grant: Grant | None = None,
    ) -> str:
        try:
            if grant is not None:  # refused at booking, not hours later when it falls due
                for command in commands(result):
                    grant.refuse(self._hub.device(command.device_id), command.name)
            due_at = due_time(delay_s=result.delay_s, at=result.at, timezone=self._hub.scheduler.timezone)
            schedule = await self._hub.scheduler.add(
                [_with_source(c, source) for c in commands(result)], due_at, source, grant=grant
            )
        except OneteamError as exc:
            done.extend({**a.as_dict(), "error": exc.key} for a in result.actions)
            return self.replies.error(exc, lang)
        done.extend({**a.as_dict(), "scheduled": schedule.id, "due_at": due_at} for a in result.actions)
        return self.replies.actions(result.actions, lang, schedule=result)

    def _schedules_of(self, devices: tuple[str, ...], grant: Grant | None) -> list[Schedule]:
        """Pending bookings (of `devices`, if named); with `grant`, only those whose every device
        it shows: another member's booking for the oven is not a child's to hear of or cancel."""
        pending = [
            s
            for s in self._hub.scheduler.pending()
            if all(self._shows(grant, c.device_id) for c in s.commands)
        ]
        if not devices:
            return pending
        return [s for s in pending if any(c.device_id in devices for c in s.commands)]

    def _list_schedules(self, result: ScheduleListResult, lang: str, grant: Grant | None) -> str:
        """예약 뭐 있어?: each pending booking, earliest first."""
        schedules = self._schedules_of(result.devices, grant)
        if not schedules:
            return self.replies.schedules_none(lang)
        items = [self._schedule_line(s, lang) for s in schedules]
        return self.replies.schedules_list(items, lang)

    async def _cancel_schedules(
        self,
        result: ScheduleCancelResult,
        lang: str,
        done: list[dict[str, Any]],
        grant: Grant | None,
    ) -> str:
        """아까 예약 취소해 줘: the latest booking (by when it was made), those of the devices
        named, or all; a grant must permit every command of a booking to cancel it."""
        schedules = self._schedules_of(result.devices, grant)
        if result.which == "latest" and schedules:
            schedules = [max(schedules, key=lambda s: s.id)]
        if not schedules:
            return self.replies.schedules_none(lang)
        cancelled: list[str] = []
        try:
            if grant is not None:
                for schedule in schedules:
                    for command in schedule.commands:
                        grant.refuse(self._hub.device(command.device_id), command.name)
            for schedule in schedules:
                if await self._hub.scheduler.cancel(schedule.id):
                    cancelled.append(self._schedule_line(schedule, lang))
                    done.append({"cancelled": schedule.id})
        except OneteamError as exc:
            return self.replies.error(exc, lang)
        if not cancelled:
            return self.replies.schedules_none(lang)
        return self.replies.schedules_cancelled(cancelled, lang)

    def _schedule_line(self, schedule: Schedule, lang: str) -> str:
        at = _clock(schedule.due_at, self._hub.scheduler.timezone)
        actions = [
            Action(device=c.device_id, command=c.name, value=c.value, direction=c.direction, target=c.target)
            for c in schedule.commands
        ]
        return self.replies.actions(actions, lang, schedule=ScheduleResult(actions=tuple(actions), at=at))

    def _answer(self, result: QueryResult, lang: str) -> str:
        try:
            state: State = self._hub.state(result.device)
        except OneteamError as exc:
            return self.replies.error(exc, lang)
        return self.replies.answer(result, state, lang)


def _acts(result: Result) -> bool:
    return isinstance(result, CommandResult | ScheduleResult)


def _clock(due_at: float, timezone: str) -> str:
    """HH:MM of a due time in the home's time zone."""
    local = dt.datetime.fromtimestamp(due_at, ZoneInfo(timezone))
    return f"{local.hour:02d}:{local.minute:02d}"


def _with_source(command: Command, source: str) -> Command:
    """The command as coming through `source` (`voice`, `api`, ...)."""
    return replace(command, source=source)
