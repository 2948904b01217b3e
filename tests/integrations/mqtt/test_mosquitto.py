"""Username/password and TLS against a real Mosquitto, as documented for production."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from oneteam.integrations.mqtt import BrokerError, MqttClient, parse_broker_url
from oneteam.integrations.mqtt.client import BrokerSettings
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker, find_mosquitto
from tests.integrations.mqtt.conftest import eventually

pytestmark = pytest.mark.skipif(find_mosquitto() is None, reason="mosquitto is not installed")


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
