"""MQTT integration figures, each beside raw Mosquitto + paho measured in the same run.

1. Ingest: state messages per second processed into the hub (MqttAdapter → real Hub with SQLite),
   and into a counting sink (the adapter's own cost), beside a bare paho subscriber counting the
   same flood. msg/s is wall-clock (best round); msg/CPU-s divides by the receiving process's own
   CPU time, which the other tenants of a shared machine disturb much less.
2. Command round trip hub → device → state back (Hub.dispatch), at light load and at 1,000/s,
   beside a bare paho client driving the same simulated device.
3. 10,000 devices reporting every 10 s: hub CPU (% of one core) and added memory, beside a bare
   paho subscriber receiving the same stream.

Devices and the flood run in separate processes, so the hub's figures are its own.
Run: .venv/bin/python bench/bench_mqtt.py [--quick]   (about 2 minutes; --quick about 40 s)
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
from _common import machine, percentile
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.hub import Hub, SqliteStorage
from oneteam.integrations.mqtt import BrokerSettings, MqttAdapter
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker, find_mosquitto
from oneteam.integrations.mqtt.simulator import Simulator
from oneteam.model import Command, Home

SENSORS = 1000


LOGIN_ENV = "ONETEAM_BENCH_MQTT_LOGIN"
"""`user:password` of the bench broker's hub account (brokers refuse anonymous clients); helper
processes inherit it."""


def login() -> tuple[str, str]:
    """The bench broker's username and password."""
    user, _, password = os.environ[LOGIN_ENV].partition(":")
    return user, password


def bench_settings(port: int) -> BrokerSettings:
    """How our client reaches the bench broker."""
    user, password = login()
    return BrokerSettings(port=port, username=user, password=password)


def raw_client() -> paho.Client:
    """A bare paho client signed in to the bench broker."""
    client = paho.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set(*login())
    return client


# -- helper processes -------------------------------------------------------------------------


def role_simulator(port: int, devices: int, kinds: str, interval_s: float) -> None:
    """Simulated devices in their own process; prints `ready` once all are connected."""

    async def run() -> None:
        settings = bench_settings(port)
        async with Simulator(settings, devices, kinds=tuple(kinds.split(","))) as simulator:
            await simulator.wait_connected(10)
            print("ready", flush=True)
            if interval_s > 0:
                await simulator.run_reports(interval_s)
            else:
                await asyncio.Event().wait()

    asyncio.run(run())


def role_flood(port: int, count: int) -> None:
    """Send `count` pre-encoded QoS 0 state messages as fast as Mosquitto takes them."""
    packets = bytearray()
    for k in range(count):
        topic = f"bench/{k % SENSORS}/state".encode()
        payload = json.dumps({"temperature": 20 + (k % 997) / 10}).encode()
        body = struct.pack("!H", len(topic)) + topic + payload
        packets += bytes([0x30, len(body)]) + body  # every body here is under 128 bytes
    with socket.create_connection(("127.0.0.1", port)) as sock:
        user, password = (part.encode() for part in login())
        connect = b"\x00\x04MQTT\x04\xc2\x00\x3c" + b"\x00\x05flood"
        connect += struct.pack("!H", len(user)) + user + struct.pack("!H", len(password)) + password
        sock.sendall(bytes([0x10, len(connect)]) + connect)
        sock.recv(4)
        for start in range(0, len(packets), 65536):
            sock.sendall(packets[start : start + 65536])
        sock.sendall(b"\xe0\x00")
        time.sleep(0.5)


def spawn(*args: str) -> subprocess.Popen[str]:
    """This script again in another role."""
    return subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, text=True)


def start_simulator(port: int, devices: int, kinds: str, interval_s: float) -> subprocess.Popen[str]:
    """A simulator process, once its devices are connected."""
    process = spawn("--role", "simulator", "--port", str(port), "--devices", str(devices), "--kinds", kinds,
                    "--interval", str(interval_s))  # fmt: skip
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("simulator did not start")
    return process


def stop(process: subprocess.Popen[str]) -> None:
    """End a helper process."""
    process.terminate()
    process.wait(timeout=10)


def rss_mb() -> float:
    """Resident memory of this process in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the raw anchor ---------------------------------------------------------------------------


class RawPaho:
    """A bare paho client with its network thread, as most MQTT programs use it."""

    def __init__(self, port: int, topics: list[str]) -> None:
        self.count = 0
        self.first = self.last = 0.0
        self.on_message: collections.abc.Callable[[str, bytes], None] | None = None
        self.client = raw_client()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        for topic in topics:
            self.client.subscribe(topic)
        self.client.loop_start()
        time.sleep(0.3)

    def _on_message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        now = time.perf_counter()
        if not self.count:
            self.first = now
        self.count += 1
        self.last = now
        if self.on_message is not None:
            self.on_message(message.topic, bytes(message.payload))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def probe(port: int, arrived: collections.abc.Callable[[], bool]) -> None:
    """Publish one state message until the receiver shows it: its subscriptions are in place."""
    sender = raw_client()
    sender.connect("127.0.0.1", port)
    sender.loop_start()
    deadline = time.monotonic() + 30
    while not arrived():
        if time.monotonic() > deadline:
            raise RuntimeError("benchmark stopped: the receiver never subscribed")
        sender.publish("bench/0/state", json.dumps({"temperature": 0}), qos=1).wait_for_publish(5)
        time.sleep(0.2)
    sender.disconnect()
    sender.loop_stop()


def wait_quiet(counter: collections.abc.Callable[[], int], expected: int, quiet_s: float = 1.5) -> None:
    """Wait until `expected` arrived or nothing arrived for `quiet_s`."""
    last, since = -1, time.monotonic()
    while counter() < expected:
        now = counter()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since > quiet_s:
            return
        time.sleep(0.01)


def raw_ingest(port: int, count: int) -> tuple[float, int, float]:
    """(messages per second, messages, messages per CPU second) of a bare paho subscriber."""
    raw = RawPaho(port, ["bench/+/state"])
    probe(port, lambda: raw.count > 0)
    raw.count = 0
    cpu0 = time.process_time()
    flood = spawn("--role", "flood", "--port", str(port), "--count", str(count))
    wait_quiet(lambda: raw.count, count)
    cpu = time.process_time() - cpu0
    flood.wait()
    raw.close()
    return raw.count / max(raw.last - raw.first, 1e-9), raw.count, raw.count / cpu


def raw_round_trips(port: int, device_ids: list[str], count: int, rate_per_s: float | None) -> list[float]:
    """Command → state round trips from a bare paho client to the simulated lights."""
    pending: dict[str, collections.deque[float]] = {d: collections.deque() for d in device_ids}
    latencies: list[float] = []
    done = threading.Event()
    arrived = threading.Event()

    def on_state(topic: str, payload: bytes) -> None:
        device_id = topic.split("/")[2]
        if pending.get(device_id):
            latencies.append(time.perf_counter() - pending[device_id].popleft())
            arrived.set()
            if len(latencies) >= count:
                done.set()

    raw = RawPaho(port, ["oneteam-sim/+/+/state"])
    time.sleep(0.5)  # let the retained states of the subscribe pass
    raw.on_message = on_state
    start = time.perf_counter()
    for k in range(count):
        device_id = device_ids[k % len(device_ids)]
        if rate_per_s:
            delay = start + k / rate_per_s - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        arrived.clear()
        pending[device_id].append(time.perf_counter())
        payload = json.dumps({"state": "ON", "brightness": 1 + k % 250})
        raw.client.publish(f"oneteam-sim/gw0/{device_id}/set", payload, qos=1)
        if not rate_per_s:
            arrived.wait(timeout=2)
    done.wait(timeout=10)
    raw.close()
    return latencies


# -- ours -------------------------------------------------------------------------------------


async def until(check: collections.abc.Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    """Wait for `check`, or stop the benchmark saying what did not happen."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"benchmark stopped: no {what} within {timeout_s:g} s")
        await asyncio.sleep(0.05)


async def start_hub(port: int, directory: Path) -> tuple[Hub, MqttAdapter]:
    """A real hub (SQLite storage) with the MQTT adapter attached."""
    hub = Hub(Home(), SqliteStorage(directory / f"hub-{time.monotonic_ns()}.sqlite3"))
    await hub.__aenter__()
    adapter = MqttAdapter(bench_settings(port))
    await hub.add_adapter(adapter)
    return hub, adapter


class CountingSink:
    """The cheapest AdapterSink: counts reports, so the adapter's own cost shows apart from the hub's."""

    def __init__(self) -> None:
        self.reports = 0

    def report_state(self, device_id: str, changes: object) -> None:
        self.reports += 1

    def report_event(self, device_id: str, kind: object, data: object) -> None:
        """Not used by the MQTT adapter."""

    def report_availability(self, device_id: str, is_available: bool, reason: str = "") -> None:
        """Availability is not measured here."""

    def add_device(self, device: object) -> None:
        """Discovery is not measured here."""

    def remove_device(self, device_id: str) -> None:
        """Removal is not measured here."""


def publish_sensor_configs(port: int) -> None:
    """Retained discovery configs of the flood's sensors."""
    configs = raw_client()
    configs.connect("127.0.0.1", port)
    configs.loop_start()
    for i in range(SENSORS):
        config = {"unique_id": f"bench_{i}", "state_topic": f"bench/{i}/state",
                  "value_template": "{{ value_json.temperature }}"}  # fmt: skip
        info = configs.publish(
            f"homeassistant/sensor/bench_{i}/config", json.dumps(config), qos=1, retain=True
        )
    info.wait_for_publish(timeout=10)
    configs.disconnect()
    configs.loop_stop()


async def ours_ingest(port: int, directory: Path, count: int, *, via_hub: bool) -> tuple[float, int, float]:
    """(messages per second, messages, messages per CPU second) turned into state reports.

    Through the hub every message changes a value, so each one is stored and becomes an event.
    """
    if via_hub:
        hub, adapter = await start_hub(port, directory)
    else:
        adapter = MqttAdapter(bench_settings(port))
        await adapter.start(CountingSink(), {})
    await until(lambda: len(adapter._entities) >= SENSORS, "sensors discovered")
    client = adapter._client
    assert client is not None
    start_count = client.messages_received
    await asyncio.to_thread(probe, port, lambda: client.messages_received > start_count)
    base = client.messages_received
    cpu0 = time.process_time()
    flood = spawn("--role", "flood", "--port", str(port), "--count", str(count))
    first = last = 0.0
    at_first = 0
    seen, since = base, time.perf_counter()
    while seen - base < count and time.perf_counter() - since < 1.5:
        await asyncio.sleep(0.005)
        now_count = client.messages_received
        if now_count != seen:
            now = time.perf_counter()
            if not first:
                first, at_first = now, now_count
            seen, last, since = now_count, now, now
    cpu = time.process_time() - cpu0
    flood.wait()
    received = seen - base
    if via_hub:
        await hub.__aexit__(None, None, None)
    else:
        await adapter.stop()
    # The clock starts at the first poll that saw messages: count only what arrived after it.
    return (seen - at_first) / max(last - first, 1e-9), received, received / cpu


async def ours_round_trips(
    port: int, directory: Path, device_ids: list[str], count: int, rate_per_s: float | None, *, via_hub: bool
) -> list[float]:
    """Round trips through Hub.dispatch (validate, adapter, store) or MqttAdapter.execute alone."""
    hub, adapter = await start_hub(port, directory)
    await until(lambda: all(adapter._available.get(d) for d in device_ids), "lights available")
    latencies: list[float] = []

    async def one(k: int) -> None:
        command = Command(device_id=device_ids[k % len(device_ids)], name="set_brightness", value=1 + k % 99)
        started = time.perf_counter()
        if via_hub:
            await hub.dispatch(command)
        else:
            await adapter.execute(command)
        latencies.append(time.perf_counter() - started)

    if rate_per_s is None:
        for k in range(count):
            await one(k)
    else:
        tasks = []
        start = time.perf_counter()
        for k in range(count):
            delay = start + k / rate_per_s - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(k)))
        await asyncio.gather(*tasks)
    await hub.__aexit__(None, None, None)
    return latencies


def round_trip_line(title: str, runs: dict[str, list[list[float]]]) -> str:
    """One line: for each contender its best run by p99 (the machine is shared), and every p99."""
    parts = []
    for name, results in runs.items():
        best = min(results, key=lambda r: percentile(r, 99))
        every = ", ".join(ms(r, 99) for r in results)
        parts.append(f"{name} p50 {ms(best, 50)} p99 {ms(best, 99)} [p99s {every}]")
    return f"{title:<16}" + "   ".join(parts)


async def ours_fleet(port: int, directory: Path, devices: int, window_s: float) -> tuple[float, float, float]:
    """(CPU % of one core, added MB, seconds to discover) for a fleet reporting through the hub."""
    base_mb = rss_mb()
    started = time.perf_counter()
    hub, _ = await start_hub(port, directory)
    await until(lambda: len(hub.devices()) >= devices, "fleet discovered", timeout_s=120)
    discovered_s = time.perf_counter() - started
    await asyncio.sleep(2)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(window_s)
    cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0) * 100
    added = rss_mb() - base_mb
    await hub.__aexit__(None, None, None)
    return cpu, added, discovered_s


def raw_fleet_cpu(port: int, window_s: float) -> float:
    """CPU % of a bare paho subscriber receiving the same fleet's reports."""
    raw = RawPaho(port, ["oneteam-sim/#", "homeassistant/#"])
    time.sleep(2)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    time.sleep(window_s)
    cpu = (time.process_time() - cpu0) / (time.perf_counter() - wall0) * 100
    raw.close()
    return cpu


# -- main -------------------------------------------------------------------------------------


def ms(values: list[float], q: float) -> str:
    return f"{percentile([v * 1000 for v in values], q):.2f} ms"


def main(quick: bool) -> None:
    flood_count = 30_000 if quick else 60_000
    rounds = 2 if quick else 3
    trips = 200 if quick else 500
    fleet = 2_000 if quick else 10_000
    window_s = 5.0 if quick else 20.0
    binary = str(find_mosquitto())
    version = subprocess.run([binary, "-h"], capture_output=True, text=True, check=False).stdout.split()[2]
    print(f"bench_mqtt on {machine()}, Mosquitto {version}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, MosquittoBroker(directory=Path(tmp) / "broker",
                                                               max_queued_messages=0) as broker:  # fmt: skip
        directory = Path(tmp)
        os.environ[LOGIN_ENV] = f"{broker.credentials.hub.username}:{broker.credentials.hub.password}"
        # The machine is shared: alternate anchor and ours, and keep each one's best round.
        publish_sensor_configs(broker.port)
        ingest: dict[str, list[tuple[float, int, float]]] = {"hub": [], "adapter": [], "raw paho": []}
        for _ in range(rounds):
            ingest["raw paho"].append(raw_ingest(broker.port, flood_count))
            ingest["hub"].append(asyncio.run(ours_ingest(broker.port, directory, flood_count, via_hub=True)))
            ingest["adapter"].append(
                asyncio.run(ours_ingest(broker.port, directory, flood_count, via_hub=False))
            )
        raw_best = max(ingest["raw paho"])
        raw_cpu = max(r[2] for r in ingest["raw paho"])
        for name, label in (
            ("hub", "ingest → hub"),
            ("adapter", "ingest adapter"),
            ("raw paho", "ingest raw paho"),
        ):
            best, every = max(ingest[name]), ", ".join(f"{r[0]:,.0f}" for r in ingest[name])
            cpu_rate = max(r[2] for r in ingest[name])
            print(f"{label:<16}{best[0]:9,.0f} msg/s (×{best[0] / raw_best[0]:.2f} raw)   "
                  f"{cpu_rate:9,.0f} msg/CPU-s (×{cpu_rate / raw_cpu:.2f} raw)   "
                  f"[{best[1]:,} of {flood_count:,}; rounds {every}]", flush=True)  # fmt: skip

        lights = [f"sim_light_{i:05d}" for i in range(100)]
        simulator = start_simulator(broker.port, 100, "light", 0)
        try:
            n = 1000 if quick else 3000
            for title, devices, count, rate in (
                ("round trip", lights[:1], trips, None),
                ("round trip 1k/s", lights, n, 1000.0),
            ):
                runs: dict[str, list[list[float]]] = {"adapter": [], "hub.dispatch": [], "raw paho": []}
                for _ in range(rounds):
                    runs["raw paho"].append(raw_round_trips(broker.port, devices, count, rate))
                    for name, via_hub in (("adapter", False), ("hub.dispatch", True)):
                        runs[name].append(
                            asyncio.run(
                                ours_round_trips(
                                    broker.port, directory, devices, count, rate, via_hub=via_hub
                                )
                            )
                        )
                print(
                    round_trip_line(title, runs), f"({count} commands, {len(devices)} device(s))", flush=True
                )
        finally:
            stop(simulator)

        simulator = start_simulator(broker.port, fleet, "light,switch,climate,fan,vacuum,sensor", 10.0)
        try:
            raw_cpu = raw_fleet_cpu(broker.port, window_s)
            cpu, added, discovered_s = asyncio.run(ours_fleet(broker.port, directory, fleet, window_s))
            print(f"{fleet:,} devices / 10 s   ours CPU {cpu:.1f}% of a core, +{added:.0f} MB "
                  f"(discovered in {discovered_s:.1f} s)   raw paho CPU {raw_cpu:.1f}%")  # fmt: skip
        finally:
            stop(simulator)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (about 40 s)")
    parser.add_argument("--role", choices=["simulator", "flood"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--devices", type=int, default=100, help=argparse.SUPPRESS)
    parser.add_argument("--kinds", default="light", help=argparse.SUPPRESS)
    parser.add_argument("--interval", type=float, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.role == "simulator":
        role_simulator(options.port, options.devices, options.kinds, options.interval)
    elif options.role == "flood":
        role_flood(options.port, options.count)
    else:
        main(options.quick)
