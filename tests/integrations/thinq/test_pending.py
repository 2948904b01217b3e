"""PENDING for ThinQ commands, with the real thinqconnect SDK against the fake cloud: LG's cloud
answers a control call before the appliance acts (the fake's `settle_s`). A command whose effect
does not show within the adapter's window is pending (hub CommandPending, REST 202, partner
PENDING) and the final state arrives by the next poll; one that shows in time is done."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from oneteam.api.app import create_app
from oneteam.model import Command, CommandPending, EventKind
from tests.integrations.thinq.conftest import HubFactory, device_id, next_event
from tests.integrations.thinq.fake_server import FakeThinqServer
from tests.interop.smarthome.conftest import Serve


async def test_an_ac_that_acts_late_is_pending_then_its_state_arrives(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, adapter = await make_hub()
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    before = hub.state(ac).get("temperature")
    assert before != 19
    server.fake.settle_s = 1.0
    adapter.confirm_s = 0.2
    async with hub.subscribe("t") as events:
        with pytest.raises(CommandPending) as pending:
            await hub.dispatch(Command(device_id=ac, name="set_temperature", value=19))
        assert pending.value.key == "error.command_pending"
        assert hub.state(ac).get("temperature") == before  # not claimed before the appliance acts
        changed = await next_event(events, EventKind.STATE_CHANGED, ac, timeout_s=5.0)
        while changed.data.get("temperature") != 19:
            changed = await next_event(events, EventKind.STATE_CHANGED, ac, timeout_s=5.0)
    assert hub.state(ac).get("temperature") == 19


async def test_an_effect_that_shows_within_the_window_is_done(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, adapter = await make_hub()
    washer = device_id(hub, "washer", "워시타워 세탁기")
    server.fake.settle_s = 0.3
    adapter.confirm_s = 3.0
    state = await hub.dispatch(Command(device_id=washer, name="start"))
    assert state.attributes["run_state"] == "running"


async def test_rest_answers_202_while_a_thinq_command_is_pending(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, adapter = await make_hub()
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    token = await hub.create_token("test")
    server.fake.settle_s = 1.0
    adapter.confirm_s = 0.2
    async with Serve(create_app(hub)) as api, httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(
            f"{api.url}/api/devices/{ac}/commands",
            json={"command": "set_mode", "value": "dry"},
            headers={"Authorization": f"Bearer {token}", "Accept-Language": "ko"},
        )
        assert answer.status_code == 202, answer.text
        error = answer.json()["error"]
        assert error["key"] == "error.command_pending" and "아직 확인되지 않았어요" in error["message"]
        async with asyncio.timeout(5):
            while hub.state(ac).get("mode") != "dry":
                await asyncio.sleep(0.05)
