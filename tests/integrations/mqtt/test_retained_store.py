"""The embedded broker keeps retained messages in a SQLite file across restarts (retained_store.py):
real brokers on localhost, real MQTT clients, real files."""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
from pathlib import Path

import pytest

from oneteam.integrations.mqtt import BrokerSettings, MqttClient
from oneteam.integrations.mqtt.broker import EmbeddedBroker
from oneteam.integrations.mqtt.broker_session import BrokerLimits
from oneteam.integrations.mqtt.credentials import MqttCredentials
from oneteam.integrations.mqtt.settings import Will
from tests.integrations.mqtt.conftest import eventually

CREDENTIALS = MqttCredentials.generate()


def _broker(path: Path, limits: BrokerLimits | None = None) -> EmbeddedBroker:
    return EmbeddedBroker(port=0, accounts=CREDENTIALS.accounts(), retained_path=path, limits=limits)


def _settings(broker: EmbeddedBroker) -> BrokerSettings:
    login = CREDENTIALS.devices
    return BrokerSettings(
        host="127.0.0.1", port=broker.port, username=login.username, password=login.password
    )


async def _received(broker: EmbeddedBroker, topic_filter: str) -> dict[str, bytes]:
    """What a new subscriber to `topic_filter` gets: the retained messages, as a client sees them."""
    got: dict[str, bytes] = {}
    async with MqttClient(_settings(broker)) as client:
        assert await client.wait_connected(2)
        client.subscribe(topic_filter, got.__setitem__)
        client.subscribe("end", got.__setitem__)
        await asyncio.sleep(0.05)  # let both SUBSCRIBEs reach the broker before the marker
        # The retained messages come right after the SUBACK, so before a marker published later.
        await client.publish_acked("end", "")
        await eventually(lambda: "end" in got)
    del got["end"]
    return got


def _rows(path: Path, table: str) -> dict[str, bytes]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return dict(db.execute(f"SELECT topic, payload FROM {table}"))


def _set_aside(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in folder.glob("mqtt-retained.sqlite3.corrupt-*")]


async def test_retained_messages_survive_a_restart_and_a_cleared_one_stays_cleared(tmp_path: Path) -> None:
    path = tmp_path / "data" / "mqtt-retained.sqlite3"
    async with _broker(path) as first, MqttClient(_settings(first)) as device:
        assert await device.wait_connected(2)
        await device.publish_acked("home/lamp/config", '{"name": "lamp"}', retain=True)
        await device.publish_acked("home/lamp/state", "ON", retain=True)
        await device.publish_acked("home/old/config", '{"name": "old"}', retain=True)
        await device.publish_acked("home/lamp/state", "OFF", retain=True)  # the latest one counts
        await device.publish_acked("home/old/config", "", retain=True)  # MQTT 3.1.1 §3.3.1.3: cleared
        await device.publish_acked("home/lamp/event", "click")  # not retained: not kept
    assert path.exists()

    async with _broker(path) as second:
        assert await _received(second, "home/#") == {
            "home/lamp/config": b'{"name": "lamp"}',
            "home/lamp/state": b"OFF",
        }
        async with MqttClient(_settings(second)) as device:
            assert await device.wait_connected(2)
            await device.publish_acked("home/lamp/config", "", retain=True)  # the lamp is removed
    async with _broker(path) as third:
        assert await _received(third, "home/#") == {"home/lamp/state": b"OFF"}


async def test_changes_reach_the_file_within_a_second_and_a_power_cut_marks_clients_offline(
    tmp_path: Path,
) -> None:
    path = tmp_path / "mqtt-retained.sqlite3"
    async with (
        _broker(path) as running,
        MqttClient(_settings(running), will=Will("home/gw/availability", "offline", "online")) as gateway,
    ):
        assert await gateway.wait_connected(2)
        await gateway.publish_acked("home/lamp/state", "ON", retain=True)
        # Written behind, without a stop: the file holds the message and the gateway's will, due.
        await eventually(
            lambda: (
                _rows(path, "retained").get("home/gw/availability") == b"online"
                and "home/lamp/state" in _rows(path, "retained")
                and _rows(path, "due_wills") == {"home/gw/availability": b"offline"}
            ),
            timeout_s=2,
        )
        # The power goes: the disk holds what was written, the broker never stopped.
        shutil.copyfile(path, tmp_path / "after-power-cut.sqlite3")

    async with _broker(tmp_path / "after-power-cut.sqlite3") as restarted:
        # The gateway lost its connection with the broker: its will stands, not a stale "online".
        assert await _received(restarted, "home/#") == {
            "home/gw/availability": b"offline",
            "home/lamp/state": b"ON",
        }


async def test_clients_connected_at_a_clean_stop_are_offline_at_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "mqtt-retained.sqlite3"
    will = Will("home/gw/availability", "offline", "online")
    first = _broker(path)
    async with first:
        gateway = MqttClient(_settings(first), will=will)
        await gateway.__aenter__()
        assert await gateway.wait_connected(2)
        await eventually(lambda: bool(first.retained_for("home/gw/availability")))  # its "online"
    await gateway.__aexit__(None, None, None)  # the broker went first: no goodbye reached it
    async with _broker(path) as second:
        assert await _received(second, "home/gw/#") == {"home/gw/availability": b"offline"}


async def test_a_corrupt_store_is_set_aside_and_the_broker_starts_empty(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "mqtt-retained.sqlite3"
    path.write_bytes(b"not a database, a disk that went bad " * 200)
    with caplog.at_level(logging.WARNING, logger="oneteam.integrations.mqtt.retained_store"):
        async with _broker(path) as broker, MqttClient(_settings(broker)) as device:
            assert broker.retained_for("#") == []
            assert await device.wait_connected(2)
            await device.publish_acked("home/lamp/state", "ON", retain=True)
    assert "unreadable" in caplog.text and "starting empty" in caplog.text
    aside = _set_aside(tmp_path)
    assert len(aside) == 1 and aside[0].startswith(b"not a database")
    async with _broker(path) as again:  # the fresh store works as any other
        assert await _received(again, "home/#") == {"home/lamp/state": b"ON"}


async def test_a_store_holds_no_more_than_the_brokers_limit(tmp_path: Path) -> None:
    path = tmp_path / "mqtt-retained.sqlite3"
    async with _broker(path) as roomy, MqttClient(_settings(roomy)) as device:
        assert await device.wait_connected(2)
        for n in range(5):
            await device.publish_acked(f"home/sensor{n}/state", str(n), retain=True)
    async with _broker(path, BrokerLimits(max_retained=3)) as small:
        assert len(small.retained_for("home/#")) == 3


async def test_a_write_that_fails_is_logged_kept_and_written_on_the_next_try(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "mqtt-retained.sqlite3"
    async with _broker(path) as broker, MqttClient(_settings(broker)) as device:
        assert await device.wait_connected(2)
        # Another program (a backup tool, say) holds the file locked: the store's writes time out.
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN EXCLUSIVE")
        with caplog.at_level(logging.ERROR, logger="oneteam.hub.supervisor"):
            await device.publish_acked("home/lamp/state", "ON", retain=True)
            await eventually(lambda: "task broker-retained-store failed" in caplog.text, timeout_s=15)
        assert "database is locked" in caplog.text
        assert broker.store is not None and broker.store.pending == 1  # kept for the next try
        blocker.execute("ROLLBACK")
        blocker.close()
        store = broker.store
        await eventually(
            lambda: _rows(path, "retained") == {"home/lamp/state": b"ON"} and store.pending == 0, timeout_s=10
        )
