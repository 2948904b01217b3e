"""Broker killed (-9) and restarted: devices come back within 5 s and no acknowledged command is lost."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from oneteam.integrations.mqtt import MqttAdapter
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.model import Command, OneteamError
from tests.integrations.mqtt.conftest import RecordingSink, eventually

LIGHTS = [f"sim_light_{i:05d}" for i in range(0, 60, 6)]


async def _command_loop(adapter: MqttAdapter, device_id: str, acked: list[int], stop: asyncio.Event) -> int:
    """Send set_brightness 1, 2, 3, ... until told to stop; keep the values the adapter acknowledged."""
    failed = 0
    value = 0
    while not stop.is_set():
        value = value % 100 + 1
        try:
            await adapter.execute(Command(device_id=device_id, name="set_brightness", value=value))
        except OneteamError:
            failed += 1  # refused while the broker was down: the caller was told, nothing was promised
            await asyncio.sleep(0.05)
        else:
            acked.append(value)
        await asyncio.sleep(0.02)
    return failed


@pytest.mark.slow
async def test_broker_kill_and_restart_loses_no_acknowledged_command(
    mosquitto: MosquittoBroker, sink: RecordingSink
) -> None:
    async with Simulator(mosquitto.device_settings, 60, per_gateway=30) as simulator:
        adapter = MqttAdapter(mosquitto.settings, confirm_timeout_s=5.0)
        await adapter.start(sink, {})
        try:
            await eventually(lambda: len(sink.devices) == 60 and all(sink.available.values()))
            stop = asyncio.Event()
            acked: dict[str, list[int]] = {d: [] for d in LIGHTS}
            loops = [asyncio.create_task(_command_loop(adapter, d, acked[d], stop)) for d in LIGHTS]
            await asyncio.sleep(0.4)
            before_kill = sum(len(v) for v in acked.values())

            mosquitto.kill()
            await eventually(lambda: not any(sink.available.values()), timeout_s=2)
            await asyncio.sleep(0.3)
            mosquitto.start()
            restarted = time.monotonic()
            await eventually(lambda: all(sink.available.values()), timeout_s=5)
            back_after_s = time.monotonic() - restarted

            await asyncio.sleep(0.4)
            stop.set()
            failures = await asyncio.gather(*loops)
        finally:
            await adapter.stop()

        assert back_after_s < 5.0
        assert sum(len(v) for v in acked.values()) > before_kill  # commands flowed again after the restart
        for device_id, values in acked.items():
            obeyed = {
                json.loads(payload)["brightness"]
                for _, payload in simulator.devices[device_id].received
                if "brightness" in payload
            }
            # Every acknowledged brightness reached the device (percent → 0–255 as the adapter sends it).
            missing = [v for v in values if round(v * 255 / 100) not in obeyed]
            assert not missing, f"{device_id}: acknowledged but never received {missing}"
        print(
            f"back after {back_after_s:.2f} s; acked {sum(map(len, acked.values()))}; refused {sum(failures)}"
        )
