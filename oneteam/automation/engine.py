"""The automation engine: triggers from the hub's bus and the clock, conditions, runs with modes,
actions through `hub.dispatch` with the routine's grant, a stored trace per run.

Durability: a run's position is committed before each delay or wait (`resume_at`), so after a
restart it continues if its delay would still be due within `grace_s`, and is otherwise skipped
with a trace note. The clock's progress is kept as a mark; a time trigger that fell while the hub
was down fires late if within `grace_s`, and is otherwise recorded as a skipped run. A run killed
in the middle of a command is recorded as interrupted, not repeated (a command may have gone out).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

import yaml

from oneteam.automation.conditions import evaluate, value_matches
from oneteam.automation.definitions import (
    Devices,
    check_references,
    command_of,
    parse_routine,
    routine_to_dict,
    trigger_to_dict,
)
from oneteam.automation.errors import AutomationInvalid, RoutineExists, RoutineNotFound
from oneteam.automation.model import (
    TIME_TRIGGERS,
    Action,
    Automation,
    CommandAction,
    CronTrigger,
    DelayAction,
    EventTrigger,
    Mode,
    NotifyAction,
    Routine,
    RunAction,
    SayAction,
    Scene,
    SceneAction,
    StateTrigger,
    SunTrigger,
    TimeTrigger,
    Trigger,
    WaitAction,
)
from oneteam.automation.notify import Notice, Notifier, PageNotifier, SpeechNotifier, deliver
from oneteam.automation.store import AutomationStore, RunRecord
from oneteam.automation.timing import Place, last_fire, next_fire
from oneteam.hub import Hub, Subscription
from oneteam.hub.routines import attach_routines
from oneteam.i18n import render
from oneteam.model import Door, Event, EventKind, Grant, OneteamError, State, StateValue

_LOGGER = logging.getLogger(__name__)
GRACE_S = 600.0
"""How late a resumed delay or a missed time trigger may still run (else it is skipped, with a note)."""
MAX_DEPTH = 5
"""How deep `run` steps may nest (a → b → c ...)."""
_MARK_EVERY_S = 5.0
_RUN_ERROR = "automation.run_error"
_ALREADY = {
    "error.state.already_started": "start",
    "error.state.already_paused": "pause",
    "error.state.already_stopped": "stop",
    "error.state.already_docked": "return_to_base",
    "error.state.already_in_state": "*",
}
"""State-rule refusals (model/state_rules.py) that mean the step's target already holds, by command."""
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Allow = Callable[[Mapping[str, Routine], Routine], None]
"""A door's last word before a routine is stored: raise to refuse it (PermissionDenied)."""


class RoutineBusy(OneteamError):
    """A run was asked for while the routine's mode does not allow another one now."""

    key = "automation.busy"

    def __init__(self, routine_id: str, mode: str) -> None:
        super().__init__(f"{routine_id} is running ({mode})", id=routine_id, mode=mode)


def grant_for(routine_id: str, owner: Grant | None = None) -> Grant:
    """What a routine acts as: its own principal through the routine door, within the limits of
    whoever saved it (`owner`, as that grant stands now; None: the household's own, unlimited)."""
    if owner is None:
        return Grant(principal=f"routine:{routine_id}", door=Door.ROUTINE)
    return Grant(
        principal=f"routine:{routine_id}",
        door=Door.ROUTINE,
        commands=owner.commands,
        devices=owner.devices,
        rooms=owner.rooms,
    )


class OwnerRevoked(OneteamError):
    """Whoever saved a routine may no longer act (token revoked or expired, member removed or
    expired), so it does not run."""

    key = "automation.owner_revoked"

    def __init__(self, routine_id: str, principal: str) -> None:
        super().__init__(f"{routine_id}: {principal} may no longer act", id=routine_id, principal=principal)


class Engine:
    """Runs the home's routines and scenes on its hub."""

    def __init__(
        self,
        hub: Hub,
        store: AutomationStore,
        *,
        place: Place | None = None,
        grace_s: float = GRACE_S,
        notifiers: list[Notifier] | None = None,
    ) -> None:
        self.hub = hub
        self.notifiers: list[Notifier] = [PageNotifier(hub), SpeechNotifier(hub), *(notifiers or [])]
        """Where `notify` steps go: the page and activity log, speech when named, then any others given."""
        self.store = store
        self.place = place or Place(timezone=hub.scheduler.timezone)
        self.grace_s = grace_s
        self.routines: dict[str, Routine] = {}
        self.origins: dict[str, str] = {}
        self.owners: dict[str, Grant] = {}
        """Who saved each routine (their grant when saving); absent: the household's own."""
        self.problems: list[dict[str, Any]] = []
        self._unfit: set[str] = set()
        """Stored routines that name a device the hub does not have (now)."""
        """Stored or home-file routines that no longer fit the home (kept, not run)."""
        self._by_device: dict[str, list[tuple[Automation, int, StateTrigger]]] = {}
        self._by_kind: dict[str, list[tuple[Automation, int, EventTrigger]]] = {}
        self._next_time: dict[tuple[str, int], float] = {}
        self._armed: dict[tuple[str, int], Trigger] = {}
        """Each enabled trigger by (routine, index), to tell a changed trigger from a kept one."""
        self._seen: dict[str, dict[str, StateValue]] = {}
        self._for_timers: dict[tuple[str, int], asyncio.TimerHandle] = {}
        self._active: dict[str, set[asyncio.Task[None]]] = {}
        self._queues: dict[str, deque[dict[str, Any]]] = {}
        self._restarting: set[asyncio.Task[None]] = set()
        self._changed: dict[str, asyncio.Event] = {}
        self._clock_changed = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self.announce_runs = True
        """Publish ROUTINE_RUN events (started, each step, finished): the page and WebSocket follow runs."""
        self._stack = contextlib.AsyncExitStack()
        self._events: Subscription | None = None
        self._mark_written = 0.0
        self.stats: dict[str, int] = {
            "triggered": 0,
            "conditions_failed": 0,
            "runs": 0,
            "ignored": 0,
            "dropped": 0,
            "task_restarts": 0,
        }

    # -- lifetime -------------------------------------------------------------------------------

    async def start(self, *, home_text: str | None = None, presets: str | None = None) -> None:
        """Load routines (stored, the home file's, presets at first start), resume or skip runs
        cut off by a restart, catch up missed time triggers, and start watching the bus and clock."""
        self.store.open()
        # Subscribed before anything else happens, so no event after start() is missed.
        self._events = await self._stack.enter_async_context(
            self.hub.subscribe("automation", maxsize=100_000)
        )
        self._seen = {
            d: {**s.attributes, "is_available": s.is_available} for d, s in self.hub.states().items()
        }
        self._load_stored()
        if home_text:
            self._load_home(home_text)
        if presets and self.store.mark(f"presets:{presets}") is None:
            from oneteam.automation.presets import preset_text

            result = self.import_yaml(
                preset_text(presets), origin="preset", replace_existing=False, strict=False
            )
            self.store.set_mark(f"presets:{presets}", time.time())
            _LOGGER.info("presets %s installed: %s", presets, ", ".join(result["imported"]))
        self._resume_runs()
        self._restore_holds()
        self._catch_up()
        for name, work in (
            ("automation-events", self._watch_events),
            ("automation-clock", self._watch_clock),
        ):
            self._tasks.append(asyncio.create_task(self._supervise(name, work), name=name))
        self.hub.features.add("automation")
        from oneteam.automation.doors import EngineRoutines  # it wraps this class

        attach_routines(self.hub, EngineRoutines(self))

    async def stop(self) -> None:
        """Cancel runs (their stored position stays, so a delay resumes after restart) and close."""
        self._stopping = True
        attach_routines(self.hub, None)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for handle in self._for_timers.values():
            handle.cancel()
        tasks = [t for group in self._active.values() for t in group]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._stack.aclose()
        self.store.close()

    async def _supervise(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """Keep a long-lived task alive: log a failure and start it again (backing off)."""
        delay = 0.5
        while True:
            try:
                await work()
                _LOGGER.error("automation task %s ended by itself; restarting in %.1f s", name, delay)
            except asyncio.CancelledError:
                raise
            except Exception:
                _LOGGER.exception("automation task %s failed; restarting in %.1f s", name, delay)
            self.stats["task_restarts"] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    # -- definitions ----------------------------------------------------------------------------

    def devices(self) -> Devices:
        home = self.hub.home_view()
        return Devices(devices=home.devices, rooms=home.rooms)

    def get(self, routine_id: str) -> Routine:
        try:
            return self.routines[routine_id]
        except KeyError:
            raise RoutineNotFound(routine_id) from None

    def put(
        self,
        data: Any,
        *,
        origin: str = "api",
        replace_existing: bool = True,
        kind: str | None = None,
        allow: Allow | None = None,
        owner: Grant | None = None,
    ) -> dict[str, Any]:
        """Check and store one routine or scene; returns it as data with the notes of dropped steps.
        `allow` may refuse it (raise) after it is checked and before it is stored; it runs within
        `owner`'s limits as they stand at each run (None: the household's own)."""
        parsed = parse_routine(data, self.devices(), kind=kind)
        routine = parsed.routine
        if not replace_existing and routine.id in self.routines:
            raise RoutineExists(routine.id)
        combined = {**self.routines, routine.id: routine}
        check_references(combined, routine)
        if allow is not None:
            allow(combined, routine)
        self._save(routine, origin, owner)
        self._reindex()
        return {"routine": self.describe(routine), "notes": parsed.notes}

    def delete(self, routine_id: str) -> None:
        if routine_id in self._unfit:  # one that does not fit the home can still be deleted
            self._unfit.discard(routine_id)
            self.problems = [p for p in self.problems if p.get("id") != routine_id]
            self.store.delete_routine(routine_id)
            return
        self.get(routine_id)
        self.store.delete_routine(routine_id)
        del self.routines[routine_id]
        self.origins.pop(routine_id, None)
        self.owners.pop(routine_id, None)
        self._reindex()

    def set_enabled(self, routine_id: str, enabled: bool) -> Routine:
        routine = replace(self.get(routine_id), enabled=enabled)
        self.routines[routine_id] = routine
        self.store.set_enabled(routine_id, enabled)
        self._reindex()
        return routine

    def describe(self, routine: Routine) -> dict[str, Any]:
        """A routine for listings: its definition, kind, origin and whether it is running."""
        return {
            "kind": "scene" if isinstance(routine, Scene) else "automation",
            "origin": self.origins.get(routine.id, "api"),
            "owner": owner.principal if (owner := self.owners.get(routine.id)) is not None else None,
            "running": len(self._active.get(routine.id, ())),
            **routine_to_dict(routine),
            "enabled": routine.enabled,
        }

    def import_yaml(
        self,
        text: str,
        *,
        origin: str,
        replace_existing: bool = True,
        strict: bool = True,
        allow: Allow | None = None,
    ) -> dict[str, Any]:
        """Routines and scenes from YAML (`scenes:` and `routines:` lists), all or nothing when
        `strict`; otherwise a bad entry is left out with a note. `allow` may refuse the import
        (raise) before anything is stored."""
        try:
            data = yaml.load(text, Loader=_YAML_LOADER) or {}  # the C-accelerated safe loader when present
        except (yaml.YAMLError, RecursionError) as exc:
            reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise AutomationInvalid("automation.bad_yaml", "yaml", reason, reason=reason) from None
        if not isinstance(data, dict):
            raise AutomationInvalid("automation.not_mapping", "yaml", "expected a mapping")
        return self._import(
            data, origin=origin, replace_existing=replace_existing, strict=strict, allow=allow
        )

    def _import(
        self,
        data: dict[str, Any],
        *,
        origin: str,
        replace_existing: bool,
        strict: bool,
        allow: Allow | None = None,
    ) -> dict[str, Any]:
        devices = self.devices()
        parsed: list[Routine] = []
        notes: list[dict[str, Any]] = []
        skipped: list[str] = []
        for section, kind in (("scenes", "scene"), ("routines", "automation")):
            items = data.get(section) or []
            if not isinstance(items, list):
                raise AutomationInvalid("automation.not_list", section, "expected a list")
            for index, item in enumerate(items):
                try:
                    result = parse_routine(item, devices, kind=kind, where=f"{section}[{index}].")
                except AutomationInvalid as exc:
                    if strict:
                        raise
                    notes.append({"key": exc.key, **exc.params})
                    continue
                if not replace_existing and result.routine.id in self.routines:
                    skipped.append(result.routine.id)
                    continue
                parsed.append(result.routine)
                notes.extend(result.notes)
        combined = {**self.routines, **{r.id: r for r in parsed}}
        accepted: list[Routine] = []
        for routine in parsed:
            try:
                check_references(combined, routine)
            except AutomationInvalid as exc:
                if strict:
                    raise
                notes.append({"key": exc.key, **exc.params})
                continue
            accepted.append(routine)
        if allow is not None:
            for routine in accepted:
                allow(combined, routine)
        for routine in accepted:
            self._save(routine, origin)
        self._reindex()
        return {"imported": [r.id for r in accepted], "skipped": skipped, "notes": notes}

    def export_yaml(self, ids: list[str] | None = None) -> str:
        chosen = [self.get(i) for i in ids] if ids else list(self.routines.values())
        data = {
            "scenes": [routine_to_dict(r) for r in chosen if isinstance(r, Scene)],
            "routines": [routine_to_dict(r) for r in chosen if isinstance(r, Automation)],
        }
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)

    def _save(self, routine: Routine, origin: str, owner: Grant | None = None) -> None:
        kind = "scene" if isinstance(routine, Scene) else "automation"
        stored_owner = None if owner is None else owner.as_dict()
        self.store.put_routine(
            routine.id, kind, routine_to_dict(routine), routine.enabled, origin, stored_owner
        )
        self.routines[routine.id] = routine
        self.origins[routine.id] = origin
        if owner is None:
            self.owners.pop(routine.id, None)
        else:
            self.owners[routine.id] = owner

    async def grant_now(self, routine_id: str) -> Grant:
        """What the routine may do now: its owner's grant as it stands (`hub.grant_now`), as
        `routine:<id>`; OwnerRevoked when the owner may no longer act."""
        owner = self.owners.get(routine_id)
        if owner is None:
            return grant_for(routine_id)
        current = await self.hub.grant_now(owner)
        if current is None:
            raise OwnerRevoked(routine_id, owner.principal)
        return grant_for(routine_id, current)

    def _load_stored(self, only: set[str] | None = None) -> None:
        devices = self.devices()
        for stored in self.store.routines():
            if only is not None and stored.id not in only:
                continue
            try:
                routine = parse_routine(stored.body, devices, kind=stored.kind).routine
            except AutomationInvalid as exc:
                # A device left the home (or has not joined yet: MQTT devices are discovered while
                # the hub runs): keep the definition, do not run it, say why, try again later.
                if stored.id not in self._unfit:
                    self.problems.append({"id": stored.id, "key": exc.key, **exc.params})
                    _LOGGER.warning("routine %s does not fit the home now: %s", stored.id, exc)
                self._unfit.add(stored.id)
                continue
            self._unfit.discard(stored.id)
            self.problems = [p for p in self.problems if p.get("id") != stored.id]
            self.routines[stored.id] = replace(routine, enabled=stored.enabled)
            self.origins[stored.id] = stored.origin
            if stored.owner is None:
                self.owners.pop(stored.id, None)
            else:
                self.owners[stored.id] = Grant.from_dict(stored.owner)
        for routine in list(self.routines.values()):
            try:
                check_references(self.routines, routine)
            except AutomationInvalid as exc:
                problem = {"id": routine.id, "key": exc.key, **exc.params}
                if problem not in self.problems:
                    self.problems.append(problem)
        self._reindex()

    def _load_home(self, text: str) -> None:
        """The home file's `location:`, `scenes:` and `routines:` (home-file routines replace those
        the home file made before; routines made by people with the same id are kept)."""
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError:
            return  # the hub itself refuses a home file that is not YAML
        if not isinstance(data, dict):
            return
        location = data.get("location")
        if isinstance(location, dict):
            try:
                self.place = Place(
                    latitude=float(location["latitude"]),
                    longitude=float(location["longitude"]),
                    timezone=str(location.get("timezone", self.place.timezone)),
                )
            except (KeyError, TypeError, ValueError):
                self.problems.append({"id": "location", "key": "automation.bad_location"})
        ours = {k: v for k, v in data.items() if k in ("scenes", "routines")}
        if not ours:
            return
        taken = {i for i, o in self.origins.items() if o != "home"}
        for section in ("scenes", "routines"):
            items = ours.get(section)
            if isinstance(items, list):
                ours[section] = [i for i in items if not (isinstance(i, dict) and i.get("id") in taken)]
        try:
            result = self._import(ours, origin="home", replace_existing=True, strict=False)
        except AutomationInvalid as exc:
            self.problems.append({"id": "home", "key": exc.key, **exc.params})
            return
        self.problems.extend({"id": "home", **note} for note in result["notes"])

    def _reindex(self) -> None:
        self._by_device.clear()
        self._by_kind.clear()
        live: dict[tuple[str, int], float] = {}
        armed: dict[tuple[str, int], Trigger] = {}
        now = time.time()
        for routine in self.routines.values():
            if not isinstance(routine, Automation) or not routine.enabled:
                continue
            for index, trigger in enumerate(routine.triggers):
                if isinstance(trigger, StateTrigger):
                    self._by_device.setdefault(trigger.device, []).append((routine, index, trigger))
                elif isinstance(trigger, EventTrigger):
                    self._by_kind.setdefault(trigger.kind, []).append((routine, index, trigger))
                elif isinstance(trigger, TIME_TRIGGERS):
                    key = (routine.id, index)
                    # Keep the next time of an unchanged trigger; a changed one is computed afresh.
                    fire = self._next_time.get(key) if self._armed.get(key) == trigger else None
                    if fire is None:
                        fire = next_fire(trigger, now, self.place)
                    if fire is not None:
                        live[key] = fire
                armed[(routine.id, index)] = trigger
        self._next_time = live
        changed = [k for k in self._for_timers if armed.get(k) != self._armed.get(k)]
        self._armed = armed
        for key in changed:
            self._for_timers.pop(key).cancel()
            self.store.delete_mark(_hold_mark(key))
        self._clock_changed.set()

    # -- triggers -------------------------------------------------------------------------------

    async def _watch_events(self) -> None:
        assert self._events is not None
        async for event in self._events:  # a restarted watcher goes on where the last one stopped
            self.on_event(event)

    def on_event(self, event: Event) -> None:
        """Evaluate the triggers an event concerns (called for every bus event, in order)."""
        device = event.device_id
        if event.kind is EventKind.DEVICE_ADDED and self._unfit:
            self._load_stored(only=set(self._unfit))  # a routine waiting for this device may fit now
        if device is not None and event.kind in (EventKind.STATE_CHANGED, EventKind.AVAILABILITY):
            seen = self._seen.setdefault(device, {})
            changes = (
                dict(event.data)
                if event.kind is EventKind.STATE_CHANGED
                else {"is_available": event.data.get("is_available")}
            )
            for attribute, new in changes.items():
                old = seen.get(attribute)
                seen[attribute] = new
                for routine, index, trigger in self._by_device.get(device, ()):
                    if trigger.attribute == attribute:
                        self._state_changed(routine, index, trigger, old, new, event)
            waiter = self._changed.pop(device, None)
            if waiter is not None:
                waiter.set()
        for routine, index, wanted in self._by_kind.get(event.kind.value, ()):
            if wanted.device is not None and wanted.device != device:
                continue
            if all(_data_matches(event.data.get(k), v) for k, v in wanted.data.items()):
                self._trigger(
                    routine.id,
                    {
                        "kind": "event",
                        "index": index,
                        "event": event.kind.value,
                        "event_id": event.id,
                        "device": device,
                        "data": dict(event.data),
                        "at": event.at,
                    },
                )

    def _state_changed(
        self,
        routine: Automation,
        index: int,
        trigger: StateTrigger,
        old: StateValue,
        new: StateValue,
        event: Event,
    ) -> None:
        key = (routine.id, index)
        matches = value_matches(new, trigger.to, trigger.above, trigger.below)
        if not matches:
            timer = self._for_timers.pop(key, None)
            if timer is not None:
                timer.cancel()
                self.store.delete_mark(_hold_mark(key))
            return
        threshold = trigger.above is not None or trigger.below is not None
        if threshold and value_matches(old, trigger.to, trigger.above, trigger.below):
            return  # still beyond the threshold: it fires when crossing, not on every change
        if trigger.from_ and old not in trigger.from_:
            return
        info = {
            "kind": "state",
            "index": index,
            "device": trigger.device,
            "attribute": trigger.attribute,
            "from": old,
            "to": new,
            "event_id": event.id,
            "at": event.at,
        }
        if trigger.for_s <= 0:
            self._trigger(routine.id, info)
        elif key not in self._for_timers:
            info["for_s"] = trigger.for_s
            # Kept, so a restart in the middle of the `for` neither forgets nor restarts it.
            self.store.set_mark(_hold_mark(key), event.at)
            self._hold(key, trigger.for_s, info)

    def _hold(self, key: tuple[str, int], delay_s: float, info: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        self._for_timers[key] = loop.call_later(max(0.0, delay_s), self._held, key, info)

    def _held(self, key: tuple[str, int], info: dict[str, Any]) -> None:
        if self._for_timers.pop(key, None) is not None:
            self.store.delete_mark(_hold_mark(key))
            self._trigger(key[0], info)

    def _restore_holds(self) -> None:
        """`for` durations that were running when the hub stopped: if the state still holds, the
        timer goes on from when it began (firing at once if that time has passed); else it is
        dropped."""
        now = time.time()
        for name, since in self.store.marks(_HOLD).items():
            routine_id, _, index_text = name[len(_HOLD) :].rpartition("#")
            trigger = self._state_trigger(routine_id, int(index_text) if index_text.isdigit() else -1)
            state = self.hub.states().get(trigger.device) if trigger is not None else None
            if trigger is None or state is None:
                self.store.delete_mark(name)
                continue
            value = state.get(trigger.attribute)
            if not value_matches(value, trigger.to, trigger.above, trigger.below):
                self.store.delete_mark(name)
                continue
            index = int(index_text)
            info = {
                "kind": "state",
                "index": index,
                "device": trigger.device,
                "attribute": trigger.attribute,
                "to": value,
                "at": since,
                "for_s": trigger.for_s,
                "restored": True,
            }
            self._hold((routine_id, index), since + trigger.for_s - now, info)

    def _state_trigger(self, routine_id: str, index: int) -> StateTrigger | None:
        """An enabled automation's state trigger with a `for`, or None."""
        routine = self.routines.get(routine_id)
        if (
            not isinstance(routine, Automation)
            or not routine.enabled
            or not 0 <= index < len(routine.triggers)
        ):
            return None
        trigger = routine.triggers[index]
        return trigger if isinstance(trigger, StateTrigger) and trigger.for_s > 0 else None

    async def _watch_clock(self) -> None:
        while True:
            self._clock_changed.clear()
            now = time.time()
            due = sorted((fire, key) for key, fire in self._next_time.items() if fire <= now)
            for fire, (routine_id, index) in due:
                routine = self.routines.get(routine_id)
                if not isinstance(routine, Automation):
                    self._next_time.pop((routine_id, index), None)
                    continue
                trigger = routine.triggers[index]
                assert isinstance(trigger, TimeTrigger | CronTrigger | SunTrigger)
                upcoming = next_fire(trigger, fire, self.place)
                if upcoming is None:
                    self._next_time.pop((routine_id, index), None)
                else:
                    self._next_time[(routine_id, index)] = upcoming
                self._trigger(
                    routine_id, {**_time_info(trigger, index, fire), "late_s": round(now - fire, 3)}
                )
            if due or now - self._mark_written >= _MARK_EVERY_S:
                self.store.set_mark("clock", now)
                self._mark_written = now
            wake = min(self._next_time.values(), default=now + 30.0)
            timeout = max(0.0, min(wake, now + 30.0) - time.time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._clock_changed.wait()

    def _catch_up(self) -> None:
        """Time triggers that fell while the hub was down: fire late within the grace window, else
        record a skipped run saying so."""
        mark = self.store.mark("clock")
        now = time.time()
        if mark is not None:
            for routine in list(self.routines.values()):
                if not isinstance(routine, Automation) or not routine.enabled:
                    continue
                for index, trigger in enumerate(routine.triggers):
                    if not isinstance(trigger, TimeTrigger | CronTrigger | SunTrigger):
                        continue
                    missed = last_fire(trigger, mark, now, self.place)
                    if missed is None:
                        continue
                    info = {
                        **_time_info(trigger, index, missed),
                        "late_s": round(now - missed, 3),
                        "caught_up": True,
                    }
                    if now - missed <= self.grace_s:
                        self._trigger(routine.id, info)
                    else:
                        record = self.store.start_run(routine.id, info, status="skipped")
                        record.finished_at = now
                        record.trace["notes"].append(
                            {
                                "key": "automation.note_missed",
                                "due_at": missed,
                                "late_s": round(now - missed),
                                "grace_s": self.grace_s,
                            }
                        )
                        self.store.save_run(record)
        self.store.set_mark("clock", now)
        self._mark_written = now

    # -- runs -----------------------------------------------------------------------------------

    def _trigger(self, routine_id: str, info: dict[str, Any]) -> RunRecord | None:
        routine = self.routines.get(routine_id)
        if not isinstance(routine, Automation) or not routine.enabled:
            return None
        self.stats["triggered"] += 1
        info["fired_at"] = time.time()
        passed, results = evaluate(routine.conditions, self._state_of, info["fired_at"], self.place)
        if not passed:
            self.stats["conditions_failed"] += 1
            record = self.store.start_run(routine.id, info, status="stopped")
            record.trace["conditions"] = results
            record.finished_at = time.time()
            self.store.save_run(record)
            return record
        return self._start(routine, info, results)

    def _state_of(self, device_id: str) -> State | None:
        return self.hub.states().get(device_id)

    def _start(
        self, routine: Automation, info: dict[str, Any], conditions: list[dict[str, Any]]
    ) -> RunRecord | None:
        active = self._active.setdefault(routine.id, set())
        if active:
            if routine.mode is Mode.SINGLE:
                self.stats["ignored"] += 1
                return None
            if routine.mode is Mode.RESTART:
                for task in list(active):
                    self._restarting.add(task)
                    task.cancel()
                active.clear()
            elif routine.mode is Mode.QUEUED:
                queue = self._queues.setdefault(routine.id, deque())
                if len(queue) >= routine.max_runs:
                    self.stats["dropped"] += 1
                    return None
                queue.append({"info": info, "conditions": conditions})
                return None
            elif len(active) >= routine.max_runs:
                self.stats["dropped"] += 1
                return None
        record = self.store.start_run(routine.id, info)
        record.trace["conditions"] = conditions
        self._launch(routine, record, resume=False)
        return record

    def _launch(self, routine: Automation, record: RunRecord, *, resume: bool) -> asyncio.Task[None]:
        self.stats["runs"] += 1
        task = asyncio.create_task(
            self._run(routine, record, resume=resume), name=f"routine:{routine.id}:{record.id}"
        )
        self._active.setdefault(routine.id, set()).add(task)
        task.add_done_callback(lambda done: self._run_done(routine.id, done))
        return task

    def _run_done(self, routine_id: str, task: asyncio.Task[None]) -> None:
        self._restarting.discard(task)
        active = self._active.get(routine_id, set())
        active.discard(task)
        queue = self._queues.get(routine_id)
        routine = self.routines.get(routine_id)
        if queue and not active and not self._stopping and isinstance(routine, Automation):
            waiting = queue.popleft()
            record = self.store.start_run(routine_id, waiting["info"])
            record.trace["conditions"] = waiting["conditions"]
            record.trace["notes"].append({"key": "automation.note_queued"})
            self._launch(routine, record, resume=False)

    async def _run(self, routine: Automation, record: RunRecord, *, resume: bool, depth: int = 0) -> None:
        task = asyncio.current_task()
        self._announce(record, "started", resumed=resume)
        try:
            grant = await self.grant_now(routine.id)
            record.status = await self._steps(routine, record, grant, resume=resume, depth=depth)
        except OwnerRevoked as exc:
            # Before any step: nothing is dispatched for someone who may no longer act.
            _LOGGER.warning("routine %s not run: %s", routine.id, exc)
            record.status = "failed"
            record.trace["notes"].append(_refusal(exc))
        except asyncio.CancelledError:
            if task is not None and task in self._restarting:
                record.status = "restarted"
            elif self._stopping:
                raise  # the stored position stays "running": the next start resumes or skips it
            else:
                record.status = "cancelled"
            if depth > 0:  # a nested run ends with its parent, which records its own status
                record.finished_at = time.time()
                self.store.save_run(record)
                raise
        except Exception as exc:  # a bug must not leave a run silently half-done
            _LOGGER.exception("routine %s run %d failed", routine.id, record.id)
            record.status = "failed"
            record.trace["notes"].append({"key": _RUN_ERROR, "error": repr(exc)})
        record.finished_at = time.time()
        record.resume_at = None
        self.store.save_run(record)
        refused = next((n for n in record.trace["notes"] if n.get("key") == OwnerRevoked.key), None)
        self._announce(record, "finished", **({"error": refused} if refused else {}))
        if record.id % 20 == 0:
            self.store.prune_runs(routine.id)

    async def _steps(
        self, routine: Automation, record: RunRecord, grant: Grant, *, resume: bool, depth: int
    ) -> str:
        for index in range(record.step, len(routine.actions)):
            action = routine.actions[index]
            record.step = index
            resume_at = record.resume_at if resume else None
            resume = False
            started, clock = time.time(), time.perf_counter()
            status, detail, stop = await self._do(action, routine, record, grant, resume_at, depth)
            record.trace["steps"].append(
                {
                    "index": index,
                    "action": _kind(action),
                    "status": status,
                    "at": started,
                    "ms": round((time.perf_counter() - clock) * 1000, 2),
                    **detail,
                }
            )
            record.step = index + 1
            record.resume_at = None
            if record.step < len(routine.actions):  # the last step's result comes with "finished"
                self._announce(record, "step", index=index, action=_kind(action), result=status)
            if stop:
                return "failed"
            if record.step < len(routine.actions):  # the last step is saved with the run's end
                self.store.save_run(record)
        return "done"

    async def _do(  # noqa: PLR0911 (one return per kind of action)
        self,
        action: Action,
        routine: Automation,
        record: RunRecord,
        grant: Grant,
        resume_at: float | None,
        depth: int,
    ) -> tuple[str, dict[str, Any], bool]:
        match action:
            case CommandAction():
                result = await self._dispatch(action, grant)
                failed = not result["ok"]
                return ("failed" if failed else "ok"), result, failed and not action.continue_on_error
            case SceneAction():
                scene = self.routines.get(action.scene)
                if not isinstance(scene, Scene):
                    return "failed", {"scene": action.scene, "error": "automation.not_found"}, True
                results = await self.apply_scene(scene, grant)
                return _scene_status(results), {"scene": scene.id, "results": results}, False
            case DelayAction():
                due = resume_at if resume_at is not None else time.time() + action.seconds
                record.resume_at = due
                self.store.save_run(record)  # committed before sleeping: a restart can resume it
                await asyncio.sleep(max(0.0, due - time.time()))
                return "ok", {"seconds": action.seconds, **({"resumed": True} if resume_at else {})}, False
            case WaitAction():
                return await self._wait(action, record, resume_at)
            case NotifyAction():
                text = self._fill(action.text, record.trigger)
                notice = Notice(text=text, routine=routine.id, run=record.id, source=grant.source)
                outcome = await deliver(self.notifiers, notice, action.to)
                status = "ok" if not outcome["failed"] else "partial" if outcome["delivered"] else "failed"
                return status, {"text": text, **outcome}, False
            case SayAction():
                text = self._fill(action.text, record.trigger)
                self.hub.publish(
                    Event(
                        kind=EventKind.SAY,
                        data={"text": text, "routine": routine.id, "run": record.id},
                        source=grant.source,
                    )
                )
                return "ok", {"text": text}, False
            case RunAction():
                other = self.routines.get(action.routine)
                if not isinstance(other, Automation) or depth >= MAX_DEPTH:
                    return "failed", {"routine": action.routine, "error": "automation.not_found"}, True
                child = self.store.start_run(
                    other.id, {"kind": "routine", "by": routine.id, "run": record.id}
                )
                await self._run(other, child, resume=False, depth=depth + 1)
                return (
                    ("ok" if child.status == "done" else "failed"),
                    {"routine": other.id, "run": child.id, "result": child.status},
                    child.status != "done",
                )

    def _fill(self, texts: Mapping[str, str], trigger: Mapping[str, Any]) -> dict[str, str]:
        """`{text}` and `{device}` in a notice from the event that started the run: a built-in
        notice passes a warning's or alert's own words on (`{text}` in each language)."""
        data = trigger.get("data") if isinstance(trigger.get("data"), dict) else {}
        assert isinstance(data, dict)
        device_id = trigger.get("device")
        device = self.hub.home_view().devices.get(device_id) if isinstance(device_id, str) else None
        filled: dict[str, str] = {}
        for lang, template in texts.items():
            if "{" not in template:
                filled[lang] = template
                continue
            words = data.get("text") if isinstance(data.get("text"), dict) else {}
            assert isinstance(words, dict)
            said = (
                words.get(lang) or data.get(f"message_{lang}") or render("automation.notice_fallback", lang)
            )
            name = device.name_in(lang) if device is not None else render("automation.notice_home", lang)
            filled[lang] = template.replace("{text}", str(said)).replace("{device}", name)
        return filled

    async def _dispatch(self, action: CommandAction, grant: Grant) -> dict[str, Any]:
        result: dict[str, Any] = {"device": action.device, "command": action.command}
        if action.value is not None:
            result["value"] = action.value
        try:
            await self.hub.dispatch(command_of(action, grant.source), grant=grant)
        except OneteamError as exc:
            if _ALREADY.get(exc.key) in (action.command, "*"):
                # The hub refused because the device is already where the step wants it (a docked
                # robot told to dock): for a routine the target state holds, so the step is done.
                return {**result, "ok": True, "already": exc.key}
            return {
                **result,
                "ok": False,
                "error": exc.key,
                "message": {
                    "ko": render(exc.key, "ko", **exc.params),
                    "en": render(exc.key, "en", **exc.params),
                },
            }
        except Exception as exc:  # an integration's bug is this device's failure, not the whole scene's
            _LOGGER.exception("command %s on %s failed unexpectedly", action.command, action.device)
            return {
                **result,
                "ok": False,
                "error": "error.unknown",
                "message": {"ko": repr(exc), "en": repr(exc)},
            }
        return {**result, "ok": True}

    async def apply_scene(self, scene: Scene, grant: Grant) -> list[dict[str, Any]]:
        """Every device at once, each device's targets in their order (an air conditioner is turned
        on before its temperature is set); one result per target, failures saying why in Korean
        and English."""
        by_device: dict[str, list[int]] = {}
        for index, target in enumerate(scene.targets):
            by_device.setdefault(target.device, []).append(index)
        results: list[dict[str, Any]] = [{} for _ in scene.targets]

        async def one_device(indexes: list[int]) -> None:
            for index in indexes:
                results[index] = await self._dispatch(scene.targets[index], grant)

        await asyncio.gather(*(one_device(indexes) for indexes in by_device.values()))
        return results

    async def _wait(
        self, action: WaitAction, record: RunRecord, resume_at: float | None
    ) -> tuple[str, dict[str, Any], bool]:
        deadline = resume_at if resume_at is not None else time.time() + action.timeout_s
        record.resume_at = deadline
        self.store.save_run(record)
        started = time.time()
        while True:
            state = self.hub.states().get(action.device)
            value: StateValue = None
            if state is not None:
                value = (
                    state.is_available if action.attribute == "is_available" else state.get(action.attribute)
                )
            if value_matches(value, action.to, action.above, action.below):
                return (
                    "ok",
                    {
                        "device": action.device,
                        "attribute": action.attribute,
                        "value": value,
                        "waited_s": round(time.time() - started, 3),
                    },
                    False,
                )
            remaining = deadline - time.time()
            if remaining <= 0:
                detail = {
                    "device": action.device,
                    "attribute": action.attribute,
                    "value": value,
                    "timeout_s": action.timeout_s,
                }
                return "timeout", detail, not action.continue_on_timeout
            changed = self._changed.setdefault(action.device, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await changed.wait()

    def _resume_runs(self) -> None:
        now = time.time()
        for record in self.store.runs(status="running", limit=100_000):
            routine = self.routines.get(record.routine_id)
            note: dict[str, Any]
            if isinstance(routine, Automation) and record.resume_at is not None:
                late = now - record.resume_at
                if late <= self.grace_s:
                    record.trace["notes"].append(
                        {"key": "automation.note_resumed", "at": now, "step": record.step}
                    )
                    self._launch(routine, record, resume=True)
                    continue
                record.status = "skipped"
                note = {
                    "key": "automation.note_resume_skipped",
                    "due_at": record.resume_at,
                    "late_s": round(late),
                    "grace_s": self.grace_s,
                }
            else:
                # Cut off in the middle of a command (or the routine is gone): not repeated, since
                # the command may already have reached the device.
                record.status = "interrupted"
                note = {"key": "automation.note_interrupted", "step": record.step}
            record.trace["notes"].append(note)
            record.finished_at = now
            record.resume_at = None
            self.store.save_run(record)

    async def run_now(self, routine_id: str, *, source: str = "api", wait_s: float = 0.0) -> RunRecord:
        """Run a routine's actions now (conditions are not checked) or apply a scene; with
        `wait_s`, wait up to that long for the run to finish."""
        routine = self.get(routine_id)
        info: dict[str, Any] = {"kind": "manual", "by": source, "fired_at": time.time()}
        if isinstance(routine, Scene):
            record = self.store.start_run(routine.id, info)
            self._announce(record, "started")
            started, clock = time.time(), time.perf_counter()
            try:
                grant = await self.grant_now(routine.id)
            except OwnerRevoked as exc:
                record.status = "failed"
                record.trace["notes"].append(_refusal(exc))
                record.finished_at = time.time()
                self.store.save_run(record)
                self._announce(record, "finished", error=_refusal(exc))
                return record
            results = await self.apply_scene(routine, grant)
            status = _scene_status(results)
            record.trace["steps"].append(
                {
                    "index": 0,
                    "action": "scene",
                    "status": status,
                    "at": started,
                    "ms": round((time.perf_counter() - clock) * 1000, 2),
                    "scene": routine.id,
                    "results": results,
                }
            )
            record.status = "done" if status == "ok" else status
            record.finished_at = time.time()
            self.store.save_run(record)
            self._announce(record, "finished")
            return record
        started_record = self._start(routine, info, [])
        if started_record is None:
            raise RoutineBusy(routine.id, routine.mode.value)
        if wait_s > 0:
            deadline = time.time() + wait_s
            while time.time() < deadline:
                current = self.store.run(started_record.id)
                if current is not None and current.status != "running":
                    return current
                await asyncio.sleep(0.05)
        return self.store.run(started_record.id) or started_record

    def _announce(self, record: RunRecord, phase: str, **extra: Any) -> None:
        """A ROUTINE_RUN event (started, step, finished) for the page and WebSocket subscribers."""
        if not self.announce_runs and "error" not in extra:  # a refused run is always logged
            return
        self.hub.publish(
            Event(
                kind=EventKind.ROUTINE_RUN,
                data={
                    "routine": record.routine_id,
                    "run": record.id,
                    "phase": phase,
                    "status": record.status,
                    **extra,
                },
                source=grant_for(record.routine_id).source,
            )
        )

    def runs(self, routine_id: str | None = None, limit: int = 20) -> list[RunRecord]:
        if routine_id is not None:
            self.get(routine_id)
        return self.store.runs(routine_id, limit)

    def status(self) -> dict[str, Any]:
        return {
            "routines": len(self.routines),
            "running": sum(len(g) for g in self._active.values()),
            "problems": self.problems,
            "stats": dict(self.stats),
            "location": {
                "latitude": self.place.latitude,
                "longitude": self.place.longitude,
                "timezone": self.place.timezone,
            },
            "next": {
                f"{k[0]}#{k[1]}": v for k, v in sorted(self._next_time.items(), key=lambda kv: kv[1])[:20]
            },
        }


_HOLD = "hold:"


def _hold_mark(key: tuple[str, int]) -> str:
    return f"{_HOLD}{key[0]}#{key[1]}"


def _time_info(trigger: TimeTrigger | CronTrigger | SunTrigger, index: int, due_at: float) -> dict[str, Any]:
    return {"kind": "time", "index": index, "trigger": trigger_to_dict(trigger), "due_at": due_at}


def _data_matches(value: Any, wanted: Any) -> bool:
    """An event trigger's `data` filter: equal, or one of a list (`status: [active, null]`)."""
    return value in wanted if isinstance(wanted, list) else bool(value == wanted)


def _refusal(exc: OneteamError) -> dict[str, Any]:
    """A trace note for a refused run, with the reason in Korean and English."""
    return {
        "key": exc.key,
        **exc.params,
        "message": {lang: render(exc.key, lang, **exc.params) for lang in ("ko", "en")},
    }


def _scene_status(results: list[dict[str, Any]]) -> str:
    failed = sum(1 for r in results if not r["ok"])
    return "ok" if failed == 0 else "failed" if failed == len(results) else "partial"


def _kind(action: Action) -> str:
    return {
        CommandAction: "command",
        SceneAction: "scene",
        DelayAction: "delay",
        WaitAction: "wait",
        NotifyAction: "notify",
        SayAction: "say",
        RunAction: "run",
    }[type(action)]
