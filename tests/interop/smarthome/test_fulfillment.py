"""Fulfillment checked against the public schemas and examples of the same API (shared/data/smarthome),
not only against our own expectations."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema
import pytest

from tests.interop.smarthome.conftest import (
    Door,
    Linked,
    examples,
    execute_body,
    intent,
    link_account,
    load_schema,
    schema_dir,
    type_example,
    validate,
)

# Which trait each example command belongs to, and its params schema (from the public trait index).
COMMAND_TRAITS = {
    "OnOff": ("OnOff", "traits/onoff/onoff.params.schema.json"),
    "BrightnessAbsolute": ("Brightness", "traits/brightness/brightnessabsolute.params.schema.json"),
    "ThermostatTemperatureSetpoint": (
        "TemperatureSetting",
        "traits/temperaturesetting/thermostattemperaturesetpoint.params.schema.json",
    ),
    "ThermostatSetMode": (
        "TemperatureSetting",
        "traits/temperaturesetting/thermostatsetmode.params.schema.json",
    ),
    "SetFanSpeed": ("FanSpeed", "traits/fanspeed/setfanspeed.params.schema.json"),
    "StartStop": ("StartStop", "traits/startstop/startstop.params.schema.json"),
    "PauseUnPause": ("StartStop", "traits/startstop/pauseunpause.params.schema.json"),
    "SetModes": ("Modes", "traits/modes/setmodes.params.schema.json"),
    "selectChannel": ("Channel", "traits/channel/selectchannel.params.schema.json"),
    "relativeChannel": ("Channel", "traits/channel/relativechannel.params.schema.json"),
    "setVolume": ("Volume", "traits/volume/setvolume.params.schema.json"),
    "volumeRelative": ("Volume", "traits/volume/volumerelative.params.schema.json"),
    "mute": ("Volume", "traits/volume/mute.params.schema.json"),
}
TRAIT_SCHEMAS = {
    "OnOff": "onoff",
    "Brightness": "brightness",
    "TemperatureSetting": "temperaturesetting",
    "FanSpeed": "fanspeed",
    "StartStop": "startstop",
    "Modes": "modes",
    "Volume": "volume",
    "Channel": "channel",
}
# Measured, not set: the example's ambient temperature cannot be expected of our room.
MEASURED = {"thermostatTemperatureAmbient"}


def _trait_schema(trait: str, part: str) -> str | None:
    folder = TRAIT_SCHEMAS.get(trait)
    if folder is None:
        return None
    path = f"traits/{folder}/{folder}.{part}.schema.json"
    return path if (schema_dir() / path).exists() else None


async def test_sync_devices_validate_against_type_trait_and_attribute_schemas(linked: Linked) -> None:
    sync = await linked.post(intent("SYNC"))
    validate(sync, "intents/sync/sync.response.schema.json")
    types = set(load_schema("platform/types.schema.json")["enum"])
    traits = set(load_schema("platform/traits.schema.json")["enum"])
    for device in sync["payload"]["devices"]:
        assert device["type"] in types
        assert set(device["traits"]) <= traits
        for trait in device["traits"]:
            schema = _trait_schema(trait.rsplit(".", 1)[1], "attributes")
            if schema:
                validate(device["attributes"], schema)


async def test_query_states_validate_against_trait_state_schemas(linked: Linked) -> None:
    sync = await linked.post(intent("SYNC"))
    ids = [d["id"] for d in sync["payload"]["devices"]]
    query = await linked.post(intent("QUERY", {"devices": [{"id": i} for i in ids]}))
    validate(query, "intents/query/query.response.schema.json")
    for device in sync["payload"]["devices"]:
        state = query["payload"]["devices"][device["id"]]
        assert state["status"] == "SUCCESS" and state["online"] is True
        for trait in device["traits"]:
            schema = _trait_schema(trait.rsplit(".", 1)[1], "states")
            if schema:
                validate(state, schema)


@pytest.mark.parametrize("name", ["sync", "query", "execute", "disconnect"])
async def test_public_example_requests_are_answered_per_schema(linked: Linked, name: str) -> None:
    for example in examples(f"intents/{name}/{name}.request.schema.json"):
        validate(example, f"intents/{name}/{name}.request.schema.json")
        answer = await linked.post(example)
        validate(answer, f"intents/{name}/{name}.response.schema.json")
        if name == "disconnect":
            assert answer == {}
            continue
        assert answer["requestId"] == example["requestId"]
        payload = example["inputs"][0].get("payload", {})
        if name == "query":  # ids the home does not have: each reported, none missing
            asked = {d["id"] for d in payload["devices"]}
            assert set(answer["payload"]["devices"]) == asked
            assert all(s["errorCode"] == "deviceNotFound" for s in answer["payload"]["devices"].values())
        if name == "execute":
            targeted = [d["id"] for c in payload["commands"] for d in c["devices"]]
            reported = [i for c in answer["payload"]["commands"] for i in c["ids"]]
            assert sorted(reported) == sorted(targeted)
            assert {c["errorCode"] for c in answer["payload"]["commands"]} == {"deviceNotFound"}


def _expected_error(
    command: str, params: dict[str, Any], attributes: dict[str, Any], traits: list[str]
) -> str | None:
    trait = COMMAND_TRAITS.get(command, (None, None))[0]
    if trait is None or f"action.devices.traits.{trait}" not in traits:
        return "functionNotSupported"
    if command == "mute" and not attributes["volumeCanMuteAndUnmute"]:
        return "functionNotSupported"
    if command == "SetFanSpeed":
        names = {s["speed_name"] for s in attributes["availableFanSpeeds"]["speeds"]}
        return None if params["fanSpeed"] in names else "notSupported"
    if command == "SetModes":
        modes = {m["name"]: {s["setting_name"] for s in m["settings"]} for m in attributes["availableModes"]}
        ok = all(k in modes and v in modes[k] for k, v in params["updateModeSettings"].items())
        return None if ok else "notSupported"
    if command == "selectChannel":
        keys = {c["key"] for c in attributes["availableChannels"]}
        return None if params.get("channelCode") in keys else "noAvailableChannel"
    return None


@pytest.mark.parametrize(
    ("example", "device_id"),
    [("acunit", "ac_living"), ("washer", "washer"), ("light", "light_living"), ("tv", "tv")],
)
async def test_type_example_commands_give_the_example_results_or_the_right_error(
    linked: Linked, example: str, device_id: str
) -> None:
    data = type_example(example)
    sync = await linked.post(intent("SYNC"))
    device = next(d for d in sync["payload"]["devices"] if d["id"] == device_id)
    for full_name, spec in data["commands"].items():
        command = full_name.rsplit(".", 1)[1]
        params = (spec or {}).get("params", {})
        if command in COMMAND_TRAITS:
            jsonschema.Draft7Validator(load_schema(COMMAND_TRAITS[command][1])).validate(params)
        if command == "PauseUnPause":  # pausing needs a running cycle, as on a real washer
            await linked.post(execute_body([device_id], "StartStop", {"start": True}))
        answer = await linked.post(execute_body([device_id], command, params))
        validate(answer, "intents/execute/execute.response.schema.json")
        [result] = answer["payload"]["commands"]
        expected = _expected_error(command, params, device["attributes"], device["traits"])
        if expected is not None:
            assert (result["status"], result.get("errorCode")) == ("ERROR", expected), (full_name, result)
            continue
        assert result["status"] == "SUCCESS", (full_name, result)
        wanted = {k: v for k, v in (spec or {}).get("results", {}).items() if k not in MEASURED}
        assert {k: result["states"].get(k) for k in wanted} == wanted, full_name
        query = await linked.post(intent("QUERY", {"devices": [{"id": device_id}]}))
        assert {k: query["payload"]["devices"][device_id].get(k) for k in wanted} == wanted, full_name


@pytest.mark.parametrize(
    ("device_id", "command", "params", "code"),
    [
        ("light_living", "BrightnessAbsolute", {"brightness": 101}, "valueOutOfRange"),
        (
            "ac_living",
            "ThermostatTemperatureSetpoint",
            {"thermostatTemperatureSetpoint": 35},
            "valueOutOfRange",
        ),
        ("ac_living", "ThermostatSetMode", {"thermostatMode": "eco"}, "notSupported"),
        ("ac_living", "SetFanSpeed", {"fanSpeed": "turbo"}, "notSupported"),
        ("tv", "setVolume", {"volumeLevel": 150}, "valueOutOfRange"),
        ("light_living", "Dock", {}, "functionNotSupported"),
        ("washer", "SetModes", {"updateModeSettings": {"course": "silk"}}, "notSupported"),
        # An unknown param is tolerated; the docked robot is then told it is already docked.
        ("robot", "Dock", {"unexpected": 1}, "alreadyDocked"),
    ],
)
async def test_broken_constraints_get_the_apis_error_codes(
    linked: Linked, device_id: str, command: str, params: dict[str, Any], code: str | None
) -> None:
    answer = await linked.post(execute_body([device_id], command, params))
    validate(answer, "intents/execute/execute.response.schema.json")
    [result] = answer["payload"]["commands"]
    assert result.get("errorCode") == code and result["status"] == ("SUCCESS" if code is None else "ERROR")


async def test_partial_success_is_reported_per_device(linked: Linked) -> None:
    answer = await linked.post(
        execute_body(["light_living", "light_kitchen", "washer", "oven"], "OnOff", {"on": True})
    )
    validate(answer, "intents/execute/execute.response.schema.json")
    by_id = {i: c for c in answer["payload"]["commands"] for i in c["ids"]}
    assert by_id["light_living"]["status"] == by_id["light_kitchen"]["status"] == "SUCCESS"
    assert by_id["washer"]["errorCode"] == "functionNotSupported"
    assert by_id["oven"]["errorCode"] == "deviceNotFound"


async def test_offline_device_is_reported_offline(linked: Linked) -> None:
    sink_owner = linked.door.hub
    sink_owner._set_available("tv", False, "unplugged", "test")
    answer = await linked.post(execute_body(["tv"], "OnOff", {"on": True}))
    assert answer["payload"]["commands"][0] == {
        "ids": ["tv"],
        "status": "OFFLINE",
        "errorCode": "deviceOffline",
    }
    query = await linked.post(intent("QUERY", {"devices": [{"id": "tv"}]}))
    assert query["payload"]["devices"]["tv"] == {
        "online": False,
        "status": "OFFLINE",
        "errorCode": "deviceOffline",
    }


async def test_execute_on_a_device_outside_the_link_is_not_found_and_not_acted_on(door: Door) -> None:
    partner, secret = door.add_partner()
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner, secret, devices=["light_living"])
        linked = Linked(door, client, tokens["access_token"])
        before = door.hub.state("ac_living")
        answer = await linked.post(
            execute_body(
                ["ac_living"], "ThermostatTemperatureSetpoint", {"thermostatTemperatureSetpoint": 19}
            )
        )
        assert answer["payload"]["commands"] == [
            {"ids": ["ac_living"], "status": "ERROR", "errorCode": "deviceNotFound"}
        ]
        assert door.hub.state("ac_living") == before
        sync = await linked.post(intent("SYNC"))
        assert [d["id"] for d in sync["payload"]["devices"]] == ["light_living"]
        query = await linked.post(intent("QUERY", {"devices": [{"id": "ac_living"}]}))
        assert query["payload"]["devices"]["ac_living"]["errorCode"] == "deviceNotFound"


@pytest.mark.parametrize(
    "body",
    [
        "not json at all",
        [],
        {"requestId": "r1"},
        {"requestId": "r1", "inputs": []},
        {"requestId": "r1", "inputs": [{"intent": "action.devices.REBOOT"}]},
        {"requestId": "r1", "inputs": [{"intent": "action.devices.QUERY", "payload": {"devices": "tv"}}]},
        {"requestId": "r1", "inputs": [{"intent": "action.devices.EXECUTE", "payload": {"commands": [{}]}}]},
        {
            "requestId": "r1",
            "inputs": [{"intent": "action.devices.QUERY", "payload": {"devices": [{"id": "x"}] * 1001}}],
        },
        {"requestId": "r" * 10_000, "inputs": [{"intent": "action.devices.SYNC"}]},
    ],
)
async def test_malformed_or_oversized_intents_are_protocol_errors(linked: Linked, body: object) -> None:
    response = await linked.client.post(
        f"{linked.door.url}/api/smarthome/fulfillment",
        content=body if isinstance(body, str) else json.dumps(body),
        headers={"Authorization": f"Bearer {linked.token}", "content-type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["payload"]["errorCode"] == "protocolError"


async def test_a_body_over_the_apps_limit_is_refused_not_crashed(linked: Linked) -> None:
    response = await linked.client.post(
        f"{linked.door.url}/api/smarthome/fulfillment",
        content=b"{" + b" " * (300 * 1024) + b"}",
        headers={"Authorization": f"Bearer {linked.token}", "content-type": "application/json"},
    )
    assert response.status_code in (200, 413)
    assert response.status_code == 413 or response.json()["payload"]["errorCode"] == "protocolError"


async def test_execute_needs_the_control_scope(door: Door) -> None:
    partner, secret = door.add_partner(scopes=("devices.read",))
    async with httpx.AsyncClient() as client:
        tokens = await link_account(client, door, partner, secret, scope="devices.read")
        linked = Linked(door, client, tokens["access_token"])
        answer = await linked.post(execute_body(["tv"], "OnOff", {"on": True}))
    assert answer["payload"]["errorCode"] == "authFailure"
    assert door.hub.state("tv").get("power") is False
