"""Two-factor challenges at the partner door, on a real server: a home file that asks for an ack on
the washer and a PIN on the robot's start; wrong PINs are counted and end in a lockout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from oneteam.hub import HomeFileError, load_home, parse_home
from oneteam.model import Home
from tests.interop.smarthome.conftest import (
    DEMO_HOME,
    Linked,
    execute_body,
    load_schema,
)

PIN = "482916"


def _with_confirmation(text: str) -> str:
    """The demo home with an ack on the washer and a PIN on the robot's start only."""
    washer = "  - {id: washer, type: washer, room: laundry_room, names: [세탁기, 트롬, washer]}"
    robot = (
        "  - {id: robot, type: robot_cleaner, room: living_room, names: [로봇청소기, 청소기, robot vacuum]}"
    )
    assert washer in text and robot in text
    text = text.replace(washer, washer[:-1] + ", confirm: ack}")
    return text.replace(robot, robot[:-1] + f', confirm: pin, pin: "{PIN}", confirm_commands: [start]}}')


def _execute_schema() -> dict[str, Any]:
    """The public EXECUTE response schema (2021) with `challengeNeeded`, which it predates: the
    shared README says to allow it when two-factor confirmation is implemented."""
    schema = load_schema("intents/execute/execute.response.schema.json")
    item = schema["properties"]["payload"]["properties"]["commands"]["items"]
    item["properties"]["challengeNeeded"] = {
        "type": "object",
        "properties": {"type": {"enum": ["ackNeeded", "pinNeeded", "challengeFailedPinNeeded"]}},
        "required": ["type"],
        "additionalProperties": False,
    }
    return schema


@pytest.fixture
def partner_home(tmp_path: Path) -> Home:
    home_file = tmp_path / "home.yaml"
    home_file.write_text(_with_confirmation(DEMO_HOME.read_text(encoding="utf-8")), encoding="utf-8")
    return load_home(home_file)


async def _run(
    linked: Linked, device_id: str, command: str, params: dict[str, Any], challenge: object = None
) -> dict[str, Any]:
    body = execute_body([device_id], command, params)
    if challenge is not None:
        body["inputs"][0]["payload"]["commands"][0]["execution"][0]["challenge"] = challenge
    answer = await linked.post(body)
    jsonschema.Draft7Validator(_execute_schema()).validate(answer)
    [result] = answer["payload"]["commands"]
    return dict(result)


async def test_ack_is_asked_then_the_acknowledged_retry_runs(linked: Linked) -> None:
    hub = linked.door.hub
    first = await _run(linked, "washer", "StartStop", {"start": True})
    assert first == {
        "ids": ["washer"],
        "status": "ERROR",
        "errorCode": "challengeNeeded",
        "challengeNeeded": {"type": "ackNeeded"},
    }
    assert hub.state("washer").get("run_state") in {"idle", "finished"}
    refused = await _run(linked, "washer", "StartStop", {"start": True}, {"ack": False})
    assert refused["challengeNeeded"] == {"type": "ackNeeded"}
    done = await _run(linked, "washer", "StartStop", {"start": True}, {"ack": True})
    assert done["status"] == "SUCCESS" and done["states"]["isRunning"] is True
    assert hub.state("washer").get("run_state") == "running"


async def test_pin_is_asked_wrong_pins_are_counted_and_end_in_a_lockout(linked: Linked) -> None:
    hub = linked.door.hub
    # The PIN covers start only: docking needs no PIN (and is refused for its own reason).
    assert (await _run(linked, "robot", "Dock", {}))["errorCode"] == "alreadyDocked"
    asked = await _run(linked, "robot", "StartStop", {"start": True})
    assert (asked["errorCode"], asked["challengeNeeded"]) == ("challengeNeeded", {"type": "pinNeeded"})
    for _ in range(2):
        wrong = await _run(linked, "robot", "StartStop", {"start": True}, {"pin": "000000"})
        assert wrong["challengeNeeded"] == {"type": "challengeFailedPinNeeded"}
    locked = await _run(linked, "robot", "StartStop", {"start": True}, {"pin": "111111"})
    assert (locked["status"], locked["errorCode"]) == ("ERROR", "tooManyFailedAttempts")
    assert "challengeNeeded" not in locked
    # Locked: even the right PIN is refused until the lockout ends.
    still = await _run(linked, "robot", "StartStop", {"start": True}, {"pin": PIN})
    assert still["errorCode"] == "tooManyFailedAttempts"
    assert hub.state("robot").get("run_state") == "docked"
    # After the lockout the right PIN works (the lockout is shortened here, not waited for).
    fulfillment = linked.door.service.fulfillment
    fulfillment.challenges._tries.clear()
    done = await _run(linked, "robot", "StartStop", {"start": True}, {"pin": PIN})
    assert done["status"] == "SUCCESS" and hub.state("robot").get("run_state") == "cleaning"


async def test_a_right_pin_resets_the_count_of_wrong_ones(linked: Linked) -> None:
    for pin, expected in (("1", "challengeFailedPinNeeded"), ("2", "challengeFailedPinNeeded")):
        result = await _run(linked, "robot", "StartStop", {"start": True}, {"pin": pin})
        assert result["challengeNeeded"]["type"] == expected
    assert (await _run(linked, "robot", "StartStop", {"start": True}, {"pin": PIN}))["status"] == "SUCCESS"
    await _run(linked, "robot", "StartStop", {"start": False})
    again = await _run(linked, "robot", "StartStop", {"start": True}, {"pin": "3"})
    assert again["challengeNeeded"]["type"] == "challengeFailedPinNeeded"


async def test_other_doors_are_not_asked(linked: Linked) -> None:
    # The household's own token (REST) is the second factor there: no challenge.
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{linked.door.url}/api/devices/washer/commands",
            content=json.dumps({"command": "start"}),
            headers={"Authorization": f"Bearer {linked.door.hub_token}", "content-type": "application/json"},
        )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{id: w, type: washer, confirm: maybe}", "confirm must be ack or pin"),
        ("{id: w, type: washer, confirm: pin}", "pin of 4 to 12 digits"),
        ('{id: w, type: washer, confirm: pin, pin: "12a4"}', "pin of 4 to 12 digits"),
        ('{id: w, type: washer, pin: "1234"}', "needs 'confirm: ack'"),
        ("{id: w, type: washer, confirm: ack, confirm_commands: [fly]}", "unknown fly"),
    ],
)
def test_bad_confirmation_in_a_home_file_is_explained(entry: str, problem: str) -> None:
    with pytest.raises(HomeFileError) as error:
        parse_home(f"devices:\n  - {entry}\n")
    assert problem in str(error.value)
