"""Accounts, topic rules and TLS against a real Mosquitto, configured as docs/mqtt.md says."""

from __future__ import annotations

import asyncio
import getpass
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.mqtt import BrokerError, MqttClient, mqtt_for_hub, parse_broker_url
from oneteam.integrations.mqtt.auth import check_password
from oneteam.integrations.mqtt.credentials import ACL_FILE, PASSWORD_FILE, Login, load_or_create_credentials
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker, find_mosquitto
from oneteam.integrations.mqtt.settings import BrokerSettings
from oneteam.integrations.virtual import VirtualAdapter
from tests.integrations.mqtt.conftest import eventually
from tests.integrations.mqtt.test_cli import app
from tests.integrations.mqtt.test_service import DEMO_HOME

pytestmark = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")
DOCS = Path(__file__).resolve().parents[3] / "docs" / "mqtt.md"


def test_broker_urls_carry_credentials_and_tls() -> None:
    settings = parse_broker_url("mqtts://home%40x:p%3Ass@broker.lan")
    assert (settings.host, settings.port, settings.use_tls) == ("broker.lan", 8883, True)
    assert (settings.username, settings.password) == ("home@x", "p:ss")
    assert parse_broker_url("mqtt://127.0.0.1:1884").port == 1884


@pytest.mark.parametrize("url", ["http://host", "mqtt://", "mqtt://host:99999", "host:1883"])
def test_malformed_broker_urls_are_refused_with_a_message(url: str) -> None:
    with pytest.raises(BrokerError, match=r"broker URL|port"):
        parse_broker_url(url)


async def test_username_and_password_are_required_when_the_broker_says_so(tmp_path: Path) -> None:
    with MosquittoBroker(directory=tmp_path, username="hub", password="s3cret") as broker:
        anonymous = BrokerSettings(port=broker.port)
        async with MqttClient(anonymous) as client:
            assert not await client.wait_connected(0.5)
        async with MqttClient(broker.settings) as client:
            assert await client.wait_connected(3)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
async def test_tls_connection_with_a_private_ca(tmp_path: Path) -> None:
    cert, key = tmp_path / "broker.crt", tmp_path / "broker.key"
    await asyncio.to_thread(
        subprocess.run,
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key.chmod(0o644)
    with MosquittoBroker(directory=tmp_path / "m", cert_file=cert, key_file=key, ca_file=cert) as broker:
        received: list[bytes] = []
        async with MqttClient(broker.settings) as client:
            assert await client.wait_connected(3)
            client.subscribe("tls/check", lambda _t, p: received.append(p))
            await asyncio.sleep(0.1)  # the SUBSCRIBE goes out right after the call returns
            await client.publish_acked("tls/check", b"hello")
            await eventually(lambda: received == [b"hello"])
            async with MqttClient(BrokerSettings(port=broker.port)) as plain:
                assert not await plain.wait_connected(0.5)  # plain TCP is not accepted on a TLS listener
        assert broker.settings.use_tls


def _documented_config(port: int, data_dir: Path) -> str:
    """The Mosquitto config of docs/mqtt.md, on a loopback test port with the hub's files."""
    block = re.search(r"```conf\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    assert block is not None, "docs/mqtt.md lost its Mosquitto config"
    config = block.group(1)
    assert "allow_anonymous false" in config
    # The docs hand the files to the `mosquitto` user; here they stay with the test's own user.
    config = f"user {getpass.getuser()}\n" + config.replace("listener 1883", f"listener {port} 127.0.0.1")
    config = config.replace("/etc/mosquitto/oneteam.passwd", str(data_dir / PASSWORD_FILE))
    return config.replace("/etc/mosquitto/oneteam.acl", str(data_dir / ACL_FILE))


async def test_the_documented_mosquitto_config_takes_the_hubs_accounts_only(tmp_path: Path) -> None:
    credentials, _ = load_or_create_credentials(tmp_path / "data")
    probe = MosquittoBroker(directory=tmp_path / "m")
    probe.config = _documented_config(probe.port, tmp_path / "data")
    with probe as broker:
        for login in (None, Login("devices", "guess"), Login("oneteam", credentials.devices.password)):
            async with MqttClient(broker.settings_for(login)) as refused:
                assert not await refused.wait_connected(0.5)
                assert refused.refused == "Not authorized"
        hub_saw: list[str] = []
        device_saw: list[str] = []
        async with (
            MqttClient(broker.settings_for(credentials.hub), name="hub") as hub,
            MqttClient(broker.settings_for(credentials.devices), name="device") as device,
        ):
            assert await hub.wait_connected(3) and await device.wait_connected(3)
            hub.subscribe("#", lambda t, _p: hub_saw.append(t))
            device.subscribe("#", lambda t, _p: device_saw.append(t))
            await asyncio.sleep(0.1)
            await device.publish_acked("oneteam/washer/set", b'{"state": "ON"}')
            await device.publish_acked("homeassistant/switch/oneteam/washer/config", b"{}")
            await device.publish_acked("zigbee2mqtt/lamp/state", b'{"state": "ON"}')
            await hub.publish_acked("oneteam/washer/state", b'{"state": "OFF"}')
            await hub.publish_acked("zigbee2mqtt/lamp/set", b'{"state": "OFF"}')
            await eventually(
                lambda: "zigbee2mqtt/lamp/set" in device_saw and "zigbee2mqtt/lamp/set" in hub_saw
            )
        assert "zigbee2mqtt/lamp/state" in hub_saw
        assert not {"oneteam/washer/set", "homeassistant/switch/oneteam/washer/config"} & set(hub_saw)
        assert "oneteam/washer/state" in hub_saw and "oneteam/washer/state" not in device_saw
        # `oneteam simulate` finds the device account in the hub's data folder by itself.
        url = f"mqtt://127.0.0.1:{broker.port}"
        args = ["simulate", "--devices", "4", "--broker", url, "--duration", "0.5", "--data-dir"]
        result = await asyncio.to_thread(CliRunner().invoke, app, [*args, str(tmp_path / "data")])
        assert result.exit_code == 0, result.output


def test_hashes_made_by_mosquitto_passwd_check_out_here(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    subprocess.run([tool, "-c", "-b", str(tmp_path / "pw"), "hub", "s3cret"], check=True, capture_output=True)
    stored = (tmp_path / "pw").read_text().strip().split(":", 1)[1]
    assert stored.startswith("$7$")
    assert check_password(stored, b"s3cret") and not check_password(stored, b"s3cret!")


async def test_the_hub_joins_mosquitto_as_its_own_account_when_the_url_names_none(tmp_path: Path) -> None:
    credentials, _ = load_or_create_credentials(tmp_path / "data")
    home = load_home(DEMO_HOME)
    with MosquittoBroker(directory=tmp_path / "m", credentials=credentials) as broker:
        url = f"mqtt://127.0.0.1:{broker.port}"
        hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
        await hub.add_adapter(VirtualAdapter(home))
        async with (
            hub,
            mqtt_for_hub(hub, broker_url=url, credentials=credentials) as settings,
        ):
            assert (settings.username, settings.password) == ("oneteam", credentials.hub.password)
            configs: list[bytes] = []
            async with MqttClient(broker.settings_for(credentials.hub)) as watcher:
                watcher.subscribe(
                    "homeassistant/light/oneteam/light_living/config", lambda _t, p: configs.append(p)
                )
                await eventually(lambda: bool(configs))  # the hub signed in and published its devices
