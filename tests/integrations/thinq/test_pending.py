"""PENDING for ThinQ commands, with the real thinqconnect SDK against the fake cloud: LG's cloud
answers a control call before the appliance acts (the fake's `settle_s`). A command whose effect
does not show within the adapter's window is pending (hub CommandPending, REST 202, partner
PENDING) and the final state arrives by the next poll; one that shows in time is done."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from oneteam.api import smarthome as smarthome_api
from oneteam.api.app import create_app
from oneteam.interop.smarthome import SmartHomeService
from oneteam.model import Command, CommandPending, EventKind
from tests.integrations.thinq.conftest import HubFactory, device_id, next_event
from tests.integrations.thinq.fake_server import FakeThinqServer
from tests.interop.smarthome.conftest import (
    Door,
    PartnerEndpoint,
    Serve,
    execute_body,
    link_account,
    validate,
)
from tests.interop.smarthome.test_fulfillment import Linked


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


async def test_the_partner_gets_pending_then_the_final_state_by_report_state(
    make_hub: HubFactory, server: FakeThinqServer, tmp_path: Path
) -> None:
    hub, adapter = await make_hub()
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    endpoint = PartnerEndpoint()
    token = await hub.create_token("test")
    async with SmartHomeService(
        hub, tmp_path / "partner.sqlite3", report_batch_window_s=0.05, report_backoff_s=0.05
    ) as service:
        app = create_app(
            hub, extra_routers=[smarthome_api.router], public_routers=[smarthome_api.public_router]
        )
        app.state.smarthome = service
        async with Serve(app) as api, Serve(endpoint.app()) as partner_side:
            door = Door(hub, api.url, token, service, endpoint, partner_side.url)
            partner, secret = door.add_partner(rate_per_minute=10_000)
            async with httpx.AsyncClient(timeout=10) as client:
                linked = Linked(
                    door, client, (await link_account(client, door, partner, secret))["access_token"]
                )
                server.fake.settle_s = 1.0
                adapter.confirm_s = 0.2
                answer = await linked.post(
                    execute_body([ac], "ThermostatTemperatureSetpoint", {"thermostatTemperatureSetpoint": 20})
                )
                validate(answer, "intents/execute/execute.response.schema.json")
                [result] = answer["payload"]["commands"]
                assert result["status"] == "PENDING", result
                assert result["states"]["thermostatTemperatureSetpoint"] != 20
                pushed = await endpoint.wait_for(
                    lambda p: (
                        p["signed"]
                        and p["body"]["payload"]["devices"]["states"]
                        .get(ac, {})
                        .get("thermostatTemperatureSetpoint")
                        == 20
                    ),
                    timeout_s=5.0,
                )
    assert pushed["kind"] == "reportState"
