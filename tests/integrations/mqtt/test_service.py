"""MQTT attached to a running hub in one block: embedded broker, adapter and discovery out together."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.credentials import (
    ACL_FILE,
    CREDENTIALS_FILE,
    PASSWORD_FILE,
    MqttCredentials,
    load_or_create_credentials,
)
from oneteam.integrations.mqtt.service import mqtt_for_hub
from oneteam.integrations.mqtt.settings import BrokerError, BrokerSettings
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, DeviceNotFound, DeviceType, DeviceUnavailable
from tests.conftest import free_port
from tests.integrations.mqtt.conftest import device_login, eventually

DEMO_HOME = Path(__file__).resolve().parents[3] / "oneteam" / "homes" / "demo.yaml"
CREDENTIALS = MqttCredentials.generate()


def _devices(settings: BrokerSettings) -> BrokerSettings:
    return device_login(settings, CREDENTIALS)


async def test_simulated_devices_join_the_hub_through_the_embedded_broker(tmp_path: Path) -> None:
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home))
    async with (
        hub,
        mqtt_for_hub(hub, embedded_port=0, credentials=CREDENTIALS) as settings,
        Simulator(_devices(settings), 6, per_gateway=6) as simulator,
    ):
        await eventually(lambda: "sim_light_00000" in {d.id for d in hub.devices()})
        await eventually(lambda: hub.state("sim_light_00000").is_available)
        state = await hub.dispatch(Command(device_id="sim_light_00000", name="set_brightness", value=60))
        assert state.get("brightness") == 60
        assert simulator.devices["sim_light_00000"].state["brightness"] == 153
        assert hub.device("sim_climate_00002").type is DeviceType.AIR_CONDITIONER
        # The hub's own devices are published too, and its adapter does not take them back in.
        assert hub.device("ac_living").integration == "virtual"
        configs: list[bytes] = []
        async with MqttClient(settings) as watcher:
            watcher.subscribe(
                "homeassistant/light/oneteam/light_living/config", lambda _t, p: configs.append(p)
            )
            await eventually(lambda: bool(configs))
        assert json.loads(configs[0])["unique_id"] == "light_living"


async def test_after_a_restart_a_device_not_announced_again_is_unavailable_not_unknown(
    tmp_path: Path,
) -> None:
    home = load_home(DEMO_HOME)
    storage = tmp_path / "hub.sqlite3"
    first = Hub(home, SqliteStorage(storage))
    async with (
        first,
        mqtt_for_hub(first, embedded_port=0, credentials=CREDENTIALS, export=False) as settings,
        Simulator(_devices(settings), 2, per_gateway=2),
    ):
        await eventually(
            lambda: first.registry.knows("sim_light_00000") and first.state("sim_light_00000").is_available
        )
        await first.dispatch(Command(device_id="sim_light_00000", name="turn_on"))

    # The hub starts again with a fresh embedded broker that keeps nothing (no `retained_path`, as
    # an external broker without persistence): the light's state is stored, but the light has not
    # reconnected and announced itself yet. With the store (`oneteam serve`) it would be listed at
    # once from its retained discovery: test_restart_keeps_devices.py.
    hub = Hub(home, SqliteStorage(storage))
    async with hub, mqtt_for_hub(hub, embedded_port=0, credentials=CREDENTIALS, export=False) as again:
        assert not hub.registry.knows("sim_light_00000")
        with pytest.raises(DeviceUnavailable) as waiting:
            await hub.dispatch(Command(device_id="sim_light_00000", name="turn_off"))
        assert waiting.value.key == "error.device_unavailable"
        with pytest.raises(DeviceNotFound):  # never stored: still unknown
            await hub.dispatch(Command(device_id="sim_light_09999", name="turn_off"))
        async with Simulator(_devices(again), 2, per_gateway=2):
            await eventually(
                lambda: hub.registry.knows("sim_light_00000") and hub.state("sim_light_00000").is_available
            )
            state = await hub.dispatch(Command(device_id="sim_light_00000", name="turn_off"))
            assert state.get("power") is False
        assert "sim_light_00000" not in hub.registry.awaited


async def test_a_busy_port_for_the_embedded_broker_is_a_clear_error(tmp_path: Path) -> None:
    home = load_home(DEMO_HOME)
    async with (
        Hub(home, SqliteStorage(tmp_path / "hub.sqlite3")) as hub,
        mqtt_for_hub(hub, embedded_port=0, credentials=CREDENTIALS) as taken,
    ):
        with pytest.raises(BrokerError, match=f"cannot listen on 127.0.0.1:{taken.port}"):
            async with mqtt_for_hub(hub, embedded_port=taken.port, credentials=CREDENTIALS, export=False):
                pass


def _mqtt_string(text: str) -> bytes:
    data = text.encode()
    return len(data).to_bytes(2, "big") + data


def _mqtt_packet(header: int, body: bytes) -> bytes:
    length, encoded = len(body), bytearray()
    while True:
        length, digit = divmod(length, 128)
        encoded.append(digit | (0x80 if length else 0))
        if not length:
            return bytes([header]) + bytes(encoded) + body


async def _connect_and_publish(
    port: int, login: tuple[str, str] | None, publish: tuple[tuple[str, str], ...]
) -> bytes:
    """CONNECT and retained PUBLISHes in one write, as a hostile client would; the CONNACK."""
    flags = 0x02 | (0xC0 if login else 0)
    body = b"\x00\x04MQTT\x04" + bytes([flags]) + b"\x00\x3c" + _mqtt_string("stranger")
    if login is not None:
        body += _mqtt_string(login[0]) + _mqtt_string(login[1])
    data = _mqtt_packet(0x10, body)
    for topic, payload in publish:
        data += _mqtt_packet(0x31, _mqtt_string(topic) + payload.encode())
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    answer = await asyncio.wait_for(reader.read(), 2)  # everything until the broker closes
    writer.close()
    return answer


def _sign_in(port: int, login: tuple[str, str] | None) -> str:
    """Connect with a bare paho client; the broker's answer to CONNECT."""
    client = paho.Client(CallbackAPIVersion.VERSION2)
    if login is not None:
        client.username_pw_set(*login)
    answers: list[str] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(str(reason))
    client.connect("127.0.0.1", port)
    deadline = time.monotonic() + 2
    while not answers and time.monotonic() < deadline:
        client.loop(0.05)
    client.disconnect()
    return answers[0] if answers else "no answer"


async def test_without_the_hubs_account_mqtt_cannot_drive_or_add_devices(tmp_path: Path) -> None:
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home))
    light = {
        "name": "Sneaky lamp",
        "unique_id": "sneaky",
        "schema": "json",
        "command_topic": "sneaky/set",
        "state_topic": "sneaky/state",
    }
    async with hub, mqtt_for_hub(hub, embedded_port=0, credentials=CREDENTIALS) as settings:
        await eventually(lambda: hub.state("light_living").get("power") is not None)
        before = hub.state("light_living").get("power")
        wanted = "OFF" if before else "ON"
        # A stranger on the machine: anonymous, then with a guessed password. It sends its
        # PUBLISHes right behind the CONNECT, without waiting for the answer; none is taken.
        for login in (None, ("devices", "guess")):
            answer = await _connect_and_publish(
                settings.port,
                login,
                (
                    ("oneteam/light_living/set", json.dumps({"state": wanted})),
                    ("homeassistant/light/sneaky/config", json.dumps(light)),
                ),
            )
            assert answer in (b"\x20\x02\x00\x05", b"\x20\x02\x00\x04")  # refused: 5 or 4
        # A device account may add a device but not drive the hub's own ones.
        async with MqttClient(_devices(settings)) as device:
            assert await device.wait_connected(2)
            await device.publish_acked("oneteam/light_living/set", json.dumps({"state": wanted}))
            await device.publish_acked("homeassistant/light/sneaky/config", json.dumps(light), retain=True)
            await eventually(lambda: "sneaky" in {d.id for d in hub.devices()})
        await asyncio.sleep(0.3)
        assert hub.state("light_living").get("power") is before
        # The hub's account (a controller such as Home Assistant) drives it: the path is real.
        async with MqttClient(settings) as controller:
            assert await controller.wait_connected(2)
            await controller.publish_acked("oneteam/light_living/set", json.dumps({"state": wanted}))
            await eventually(lambda: hub.state("light_living").get("power") is (wanted == "ON"))


def test_accounts_are_made_once_and_kept_private(tmp_path: Path) -> None:
    made, created = load_or_create_credentials(tmp_path / "data")
    again, created_again = load_or_create_credentials(tmp_path / "data")
    assert created and not created_again and again == made
    assert made.hub.password != made.devices.password and len(made.devices.password) >= 24
    for name in (CREDENTIALS_FILE, PASSWORD_FILE, ACL_FILE):
        assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name
    (tmp_path / "data" / CREDENTIALS_FILE).chmod(0o644)  # copied back from a backup, say
    load_or_create_credentials(tmp_path / "data")
    assert stat.S_IMODE((tmp_path / "data" / CREDENTIALS_FILE).stat().st_mode) == 0o600
    passwd = (tmp_path / "data" / PASSWORD_FILE).read_text()
    assert made.devices.password not in passwd and passwd.count(":$7$101$") == 2
    # A password changed by hand in mqtt.credentials reaches the Mosquitto file on the next start.
    text = (tmp_path / "data" / CREDENTIALS_FILE).read_text()
    (tmp_path / "data" / CREDENTIALS_FILE).write_text(text.replace(made.devices.password, "changed-by-hand"))
    changed, _ = load_or_create_credentials(tmp_path / "data")
    assert changed.devices.password == "changed-by-hand"
    assert (tmp_path / "data" / PASSWORD_FILE).read_text() != passwd


def test_serve_prints_the_device_login_and_refuses_anonymous_clients(tmp_path: Path) -> None:
    mqtt_port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "oneteam", "serve", "--port", str(free_port()),
             "--mqtt-port", str(mqtt_port), "--data-dir", str(tmp_path / "data")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ONETEAM_LANG": "en", "ONETEAM_VOICE": "0", "COLUMNS": "300"},
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "MQTT for devices" not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        banner = log.read_text()
        printed = re.search(
            r"MQTT for devices: mqtt://127\.0\.0\.1:(\d+), user (\S+), password (\S+) ", banner
        )
        assert printed, banner
        stored = (tmp_path / "data" / CREDENTIALS_FILE).read_text()
        assert printed.group(1) == str(mqtt_port) and printed.group(2) == "devices"
        assert f'devices: "{printed.group(3)}"' in stored
        assert stat.S_IMODE((tmp_path / "data" / CREDENTIALS_FILE).stat().st_mode) == 0o600
        outcomes = {
            "anonymous": _sign_in(mqtt_port, None),
            "device": _sign_in(mqtt_port, ("devices", printed.group(3))),
        }
        assert outcomes == {"anonymous": "Not authorized", "device": "Success"}
    finally:
        process.terminate()
        process.wait(timeout=15)
