"""What every part of the automation engine shares: its state, the grant a routine acts under,
and the calls one part makes into another (declared here, defined by the part that owns them),
so the parts (catalog, triggers, runs, steps) never import each other's classes."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ParamSpec, TypeVar

from oneteam.automation.definitions import Devices
from oneteam.automation.errors import RoutineNotFound
from oneteam.automation.model import Automation, EventTrigger, Routine, Scene, StateTrigger, Trigger
from oneteam.automation.notify import Notifier, PageNotifier, SpeechNotifier
from oneteam.automation.store import RoutineStorage, RunRecord, StoredRoutine
from oneteam.automation.timing import Place
from oneteam.hub import Hub, Subscription
from oneteam.i18n import render
from oneteam.model import Door, Event, EventKind, Grant, OneteamError, State, StateValue

_P = ParamSpec("_P")
_T = TypeVar("_T")
_LOGGER = logging.getLogger(__name__)

GRACE_S = 600.0
"""How late a resumed delay or a missed time trigger may still run (else it is skipped, with a note)."""


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


class EngineState(ABC):
    """The engine's state and its small shared calls; engine.py's Engine puts the parts together."""

    def __init__(
        self,
        hub: Hub,
        store: RoutineStorage,
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
        self._unfit: dict[str, StoredRoutine] = {}
        """Stored routines that name a device the hub does not have (now), kept as stored, so a
        device that joins is checked against them without asking the store on the loop."""
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
        self._pending: deque[Callable[[], object]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self.stats: dict[str, int] = {
            "triggered": 0,
            "conditions_failed": 0,
            "runs": 0,
            "ignored": 0,
            "dropped": 0,
            "task_restarts": 0,
        }

    def devices(self) -> Devices:
        home = self.hub.home_view()
        return Devices(devices=home.devices, rooms=home.rooms)

    def get(self, routine_id: str) -> Routine:
        try:
            return self.routines[routine_id]
        except KeyError:
            raise RoutineNotFound(routine_id) from None

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

    def _state_of(self, device_id: str) -> State | None:
        return self.hub.states().get(device_id)

    async def _io(self, call: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """A store call off the event loop: a PostgreSQL round trip or an SQLite commit must not
        hold up the other homes and doors the loop serves. The caller awaits it, so its writes
        stay in order and a step is still committed before the run sleeps."""
        return await asyncio.to_thread(call, *args, **kwargs)

    def _later(self, call: Callable[..., object], *args: Any) -> None:
        """A store write nobody waits for (a `for` hold's mark, a run its conditions stopped),
        from code that cannot await (a bus event, a timer): queued in order and done off the loop
        by one task, which `stop` lets finish before the store closes."""
        self._pending.append(functools.partial(call, *args))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_pending(), name="automation-writes")

    async def _write_pending(self) -> None:
        while self._pending:
            job = self._pending.popleft()
            try:
                await self._io(job)
            except Exception:  # a refused or failed write is logged; the ones after it still go
                _LOGGER.exception("automation: a store write failed (%r)", job)

    async def _writes_done(self) -> None:
        """Wait for the queued writes (`_later`)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)

    def _write_finished(self, record: RunRecord) -> None:
        """A run that ended before it began (stopped, skipped, cut): its row written at once, with
        its status, trace and end (in a worker thread: `_io` or `_later`)."""
        stored = self.store.start_run(record.routine_id, record.trigger, status=record.status)
        if record.status != "running":
            stored.finished_at = record.finished_at
            stored.trace = record.trace
            self.store.save_run(stored)
        record.id, record.started_at = stored.id, stored.started_at

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

    # -- defined by the parts (catalog.py, triggers.py, runs.py, steps.py) ----------------------

    @abstractmethod
    def _reindex(self) -> None: ...

    @abstractmethod
    def _load_stored(self, stored: Iterable[StoredRoutine]) -> None: ...

    @abstractmethod
    def _trigger(self, routine_id: str, info: dict[str, Any]) -> RunRecord | None: ...

    @abstractmethod
    def _start(
        self, routine: Automation, info: dict[str, Any], conditions: list[dict[str, Any]]
    ) -> RunRecord | None: ...

    @abstractmethod
    def _launch(self, routine: Automation, record: RunRecord, *, resume: bool) -> asyncio.Task[None]: ...

    @abstractmethod
    async def _run(self, routine: Automation, record: RunRecord, *, resume: bool, depth: int = 0) -> None: ...

    @abstractmethod
    async def _steps(
        self, routine: Automation, record: RunRecord, grant: Grant, *, resume: bool, depth: int
    ) -> str: ...

    @abstractmethod
    async def apply_scene(self, scene: Scene, grant: Grant) -> list[dict[str, Any]]: ...


def refusal(exc: OneteamError) -> dict[str, Any]:
    """A trace note for a refused run, with the reason in Korean and English."""
    return {
        "key": exc.key,
        **exc.params,
        "message": {lang: render(exc.key, lang, **exc.params) for lang in ("ko", "en")},
    }
