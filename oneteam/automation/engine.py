"""The automation engine: triggers from the hub's bus and the clock, conditions, runs with modes,
actions through `hub.dispatch` with the routine's grant, a stored trace per run.

Durability: a run's position is committed before each delay or wait (`resume_at`), so after a
restart it continues if its delay would still be due within `grace_s`, and is otherwise skipped
with a trace note. The clock's progress is kept as a mark; a time trigger that fell while the hub
was down fires late if within `grace_s`, and is otherwise recorded as a skipped run. A run killed
in the middle of a command is recorded as interrupted, not repeated (a command may have gone out).

The parts: engine_state.py (shared state, grants), catalog.py (routines in and out),
triggers.py, runs.py (modes, queue, restarts), steps.py (what each step does).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from oneteam.automation.catalog import Catalog
from oneteam.automation.engine_state import GRACE_S, Allow, EngineState, OwnerRevoked, RoutineBusy, grant_for
from oneteam.automation.runs import Runs
from oneteam.automation.steps import Steps
from oneteam.automation.store import RunRecord
from oneteam.automation.triggers import Triggers
from oneteam.hub.routines import attach_routines

__all__ = ["GRACE_S", "Allow", "Engine", "OwnerRevoked", "RoutineBusy", "grant_for"]
_LOGGER = logging.getLogger(__name__)


class Engine(Catalog, Triggers, Runs, Steps, EngineState):
    """Runs the home's routines and scenes on its hub."""

    async def start(self, *, home_text: str | None = None, presets: str | None = None) -> None:
        """Load routines (stored, the home file's, presets at first start), resume or skip runs
        cut off by a restart, catch up missed time triggers, and start watching the bus and clock.
        Every store call is made off the loop (a cluster opens hundreds of homes on one loop)."""
        await self._io(self.store.open)
        # Subscribed before anything else happens, so no event after start() is missed.
        self._events = await self._stack.enter_async_context(
            self.hub.subscribe("automation", maxsize=100_000)
        )
        self._seen = {
            d: {**s.attributes, "is_available": s.is_available} for d, s in self.hub.states().items()
        }
        self._load_stored(await self._io(self.store.routines))
        if home_text:
            await self._load_home(home_text)
        if presets and await self._io(self.store.mark, f"presets:{presets}") is None:
            from oneteam.automation.presets import preset_text

            result = await self.import_yaml(
                preset_text(presets), origin="preset", replace_existing=False, strict=False
            )
            await self._io(self.store.set_mark, f"presets:{presets}", time.time())
            _LOGGER.info("presets %s installed: %s", presets, ", ".join(result["imported"]))
        await self._resume_runs()
        await self._restore_holds()
        await self._catch_up()
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
        await self._writes_done()  # hold marks and stopped runs queued by `_later`
        await self._io(self.store.close)

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
