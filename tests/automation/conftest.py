"""A real hub (demo home, virtual appliances, SQLite file) with the automation engine on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from oneteam.automation import AutomationStore, Engine, RunRecord
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.voice.dialog import Conversation
from oneteam.voice.routines import RoutineTalk

DEMO_HOME = Path(__file__).resolve().parents[2] / "oneteam" / "homes" / "demo.yaml"


async def make_hub(path: Path, *, time_scale: float = 1.0) -> Hub:
    """A hub over the demo home; its virtual appliances run `time_scale` times faster than real time."""
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(path))
    await hub.add_adapter(VirtualAdapter(home, time_scale=time_scale, tick_s=0.05))
    return hub


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    running = await make_hub(tmp_path / "hub.sqlite3")
    async with running:
        yield running


@pytest.fixture
async def engine(hub: Hub, tmp_path: Path) -> AsyncIterator[Engine]:
    started = Engine(hub, AutomationStore(tmp_path / "hub.sqlite3"))
    await started.start()
    yield started
    await started.stop()


@pytest.fixture
async def talking_home(tmp_path: Path) -> AsyncIterator[tuple[Hub, Engine]]:
    """A hub with the engine (Korean presets) and the voice door for routines on its conversation."""
    hub = await make_hub(tmp_path / "hub.sqlite3")
    async with hub:
        engine = Engine(hub, AutomationStore(tmp_path / "hub.sqlite3"))
        await engine.start(presets="ko")
        hub.set_conversation_agent(RoutineTalk(hub, Conversation(hub)))
        yield hub, engine
        await engine.stop()


async def wait_runs(
    engine: Engine,
    routine_id: str,
    count: int = 1,
    *,
    within_s: float = 5.0,
    done: Callable[[RunRecord], bool] = lambda r: r.status != "running",
) -> list[RunRecord]:
    """The routine's runs (oldest first) once `count` of them are finished."""
    deadline = time.monotonic() + within_s
    while True:
        runs = [r for r in reversed(engine.store.runs(routine_id, limit=100)) if done(r)]
        if len(runs) >= count:
            return runs
        if time.monotonic() > deadline:
            raise AssertionError(f"{routine_id}: {len(runs)} of {count} runs after {within_s} s")
        await asyncio.sleep(0.02)
