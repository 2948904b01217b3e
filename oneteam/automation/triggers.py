"""What starts a routine: device states (thresholds, `for` durations kept across restarts), hub
events, and the clock (time, cron, sun), with time triggers missed while the hub was down caught up
within the grace window or recorded as skipped."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from oneteam.automation.conditions import evaluate, value_matches
from oneteam.automation.definitions import trigger_to_dict
from oneteam.automation.engine_state import EngineState
from oneteam.automation.model import (
    TIME_TRIGGERS,
    Automation,
    CronTrigger,
    EventTrigger,
    StateTrigger,
    SunTrigger,
    TimeTrigger,
    Trigger,
)
from oneteam.automation.store import RunRecord
from oneteam.automation.timing import last_fire, next_fire
from oneteam.model import Event, EventKind, StateValue

_MARK_EVERY_S = 5.0


class Triggers(EngineState):
    """Triggers indexed by device, event kind and time; conditions checked when one fires."""

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
            self._later(self.store.delete_mark, _hold_mark(key))
        self._clock_changed.set()

    async def _watch_events(self) -> None:
        assert self._events is not None
        async for event in self._events:  # a restarted watcher goes on where the last one stopped
            self.on_event(event)

    def on_event(self, event: Event) -> None:
        """Evaluate the triggers an event concerns (called for every bus event, in order)."""
        device = event.device_id
        if event.kind is EventKind.DEVICE_ADDED and self._unfit:
            self._load_stored(list(self._unfit.values()))  # a routine waiting for this device may fit now
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
                self._later(self.store.delete_mark, _hold_mark(key))
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
            self._later(self.store.set_mark, _hold_mark(key), event.at)
            self._hold(key, trigger.for_s, info)

    def _hold(self, key: tuple[str, int], delay_s: float, info: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        self._for_timers[key] = loop.call_later(max(0.0, delay_s), self._held, key, info)

    def _held(self, key: tuple[str, int], info: dict[str, Any]) -> None:
        if self._for_timers.pop(key, None) is not None:
            self._later(self.store.delete_mark, _hold_mark(key))
            self._trigger(key[0], info)

    async def _restore_holds(self) -> None:
        """`for` durations that were running when the hub stopped: if the state still holds, the
        timer goes on from when it began (firing at once if that time has passed); else it is
        dropped."""
        marks = await self._io(self.store.marks, _HOLD)
        now = time.time()
        for name, since in marks.items():
            routine_id, _, index_text = name[len(_HOLD) :].rpartition("#")
            trigger = self._state_trigger(routine_id, int(index_text) if index_text.isdigit() else -1)
            state = self.hub.states().get(trigger.device) if trigger is not None else None
            if trigger is None or state is None:
                self._later(self.store.delete_mark, name)
                continue
            value = state.get(trigger.attribute)
            if not value_matches(value, trigger.to, trigger.above, trigger.below):
                self._later(self.store.delete_mark, name)
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
                await self._io(self.store.set_mark, "clock", now)
                self._mark_written = now
            wake = min(self._next_time.values(), default=now + 30.0)
            timeout = max(0.0, min(wake, now + 30.0) - time.time())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._clock_changed.wait()

    async def _catch_up(self) -> None:
        """Time triggers that fell while the hub was down: fire late within the grace window, else
        record a skipped run saying so."""
        mark = await self._io(self.store.mark, "clock")
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
                        record = RunRecord(
                            id=0, routine_id=routine.id, status="skipped", trigger=info, started_at=now
                        )
                        record.finished_at = now
                        record.trace["notes"].append(
                            {
                                "key": "automation.note_missed",
                                "due_at": missed,
                                "late_s": round(now - missed),
                                "grace_s": self.grace_s,
                            }
                        )
                        await self._io(self._write_finished, record)
        await self._io(self.store.set_mark, "clock", now)
        self._mark_written = now

    def _trigger(self, routine_id: str, info: dict[str, Any]) -> RunRecord | None:
        routine = self.routines.get(routine_id)
        if not isinstance(routine, Automation) or not routine.enabled:
            return None
        self.stats["triggered"] += 1
        info["fired_at"] = time.time()
        passed, results = evaluate(routine.conditions, self._state_of, info["fired_at"], self.place)
        if not passed:
            self.stats["conditions_failed"] += 1
            record = RunRecord(
                id=0, routine_id=routine.id, status="stopped", trigger=info, started_at=time.time()
            )
            record.trace["conditions"] = results
            record.finished_at = time.time()
            self._later(self._write_finished, record)  # an event's handling does not wait for the store
            return record
        return self._start(routine, info, results)


_HOLD = "hold:"


def _hold_mark(key: tuple[str, int]) -> str:
    return f"{_HOLD}{key[0]}#{key[1]}"


def _time_info(trigger: TimeTrigger | CronTrigger | SunTrigger, index: int, due_at: float) -> dict[str, Any]:
    return {"kind": "time", "index": index, "trigger": trigger_to_dict(trigger), "due_at": due_at}


def _data_matches(value: Any, wanted: Any) -> bool:
    """An event trigger's `data` filter: equal, or one of a list (`status: [active, null]`)."""
    return value in wanted if isinstance(wanted, list) else bool(value == wanted)
