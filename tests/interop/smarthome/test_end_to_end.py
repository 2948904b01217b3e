"""A fake partner cloud drives the home end to end over real HTTP: link through the consent page,
SYNC, EXECUTE, QUERY, receive report-state pushes, DISCONNECT."""

from __future__ import annotations

from typing import Any

import httpx

from oneteam.hub import EventQuery
from tests.interop.smarthome.conftest import Door, execute_body, intent, link_account, validate


async def _fulfill(client: httpx.AsyncClient, door: Door, token: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        f"{door.url}/api/smarthome/fulfillment", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def test_partner_links_syncs_executes_queries_gets_pushes_and_disconnects(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient(timeout=10) as client:
        tokens = await link_account(client, door, partner, secret)
        assert tokens["token_type"] == "Bearer" and tokens["expires_in"] <= 3600 and tokens["refresh_token"]
        access = tokens["access_token"]

        sync = await _fulfill(client, door, access, intent("SYNC", request_id="req-sync"))
        validate(sync, "intents/sync/sync.response.schema.json")
        assert sync["requestId"] == "req-sync"
        devices = {d["id"]: d for d in sync["payload"]["devices"]}
        assert set(devices) == {d.id for d in door.hub.devices()}
        ac = devices["ac_living"]
        assert ac["type"] == "action.devices.types.AC_UNIT"
        assert ac["attributes"]["thermostatTemperatureRange"] == {
            "minThresholdCelsius": 18,
            "maxThresholdCelsius": 30,
        }
        assert devices["washer"]["type"] == "action.devices.types.WASHER"

        # "Turn on the living-room AC, set it to 24 °C" and "start the washer", as a partner sends
        # them (a setpoint alone on an off AC is deviceTurnedOff, docs/state-rules.md).
        await _fulfill(client, door, access, execute_body(["ac_living"], "OnOff", {"on": True}))
        set_ac = await _fulfill(
            client,
            door,
            access,
            execute_body(
                ["ac_living"], "ThermostatTemperatureSetpoint", {"thermostatTemperatureSetpoint": 24}
            ),
        )
        validate(set_ac, "intents/execute/execute.response.schema.json")
        [result] = set_ac["payload"]["commands"]
        assert result["ids"] == ["ac_living"] and result["status"] == "SUCCESS"
        assert result["states"]["thermostatTemperatureSetpoint"] == 24
        start = await _fulfill(client, door, access, execute_body(["washer"], "StartStop", {"start": True}))
        validate(start, "intents/execute/execute.response.schema.json")
        assert start["payload"]["commands"][0]["states"]["isRunning"] is True

        # The same command path as every door: the hub's state and history say so.
        assert door.hub.state("ac_living").get("temperature") == 24
        assert door.hub.state("washer").get("run_state") == "running"
        commands = await door.hub.events(EventQuery(device_id="washer"))
        assert any(e.source == f"partner:{partner.client_id}" for e in commands)

        query = await _fulfill(
            client, door, access, intent("QUERY", {"devices": [{"id": "ac_living"}, {"id": "washer"}]})
        )
        validate(query, "intents/query/query.response.schema.json")
        states = query["payload"]["devices"]
        assert states["ac_living"]["thermostatTemperatureSetpoint"] == 24 and states["ac_living"]["online"]
        assert states["washer"]["isRunning"] is True and states["washer"]["currentTotalRemainingTime"] == 3600

        # Report state: the partner's own endpoint received the changes, signed.
        push = await door.endpoint.wait_for(
            lambda p: (
                p["kind"] == "reportState"
                and p["body"]["payload"]["devices"]["states"].get("washer", {}).get("isRunning") is True
            )
        )
        assert push["signed"] and push["body"]["agentUserId"] == sync["payload"]["agentUserId"]

        disconnect = await _fulfill(client, door, access, intent("DISCONNECT"))
        validate(disconnect, "intents/disconnect/disconnect.response.schema.json")
        after = await client.post(
            f"{door.url}/api/smarthome/fulfillment",
            json=intent("SYNC"),
            headers={"Authorization": f"Bearer {access}"},
        )
        assert after.status_code == 401
        refreshed = await client.post(
            f"{door.url}/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(partner.client_id, secret),
        )
        assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


async def test_web_page_lists_and_revokes_links_with_the_hub_token(door: Door) -> None:
    partner, secret = door.add_partner(name="Partner B")
    async with httpx.AsyncClient(timeout=10) as client:
        tokens = await link_account(client, door, partner, secret, devices=["light_living"])
        hub_headers = {"Authorization": f"Bearer {door.hub_token}"}
        assert (await client.get(f"{door.url}/api/smarthome/links")).status_code == 401
        listed = (await client.get(f"{door.url}/api/smarthome/links", headers=hub_headers)).json()["links"]
        assert [(link["partner"]["name"], link["devices"]) for link in listed] == [
            ("Partner B", ["light_living"])
        ]
        revoked = await client.delete(
            f"{door.url}/api/smarthome/links/{listed[0]['id']}", headers=hub_headers
        )
        assert revoked.status_code == 200
        again = await client.delete(f"{door.url}/api/smarthome/links/{listed[0]['id']}", headers=hub_headers)
        assert again.status_code == 404 and again.json()["error"]["message"]
        gone = await client.post(
            f"{door.url}/api/smarthome/fulfillment",
            json=intent("SYNC"),
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
        assert gone.status_code == 401
