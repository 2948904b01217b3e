"""A partner link a household member made acts as that member, as the member stands now: SYNC lists
only their devices, QUERY and EXECUTE refuse the others, and report state pushes only theirs, also
after the member's permissions shrink. A household link (the hub token's) beside it still gets all."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx

from oneteam.model import Command
from tests.interop.smarthome.conftest import Door, execute_body, intent, link_account

PASSWORD = "a long enough password"
CHILD = {"light_living", "light_bedroom", "light_kitchen", "light_small", "tv"}


async def _fulfil(door: Door, access: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=30) as client:
        answer = await client.post(
            f"{door.url}/api/smarthome/fulfillment", json=body, headers={"Authorization": f"Bearer {access}"}
        )
    assert answer.status_code == 200, answer.text
    payload: dict[str, Any] = answer.json()["payload"]
    return payload


async def test_a_members_link_syncs_queries_executes_and_reports_only_their_devices(door: Door) -> None:
    hub = door.hub
    await hub.household.ensure_owner("mom")
    await hub.household.add_member("minji", "child", by=None, password=PASSWORD)
    async with httpx.AsyncClient(timeout=30) as client:
        signed = await client.post(f"{door.url}/api/session", json={"name": "minji", "password": PASSWORD})
        assert signed.status_code == 200, signed.text
    as_minji = replace(door, hub_token=signed.json()["token"])
    child_partner, child_secret = door.add_partner(name="child's partner")
    house_partner, house_secret = door.add_partner(name="household partner")
    async with httpx.AsyncClient(timeout=30) as browser:  # the child's browser on the consent page
        child = (await link_account(browser, as_minji, child_partner, child_secret))["access_token"]
    async with httpx.AsyncClient(timeout=30) as browser:
        house = (await link_account(browser, door, house_partner, house_secret))["access_token"]

    synced = await _fulfil(door, child, intent("SYNC"))
    assert {d["id"] for d in synced["devices"]} == CHILD
    assert synced["agentUserId"].startswith("member:minji:")

    # The child loses the TV after linking: the link follows at once.
    await hub.household.update_member("minji", by=None, overrides={"deny": ["tv"]})
    synced = await _fulfil(door, child, intent("SYNC"))
    assert {d["id"] for d in synced["devices"]} == CHILD - {"tv"}
    queried = await _fulfil(door, child, intent("QUERY", {"devices": [{"id": "tv"}, {"id": "light_small"}]}))
    assert queried["devices"]["tv"]["errorCode"] == "deviceNotFound"
    assert queried["devices"]["light_small"]["status"] == "SUCCESS"
    executed = await _fulfil(door, child, execute_body(["tv", "washer"], "OnOff", {"on": True}))
    assert [(c["ids"], c["status"]) for c in executed["commands"]] == [(["tv", "washer"], "ERROR")]
    assert hub.state("tv").get("power") is not True
    household_sync = await _fulfil(door, house, intent("SYNC"))
    assert "tv" in {d["id"] for d in household_sync["devices"]}

    # Report state: the TV changes first, then the small room's light.
    door.endpoint.pushes.clear()
    await hub.dispatch(Command(device_id="tv", name="turn_on", source="system:test"))
    await hub.dispatch(Command(device_id="light_small", name="turn_on", source="system:test"))

    def states_for(push: dict[str, Any], agent: str) -> dict[str, Any]:
        body = push["body"]
        if push["kind"] != "reportState" or body["agentUserId"] != agent:
            return {}
        found: dict[str, Any] = body["payload"]["devices"]["states"]
        return found

    child_agent = synced["agentUserId"]
    house_agent = household_sync["agentUserId"]
    await door.endpoint.wait_for(lambda p: "light_small" in states_for(p, child_agent))
    await door.endpoint.wait_for(lambda p: "tv" in states_for(p, house_agent))
    await asyncio.sleep(0.3)  # anything still on its way for the child's link
    reported = {d for p in door.endpoint.pushes for d in states_for(p, child_agent)}
    assert "light_small" in reported and "tv" not in reported
    assert reported <= CHILD - {"tv"}
