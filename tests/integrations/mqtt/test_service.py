"""MQTT attached to a running hub in one block: embedded broker, adapter and discovery out together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.mqtt.client import BrokerError, MqttClient
from oneteam.integrations.mqtt.service import mqtt_for_hub
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, DeviceType
from tests.integrations.mqtt.conftest import eventually

DEMO_HOME = Path(__file__).resolve().parents[3] / "oneteam" / "homes" / "demo.yaml"


async def test_simulated_devices_join_the_hub_through_the_embedded_broker(tmp_path: Path) -> None:
    home = load_home(DEMO_HOME)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home))
    async with (
        hub,
        mqtt_for_hub(hub, embedded_port=0) as settings,
        Simulator(settings, 6, per_gateway=6) as simulator,
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


async def test_a_busy_port_for_the_embedded_broker_is_a_clear_error(tmp_path: Path) -> None:
    home = load_home(DEMO_HOME)
    async with (
        Hub(home, SqliteStorage(tmp_path / "hub.sqlite3")) as hub,
        mqtt_for_hub(hub, embedded_port=0) as taken,
    ):
        with pytest.raises(BrokerError, match=f"cannot listen on 127.0.0.1:{taken.port}"):
            async with mqtt_for_hub(hub, embedded_port=taken.port, export=False):
                pass
