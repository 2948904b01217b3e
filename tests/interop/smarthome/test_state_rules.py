"""The hub's state rule seen through the partner door, REST and voice: a command that does not fit
the device's state is refused with the protocol's code (partner) or 409 (REST), never "done"."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from oneteam.model import Command
from oneteam.model.state_rules import RESUME, StateConflict
from tests.interop.smarthome.conftest import (
    FORM,
    Door,
    Linked,
    Pkce,
    authorize_params,
    execute_body,
    intent,
    read_form,
    signed_in_page,
    validate,
)


async def _one(linked: Linked, device_id: str, command: str, params: dict[str, Any]) -> dict[str, Any]:
    answer = await linked.post(execute_body([device_id], command, params))
    validate(answer, "intents/execute/execute.response.schema.json")
    [result] = answer["payload"]["commands"]
    assert result["ids"] == [device_id]
    return dict(result)


async def test_unpausing_an_idle_washer_starts_nothing(linked: Linked) -> None:
    hub = linked.door.hub
    assert hub.state("washer").get("run_state") in {"idle", "finished"}
    result = await _one(linked, "washer", "PauseUnpause", {"pause": False})
    assert (result["status"], result["errorCode"]) == ("ERROR", "alreadyStopped")
    assert hub.state("washer").get("run_state") in {"idle", "finished"}
    assert hub.state("washer").get("remaining_time") == 0


async def test_washer_cycle_answers_each_state_with_its_code(linked: Linked) -> None:
    hub = linked.door.hub
    cases: list[tuple[str, dict[str, Any], str | None]] = [
        ("PauseUnpause", {"pause": True}, "alreadyStopped"),  # idle: nothing to pause
        ("StartStop", {"start": False}, "alreadyStopped"),
        ("StartStop", {"start": True}, None),
        ("StartStop", {"start": True}, "alreadyStarted"),
        ("PauseUnpause", {"pause": False}, "alreadyStarted"),  # running: nothing to resume
        ("PauseUnpause", {"pause": True}, None),
        ("PauseUnpause", {"pause": True}, "alreadyPaused"),
        ("PauseUnpause", {"pause": False}, None),  # resumes the paused cycle
        ("StartStop", {"start": False}, None),
    ]
    remaining_when_paused = 0
    for command, params, code in cases:
        result = await _one(linked, "washer", command, params)
        if code is None:
            assert result["status"] == "SUCCESS", (command, params, result)
        else:
            assert (result["status"], result.get("errorCode")) == ("ERROR", code), (command, params)
        if command == "PauseUnpause" and params["pause"] and code is None:
            remaining_when_paused = int(hub.state("washer").get("remaining_time") or 0)
        if command == "PauseUnpause" and not params["pause"] and code is None:
            # Resumed where it stopped, not a fresh course.
            assert hub.state("washer").get("run_state") == "running"
            assert 0 < int(hub.state("washer").get("remaining_time") or 0) <= remaining_when_paused
    assert hub.state("washer").get("run_state") == "idle"


async def test_robot_dock_start_pause_follow_its_state(linked: Linked) -> None:
    hub = linked.door.hub
    assert hub.state("robot").get("run_state") == "docked"
    assert (await _one(linked, "robot", "Dock", {}))["errorCode"] == "alreadyDocked"
    assert (await _one(linked, "robot", "StartStop", {"start": False}))["errorCode"] == "alreadyStopped"
    assert (await _one(linked, "robot", "StartStop", {"start": True}))["status"] == "SUCCESS"
    assert (await _one(linked, "robot", "StartStop", {"start": True}))["errorCode"] == "alreadyStarted"
    assert (await _one(linked, "robot", "Dock", {}))["status"] == "SUCCESS"
    assert hub.state("robot").get("run_state") == "returning"
    assert (await _one(linked, "robot", "Dock", {}))["errorCode"] == "alreadyInState"
    assert (await _one(linked, "robot", "PauseUnpause", {"pause": True}))["errorCode"] == "alreadyStopped"


async def test_zone_cleaning_is_refused_when_no_zones_are_known(linked: Linked) -> None:
    result = await _one(linked, "robot", "StartStop", {"start": True, "zone": "kitchen"})
    assert (result["status"], result["errorCode"]) == ("ERROR", "notSupported")
    assert linked.door.hub.state("robot").get("run_state") == "docked"


async def test_a_channel_the_tv_does_not_list_is_no_available_channel(linked: Linked) -> None:
    sync = await linked.post(intent("SYNC"))
    tv = next(d for d in sync["payload"]["devices"] if d["id"] == "tv")
    listed = {int(c["number"]) for c in tv["attributes"]["availableChannels"]}
    outside = max(listed) + 1
    await _one(linked, "tv", "OnOff", {"on": True})
    result = await _one(linked, "tv", "selectChannel", {"channelNumber": str(outside)})
    assert (result["status"], result["errorCode"]) == ("ERROR", "noAvailableChannel")
    result = await _one(linked, "tv", "selectChannel", {"channelNumber": str(max(listed))})
    assert result["status"] == "SUCCESS"
    assert linked.door.hub.state("tv").get("channel") == max(listed)


async def test_volume_on_an_off_tv_is_device_turned_off_and_powers_nothing_on(linked: Linked) -> None:
    hub = linked.door.hub
    assert hub.state("tv").get("power") is False
    result = await _one(linked, "tv", "setVolume", {"volumeLevel": 20})
    assert (result["status"], result["errorCode"]) == ("ERROR", "deviceTurnedOff")
    assert hub.state("tv").get("power") is False and hub.state("tv").get("volume") != 20


@pytest.mark.parametrize("request_id", [1234567890123, 0, "0042", "not-a-uuid"])
async def test_request_id_is_echoed_as_sent(linked: Linked, request_id: int | str) -> None:
    body = intent("QUERY", {"devices": [{"id": "washer"}]})
    body["requestId"] = request_id
    response = await linked.client.post(
        f"{linked.door.url}/api/smarthome/fulfillment",
        content=json.dumps(body),
        headers={"Authorization": f"Bearer {linked.token}", "content-type": "application/json"},
    )
    assert response.status_code == 200
    # The digits and the JSON type come back exactly as sent (a number stays a number).
    assert f'"requestId":{json.dumps(request_id)}' in response.text.replace(" ", "")
    assert response.json()["payload"]["devices"]["washer"]["status"] == "SUCCESS"


async def test_rest_answers_409_with_the_reason_in_both_languages(door: Door) -> None:
    headers = {"Authorization": f"Bearer {door.hub_token}"}
    async with httpx.AsyncClient(timeout=10) as client:
        for language, words in (("ko", "작동하고 있지 않아요"), ("en", "is not running")):
            response = await client.post(
                f"{door.url}/api/devices/washer/commands",
                json={"command": "stop"},
                headers={**headers, "Accept-Language": language},
            )
            assert response.status_code == 409, response.text
            error = response.json()["error"]
            assert error["key"] == "error.state.already_stopped" and words in error["message"]
        started = await client.post(
            f"{door.url}/api/devices/washer/commands", json={"command": "start"}, headers=headers
        )
        assert started.status_code == 200
        again = await client.post(
            f"{door.url}/api/devices/washer/commands", json={"command": "start"}, headers=headers
        )
        assert again.status_code == 409 and again.json()["error"]["key"] == "error.state.already_started"


async def test_resume_is_the_hubs_command_for_every_door(door: Door) -> None:
    hub = door.hub
    with pytest.raises(StateConflict) as refused:
        await hub.dispatch(Command(device_id="washer", name=RESUME))
    assert refused.value.key == "error.state.not_paused"
    await hub.dispatch(Command(device_id="washer", name="start"))
    await hub.dispatch(Command(device_id="washer", name="pause"))
    state = await hub.dispatch(Command(device_id="washer", name=RESUME))
    assert state.get("run_state") == "running"


async def test_a_link_to_all_devices_can_execute(door: Door) -> None:
    # The consent page's "all devices" box: the link covers every device, and its grant has no
    # device limit (it once named a device "*" and every command was authFailure).
    partner, secret = door.add_partner()
    async with httpx.AsyncClient(timeout=10) as client:
        pkce = Pkce()
        params = authorize_params(partner, pkce)
        page = await signed_in_page(client, door, params)
        form = read_form(page.text)
        data = [*form.fields, ("decision", "allow"), ("all_devices", "1")]
        answer = await client.post(form.action, content=urlencode(data), headers=FORM)
        assert answer.status_code == 302, answer.text
        code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
        tokens = await client.post(
            f"{door.url}/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": params["redirect_uri"],
                "code_verifier": pkce.verifier,
            },
            auth=(partner.client_id, secret),
        )
        linked = Linked(door, client, tokens.json()["access_token"])
        result = await _one(linked, "light_living", "OnOff", {"on": True})
        assert result["status"] == "SUCCESS", result
    assert door.hub.state("light_living").get("power") is True
