"""The routine engine's store calls during a run do not block the event loop: a triggered run's
row, each step saved before a delay, a nested run and the run's end are written from a thread
(on PostgreSQL each is a round trip the loop's other homes would otherwise wait for).

A real hub and engine over a real SQLite store, wrapped only to note which thread each call
came from.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from oneteam.automation import AutomationStore, Engine, RunRecord
from oneteam.hub import Hub
from oneteam.model import Command
from tests.automation.conftest import wait_runs

WATCHED = ("start_run", "save_run", "prune_runs")


class _NotingStore(AutomationStore):
    """The SQLite store, noting for each run-path call whether it ran on the loop's thread."""

    def __init__(self, path: Path, loop_thread: int) -> None:
        super().__init__(path)
        self.loop_thread = loop_thread
        self.calls: list[tuple[str, bool]] = []

    def _note(self, name: str) -> None:
        self.calls.append((name, threading.get_ident() == self.loop_thread))

    def start_run(self, routine_id: str, trigger: dict[str, Any], status: str = "running") -> RunRecord:
        self._note("start_run")
        return super().start_run(routine_id, trigger, status)

    def save_run(self, run: RunRecord) -> None:
        self._note("save_run")
        super().save_run(run)


async def test_a_triggered_runs_store_calls_are_off_the_loop(hub: Hub, tmp_path: Path) -> None:
    store = _NotingStore(tmp_path / "hub.sqlite3", threading.get_ident())
    engine = Engine(hub, store)
    await engine.start()
    try:
        await engine.put({"id": "inner", "actions": [{"device": "light_small", "command": "turn_on"}]})
        await engine.put(
            {
                "id": "outer",
                "triggers": [{"device": "light_kitchen", "attribute": "power", "to": True}],
                "actions": [
                    {"device": "light_living", "command": "turn_on"},
                    {"delay": 0.2},
                    {"run": "inner"},
                    {"device": "light_living", "command": "set_brightness", "value": 11},
                ],
            }
        )
        await hub.dispatch(Command(device_id="light_kitchen", name="turn_on"))
        outer = (await wait_runs(engine, "outer"))[0]
        assert outer.status == "done", outer
        assert [r.status for r in engine.store.runs("inner")] == ["done"]
        assert hub.state("light_living").attributes["brightness"] == 11
        names = [name for name, _ in store.calls]
        assert names.count("start_run") == 2 and names.count("save_run") >= 4, store.calls
        assert not [call for call in store.calls if call[1]], f"on the loop: {store.calls}"
    finally:
        await engine.stop()


async def test_a_restarted_run_is_recorded_even_when_cut_while_its_row_is_written(
    hub: Hub, tmp_path: Path
) -> None:
    engine = Engine(hub, AutomationStore(tmp_path / "hub.sqlite3"))
    await engine.start()
    try:
        await engine.put(
            {
                "id": "again",
                "mode": "restart",
                "triggers": [{"device": "light_kitchen", "attribute": "brightness"}],
                "actions": [{"delay": 0.3}, {"device": "light_small", "command": "turn_on"}],
            }
        )
        for value in (10, 20, 30):  # back to back: a run may be cut before its row is written
            await hub.dispatch(Command(device_id="light_kitchen", name="set_brightness", value=value))
        runs = await wait_runs(engine, "again", 3, within_s=10)
        assert sorted(r.status for r in runs) == ["done", "restarted", "restarted"], runs
        assert all(r.id > 0 for r in runs) and engine.store.runs("again", status="running") == []
    finally:
        await engine.stop()
    await asyncio.sleep(0)


_STORE_CALLS = (
    "open",
    "close",
    "routines",
    "put_routine",
    "delete_routine",
    "set_enabled",
    "start_run",
    "save_run",
    "prune_runs",
    "runs",
    "run",
    "mark",
    "marks",
    "delete_mark",
    "set_mark",
)


class _EveryCallNoted(AutomationStore):
    """The SQLite store, noting every call and whether it ran on the loop's thread."""

    def __init__(self, path: Path, loop_thread: int) -> None:
        super().__init__(path)
        self.loop_thread = loop_thread
        self.calls: list[tuple[str, bool]] = []


def _noted(name: str) -> Any:
    def call(self: _EveryCallNoted, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((name, threading.get_ident() == self.loop_thread))
        return getattr(AutomationStore, name)(self, *args, **kwargs)

    return call


for _name in _STORE_CALLS:
    setattr(_EveryCallNoted, _name, _noted(_name))

_HOME_ROUTINE = """
routines:
  - id: from_home
    actions: [{device: light_small, command: turn_on}]
"""


async def test_catalog_edits_hold_marks_and_start_never_call_the_store_on_the_loop(
    hub: Hub, tmp_path: Path
) -> None:
    """Start (stored routines, the home file's, presets, cut runs, holds, the clock), the catalog's
    edits (put, import, switch, delete), a `for` hold's marks, a run its conditions stopped, a
    restart that restores a hold, and stop: every store call is made from a worker thread."""
    store = _EveryCallNoted(tmp_path / "hub.sqlite3", threading.get_ident())
    engine = Engine(hub, store)
    await engine.start(home_text=_HOME_ROUTINE, presets="ko")
    try:
        await engine.put(
            {
                "id": "held",
                "triggers": [{"device": "light_kitchen", "attribute": "power", "to": True, "for": 60}],
                "actions": [{"device": "light_living", "command": "turn_on"}],
            }
        )
        await engine.put(
            {
                "id": "checked",
                "triggers": [{"device": "light_small", "attribute": "power", "to": True}],
                "conditions": [{"device": "tv", "attribute": "power", "is": True}],
                "actions": [{"device": "light_living", "command": "turn_off"}],
            }
        )
        await engine.import_yaml(
            "routines:\n  - id: imported\n    actions: [{device: tv, command: turn_off}]\n", origin="api"
        )
        await engine.set_enabled("imported", False)
        await engine.delete("imported")
        for device in ("tv", "light_small", "light_kitchen"):
            await hub.dispatch(Command(device_id=device, name="turn_off"))
        await hub.dispatch(Command(device_id="light_small", name="turn_on"))  # stopped: the tv is off
        await hub.dispatch(Command(device_id="light_kitchen", name="turn_on"))  # the hold begins
        # The test's own reads are made from threads too (so any call noted on the loop is the engine's).
        for _ in range(200):
            if await asyncio.to_thread(store.runs, "checked"):
                break
            await asyncio.sleep(0.02)
        assert [r.status for r in await asyncio.to_thread(store.runs, "checked")] == ["stopped"]
        for _ in range(200):
            if await asyncio.to_thread(store.marks, "hold:"):
                break
            await asyncio.sleep(0.02)
        assert list(await asyncio.to_thread(store.marks, "hold:")) == ["hold:held#0"]
    finally:
        await engine.stop()

    # Started again with the light still on: the hold is restored from its mark, then dropped
    # (off the loop) once the light goes off.
    again = Engine(hub, store)
    await again.start()
    try:
        assert ("held", 0) in again._for_timers
        await hub.dispatch(Command(device_id="light_kitchen", name="turn_off"))
        for _ in range(200):
            if not await asyncio.to_thread(store.marks, "hold:"):
                break
            await asyncio.sleep(0.02)
        assert await asyncio.to_thread(store.marks, "hold:") == {}
    finally:
        await again.stop()
    names = {name for name, _ in store.calls}
    assert {"put_routine", "delete_routine", "set_enabled", "set_mark", "delete_mark", "marks"} <= names
    assert {"start_run", "save_run", "routines", "runs", "mark", "open", "close"} <= names
    assert not [call for call in store.calls if call[1]], f"on the loop: {sorted(set(store.calls))}"
