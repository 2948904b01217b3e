"""Batched WebSocket fan-out (`?batch=1`) against a real hub process: every subscriber gets every
event, in order, each event encoded once and shared."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect

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
