"""Messages per second through the 3-node NATS broker cluster, beside one Mosquitto in the same run.

1,000 MQTT clients in one process: 500 homes, each a device that publishes QoS 1 state messages
and a hub that subscribes to `oneteam/<home>/#`. On the cluster each home signs in with its own
login (bcrypt cost 4 here so 1,000 sign-ins do not take minutes; production uses 11), the device on
node i % 3 and its hub on node (i + 1) % 3, so every message crosses a route. On Mosquitto all
clients use one account with every right (the anchor: one broker, no routes, no JetStream).

Each round every device publishes BURST messages at once (QoS 1: each acknowledged by the broker
after it is stored); the figure is messages delivered to the hubs per second of wall time, from
the first publish to the last delivery, and the broker processes' CPU seconds per 1,000 messages.
Run: .venv/bin/python bench/bench_broker_cluster.py [--homes 500] [--burst 20]   (about 3 minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

from _common import machine
from _rounds import ROUNDS, cpu_s, load_line, print_rounds

from oneteam.cluster.broker import NatsCluster
from oneteam.integrations.mqtt.client import MqttClient
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from oneteam.integrations.mqtt.settings import BrokerSettings


def _cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of the given processes (from /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / 100  # clock ticks (USER_HZ is 100 on Linux)


async def _connect(
    pairs: list[tuple[BrokerSettings, BrokerSettings]], stack: AsyncExitStack
) -> tuple[list[MqttClient], list[list[int]]]:
    """A device and a hub per pair, connected; the hubs' receive counters."""
    devices: list[MqttClient] = []
    counters: list[list[int]] = []
    hubs: list[MqttClient] = []
    for index, (device_settings, hub_settings) in enumerate(pairs):
        counter = [0]

        def count(topic: str, payload: bytes, counter: list[int] = counter) -> None:
            counter[0] += 1

        hub = MqttClient(hub_settings, name=f"hub{index}")
        hub.subscribe(f"oneteam/h{index}/#", count)
        await stack.enter_async_context(hub)
        hubs.append(hub)
        device = MqttClient(device_settings, name=f"dev{index}")
        await stack.enter_async_context(device)
        devices.append(device)
        counters.append(counter)
    for client in [*devices, *hubs]:
        if not await client.wait_connected(120):
            raise RuntimeError(f"{client.name} did not connect")
    return devices, counters


Figures = tuple[float, float, float]
"""(messages delivered per second, broker CPU-s per 1,000 messages, client CPU-s per 1,000)."""


async def _round(
    devices: list[MqttClient], counters: list[list[int]], burst: int, pids: list[int]
) -> Figures:
    """One round of BURST QoS 1 messages from every device."""
    before = sum(c[0] for c in counters)
    expected = len(devices) * burst
    cpu_before, client_before = _cpu_s(pids), cpu_s()
    started = time.perf_counter()
    sends = [
        device.publish_acked(f"oneteam/h{index}/meter/state", b'{"power": 12.5}')
        for index, device in enumerate(devices)
        for _ in range(burst)
    ]
    await asyncio.gather(*sends)
    deadline = time.monotonic() + 120
    while sum(c[0] for c in counters) - before < expected:
        if time.monotonic() > deadline:
            raise RuntimeError("messages missing after 120 s")
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    cpu, client = _cpu_s(pids) - cpu_before, cpu_s() - client_before
    return expected / elapsed, cpu / expected * 1000, client / expected * 1000


async def _measure(
    brokers: dict[str, tuple[list[tuple[BrokerSettings, BrokerSettings]], list[int]]], burst: int
) -> dict[str, list[Figures]]:
    """Connect every broker's clients, then rounds taking the brokers in turn (same load for both)."""
    async with AsyncExitStack() as stack:
        connected = {}
        for name, (pairs, _) in brokers.items():
            started = time.perf_counter()
            connected[name] = await _connect(pairs, stack)
            elapsed = time.perf_counter() - started
            print(f"{name}: {2 * len(pairs)} clients connected in {elapsed:.1f} s", flush=True)
        await asyncio.sleep(1.0)  # the last SUBSCRIBEs reach every node
        figures: dict[str, list[Figures]] = {name: [] for name in brokers}
        for _ in range(ROUNDS):
            for name, (devices, counters) in connected.items():
                figures[name].append(await _round(devices, counters, burst, brokers[name][1]))
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=500, help="homes (two clients each)")
    parser.add_argument("--burst", type=int, default=20, help="QoS 1 messages per device per round")
    args = parser.parse_args()
    print(f"# broker cluster bench — {machine()}; {load_line()}")
    print(f"{args.homes} homes, {2 * args.homes} clients, {args.homes * args.burst} QoS 1 messages per round")
    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        user, password = "bench", secrets.token_urlsafe(16)
        mosquitto = MosquittoBroker(directory=Path(folder) / "mosquitto", username=user, password=password)
        stack.enter_context(mosquitto)
        assert mosquitto.process is not None
        cluster = NatsCluster(directory=Path(folder) / "nats", bcrypt_cost=4)
        stack.enter_context(cluster)
        started = time.perf_counter()
        logins = cluster.add_homes([f"h{i}" for i in range(args.homes)])
        print(f"nats: {args.homes} home logins added (one reload) in {time.perf_counter() - started:.1f} s")
        nats_pairs = [
            (
                cluster.settings(*logins[f"h{i}"], node=i % 3),
                cluster.settings(*logins[f"h{i}"], node=(i + 1) % 3),
            )
            for i in range(args.homes)
        ]
        nats_pids = [node.process.pid for node in cluster.node_list if node.process is not None]
        figures = asyncio.run(
            _measure(
                {
                    "3-node NATS cluster": (nats_pairs, nats_pids),
                    "one Mosquitto (anchor)": (
                        [(mosquitto.settings, mosquitto.settings)] * args.homes,
                        [mosquitto.process.pid],
                    ),
                },
                args.burst,
            )
        )
        deaths = list(cluster.deaths)
    for title, column, unit in (
        ("QoS 1 messages delivered per second (wall, first publish to last delivery):", 0, "msg/s"),
        ("broker CPU seconds per 1,000 messages (all broker processes):", 1, "CPU-s"),
        ("client CPU seconds per 1,000 messages (this process, where every client runs):", 2, "CPU-s"),
    ):
        print(title)
        for name, rounds in figures.items():
            print_rounds(name, [r[column] for r in rounds], unit)
    if deaths:
        print(f"NATS nodes died during the bench: {deaths}")


if __name__ == "__main__":
    main()
