"""A discovered MQTT device the household removes stays removed across a restart (its retained
discovery is cleared, as Home Assistant does) until the device announces itself anew."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.credentials import MqttCredentials
from oneteam.integrations.mqtt.service import mqtt_for_hub
from oneteam.integrations.mqtt.settings import BrokerSettings
from oneteam.integrations.mqtt.simulator import Simulator
from tests.integrations.mqtt.conftest import device_login, eventually

DEMO_HOME = Path(__file__).resolve().parents[3] / "oneteam" / "homes" / "demo.yaml"
CREDENTIALS = MqttCredentials.generate()
LIGHT = "sim_light_00000"
OTHER = "sim_switch_00001"


def _devices(settings: BrokerSettings) -> BrokerSettings:
    return device_login(settings, CREDENTIALS)


def _mqtt(hub: Hub, retained: Path) -> AbstractAsyncContextManager[BrokerSettings]:
    """MQTT for one life of the hub: an embedded broker keeping retained messages in `retained`."""
    return mqtt_for_hub(hub, embedded_port=0, credentials=CREDENTIALS, export=False, retained_path=retained)


async def test_a_removed_device_is_not_announced_again_after_a_restart(tmp_path: Path) -> None:
    home = load_home(DEMO_HOME)
    storage, retained = tmp_path / "hub.sqlite3", tmp_path / "mqtt-retained.sqlite3"

    first = Hub(home, SqliteStorage(storage))
    async with (
        first,
        _mqtt(first, retained) as s,
        Simulator(_devices(s), 2, per_gateway=2) as simulator,
    ):
        await eventually(lambda: first.registry.knows(LIGHT) and first.registry.knows(OTHER))
        config_topic = f"homeassistant/{simulator.devices[LIGHT].component}/{LIGHT}/config"
        assert await first.remove_device(LIGHT) is True
        assert not first.registry.knows(LIGHT)
        # The broker no longer holds the light's announcement: a new subscriber gets nothing retained.
        seen: list[bytes] = []
        async with MqttClient(s) as watcher:
            watcher.subscribe("homeassistant/+/+/config", lambda topic, _p: seen.append(topic.encode()))
            # The other device's config is still retained, and comes after the light's (announced first).
            await eventually(lambda: f"homeassistant/switch/{OTHER}/config".encode() in seen)
            assert config_topic.encode() not in seen

    # Restarted over the same files without the devices: the other device is back from the retained
    # store, the removed light is not (retained messages arrive together, so waiting for one is enough).
    again = Hub(home, SqliteStorage(storage))
    async with (
        again,
        _mqtt(again, retained) as s,
    ):
        await eventually(lambda: again.registry.knows(OTHER))
        assert not again.registry.knows(LIGHT)
        assert LIGHT not in {d.id for d in again.devices()}
        # The device announcing itself anew (a re-pair, a firmware reset) is welcome again.
        async with Simulator(_devices(s), 2, per_gateway=2):
            await eventually(lambda: again.registry.knows(LIGHT) and again.state(LIGHT).is_available)
