"""One-shot scheduled commands ("10분 뒤에", "저녁 7시에") that survive a restart.

Each schedule is stored before it is acknowledged, with the grant of whoever booked it; a timer
task dispatches what is due under that grant as it stands then (a revoked token's bookings do not
run, limits that no longer cover a command refuse it) and marks it done or failed. Schedules that
fell due while the hub was down run at start-up, once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import Protocol
from zoneinfo import ZoneInfo

from oneteam.hub.conversation import DOOR_GRANT
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
from oneteam.model.state_rules import base_name

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

    async def grant_now(self, booked: Grant) -> Grant | None: ...


class Clock(Protocol):
    """What the scheduler reads the time from."""

    def now(self) -> float:
        """Unix time, seconds."""

    def real_seconds(self, seconds: float) -> float:
        """How long `seconds` on this clock take in real time."""


class SystemClock:
    """The wall clock."""

    def now(self) -> float:
        return time.time()

    def real_seconds(self, seconds: float) -> float:
        return seconds


class ScaledClock:
    """A clock running `scale` times faster than real time from the moment it is made (a
    simulated home, or a test that lets half an hour pass in half a second)."""

    def __init__(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError(f"clock scale must be positive, not {scale}")
        self.scale = scale
        self._start = time.time()
        self._start_monotonic = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._start_monotonic) * self.scale

    def real_seconds(self, seconds: float) -> float:
        return seconds / self.scale


class BookingRevoked(OneteamError):
    """Whoever booked a schedule may no longer act (token revoked or expired, member removed or
    expired), so its commands do not run."""

    key = "error.booking_revoked"

    def __init__(self, grant: Grant) -> None:
        super().__init__(f"{grant.principal} may no longer act", principal=grant.principal)


class Scheduler:
    """Keeps one timer for the earliest pending schedule of the hub."""

    def __init__(self, hub: SchedulerHost, timezone: str = "Asia/Seoul", clock: Clock | None = None) -> None:
        self._hub = hub
        self.timezone = timezone
        self._clock: Clock = clock or SystemClock()
        self._pending: dict[int, Schedule] = {}
        self._changed = asyncio.Event()

    @property
    def clock(self) -> Clock:
        """The clock schedules fall due by."""
        return self._clock

    def set_clock(self, clock: Clock) -> None:
        """Read the time from `clock` from now on (the timer re-arms at once)."""
        self._clock = clock
        self._changed.set()

    async def load(self) -> None:
        """Read pending schedules from storage."""
        self._pending = {s.id: s for s in await self._hub.storage.pending_schedules()}
        self._changed.set()

    async def add(
        self, commands: Sequence[Command], due_at: float, source: str, *, grant: Grant | None = None
    ) -> Schedule:
        """Check the commands against `grant` and validate them now (so errors are immediate),
        store the schedule with the grant, and arm the timer. Without a grant the door's
        (`DOOR_GRANT`) is used; with neither, the schedule runs as the hub's own."""
        grant = grant or DOOR_GRANT.get()
        commands = [self._hub.canonical_mode(c, self._hub.device(c.device_id)) for c in commands]
        for command in commands:
            device = self._hub.device(command.device_id)
            if grant is not None:
                grant.refuse(device, base_name(command.name))
            validate_command(command, device)
        if grant is not None:
            source = grant.source
        stored = await self._hub.storage.add_schedule(
            due_at, [c.as_dict() for c in commands], source, grant=grant
        )
        schedule = Schedule(id=stored, due_at=due_at, commands=tuple(commands), source=source, grant=grant)
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
            clock = self._clock
            if upcoming and upcoming[0].due_at <= clock.now():
                await self._fire(upcoming[0])
                continue
            timeout = None if not upcoming else clock.real_seconds(upcoming[0].due_at - clock.now())
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait()
            except TimeoutError:
                continue

    async def _grant_now(self, schedule: Schedule) -> Grant | None:
        """The booking's grant as it stands now (the hub rebuilds a token's or member's from what
        is stored, within the limits it was booked with); BookingRevoked when it no longer holds."""
        booked = schedule.grant
        if booked is None:
            return None
        current = await self._hub.grant_now(booked)
        if current is None:
            raise BookingRevoked(booked)
        return current

    def _refused(self, schedule: Schedule, command: Command, exc: OneteamError) -> None:
        """Log a command that did not run because its booking's grant no longer holds."""
        self._hub.publish(
            Event(
                kind=EventKind.COMMAND_FAILED,
                device_id=command.device_id,
                data={**command.as_dict(), "error": exc.key, "message": str(exc), "schedule": schedule.id},
                source=schedule.source,
            )
        )

    async def _fire(self, schedule: Schedule) -> None:
        failures: list[str] = []
        try:
            grant = await self._grant_now(schedule)
            revoked: BookingRevoked | None = None
        except BookingRevoked as exc:
            grant, revoked = None, exc
        # Only now: a failure reading the grant (storage) leaves it pending for the restarted task.
        self._pending.pop(schedule.id, None)
        for command in schedule.commands:
            try:
                if revoked is not None:
                    self._refused(schedule, command, revoked)
                    raise revoked
                # dispatch checks the grant first and logs a refusal as COMMAND_FAILED itself.
                await self._hub.dispatch(command, grant=grant)
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
