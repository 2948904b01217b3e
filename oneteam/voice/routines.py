"""Routines and scenes by voice and text: "외출 모드 해 줘", "루틴 뭐 있어?", "외출 모드 꺼 줘",
and "매일 아침 7시에 거실 불 켜 줘" (a recurring automation, made after the person says yes).

`RoutineTalk` is a `ConversationAgent` in front of the dialog (`Conversation`): it reads only what
is about routines, with its own words (`nlu/lang/<lang>/routines.yaml`), and hands everything else
to the dialog unchanged. The routines come from the hub (`oneteam.hub.routines`), so this room does
not import the automation room. A question ("외출 모드 켜져 있어?") never runs a routine; a name the
home does not have answers `none`; every run, switch and creation is checked against the grant.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from oneteam.hub import Hub
from oneteam.hub.routines import RoutineEntry, has_routines, routines_of
from oneteam.i18n import render
from oneteam.model import Door, Grant, OneteamError
from oneteam.model.conversation import ConversationReply
from oneteam.voice.dialog import Conversation
from oneteam.voice.nlu import ClarifyResult, CommandResult, ScheduleResult, language_of
from oneteam.voice.replies import Replies
from oneteam.voice.routine_words import Match, Recurrence, find, norm, recurrence, verb_of, words, yes_no

_LOGGER = logging.getLogger(__name__)
PENDING_TTL_S = 120.0
"""How long a confirmation question waits for its yes or no."""
MAX_PENDING = 1000
_ASK_KEYS = "routines.ask."
"""The confirmation's sentences, one key per command (`routines.ask.turn_on`)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pending:
    definition: dict[str, Any]
    question: str
    language: str
    at: float


class RoutineTalk:
    """A ConversationAgent: routine and scene sentences here, the rest to the dialog."""

    def __init__(self, hub: Hub, dialog: Conversation, *, pending_ttl_s: float = PENDING_TTL_S) -> None:
        self.hub = hub
        self.dialog = dialog
        self._pending: OrderedDict[tuple[str, str | None], _Pending] = OrderedDict()
        self._pending_ttl_s = pending_ttl_s
        self._lock = threading.Lock()

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
        if not has_routines(self.hub):
            return await self.dialog.converse(
                text, room=room, language=language, session=session, source=source, grant=grant
            )
        lang = language or language_of(text)
        if lang not in ("ko", "en"):
            lang = "ko"
        grant = grant or Grant(principal=source, door=Door.CONVERSATION)
        key = (session, room)
        with self._lock:
            pending = self._pending.pop(key, None)
        if pending is not None and time.monotonic() - pending.at <= self._pending_ttl_s:
            answer = yes_no(text, pending.language)
            if answer is not None:
                return await self._confirmed(pending, answer, grant)
        reply = await self._routine_turn(text, room, lang, key, grant)
        if reply is not None:
            return reply
        inner = await self.dialog.converse(
            text, room=room, language=language, session=session, source=source, grant=grant
        )
        if inner.kind == "none" or (
            # "아침 루틴 취소해 줘" is asked back over every device; "에어컨 제습 모드" names one.
            inner.kind == "clarify"
            and len(inner.result.get("candidates", ())) >= len(self.hub.home_view().devices)
        ):
            unknown = self._unknown_name(text, lang)
            if unknown is not None:
                return unknown
        return inner

    # -- reading ------------------------------------------------------------------------------

    def _asks(self, text: str) -> bool:
        """A question about it, a report or a "don't": nothing may run."""
        parsed = self.dialog.understander.parse(text)
        return (
            parsed.asks_state
            or parsed.is_statement
            or parsed.is_negated
            or (parsed.is_question and not parsed.is_request)
        )

    # -- acting -------------------------------------------------------------------------------

    async def _routine_turn(  # noqa: PLR0911 (one answer per kind of routine sentence)
        self, text: str, room: str | None, lang: str, key: tuple[str, str | None], grant: Grant
    ) -> ConversationReply | None:
        w, said = words(lang), norm(text)
        if any(phrase in said for phrase in w.listing):
            return self._list(lang, grant)
        found = recurrence(text, lang)
        if found is not None:
            return await self._propose(found[0], found[1], room, lang, key, grant)
        match = find(routines_of(self.hub).catalog(), text, lang)
        if not match.entries:
            return None
        asks = await asyncio.to_thread(self._asks, text)
        if asks:
            if match.entries[0].id not in {e.id for e in self._catalog(grant)}:
                return _reply(
                    render("automation.not_found", lang, id=match.entries[0].name(lang)), lang, "none"
                )
            return self._state(match, lang)
        verb = verb_of(match, lang)
        if verb is None:
            return None  # "취침 모드로 바꿔 줘" may be a device's mode: the dialog decides
        if len(match.entries) > 1:
            names = render("routines.and", lang).join(e.name(lang) for e in match.entries)
            return _reply(render("routines.which", lang, names=names), lang, "clarify")
        entry = match.entries[0]
        if verb == "disable":
            return await self._disable(entry, lang, grant)
        return await self._activate(entry, lang, grant)

    def _catalog(self, grant: Grant) -> list[RoutineEntry]:
        """The routines and scenes whose every device `grant` shows: the others are not listed
        or described to this caller (running one by name is refused, as REST refuses it)."""
        home = self.hub.home_view().devices
        return [
            e
            for e in routines_of(self.hub).catalog()
            if all(d in home and grant.shows(home[d]) for d in e.devices)
        ]

    def _list(self, lang: str, grant: Grant) -> ConversationReply:
        catalog = self._catalog(grant)
        if not catalog:
            return _reply(render("routines.list_none", lang), lang, "routine_list")
        parts = []
        for kind in ("scene", "automation"):
            chosen = [e for e in catalog if e.kind == kind]
            if not chosen:
                continue
            items = render("routines.and", lang).join(
                e.name(lang) + ("" if e.enabled else render("routines.off_mark", lang)) for e in chosen
            )
            parts.append(render(f"routines.list_{kind}", lang, count=len(chosen), items=items))
        listed = [{"id": e.id, "kind": e.kind, "name": e.name(lang), "enabled": e.enabled} for e in catalog]
        return _reply(" ".join(parts), lang, "routine_list", result={"routines": listed})

    def _state(self, match: Match, lang: str) -> ConversationReply:
        entry = match.entries[0]
        name = entry.name(lang)
        if entry.kind == "scene":
            text = render("routines.state_scene", lang, name=name)
        elif entry.running:
            text = render("routines.state_running", lang, name=name)
        else:
            text = render("routines.state_on" if entry.enabled else "routines.state_off", lang, name=name)
        result = {"routine": entry.id, "enabled": entry.enabled, "running": entry.running}
        return _reply(text, lang, "routine_query", result=result)

    async def _activate(self, entry: RoutineEntry, lang: str, grant: Grant) -> ConversationReply:
        name = entry.name(lang)
        try:
            run = await routines_of(self.hub).activate(entry.id, grant=grant, wait_s=5.0)
        except OneteamError as exc:
            return _reply(
                render(exc.key, lang, **exc.params), lang, "routine_run", error=exc.key, id=entry.id
            )
        failed = _failed_devices(run)
        kind = "scene" if entry.kind == "scene" else "routine"
        status = run.get("status")
        if status == "running":
            text = render(f"routines.started_{kind}", lang, name=name)
        elif failed:
            text = render(f"routines.partial_{kind}", lang, name=name, count=len(failed))
        elif status in ("done", "ok"):
            text = render(f"routines.done_{kind}", lang, name=name)
        else:
            text = render(f"routines.failed_{kind}", lang, name=name)
        done = [{"routine": entry.id, "run": run.get("id"), "status": status}]
        changed = sorted(
            {str(r["device"]) for r in _results(run) if r.get("ok") and r.get("device") is not None}
        )
        return ConversationReply(
            text=text,
            language=lang,
            kind="routine_run",
            result={"kind": "routine_run", "routine": entry.id, "run": run.get("id"), "status": status},
            done=done,
            changed_devices=changed,
        )

    async def _disable(self, entry: RoutineEntry, lang: str, grant: Grant) -> ConversationReply:
        name = entry.name(lang)
        if entry.kind == "scene":
            return _reply(render("routines.scene_has_no_switch", lang, name=name), lang, "none")
        if not entry.enabled:
            return _reply(
                render("routines.already_off", lang, name=name), lang, "routine_disable", id=entry.id
            )
        try:
            await routines_of(self.hub).set_enabled(entry.id, False, grant=grant)
        except OneteamError as exc:
            return _reply(render(exc.key, lang, **exc.params), lang, "routine_disable", error=exc.key)
        return _reply(
            render("routines.disabled", lang, name=name),
            lang,
            "routine_disable",
            id=entry.id,
            done=[{"routine": entry.id, "enabled": False}],
        )

    async def _propose(
        self,
        every: Recurrence,
        rest: str,
        room: str | None,
        lang: str,
        key: tuple[str, str | None],
        grant: Grant,
    ) -> ConversationReply:
        """'매일 아침 7시에 거실 불 켜 줘': understood as a booking without its recurrence, then
        asked back; nothing is stored until the person says yes."""
        if await asyncio.to_thread(self._asks, rest):
            return _reply(render("routines.need_request", lang), lang, "none")
        result = await asyncio.to_thread(self.dialog.understander.understand, rest, room)
        if isinstance(result, ClarifyResult):
            return _reply(self.dialog.replies.clarify(result, lang), lang, "clarify")
        if isinstance(result, CommandResult) or (isinstance(result, ScheduleResult) and result.at is None):
            return _reply(render("routines.need_time", lang), lang, "none")
        if not isinstance(result, ScheduleResult) or result.at is None or not result.actions:
            return _reply(render("routines.need_request", lang), lang, "none")
        replies = self.dialog.replies
        when = render("dialog.when.at", lang, clock=replies.clock(result.at, lang))
        question = f"{every.words(lang)} {replies.asked(result.actions, lang, when=when, keys=_ASK_KEYS)}"
        trigger: dict[str, Any] = {"time": result.at}
        if every.weekdays is not None:
            trigger["weekdays"] = every.weekdays if isinstance(every.weekdays, str) else list(every.weekdays)
        definition: dict[str, Any] = {
            "id": self._new_id(),
            "names": {
                lang: f"{every.words(lang)} {replies.clock(result.at, lang)} {_what(result, replies, lang)}"
            },
            "triggers": [trigger],
            "actions": [
                {
                    "device": a.device,
                    "command": a.command,
                    **({"value": a.value} if a.value is not None else {}),
                    **({"direction": a.direction.value} if a.direction is not None else {}),
                    **({"target": a.target} if a.target is not None else {}),
                }
                for a in result.actions
            ],
        }
        try:
            routines_of(self.hub).check(definition, grant=grant)
        except OneteamError as exc:
            return _reply(render(exc.key, lang, **exc.params), lang, "none", error=exc.key)
        with self._lock:
            self._pending[key] = _Pending(
                definition=definition, question=question, language=lang, at=time.monotonic()
            )
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
        return _reply(question, lang, "routine_confirm", result={"routine": definition})

    async def _confirmed(self, pending: _Pending, yes: bool, grant: Grant) -> ConversationReply:
        lang = pending.language
        if not yes:
            return _reply(render("routines.dropped", lang), lang, "routine_create", created=False)
        try:
            entry = await routines_of(self.hub).create(pending.definition, grant=grant, origin="voice")
        except OneteamError as exc:
            return _reply(render(exc.key, lang, **exc.params), lang, "routine_create", error=exc.key)
        return _reply(
            render("routines.created", lang, name=entry.name(lang)),
            lang,
            "routine_create",
            id=entry.id,
            created=True,
            done=[{"routine": entry.id, "created": True}],
        )

    def _new_id(self) -> str:
        taken = {e.id for e in routines_of(self.hub).catalog()}
        stamp = time.strftime("%Y%m%d%H%M%S")
        candidate, n = f"voice_{stamp}", 1
        while candidate in taken:
            n += 1
            candidate = f"voice_{stamp}_{n}"
        return candidate

    def _unknown_name(self, text: str, lang: str) -> ConversationReply | None:
        """'파티 모드 해 줘' in a home without a 파티 routine (and no device took it): say so."""
        match = find(routines_of(self.hub).catalog(), text, lang)
        if match.entries or not match.spoken:
            return None
        if verb_of(match, lang) is None:
            return None
        return _reply(render("routines.unknown", lang, name=match.spoken), lang, "none", unknown=match.spoken)


def _reply(
    text: str,
    lang: str,
    kind: str,
    *,
    result: dict[str, Any] | None = None,
    done: list[dict[str, Any]] | None = None,
    **facts: Any,
) -> ConversationReply:
    return ConversationReply(
        text=text, language=lang, kind=kind, result={"kind": kind, **facts, **(result or {})}, done=done or []
    )


def _results(run: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for step in run.get("steps", []):
        if "results" in step:
            found.extend(step["results"])
        elif "device" in step:
            found.append({"device": step["device"], "ok": step.get("status") == "ok"})
    return found


def _failed_devices(run: dict[str, Any]) -> list[str]:
    return [str(r.get("device")) for r in _results(run) if not r.get("ok")]


def _what(result: ScheduleResult, replies: Replies, lang: str) -> str:
    names = dict.fromkeys(replies.device_name(a.device, lang) for a in result.actions)
    return render("routines.and", lang).join(names)
