"""One-shot scheduled commands ("10분 뒤에", "저녁 7시에") that survive a restart.

Each schedule is stored before it is acknowledged; a timer task dispatches what is due and marks
it done. Schedules that fell due while the hub was down run at start-up, once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

from oneteam.hub.storage import Storage
from oneteam.model import (
    Command,
    Device,
    Event,
    EventKind,
    Grant,
    InvalidValue,
    OneteamError,
    State,
    validate_command,
)
from oneteam.model.schedule import Schedule

_LOGGER = logging.getLogger(__name__)
MAX_DELAY_S = 7 * 86400  # a week ahead is the longest a one-shot timer makes sense


def due_time(
    *,
    delay_s: float | None = None,
    at: str | None = None,
    now: float | None = None,
    timezone: str = "Asia/Seoul",
) -> float:
    """Unix time for "in `delay_s` seconds" or "at HH:MM" (the next such time in `timezone`)."""
    now = time.time() if now is None else now
    if (delay_s is None) == (at is None):
        raise InvalidValue("error.schedule_when", "give either delay_s or at")
    if at is None:
        if delay_s is None or not 0 < delay_s <= MAX_DELAY_S:
            raise InvalidValue(
                "error.schedule_delay", f"delay {delay_s} s is outside 1 s–7 days", value=delay_s
            )
        return now + delay_s
    try:
        hour, minute = (int(part) for part in at.split(":"))
        if not (0 <= hour < 24 and 0 <= minute < 60):
            raise ValueError(at)
    except ValueError:
        raise InvalidValue("error.schedule_at", f"time {at!r} is not HH:MM", value=at) from None
    zone = ZoneInfo(timezone)
    local_now = dt.datetime.fromtimestamp(now, zone)
    target = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local_now:
        target += dt.timedelta(days=1)
    return target.timestamp()


class SchedulerHost(Protocol):
    """What the scheduler needs of the hub (hub/core.py's Hub), so the two modules do not import
    each other."""

    @property
    def storage(self) -> Storage: ...

    def device(self, device_id: str) -> Device: ...

    def canonical_mode(self, command: Command, device: Device) -> Command: ...

    def publish(self, event: Event) -> Event: ...

    async def dispatch(self, command: Command, *, grant: Grant | None = None) -> State: ...


class Scheduler:
    """Keeps one timer for the earliest pending schedule of the hub."""

    def __init__(self, hub: SchedulerHost, timezone: str = "Asia/Seoul") -> None:
        self._hub = hub
        self.timezone = timezone
        self._pending: dict[int, Schedule] = {}
        self._changed = asyncio.Event()

    async def load(self) -> None:
        """Read pending schedules from storage."""
        self._pending = {s.id: s for s in await self._hub.storage.pending_schedules()}
        self._changed.set()

    async def add(self, commands: Sequence[Command], due_at: float, source: str) -> Schedule:
        """Validate the commands now (so errors are immediate), store the schedule, and arm the timer."""
        commands = [self._hub.canonical_mode(c, self._hub.device(c.device_id)) for c in commands]
        for command in commands:
            validate_command(command, self._hub.device(command.device_id))
        stored = await self._hub.storage.add_schedule(due_at, [c.as_dict() for c in commands], source)
        schedule = Schedule(id=stored, due_at=due_at, commands=tuple(commands), source=source)
        self._pending[schedule.id] = schedule
        self._changed.set()
        self._hub.publish(Event(kind=EventKind.SCHEDULED, data=schedule.as_dict(), source=source))
        return schedule

    async def cancel(self, schedule_id: int) -> bool:
        """Cancel a pending schedule."""
        if self._pending.pop(schedule_id, None) is None:
            return False
        await self._hub.storage.finish_schedule(schedule_id, "cancelled")
        self._changed.set()
        return True

    def pending(self) -> list[Schedule]:
        """Pending schedules, earliest first."""
        return sorted(self._pending.values(), key=lambda s: s.due_at)

    async def run(self) -> None:
        """Dispatch schedules as they fall due, until cancelled."""
        while True:
            self._changed.clear()
            upcoming = self.pending()
            if upcoming and upcoming[0].due_at <= time.time():
                await self._fire(upcoming[0])
                continue
            timeout = None if not upcoming else upcoming[0].due_at - time.time()
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait()
            except TimeoutError:
                continue

    async def _fire(self, schedule: Schedule) -> None:
        self._pending.pop(schedule.id, None)
        failures: list[str] = []
        for command in schedule.commands:
            try:
                await self._hub.dispatch(command)
            except OneteamError as exc:
                failures.append(f"{command.device_id}: {exc.key}")
                _LOGGER.warning(
                    "scheduled command %s on %s failed: %s", command.name, command.device_id, exc.key
                )
        status = "failed" if failures else "done"
        await self._hub.storage.finish_schedule(schedule.id, status)
        self._hub.publish(
            Event(
                kind=EventKind.SCHEDULE_DONE,
                data={**schedule.as_dict(), "status": status, "failures": failures},
                source=schedule.source,
            )
        )
