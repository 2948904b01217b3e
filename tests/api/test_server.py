"""The API over real HTTP and WebSocket, against a hub process on a free port."""

from __future__ import annotations

import json
import sqlite3

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import HubProcess


def test_health_needs_no_token(hub_server: HubProcess) -> None:
    response = httpx.get(f"{hub_server.url}/healthz")
    assert response.status_code == 200 and response.json()["devices"] == 12


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_no_or_bad_token_is_401(hub_server: HubProcess, headers: dict[str, str]) -> None:
    response = httpx.get(f"{hub_server.url}/api/devices", headers=headers)
    assert response.status_code == 401
    assert response.json()["error"]["message"]


def test_devices_are_listed_with_rooms_capabilities_and_state(hub_server: HubProcess) -> None:
    data = httpx.get(f"{hub_server.url}/api/devices", headers=hub_server.headers).json()
    devices = {d["id"]: d for d in data["devices"]}
    assert len(devices) == 12 and len(data["rooms"]) == 5
    assert devices["ac_living"]["capabilities"]["temperature_range"] == [18, 30]
    assert devices["fridge"]["capabilities"]["compartments"]["freezer"] == [-23, -15]
    assert devices["washer"]["state"]["attributes"]["run_state"] in {"idle", "finished", "running"}


def test_a_command_changes_state_and_appears_in_the_history(hub_server: HubProcess) -> None:
    url, headers = hub_server.url, hub_server.headers
    response = httpx.post(
        f"{url}/api/devices/ac_bedroom/commands",
        json={"command": "set_temperature", "value": 25},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json()["state"]["attributes"]["temperature"] == 25
    assert (
        httpx.get(f"{url}/api/devices/ac_bedroom/state", headers=headers).json()["attributes"]["temperature"]
        == 25
    )
    events = httpx.get(
        f"{url}/api/events", params={"device": "ac_bedroom", "kind": "command"}, headers=headers
    )
    assert events.json()["events"][0]["data"] == {
        "device": "ac_bedroom",
        "command": "set_temperature",
        "value": 25,
    }


def test_unknown_device_is_404_with_a_message(hub_server: HubProcess) -> None:
    for method, path in (("GET", "/api/devices/oven"), ("POST", "/api/devices/oven/commands")):
        response = httpx.request(
            method, hub_server.url + path, json={"command": "turn_on"}, headers=hub_server.headers
        )
        assert response.status_code == 404
        assert "oven" in response.json()["error"]["message"]


def test_out_of_range_is_422_naming_the_range_in_the_callers_language(hub_server: HubProcess) -> None:
    url = f"{hub_server.url}/api/devices/ac_living/commands"
    body = {"command": "set_temperature", "value": 45}
    korean = httpx.post(url, json=body, headers=hub_server.headers)
    english = httpx.post(url, json=body, headers={**hub_server.headers, "Accept-Language": "en-US,en;q=0.9"})
    assert korean.status_code == english.status_code == 422
    assert "18도에서 30도까지" in korean.json()["error"]["message"]
    assert english.json()["error"]["message"].startswith("living room AC can be set from 18 to 30 °C")
    assert korean.json()["error"]["key"] == "error.temperature_out_of_range"


def test_malformed_json_and_wrong_fields_are_422(hub_server: HubProcess) -> None:
    url = f"{hub_server.url}/api/devices/tv/commands"
    headers = {**hub_server.headers, "Content-Type": "application/json"}
    assert httpx.post(url, content=b"{not json", headers=headers).status_code == 422
    assert httpx.post(url, json={"value": 3}, headers=headers).status_code == 422
    assert (
        httpx.post(url, json={"command": "turn_on", "direction": "sideways"}, headers=headers).status_code
        == 422
    )
    assert httpx.post(url, json=["turn_on"], headers=headers).status_code == 422


def test_a_body_over_64_kib_is_413(hub_server: HubProcess) -> None:
    big = json.dumps({"command": "turn_on", "padding": "x" * 70_000})
    response = httpx.post(
        f"{hub_server.url}/api/devices/tv/commands",
        content=big,
        headers={**hub_server.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413 and response.json()["error"]["key"] == "error.body_too_large"


def test_openapi_docs_are_served(hub_server: HubProcess) -> None:
    spec = httpx.get(f"{hub_server.url}/openapi.json").json()
    assert "/api/devices/{device_id}/commands" in spec["paths"]
    assert httpx.get(f"{hub_server.url}/docs").status_code == 200


def test_the_websocket_streams_events_and_accepts_commands(hub_server: HubProcess) -> None:
    ws_url = hub_server.url.replace("http", "ws") + f"/api/ws?token={hub_server.token}"
    with connect(ws_url) as socket:
        hello = json.loads(socket.recv(timeout=5))
        assert hello["type"] == "hello" and "light_small" in hello["states"]
        httpx.post(
            f"{hub_server.url}/api/devices/light_small/commands",
            json={"command": "turn_on"},
            headers=hub_server.headers,
        )
        seen = _until(socket, lambda m: m.get("type") == "event" and m["event"]["device_id"] == "light_small")
        assert seen["event"]["kind"] in {"state_changed", "command"}
        socket.send(
            json.dumps(
                {
                    "type": "command",
                    "id": 7,
                    "device": "light_small",
                    "command": "set_brightness",
                    "value": 140,
                }
            )
        )
        result = _until(socket, lambda m: m.get("type") == "result")
        assert result["id"] == 7 and result["ok"] is False
        assert result["error"]["key"] == "error.brightness_out_of_range"
        socket.send(
            json.dumps(
                {
                    "type": "command",
                    "id": 8,
                    "device": "light_small",
                    "command": "set_brightness",
                    "value": 40,
                }
            )
        )
        result = _until(socket, lambda m: m.get("type") == "result")
        assert result["ok"] is True and result["state"]["attributes"]["brightness"] == 40
        socket.send("{broken")
        assert _until(socket, lambda m: m.get("type") == "error")["error"]["key"] == "error.malformed_request"


def test_the_websocket_refuses_a_bad_token(hub_server: HubProcess) -> None:
    ws_url = hub_server.url.replace("http", "ws") + "/api/ws?token=nope"
    with pytest.raises(Exception), connect(ws_url) as socket:  # noqa: B017
        socket.recv(timeout=5)


def test_token_is_stored_only_as_a_hash(hub_server: HubProcess) -> None:
    connection = sqlite3.connect(hub_server.data_dir / "oneteam.sqlite3")
    hashes = [row[0] for row in connection.execute("SELECT token_hash FROM tokens")]
    assert hub_server.token not in hashes and all(len(h) == 64 for h in hashes)


def _until(socket, wanted, limit: int = 200) -> dict:  # type: ignore[no-untyped-def]
    for _ in range(limit):
        message = json.loads(socket.recv(timeout=5))
        if wanted(message):
            return message
    raise AssertionError("message not seen")
