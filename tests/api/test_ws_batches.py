"""Batched WebSocket fan-out (`?batch=1`) against a real hub process: every subscriber gets every
event, in order, each event encoded once and shared."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

from oneteam.api import ws
from oneteam.hub import EventBus
from oneteam.model import Event, EventKind
from tests.conftest import HubProcess


def _events_until(socket: ClientConnection, last_brightness: int) -> tuple[list[dict[str, Any]], int]:
    events: list[dict[str, Any]] = []
    dropped = 0
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        message = json.loads(socket.recv(timeout=10))
        assert message["type"] == "events"
        dropped = max(dropped, message["dropped"])
        events.extend(message["events"])
        if any(
            e["kind"] == "command"
            and e["device_id"] == "light_small"
            and e["data"].get("value") == last_brightness
            for e in message["events"]
        ):
            return events, dropped
    raise AssertionError("the last command's event never arrived")


def test_two_batch_subscribers_get_the_same_events_in_order_with_none_dropped(hub_server: HubProcess) -> None:
    ws_url = hub_server.url.replace("http", "ws") + f"/api/ws?token={hub_server.token}&batch=1"
    with connect(ws_url) as first, connect(ws_url) as second:
        for socket in (first, second):
            assert json.loads(socket.recv(timeout=5))["type"] == "hello"
        with httpx.Client(base_url=hub_server.url, headers=hub_server.headers) as client:
            for value in range(1, 41):
                response = client.post(
                    "/api/devices/light_small/commands", json={"command": "set_brightness", "value": value}
                )
                assert response.status_code == 200
        got_first, dropped_first = _events_until(first, 40)
        got_second, dropped_second = _events_until(second, 40)
    assert dropped_first == dropped_second == 0
    commands = [
        e["data"]["value"] for e in got_first if e["kind"] == "command" and e["device_id"] == "light_small"
    ]
    assert commands == list(range(1, 41))
    ids_first, ids_second = [e["id"] for e in got_first], [e["id"] for e in got_second]
    assert ids_first == sorted(ids_first) and len(set(ids_first)) == len(ids_first)
    common = min(len(ids_first), len(ids_second))
    assert ids_first[:common] == ids_second[:common]


async def test_a_batch_is_built_once_per_audience_and_subscribers_share_one_tick() -> None:
    bus = EventBus()
    async with bus.subscribe("reader", maxsize=100):  # the log keeps what a subscriber may read
        for i, device in enumerate(("light_living", "light_small", "light_living", "oven")):
            bus.publish(Event(kind=EventKind.STATE_CHANGED, device_id=device, data={"n": i}, id=i + 1))
        _check_messages(bus)
        await _check_one_tick(ws._Fanout())


def _check_messages(bus: EventBus) -> None:
    fanout = ws._Fanout()
    everyone, lights = None, (frozenset({"light_living", "light_small"}), None)
    in_lights = lambda event: event.device_id in lights[0]  # noqa: E731  (the member's Grant)

    whole = fanout.message(bus, range(0, 4), everyone, in_lights, 0)
    assert [e["data"]["n"] for e in json.loads(whole)["events"]] == [0, 1, 2, 3]
    # A second subscriber at the same place gets the very same text, not a copy built again.
    assert fanout.message(bus, range(0, 4), everyone, in_lights, 0) is whole
    shown = fanout.message(bus, range(0, 4), lights, in_lights, 0)
    assert [e["device_id"] for e in json.loads(shown)["events"]] == [
        "light_living",
        "light_small",
        "light_living",
    ]
    assert fanout.message(bus, range(0, 4), lights, in_lights, 0) is shown
    assert fanout.message(bus, range(0, 4), (frozenset({"light_small"}), None), in_lights, 0) is not shown
    assert fanout.message(bus, range(3, 4), lights, in_lights, 0) == ""  # only the oven: nothing to send
    assert json.loads(fanout.message(bus, range(1, 2), everyone, in_lights, 7))["dropped"] == 7


async def _check_one_tick(fanout: ws._Fanout) -> None:
    loop = asyncio.get_running_loop()
    turns = [0]
    woken: list[int] = []

    def count_turn() -> None:  # a turn of the event loop, counted until every subscriber woke
        turns[0] += 1
        if len(woken) < 19:
            loop.call_soon(count_turn)

    count_turn()

    async def subscriber() -> None:
        await fanout.next_tick()
        woken.append(turns[0])

    started = loop.time()
    waiting = [asyncio.create_task(subscriber()) for _ in range(20)]
    await asyncio.sleep(0)
    waiting[0].cancel()  # a socket closing while it waits leaves the others' tick alone
    await asyncio.wait_for(asyncio.gather(*waiting[1:]), 1)
    # One timer for all of them: they wake in the same turn of the loop, within one interval.
    assert len(woken) == 19 and len(set(woken)) == 1
    assert loop.time() - started <= ws.BATCH_INTERVAL_S + 0.05

    async def leave_a_wait() -> None:
        asyncio.get_running_loop().create_task(fanout.next_tick())
        await asyncio.sleep(0)

    await asyncio.to_thread(asyncio.run, leave_a_wait())  # that loop closes while its wait is pending
    await asyncio.wait_for(fanout.next_tick(), 1)  # a wait on this loop still ends
