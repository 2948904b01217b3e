"""Each member is shown only the devices their permissions cover, at every door that lists devices,
states or events: /api/devices, /api/states, one device, its state and history, /api/events,
/api/warnings, /api/schedules, and the WebSocket's opening list and live events (one by one and
batched). A real hub behind uvicorn; the household is the demo home's (12 devices)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from oneteam.hub import Hub
from oneteam.model import Command, Event, EventKind
from oneteam.model.warning import DeviceWarning
from tests.api.household_home import PASSWORD, Member, Running, served_household

LIGHTS = {"light_living", "light_bedroom", "light_kitchen", "light_small"}
EVERY = LIGHTS | {"ac_living", "ac_bedroom", "washer", "dryer", "fridge", "purifier", "robot", "tv"}
SHOWN = {
    "mom": EVERY,  # owner
    "dad": EVERY - {"dryer"},  # adult kept off the dryer
    "minji": LIGHTS | {"tv"},  # child: lights and the TV
    "visitor": LIGHTS | {"tv", "ac_living", "ac_bedroom", "purifier"},  # guest
}


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    members: list[Member] = [
        ("dad", "adult", {"deny": ["dryer"]}),
        ("minji", "child", None),
        ("visitor", "guest", None),
    ]
    async with served_household(tmp_path, members) as running:
        yield running


async def _session(running: Running, name: str) -> str:
    async with httpx.AsyncClient(base_url=running.url) as client:
        answer = await client.post("/api/session", json={"name": name, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["token"]
        return token


async def _get(running: Running, token: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=running.url, timeout=30) as client:
        return await client.get(path, headers={"Authorization": f"Bearer {token}"})


async def _act(hub: Hub, device: str) -> None:
    """The hub itself (no member) turns a device's state over, so every device has events."""
    command = "start" if device in ("washer", "dryer") else "turn_on"
    await hub.dispatch(Command(device_id=device, name=command, source="system:test"))


@pytest.mark.parametrize("member", list(SHOWN))
async def test_rest_lists_only_the_members_devices_states_and_events(running: Running, member: str) -> None:
    hub = running.hub
    for device in ("washer", "dryer", "light_small", "ac_living"):
        await _act(hub, device)
    hub.publish(
        Event(
            kind=EventKind.WARNING,
            device_id="washer",
            data=DeviceWarning(
                key="maintenance.warning", problem="drain_pump", source="maintenance", device_id="washer"
            ).as_data(),
            source="system:test",
        )
    )
    due = time.time() + 3600
    await hub.scheduler.add([Command(device_id="dryer", name="start", source="t")], due, "system:test")
    await hub.scheduler.add(
        [Command(device_id="light_small", name="turn_off", source="t")], due, "system:test"
    )
    token = await _session(running, member)
    shown = SHOWN[member]
    hidden = EVERY - shown

    listed = (await _get(running, token, "/api/devices")).json()
    assert {d["id"] for d in listed["devices"]} == shown
    states = (await _get(running, token, "/api/states")).json()["states"]
    assert set(states) == shown
    assert states["light_small"]["attributes"]["power"] is True
    for device in sorted(hidden):
        for path in (
            f"/api/devices/{device}",
            f"/api/devices/{device}/state",
            f"/api/devices/{device}/history",
        ):
            answer = await _get(running, token, path)
            assert answer.status_code == 404, (path, answer.text)
            assert device in answer.json()["error"]["message"]
        assert (await _get(running, token, f"/api/events?device={device}")).status_code == 404
    assert (await _get(running, token, "/api/devices/light_small/history")).json()["series"]["brightness"]

    events = (await _get(running, token, "/api/events?kind=command&limit=1000")).json()
    seen = {e["device_id"] for e in events["events"]}
    assert seen == {"washer", "dryer", "light_small", "ac_living"} & shown
    # A page of one holds one event the member is shown, even when the newest stored ones are not.
    await hub.dispatch(Command(device_id="washer", name="pause", source="system:test"))
    one = (await _get(running, token, "/api/events?kind=command&limit=1")).json()["events"]
    assert len(one) == 1 and one[0]["device_id"] in shown
    assert (one[0]["device_id"] == "washer") == ("washer" in shown)

    warnings = (await _get(running, token, "/api/warnings")).json()["warnings"]
    assert ({w["device_id"] for w in warnings} == {"washer"}) == ("washer" in shown)
    schedules = (await _get(running, token, "/api/schedules")).json()["schedules"]
    booked = {a["device"] for s in schedules for a in s["actions"]}
    assert booked == {"light_small"} | ({"dryer"} & shown)


async def _until_result(socket: ClientConnection, batch: bool) -> list[dict[str, Any]]:
    """Events the socket sends until the light in the small room reports its new state."""
    got: list[dict[str, Any]] = []
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        events = message.get("events", []) if batch else [message["event"]] if "event" in message else []
        got += events
        if any(e["device_id"] == "light_small" and e["kind"] == "state_changed" for e in events):
            return got


@pytest.mark.parametrize("batch", [False, True], ids=["one-by-one", "batched"])
@pytest.mark.parametrize("member", list(SHOWN))
async def test_the_websocket_opens_with_and_streams_only_the_members_devices(
    running: Running, member: str, batch: bool
) -> None:
    token = await _session(running, member)
    url = running.url.replace("http://", "ws://") + "/api/ws" + ("?batch=1" if batch else "")
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as socket:
        hello = json.loads(await socket.recv())
        assert hello["type"] == "hello" and set(hello["states"]) == SHOWN[member]
        for device in ("washer", "dryer", "ac_living", "light_small"):  # the light last
            await _act(running.hub, device)
        got = await _until_result(socket, batch)
    devices = {e["device_id"] for e in got if e["device_id"] is not None}
    assert devices == {"washer", "dryer", "ac_living", "light_small"} & SHOWN[member]


async def test_an_open_socket_follows_the_members_permissions(running: Running) -> None:
    """The owner takes the small room's light from the child while the child's page is open: its
    events stop and its commands are refused; given back, both return — without reconnecting."""
    hub = running.hub
    token = await _session(running, "minji")
    url = running.url.replace("http://", "ws://") + "/api/ws"
    async with connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as socket:
        assert "light_small" in json.loads(await socket.recv())["states"]

        async def command(name: str, number: int) -> dict[str, Any]:
            await socket.send(
                json.dumps({"type": "command", "id": number, "device": "light_small", "command": name})
            )
            while (reply := json.loads(await asyncio.wait_for(socket.recv(), 10)))["type"] != "result":
                pass
            return reply

        await hub.household.update_member("minji", by=None, overrides={"deny": ["light_small"]})
        await asyncio.sleep(1.5)  # the socket's grant follows within half a second
        refused = await command("turn_on", 1)
        assert refused["ok"] is False and refused["error"]["key"] == "error.forbidden"
        await _act(hub, "light_small")  # the hub turns it on: the child is not told
        await _act(hub, "tv")
        got = await _until_device(socket, "tv")
        assert "light_small" not in {e["device_id"] for e in got}

        await hub.household.update_member("minji", by=None, overrides={"deny": []})
        await asyncio.sleep(1.5)
        allowed = await command("turn_off", 2)
        assert allowed["ok"] is True, allowed
        assert hub.state("light_small").get("power") is False


async def _until_device(socket: ClientConnection, device: str) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if message.get("type") == "event":
            got.append(message["event"])
            if message["event"]["device_id"] == device and message["event"]["kind"] == "state_changed":
                return got
