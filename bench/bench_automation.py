"""Automation engine: 1,000 automations loaded, trigger → first action dispatched under a paced
load of 1,000 state changes/s, beside a direct `hub.dispatch` round trip measured in the same run.

Run: `.venv/bin/python bench/bench_automation.py [--seconds 5] [--rate 1000] [--no-run-events]`.

100 sensors report values through an adapter's sink (as MQTT or ThinQ sensors do); each sensor has
10 automations watching a band of its value (`above: 10·j, below: 10·j + 10`), so each change that
enters a new band triggers one automation, which turns one of 100 virtual lights on or off through
`hub.dispatch`. Latency is read from the stored traces: from the state-change event's time to the
end of the first step's dispatch (the command is then committed).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine, percentile, summary_ms

from oneteam.automation import AutomationStore, Engine
from oneteam.hub import AdapterSink, Hub, SqliteStorage
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, Device, DeviceType, Home, Room, State, builtin_type_specs

SENSORS = 100
BANDS = 10


class BenchSensors:
    """An integration whose sensors report whatever the bench tells them."""

    name = "bench"

    def __init__(self, devices: Sequence[Device]) -> None:
        self._devices = list(devices)
        self.sink: AdapterSink | None = None

    async def devices(self) -> Sequence[Device]:
        return self._devices

    async def start(self, sink: AdapterSink, last_states: Mapping[str, State]) -> None:
        self.sink = sink

    async def execute(self, command: Command) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        return None

    def report(self, device_id: str, value: float) -> None:
        assert self.sink is not None
        self.sink.report_state(device_id, {"value": value})


def _home() -> Home:
    specs = builtin_type_specs()
    devices = {
        f"s{i}": Device(
            id=f"s{i}", type=DeviceType.SENSOR, room="lab", spec=specs[DeviceType.SENSOR], integration="bench"
        )
        for i in range(SENSORS)
    }
    devices |= {
        f"l{i}": Device(id=f"l{i}", type=DeviceType.LIGHT, room="lab", spec=specs[DeviceType.LIGHT])
        for i in range(SENSORS)
    }
    return Home(id="bench", rooms={"lab": Room(id="lab")}, devices=devices, types=specs)


def _automations() -> dict[str, Any]:
    routines = [
        {
            "id": f"a{i}_{j}",
            "mode": "parallel",
            "triggers": [
                {"device": f"s{i}", "attribute": "value", "above": j * 10 - 0.5, "below": j * 10 + 9.5}
            ],
            "actions": [{"device": f"l{i}", "command": "turn_on" if j % 2 else "turn_off"}],
        }
        for i in range(SENSORS)
        for j in range(BANDS)
    ]
    return {"routines": routines}


async def _anchor(hub: Hub, count: int) -> list[float]:
    durations = []
    for n in range(count):
        started = time.perf_counter()
        await hub.dispatch(Command(device_id=f"l{n % SENSORS}", name="set_brightness", value=n % 100 + 1))
        durations.append(time.perf_counter() - started)
    return durations


async def run(seconds: float, rate: float, run_events: bool = True) -> None:
    home = _home()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        hub = Hub(home, SqliteStorage(path))
        sensors = BenchSensors([d for d in home.devices.values() if d.integration == "bench"])
        await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
        await hub.add_adapter(sensors)
        async with hub:
            engine = Engine(hub, AutomationStore(path))
            engine.announce_runs = run_events  # ROUTINE_RUN events for the page and WebSocket
            await engine.start()
            loaded_at = time.perf_counter()
            imported = await engine.import_yaml(yaml.safe_dump(_automations()), origin="bench")
            load_s = time.perf_counter() - loaded_at
            assert len(imported["imported"]) == SENSORS * BANDS
            idle_anchor = await _anchor(hub, 2000)
            figures = await _load(hub, engine, sensors, seconds, rate)
            await engine.stop()
    _report(load_s, idle_anchor, figures)


async def _load(
    hub: Hub, engine: Engine, sensors: BenchSensors, seconds: float, rate: float
) -> dict[str, Any]:
    """Offer `rate` state changes per second for `seconds`; collect latencies from the traces."""
    rng = random.Random(7)
    values = [0] * SENSORS
    batch = 10
    sent = 0
    cpu0 = time.process_time()
    started = time.perf_counter()
    under_load: list[float] = []

    async def probe() -> None:
        while time.perf_counter() - started < seconds:
            under_load.extend(await _anchor(hub, 1))
            await asyncio.sleep(0.01)

    prober = asyncio.create_task(probe())
    next_at = started
    while time.perf_counter() - started < seconds:
        for _ in range(batch):
            sensor = rng.randrange(SENSORS)
            # a value in another band than the last one: every change triggers one automation
            band = (values[sensor] // 10 + rng.randrange(1, BANDS)) % BANDS
            values[sensor] = band * 10 + rng.randrange(10)
            sensors.report(f"s{sensor}", values[sensor])
            sent += 1
        next_at += batch / rate
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
    offered_s = time.perf_counter() - started
    await prober
    deadline = time.perf_counter() + 30
    while engine.stats["runs"] > _finished(engine) and time.perf_counter() < deadline:
        await asyncio.sleep(0.05)
    drained_s = time.perf_counter() - started
    cpu = time.process_time() - cpu0
    latencies = []
    for record in engine.store.runs(limit=10 * sent):
        step = record.trace["steps"][0] if record.trace["steps"] else None
        if step is not None and record.trigger.get("kind") == "state":
            latencies.append(step["at"] + step["ms"] / 1000 - record.trigger["at"])
    return {
        "sent": sent,
        "offered_s": offered_s,
        "drained_s": drained_s,
        "cpu": cpu,
        "latencies": latencies,
        "under_load": under_load,
        "stats": dict(engine.stats),
    }


def _report(load_s: float, idle_anchor: list[float], figures: dict[str, Any]) -> None:
    stats, latencies, under_load = figures["stats"], figures["latencies"], figures["under_load"]
    sent, offered_s = figures["sent"], figures["offered_s"]
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu_per_1000 = figures["cpu"] / max(1, stats["triggered"]) * 1000 * 1000
    print(f"machine: {machine()}")
    print(f"automations loaded: {SENSORS * BANDS} in {load_s * 1000:.0f} ms (checked and stored)")
    print(
        f"offered {sent} state changes in {offered_s:.2f} s ({sent / offered_s:.0f}/s); "
        f"all runs finished after {figures['drained_s']:.2f} s"
    )
    print(
        f"triggers {stats['triggered']}, runs {stats['runs']}, "
        f"dropped {stats['dropped']}, ignored {stats['ignored']}"
    )
    print(f"trigger → first action dispatched (n={len(latencies)}): {summary_ms(latencies)}")
    print(f"anchor, hub.dispatch round trip, idle (n={len(idle_anchor)}): {summary_ms(idle_anchor)}")
    print(f"anchor, hub.dispatch round trip, under the load (n={len(under_load)}): {summary_ms(under_load)}")
    print(f"CPU per 1,000 triggers: {cpu_per_1000:.0f} ms (process CPU {figures['cpu']:.2f} s)")
    print(f"peak RSS: {rss_mb:.0f} MiB")
    print(f"trigger latency p99/p50: {percentile(latencies, 99) / max(1e-9, percentile(latencies, 50)):.1f}")


def _finished(engine: Engine) -> int:
    return engine.stats["runs"] - sum(len(group) for group in engine._active.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument(
        "--no-run-events", action="store_true", help="runs publish no ROUTINE_RUN events (their cost)"
    )
    arguments = parser.parse_args()
    print(f"run events (started/step/finished on the bus): {'off' if arguments.no_run_events else 'on'}")
    asyncio.run(run(arguments.seconds, arguments.rate, not arguments.no_run_events))


if __name__ == "__main__":
    main()
