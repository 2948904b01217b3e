"""The live service: real Events in through an asyncio.Queue, WARNING events out with days left."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.i18n import render
from oneteam.model import DeviceType, Event, EventKind
from oneteam.services.maintenance import MaintenanceService, ModelStore
from oneteam.sim import DegradingAppliance

DAY_S = 86_400.0


async def _drain(queue: asyncio.Queue[Event | None]) -> AsyncIterator[Event]:
    while (event := await queue.get()) is not None:
        yield event


def _telemetry(device_id: str, unit: DegradingAppliance, days: int) -> list[Event]:
    events = []
    for _ in range(days):
        sample = unit.advance()
        events.append(
            Event(
                kind=EventKind.STATE_CHANGED,
                device_id=device_id,
                data=dict(sample.values),
                source="virtual",
                at=sample.day * DAY_S,
            )
        )
    return events


@pytest.fixture(scope="module")
def models_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder the first service fills by training on simulated fleets."""
    root = tmp_path_factory.mktemp("models")
    MaintenanceService(ModelStore(root)).ensure_appliance_models()
    return root


async def _run(service: MaintenanceService, events: list[Event]) -> None:
    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    consumer = asyncio.create_task(service.run(_drain(queue)), name="maintenance-test")
    for event in events:
        await queue.put(event)
    await queue.put(None)
    async with asyncio.timeout(30):
        await consumer


async def test_first_start_trains_and_saves_models_then_reuses_them(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    await MaintenanceService(store).start()
    assert store.names() == ["appliance-air_conditioner", "appliance-refrigerator", "appliance-washer"]
    await MaintenanceService(store).start()
    assert {card.version for card in store.cards()} == {1}


async def test_wearing_washer_gets_a_warning_in_time(models_root: Path) -> None:
    published: list[Event] = []
    service = MaintenanceService(ModelStore(models_root), publish=published.append)
    await service.start()
    washer = DegradingAppliance(DeviceType.WASHER, rng=random.Random(21), life_days=500.0)
    washer.day = washer.onset_day - 30
    events = _telemetry("washer", washer, int(washer.life_days - washer.day) - 1)
    events.insert(5, Event(kind=EventKind.COMMAND, device_id="washer", data={"command": "start"}))
    events.insert(6, Event(kind=EventKind.STATE_CHANGED, device_id="washer", data={"run_state": "running"}))
    await _run(service, events)

    assert published, "no warning before the bearing failed"
    first = published[0]
    assert first.kind is EventKind.WARNING
    assert first.device_id == "washer"
    assert first.source == "maintenance"
    data = first.data
    assert data["component"] == "drum_bearing"
    assert data["key"] == "maintenance.warning.drum_bearing"
    assert data["text"]["ko"] == render("maintenance.warning.drum_bearing", "ko", days=data["days_left"])
    assert "세탁기 모터 베어링" in data["text"]["ko"]
    assert data["text"]["en"].startswith("Washer motor bearing")
    assert data["advice"]["ko"]
    # Warned with real lead time: the failure was still at least a week away.
    true_days_left = washer.life_days - first.at / DAY_S
    assert true_days_left >= 7
    assert abs(data["days_left"] - true_days_left) <= 15
    # One warning per level crossed, not one per day.
    levels = [event.data["level_days"] for event in published]
    assert levels == sorted(levels, reverse=True)
    assert len(levels) == len(set(levels)) <= 4
    assert service.warnings()[0].device_id == "washer"


async def test_healthy_appliances_raise_no_warning(models_root: Path) -> None:
    published: list[Event] = []
    service = MaintenanceService(ModelStore(models_root), publish=published.append)
    await service.start()
    fridge = DegradingAppliance(DeviceType.REFRIGERATOR, rng=random.Random(4), life_days=900.0)
    aircon = DegradingAppliance(DeviceType.AIR_CONDITIONER, rng=random.Random(5), life_days=900.0)
    fridge.day = aircon.day = 100.0
    events = _telemetry("fridge", fridge, 60) + _telemetry("ac_living", aircon, 60)
    await _run(service, events)
    assert published == []
    assert service.warnings() == []


async def test_refrigerant_leak_warns_the_air_conditioner(models_root: Path) -> None:
    published: list[Event] = []
    service = MaintenanceService(ModelStore(models_root), publish=published.append)
    await service.start()
    aircon = DegradingAppliance(DeviceType.AIR_CONDITIONER, rng=random.Random(8), life_days=300.0)
    aircon.day = aircon.onset_day - 20
    await _run(service, _telemetry("ac_living", aircon, int(aircon.life_days - aircon.day) - 1))
    assert published
    assert {e.data["component"] for e in published} == {"refrigerant"}
    assert published[0].data["device_type"] == "air_conditioner"


async def test_saved_model_for_other_columns_is_refused_and_replaced(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ModelStore(tmp_path)
    await MaintenanceService(store, device_types=(DeviceType.WASHER,)).start()
    card_path = tmp_path / "appliance-washer" / "card.json"
    card = json.loads(card_path.read_text())
    card["input_columns"] = ["motor_current_a", "spin_rpm", "load_kg"]
    card_path.write_text(json.dumps(card))
    with caplog.at_level(logging.WARNING):
        await MaintenanceService(store, device_types=(DeviceType.WASHER,)).start()
    assert "spin_rpm" in caplog.text
    reloaded = store.load("appliance-washer")
    assert reloaded.card.version == 2
    assert reloaded.card.input_columns == ("motor_current_a", "vibration_mm_s", "load_kg")
