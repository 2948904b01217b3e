"""Push through the SDK's own MQTT client, against a local Mosquitto with mutual TLS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage
from oneteam.integrations.thinq import ThinqAdapter
from oneteam.model import Command, EventKind, Home
from tests.integrations.thinq.conftest import device_id, next_event, thinq_config
from tests.integrations.thinq.fake_mqtt import MosquittoBroker, why_no_broker
from tests.integrations.thinq.fake_server import TEST_CA, FakeThinqServer

pytestmark = pytest.mark.skipif(why_no_broker() is not None, reason=str(why_no_broker()))
AC_ID = "ac-0c1f6a2e-1d4b-4a57-9d3e-2f6a8b1c0d01"


@pytest.fixture
async def push_hub(tmp_path: Path) -> AsyncIterator[tuple[Hub, ThinqAdapter, FakeThinqServer]]:
    """A hub whose ThinQ adapter gets state by push: polling every hour, so only push can be quick."""
    async with (
        MosquittoBroker(tmp_path / "broker") as broker,
        FakeThinqServer(broker_port=broker.plain_port) as server,
    ):
        server.fake.add("air_conditioner")
        server.fake.add("washtower")
        TEST_CA.cert_pem.write_to_path(str(tmp_path / "root-ca.pem"))
        config = thinq_config(use_push=True, interval_s=3600, push_interval_s=3600).model_copy(
            update={"push_root_ca": tmp_path / "root-ca.pem"}
        )
        adapter = ThinqAdapter(config, connector_factory=server.connector_factory, seed=1)
        hub = Hub(Home(id="push"), SqliteStorage(tmp_path / "hub.sqlite3"))
        await hub.add_adapter(adapter)
        async with hub:
            for _ in range(200):
                if adapter.mode == "push":
                    break
                await asyncio.sleep(0.02)
            yield hub, adapter, server


async def test_push_is_set_up_with_the_sdks_client(
    push_hub: tuple[Hub, ThinqAdapter, FakeThinqServer],
) -> None:
    _, adapter, server = push_hub
    assert adapter.mode == "push"
    assert server.fake.count("/client/certificate") == 1 and server.fake.count("/push/") == 2


async def test_a_pushed_change_reaches_the_hub_without_polling(
    push_hub: tuple[Hub, ThinqAdapter, FakeThinqServer],
) -> None:
    hub, _, server = push_hub
    ac = device_id(hub, "air_conditioner")
    polls = server.fake.count("/state")
    async with hub.subscribe("t") as events:
        server.fake.change(AC_ID, {"operation": {"airConOperationMode": "POWER_ON"}})
        event = await next_event(events, EventKind.STATE_CHANGED, ac)
    assert event.data == {"power": True} and server.fake.count("/state") == polls


async def test_a_pushed_washtower_report_updates_only_its_part(
    push_hub: tuple[Hub, ThinqAdapter, FakeThinqServer],
) -> None:
    hub, _, server = push_hub
    dryer = device_id(hub, "dryer")
    washer = device_id(hub, "washer")
    async with hub.subscribe("t") as events:
        server.fake.change(
            "wt-1d2c3b4a-9f8e-4d7c-b6a5-f4e3d2c1b005", {"dryer": {"runState": {"currentState": "RUNNING"}}}
        )
        event = await next_event(events, EventKind.STATE_CHANGED, dryer)
    assert event.data["run_state"] == "running" and hub.state(washer).attributes["run_state"] == "idle"
    await hub.dispatch(Command(device_id=washer, name="start"))
    assert hub.state(washer).attributes["run_state"] == "running"
