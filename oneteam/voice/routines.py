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
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import yaml

from oneteam.hub import Hub
from oneteam.hub.routines import RoutineEntry, has_routines, routines_of
from oneteam.i18n import render
from oneteam.model import Door, Grant, OneteamError
from oneteam.model.conversation import ConversationReply
from oneteam.voice.dialog import Conversation
from oneteam.voice.nlu import ClarifyResult, CommandResult, ScheduleResult, language_of
from oneteam.voice.replies import Replies

_LOGGER = logging.getLogger(__name__)
PENDING_TTL_S = 120.0
"""How long a confirmation question waits for its yes or no."""
MAX_PENDING = 1000
_SPACE = re.compile(r"[\s\"'“”‘’.,!~…·]+")
_ASK_KEYS = "routines.ask."
"""The confirmation's sentences, one key per command (`routines.ask.turn_on`)."""


def _norm(text: str) -> str:
    """Lower case, no spaces or punctuation (a question mark is kept apart by the caller)."""
    return _SPACE.sub("", text).replace("?", "").lower()


@dataclass(frozen=True, slots=True)
class Words:
    """One language's routine words (nlu/lang/<lang>/routines.yaml), normalised."""

    suffixes: tuple[str, ...]
    particles: tuple[str, ...]
    leads: tuple[str, ...]
    activate: tuple[str, ...]
    disable: tuple[str, ...]
    listing: tuple[str, ...]
    every_day: tuple[str, ...]
    groups: dict[str, str]
    group_endings: tuple[str, ...]
    every_week: tuple[str, ...]
    days: dict[str, str]
    day_endings: tuple[str, ...]
    day_repeat_endings: tuple[str, ...]
    yes: tuple[str, ...]
    no: tuple[str, ...]


def _longest_first(items: Any) -> tuple[str, ...]:
    return tuple(sorted({_norm(str(i)) for i in items or ()}, key=len, reverse=True))


@cache
def words(language: str) -> Words:
    folder = resources.files("oneteam.voice.nlu") / "lang" / language
    data = yaml.safe_load((folder / "routines.yaml").read_text(encoding="utf-8")) or {}
    return Words(
        suffixes=_longest_first(data.get("suffixes")),
        particles=_longest_first(data.get("particles")),
        leads=_longest_first(data.get("leads")),
        activate=_longest_first(data.get("activate")),
        disable=_longest_first(data.get("disable")),
        listing=_longest_first(data.get("list")),
        every_day=_longest_first(data.get("every_day")),
        groups={_norm(k): str(v) for k, v in (data.get("groups") or {}).items()},
        group_endings=_longest_first(data.get("group_endings")),
        every_week=_longest_first(data.get("every_week")),
        days={_norm(k): str(v) for k, v in (data.get("days") or {}).items()},
        day_endings=_longest_first(data.get("day_endings")),
        day_repeat_endings=_longest_first(data.get("day_repeat_endings")),
        # "agree"/"refuse", not yes/no: YAML 1.1 reads a bare `yes:` key as True.
        yes=_longest_first(data.get("agree")),
        no=_longest_first(data.get("refuse")),
    )


def _strip(text: str, options: tuple[str, ...]) -> str:
    """`text` without leading words from `options`, repeatedly ("를좀켜줘" → "켜줘")."""
    changed = True
    while changed:
        changed = False
        for option in options:
            if option and text.startswith(option):
                text, changed = text[len(option) :], True
                break
    return text


def _only_of(text: str, options: tuple[str, ...]) -> bool:
    """`text` is made of words from `options` alone (or is empty)."""
    return not _strip(text, options)


def _starts(text: str, options: tuple[str, ...]) -> bool:
    return any(o and text.startswith(o) for o in options)


@dataclass(frozen=True, slots=True)
class Recurrence:
    """When a spoken automation repeats: every day, weekdays, weekend or some days of the week."""

    weekdays: str | tuple[str, ...] | None
    """None: every day."""
    spoken: str
    """The span that said it, as written ("매일", "매주 토요일")."""

    def words(self, language: str) -> str:
        if self.weekdays is None:
            return render("routines.every.day", language)
        if isinstance(self.weekdays, str):
            return render(f"routines.every.{self.weekdays}", language)
        days = render("routines.and", language).join(
            render(f"routines.days.{d}", language) for d in self.weekdays
        )
        return render("routines.every.days", language, days=days)


def recurrence(text: str, language: str) -> tuple[Recurrence, str] | None:
    """The recurrence a sentence starts with and the rest of the sentence, or None."""
    w = words(language)
    # Walk the original text so the rest keeps its spaces for the parser.
    for end in range(1, min(len(text), 24) + 1):
        rest = text[end:]
        if rest[:1] not in ("", " ") and not rest[:1].isdigit():
            continue  # only whole words ("매일 아침", "평일마다 7시")
        found = _read_recurrence(_norm(text[:end]), w)
        if found is not None:
            return Recurrence(weekdays=found[0], spoken=text[:end].strip()), rest.strip()
    return None


def _read_recurrence(head: str, w: Words) -> tuple[str | tuple[str, ...] | None] | None:
    """(weekdays,) when `head` says a recurrence (weekdays None: every day), else None."""
    if head in w.every_day:
        return (None,)
    for word, group in w.groups.items():
        if any(head == word + ending for ending in w.group_endings):
            return (group,)
    for prefix in (*w.every_week, ""):
        if not head.startswith(prefix):
            continue
        body = head[len(prefix) :]
        for day, code in w.days.items():
            # "매주 토요일(에)" or "토요일마다"; a bare "토요일에" is one Saturday, not every one.
            endings = w.day_endings if prefix else w.day_repeat_endings
            if any(body == day + ending for ending in endings):
                return ((code,),)
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pending:
    definition: dict[str, Any]
    question: str
    language: str
    at: float


@dataclass(slots=True)
class _Match:
    entries: list[RoutineEntry] = field(default_factory=list)
    lead: str = ""
    rest: str = ""
    spoken: str = ""


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
            answer = self._yes_no(text, pending.language)
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

    def _yes_no(self, text: str, lang: str) -> bool | None:
        w, said = words(lang), _norm(text)
        if _starts(said, w.no):
            return False
        if _starts(said, w.yes):
            return True
        return None

    def _asks(self, text: str) -> bool:
        """A question about it, a report or a "don't": nothing may run."""
        parsed = self.dialog.understander.parse(text)
        return (
            parsed.asks_state
            or parsed.is_statement
            or parsed.is_negated
            or (parsed.is_question and not parsed.is_request)
        )

    def find(self, text: str, lang: str) -> _Match:
        """The routine(s) a sentence names at its start (after lead words), with what follows."""
        w, said = words(lang), _norm(text)
        catalog = routines_of(self.hub).catalog()
        keys: list[tuple[str, RoutineEntry]] = []
        for entry in catalog:
            for name in {*entry.names.values(), *entry.phrases, entry.id}:
                normal = _norm(name)
                if normal:
                    keys.append((normal, entry))
                    base = normal
                    for suffix in w.suffixes:  # "외출 모드" also answers to "외출"
                        if base.endswith(suffix) and len(base) > len(suffix):
                            keys.append((base[: -len(suffix)], entry))
        keys.sort(key=lambda k: len(k[0]), reverse=True)
        for normal, _entry in keys:
            at = said.find(normal)
            if at < 0 or not _only_of(said[:at], w.leads):
                continue
            rest = _strip(said[at + len(normal) :], (*w.suffixes, *w.particles))
            same = {e.id for n, e in keys if n == normal}
            chosen = [e for e in catalog if e.id in same]
            return _Match(entries=chosen, lead=said[:at], rest=rest, spoken=normal)
        # No name fits whole: a spoken name before 모드/루틴 that is part of some names ("아침 루틴").
        for suffix in w.suffixes:
            at = said.find(suffix)
            if at <= 0:
                continue
            spoken = _strip(said[:at], w.leads)
            rest = _strip(said[at + len(suffix) :], (*w.suffixes, *w.particles))
            partial = [e for e in catalog if spoken and any(spoken in _norm(n) for n in e.names.values())]
            return _Match(entries=partial, lead="", rest=rest, spoken=spoken)
        return _Match()

    def _verb(self, match: _Match, lang: str) -> str | None:
        """activate, disable, or None (no verb this room knows)."""
        w = words(lang)
        lead_words = []
        lead = match.lead
        while lead:
            word = next((o for o in w.leads if o and lead.startswith(o)), None)
            if word is None:
                break
            lead_words.append(word)
            lead = lead[len(word) :]
        if _starts(match.rest, w.disable) or any(word in w.disable for word in lead_words):
            return "disable"
        if _starts(match.rest, w.activate) or (lang == "en" and lead_words and not match.rest):
            return "activate"
        return None

    # -- acting -------------------------------------------------------------------------------

    async def _routine_turn(  # noqa: PLR0911 (one answer per kind of routine sentence)
        self, text: str, room: str | None, lang: str, key: tuple[str, str | None], grant: Grant
    ) -> ConversationReply | None:
        w, said = words(lang), _norm(text)
        if any(phrase in said for phrase in w.listing):
            return self._list(lang)
        found = recurrence(text, lang)
        if found is not None:
            return await self._propose(found[0], found[1], room, lang, key, grant)
        match = self.find(text, lang)
        if not match.entries:
            return None
        asks = await asyncio.to_thread(self._asks, text)
        if asks:
            return self._state(match, lang)
        verb = self._verb(match, lang)
        if verb is None:
            return None  # "취침 모드로 바꿔 줘" may be a device's mode: the dialog decides
        if len(match.entries) > 1:
            names = render("routines.and", lang).join(e.name(lang) for e in match.entries)
            return _reply(render("routines.which", lang, names=names), lang, "clarify")
        entry = match.entries[0]
        if verb == "disable":
            return self._disable(entry, lang, grant)
        return await self._activate(entry, lang, grant)

    def _list(self, lang: str) -> ConversationReply:
        catalog = routines_of(self.hub).catalog()
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

    def _state(self, match: _Match, lang: str) -> ConversationReply:
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

    def _disable(self, entry: RoutineEntry, lang: str, grant: Grant) -> ConversationReply:
        name = entry.name(lang)
        if entry.kind == "scene":
            return _reply(render("routines.scene_has_no_switch", lang, name=name), lang, "none")
        if not entry.enabled:
            return _reply(
                render("routines.already_off", lang, name=name), lang, "routine_disable", id=entry.id
            )
        try:
            routines_of(self.hub).set_enabled(entry.id, False, grant=grant)
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
            entry = routines_of(self.hub).create(pending.definition, grant=grant, origin="voice")
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
        match = self.find(text, lang)
        if match.entries or not match.spoken:
            return None
        if self._verb(match, lang) is None:
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
