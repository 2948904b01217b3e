"""The engine as the hub's `Routines`: what voice, MCP and the partner door call, each with its Grant.

A caller may run, switch or create a routine only when its grant permits every command the
routine would send (through its scenes and the routines it runs), so a limited door cannot reach
further through a routine; the routine itself then acts as `routine:<id>`, within its creator's
limits as they stand at each run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from oneteam.automation.definitions import Devices, commands_in, parse_routine
from oneteam.automation.model import PhraseTrigger, Routine, Scene
from oneteam.automation.store import RunRecord
from oneteam.hub import Hub
from oneteam.hub.routines import RoutineEntry
from oneteam.model import Grant


class RoutineEngine(Protocol):
    """What the doors need of the engine (engine.py's Engine, which attaches them when it starts),
    so the two modules do not import each other."""

    hub: Hub
    routines: dict[str, Routine]

    def devices(self) -> Devices: ...

    def get(self, routine_id: str) -> Routine: ...

    async def put(
        self,
        data: Any,
        *,
        origin: str = ...,
        replace_existing: bool = ...,
        kind: str | None = ...,
        allow: Callable[[Mapping[str, Routine], Routine], None] | None = ...,
        owner: Grant | None = ...,
    ) -> dict[str, Any]: ...

    async def set_enabled(self, routine_id: str, enabled: bool) -> Routine: ...

    def describe(self, routine: Routine) -> dict[str, Any]: ...

    async def run_now(self, routine_id: str, *, source: str = ..., wait_s: float = ...) -> RunRecord: ...


class EngineRoutines:
    """`oneteam.hub.routines.Routines` over the engine."""

    def __init__(self, engine: RoutineEngine) -> None:
        self.engine = engine

    def entry(self, routine: Routine) -> RoutineEntry:
        described = self.engine.describe(routine)
        phrases = (
            ()
            if isinstance(routine, Scene)
            else tuple(t.phrase for t in routine.triggers if isinstance(t, PhraseTrigger))
        )
        return RoutineEntry(
            id=routine.id,
            kind=described["kind"],
            names=dict(routine.names),
            enabled=routine.enabled,
            phrases=phrases,
            running=described["running"],
            data=described,
            devices=tuple(dict.fromkeys(a.device for a in commands_in(routine, self.engine.routines))),
        )

    def catalog(self) -> list[RoutineEntry]:
        return [self.entry(r) for r in self.engine.routines.values()]

    def allow(self, grant: Grant | None, routine: Routine, routines: Mapping[str, Routine]) -> None:
        """PermissionDenied unless the grant permits every command the routine sends."""
        if grant is None:
            return
        for action in commands_in(routine, routines):
            grant.refuse(self.engine.hub.device(action.device), action.command)

    async def activate(self, routine_id: str, *, grant: Grant, wait_s: float = 0.0) -> dict[str, Any]:
        routine = self.engine.get(routine_id)
        self.allow(grant, routine, self.engine.routines)
        record = await self.engine.run_now(routine_id, source=grant.source, wait_s=wait_s)
        return record.as_dict()

    async def set_enabled(self, routine_id: str, enabled: bool, *, grant: Grant | None) -> RoutineEntry:
        self.allow(grant, self.engine.get(routine_id), self.engine.routines)
        return self.entry(await self.engine.set_enabled(routine_id, enabled))

    async def create(self, data: Mapping[str, Any], *, grant: Grant | None, origin: str) -> RoutineEntry:
        def allow(routines: Mapping[str, Routine], routine: Routine) -> None:
            self.allow(grant, routine, routines)

        # It runs within the creator's limits as they stand at each run (a voice creation's
        # conversation grant); None: the household's own.
        await self.engine.put(dict(data), origin=origin, replace_existing=False, allow=allow, owner=grant)
        return self.entry(self.engine.get(str(data["id"])))

    def check(self, data: Mapping[str, Any], *, grant: Grant | None) -> None:
        routine = parse_routine(dict(data), self.engine.devices()).routine
        self.allow(grant, routine, {**self.engine.routines, routine.id: routine})
