"""A command a device received but confirms late: PENDING at the partner door (not hardError), 202
at REST, and the final state pushed to the partner when the device reports it — with a real
Mosquitto, the hub's MQTT adapter, and a slow plug that answers after the confirmation window."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.hub import Hub, SqliteStorage, parse_home
from oneteam.integrations.mqtt import MqttAdapter
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from tests.integrations.mqtt.conftest import eventually, mosquitto  # noqa: F401 (fixture)
from tests.interop.smarthome.conftest import DB, Linked, execute_body

WINDOW_S = 0.5
LATE_S = 1.5


class SlowPlug:
    """An MQTT plug that does what it is told, but reports its new state only after LATE_S."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        devices = broker.credentials.devices
        self.client.username_pw_set(devices.username, devices.password)
        self.client.on_message = self._on_command
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe("slow/set", qos=1)
        config = {"unique_id": "slow_plug", "name": "slow plug", "state_topic": "slow/state"}
        config["command_topic"] = "slow/set"
        self.client.publish("homeassistant/switch/slow_plug/config", json.dumps(config), qos=1, retain=True)
        self.client.publish("slow/state", "OFF", qos=1, retain=True)

    def _on_command(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        payload = bytes(message.payload).decode()
        threading.Timer(LATE_S, lambda: client.publish("slow/state", payload, qos=1, retain=True)).start()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
async def partner_hub(tmp_path: Path, mosquitto: MosquittoBroker) -> AsyncIterator[Hub]:  # noqa: F811
    """A hub whose one device is the slow plug, found over a real Mosquitto."""
    hub = Hub(parse_home("rooms:\n  hall: {names: [현관]}\n"), SqliteStorage(tmp_path / DB))
    await hub.add_adapter(MqttAdapter(mosquitto.settings, confirm_timeout_s=WINDOW_S))
    plug = SlowPlug(mosquitto)
    try:
        async with hub:
            await eventually(lambda: "slow_plug" in {d.id for d in hub.devices()})
            await eventually(lambda: hub.state("slow_plug").is_available)
            yield hub
    finally:
        plug.close()


async def test_a_late_confirmation_is_pending_then_pushed(linked: Linked) -> None:
    answer = await linked.post(execute_body(["slow_plug"], "OnOff", {"on": True}))
    [result] = answer["payload"]["commands"]
    assert result["status"] == "PENDING" and "errorCode" not in result
    assert result["states"]["on"] is False  # what is known now; the change is not claimed
    # The device acts late; the partner hears the final state from report state.
    push = await linked.door.endpoint.wait_for(
        lambda p: p["body"]["payload"]["devices"]["states"].get("slow_plug", {}).get("on") is True
    )
    assert push["signed"]
    assert linked.door.hub.state("slow_plug").get("power") is True


async def test_rest_answers_202_with_a_message_for_a_late_confirmation(linked: Linked) -> None:
    response = await linked.client.post(
        f"{linked.door.url}/api/devices/slow_plug/commands",
        json={"command": "turn_on"},
        headers={"Authorization": f"Bearer {linked.door.hub_token}", "Accept-Language": "en"},
    )
    assert response.status_code == 202, response.text
    error = response.json()["error"]
    assert error["key"] == "error.command_pending" and "not confirmed it yet" in error["message"]
