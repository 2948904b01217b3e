"""A command a device received but confirms late: PENDING at the partner door (not hardError), 202
at REST, and the final state pushed to the partner when the device reports it — with a real
Mosquitto, the hub's MQTT adapter, and a slow plug that answers after the confirmation window."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.api import smarthome as smarthome_api
from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, parse_home
from oneteam.integrations.mqtt import MqttAdapter
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from oneteam.interop.smarthome import SmartHomeService
from tests.integrations.mqtt.conftest import eventually, mosquitto  # noqa: F401 (fixture)
from tests.interop.smarthome.conftest import Door, PartnerEndpoint, Serve, execute_body, link_account
from tests.interop.smarthome.test_fulfillment import Linked

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
async def linked(tmp_path: Path, mosquitto: MosquittoBroker) -> AsyncIterator[Linked]:  # noqa: F811
    home = parse_home("rooms:\n  hall: {names: [현관]}\n")
    hub = Hub(home, SqliteStorage(tmp_path / "oneteam.sqlite3"))
    await hub.add_adapter(MqttAdapter(mosquitto.settings, confirm_timeout_s=WINDOW_S))
    plug = SlowPlug(mosquitto)
    try:
        async with hub:
            await eventually(lambda: "slow_plug" in {d.id for d in hub.devices()})
            await eventually(lambda: hub.state("slow_plug").is_available)
            token = await hub.create_token("test")
            async with SmartHomeService(
                hub, tmp_path / "oneteam.sqlite3", report_batch_window_s=0.05
            ) as service:
                app = create_app(
                    hub, extra_routers=[smarthome_api.router], public_routers=[smarthome_api.public_router]
                )
                app.state.smarthome = service
                endpoint = PartnerEndpoint()
                async with Serve(app) as api, Serve(endpoint.app()) as partner_side:
                    door = Door(hub, api.url, token, service, endpoint, partner_side.url)
                    partner, secret = door.add_partner(rate_per_minute=10_000)
                    async with httpx.AsyncClient(timeout=10) as client:
                        tokens = await link_account(client, door, partner, secret)
                        yield Linked(door, client, tokens["access_token"])
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
