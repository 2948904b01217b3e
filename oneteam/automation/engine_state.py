"""What every part of the automation engine shares: its state, the grant a routine acts under,
and the calls one part makes into another (declared here, defined by the part that owns them),
so the parts (catalog, triggers, runs, steps) never import each other's classes."""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar

from oneteam.automation.definitions import Devices
from oneteam.automation.errors import RoutineNotFound
from oneteam.automation.model import Automation, EventTrigger, Routine, Scene, StateTrigger, Trigger
from oneteam.automation.notify import Notifier, PageNotifier, SpeechNotifier
from oneteam.automation.store import RoutineStorage, RunRecord
from oneteam.automation.timing import Place
from oneteam.hub import Hub, Subscription
from oneteam.i18n import render
from oneteam.model import Door, Event, EventKind, Grant, OneteamError, State, StateValue

_P = ParamSpec("_P")
_T = TypeVar("_T")

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
    def _load_stored(self, only: set[str] | None = None) -> None: ...

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
