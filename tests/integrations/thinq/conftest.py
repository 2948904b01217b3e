"""A fake ThinQ Connect cloud on a free loopback port, and hubs that drive it through the real SDK."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from oneteam.hub import Hub, SqliteStorage
from oneteam.integrations.thinq import ThinqAdapter, ThinqConfig
from oneteam.model import Event, EventKind, Home, Room, builtin_type_specs
from tests.integrations.thinq.fake_server import FakeThinqServer

ALL_FIXTURES = (
    "air_conditioner",
    "air_conditioner_small",
    "washer",
    "dryer",
    "washtower",
    "refrigerator",
    "air_purifier",
    "robot_cleaner",
    "styler",
    "malformed_air_purifier",
)
ROOMS = {"워시타워": "laundry_room", "거실 에어컨": "living_room", "주방 냉장고": "kitchen"}


def thinq_config(*, use_push: bool = False, **polling: Any) -> ThinqConfig:
    """Settings for tests: fast intervals and back-off, short timeouts; push only where asked for."""
    settings = {"interval_s": 0.05, "backoff_base_s": 0.05, "backoff_max_s": 2.0, "request_timeout_s": 1.0}
    settings["calls_per_hour"] = 1_000_000  # the budget test sets its own; here it must not stretch intervals
    settings.update(polling)
    return ThinqConfig.model_validate(
        {
            "access_token": "test-token",
            "country": "KR",
            "rooms": ROOMS,
            "use_push": use_push,
            "polling": settings,
        }
    )


@pytest.fixture
async def server() -> AsyncIterator[FakeThinqServer]:
    """The fake cloud with one appliance of every kind (and two that must be skipped)."""
    async with FakeThinqServer() as running:
        for fixture in ALL_FIXTURES:
            running.fake.add(fixture)
        yield running


HubFactory = Callable[..., Awaitable[tuple[Hub, ThinqAdapter]]]


@pytest.fixture
async def make_hub(tmp_path: Path, server: FakeThinqServer) -> AsyncIterator[HubFactory]:
    """Start a hub with a ThinQ adapter on the fake cloud; polling settings as keyword arguments."""
    started: list[Hub] = []

    async def start(*, use_push: bool = False, **polling: Any) -> tuple[Hub, ThinqAdapter]:
        home = Home(
            id="thinq-test",
            rooms={r: Room(id=r) for r in ("living_room", "kitchen", "laundry_room")},
            types=builtin_type_specs(),
        )
        hub = Hub(home, SqliteStorage(tmp_path / f"hub{len(started)}.sqlite3"))
        adapter = ThinqAdapter(
            thinq_config(use_push=use_push, **polling), connector_factory=server.connector_factory, seed=1
        )
        await hub.add_adapter(adapter)
        await hub.__aenter__()
        started.append(hub)
        return hub, adapter

    yield start
    for hub in started:
        await hub.__aexit__(None, None, None)


def device_id(hub: Hub, type_name: str, name: str | None = None) -> str:
    """The id of the hub device of this type (and name, when several)."""
    return next(
        d.id for d in hub.devices() if d.type.value == type_name and (name is None or name in d.names)
    )


async def next_event(
    events: Any, kind: EventKind, device: str | None = None, timeout_s: float = 3.0
) -> Event:
    """The next event of `kind` (for `device`), skipping others."""
    import asyncio

    async with asyncio.timeout(timeout_s):
        while True:
            event: Event = await events.get()
            if event.kind is kind and (device is None or event.device_id == device):
                return event
