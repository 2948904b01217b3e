from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, EventKind


@pytest.fixture
async def fast_hub(tmp_path: Path, fixture_home_path: Path):
    """Virtual time at 1800x: a 60-minute course takes two seconds."""
    home = load_home(fixture_home_path)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    adapter = VirtualAdapter(home, time_scale=1800, tick_s=0.02)
    await hub.add_adapter(adapter)
    async with hub:
        yield hub, adapter


async def test_a_wash_course_counts_down_and_ends_with_a_finished_event(fast_hub) -> None:
    hub, _ = fast_hub
    async with hub.subscribe("test", maxsize=100_000) as events:
        await hub.dispatch(Command(device_id="washer", name="set_mode", value="quick"))
        state = await hub.dispatch(Command(device_id="washer", name="start"))
        assert state.attributes["remaining_time"] == 900 and state.attributes["run_state"] == "running"
        remaining: list[int] = []
        async with asyncio.timeout(10):
            async for event in events:
                if event.device_id != "washer":
                    continue
                if "remaining_time" in event.data:
                    remaining.append(int(event.data["remaining_time"]))
                if event.kind is EventKind.FINISHED:
                    break
    assert remaining == sorted(remaining, reverse=True) and remaining[-1] == 0
    assert hub.state("washer").attributes["run_state"] == "finished"


async def test_a_paused_course_keeps_its_remaining_time(fast_hub) -> None:
    hub, adapter = fast_hub
    adapter.time_scale = 1  # hold time still enough to pause
    await hub.dispatch(Command(device_id="dryer", name="start"))
    adapter.advance(600)
    paused = await hub.dispatch(Command(device_id="dryer", name="pause"))
    adapter.advance(600)
    assert hub.state("dryer").attributes["remaining_time"] == paused.attributes["remaining_time"] == 2400
    resumed = await hub.dispatch(Command(device_id="dryer", name="start"))
    assert resumed.attributes["run_state"] == "running" and resumed.attributes["remaining_time"] == 2400


async def test_the_room_moves_toward_the_air_conditioners_target(fast_hub) -> None:
    hub, adapter = fast_hub
    adapter.time_scale = 1
    await hub.dispatch(Command(device_id="ac_living", name="set_temperature", value=20))
    start = hub.state("ac_living").attributes["current_temperature"]
    for _ in range(30):
        adapter.advance(60)
    later = hub.state("ac_living").attributes["current_temperature"]
    assert isinstance(start, float) and isinstance(later, float | int)
    assert 20 <= later < start - 4
    await hub.dispatch(Command(device_id="ac_living", name="turn_off"))
    for _ in range(30):
        adapter.advance(60)
    assert hub.state("ac_living").attributes["current_temperature"] > later


async def test_a_robot_cleaner_drains_its_battery_and_returns_to_base(fast_hub) -> None:
    hub, adapter = fast_hub
    adapter.time_scale = 1
    await hub.dispatch(Command(device_id="robot", name="start"))
    for _ in range(60):
        adapter.advance(60)
        if hub.state("robot").attributes["run_state"] == "docked":
            break
    state = hub.state("robot").attributes
    assert state["run_state"] == "docked"
    assert float(state["battery"]) < 100


async def test_a_robot_with_a_low_battery_refuses_to_start(fast_hub) -> None:
    hub, adapter = fast_hub
    adapter._appliances["robot"].attributes["battery"] = 10
    with pytest.raises(Exception, match="battery"):
        await hub.dispatch(Command(device_id="robot", name="start"))


async def test_the_fridge_reports_its_door_and_the_purifier_its_air(fast_hub) -> None:
    hub, adapter = fast_hub
    adapter.time_scale = 1
    doors: set[object] = set()
    for _ in range(2000):
        adapter.advance(30)
        doors.add(hub.state("fridge").attributes["door"])
        if doors == {"open", "closed"}:
            break
    assert doors == {"open", "closed"}
    before = hub.state("purifier").attributes["pm25"]
    await hub.dispatch(Command(device_id="purifier", name="turn_on"))
    for _ in range(20):
        adapter.advance(60)
    after = hub.state("purifier").attributes
    assert float(after["pm25"]) < float(before) and after["air_quality"] == "good"


async def test_express_freeze_is_the_fridges_on_off(fast_hub) -> None:
    hub, _ = fast_hub
    state = await hub.dispatch(Command(device_id="fridge", name="turn_on"))
    assert state.attributes["express_freeze"] is True
    state = await hub.dispatch(
        Command(device_id="fridge", name="set_temperature", value=-20, target="freezer")
    )
    assert state.attributes["freezer_temperature"] == -20
