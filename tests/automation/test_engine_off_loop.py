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
        engine.put({"id": "inner", "actions": [{"device": "light_small", "command": "turn_on"}]})
        engine.put(
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
        engine.put(
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
