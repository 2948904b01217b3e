"""A device renamed or moved on the hub reads so in the partner door's SYNC at once: its entries
are cached per device object, and a rename or a move replaces the object."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.interop.smarthome.conftest import Door, intent, link_account


async def _sync(client: httpx.AsyncClient, door: Door, token: str) -> dict[str, Any]:
    response = await client.post(
        f"{door.url}/api/smarthome/fulfillment",
        content=json.dumps(intent("SYNC")),
        headers={"Authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    assert response.status_code == 200, response.text
    devices: list[dict[str, Any]] = response.json()["payload"]["devices"]
    return next(d for d in devices if d["id"] == "light_small")


async def test_sync_shows_the_new_name_and_room_after_an_edit(door: Door) -> None:
    partner, secret = door.add_partner(rate_per_minute=10_000)
    async with httpx.AsyncClient(timeout=10) as client:
        token = (await link_account(client, door, partner, secret))["access_token"]
        before = await _sync(client, door, token)
        assert before["name"]["name"] == "작은방 조명"
        answer = await client.patch(
            f"{door.url}/api/devices/light_small",
            json={"name": "공부방 스탠드", "room": "master_bedroom"},
            headers={"Authorization": f"Bearer {door.hub_token}"},
        )
        assert answer.status_code == 200, answer.text
        after = await _sync(client, door, token)
    assert after["name"]["name"] == "공부방 스탠드"
    assert after["roomHint"] != before["roomHint"]
