"""A real Mosquitto per test on a free port, and a recording AdapterSink (a real object, not a mock)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from oneteam.integrations.mqtt.credentials import MqttCredentials
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker, find_mosquitto
from oneteam.integrations.mqtt.settings import BrokerSettings
from oneteam.model import Device, EventKind, StateValue


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A Mosquitto broker of this test's own, on a free loopback port."""
    if find_mosquitto() is None:
        pytest.skip("mosquitto is not installed (apt-get install -y mosquitto)")
    broker = MosquittoBroker(directory=tmp_path / "mosquitto")
    broker.start()
    yield broker
    broker.stop()


def device_login(settings: BrokerSettings, credentials: MqttCredentials) -> BrokerSettings:
    """The same broker as `settings`, signed in with the devices' account of `credentials`."""
    login = credentials.devices
    return BrokerSettings(
        host=settings.host, port=settings.port, username=login.username, password=login.password
    )


@dataclass
class RecordingSink:
    """Keeps what the adapter reports, as the hub would, so tests can look at it."""

    devices: dict[str, Device] = field(default_factory=dict)
    states: dict[str, dict[str, StateValue]] = field(default_factory=dict)
    available: dict[str, bool] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    events: list[tuple[str, EventKind, Mapping[str, Any]]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    state_reports: int = 0

    def report_state(self, device_id: str, changes: Mapping[str, StateValue]) -> None:
        self.state_reports += 1
        self.states.setdefault(device_id, {}).update(changes)

    def report_event(self, device_id: str, kind: EventKind, data: Mapping[str, Any]) -> None:
        self.events.append((device_id, kind, data))

    def report_availability(
        self, device_id: str, is_available: bool, reason: str = "", *, reason_key: str | None = None
    ) -> None:
        self.available[device_id] = is_available
        self.reasons[device_id] = reason

    def add_device(self, device: Device) -> None:
        self.devices[device.id] = device

    def remove_device(self, device_id: str) -> None:
        self.devices.pop(device_id, None)
        self.removed.append(device_id)


@pytest.fixture
def sink() -> RecordingSink:
    """A fresh recording sink."""
    return RecordingSink()


async def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait until `check()` is true, or fail after `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not check():
            await asyncio.sleep(0.01)
