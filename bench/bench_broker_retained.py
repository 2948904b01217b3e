"""The embedded broker's retained store (retained_store.py): what it costs, beside the same broker
without it in the same run.

1. Retained-heavy publish throughput: a paho publisher (its own process) sends COUNT retained
   state messages over TOPICS topics (devices updating their retained states) as fast as the
   broker takes them, ended by a QoS 1 marker whose PUBACK says every message before it was routed.
   Broker with the store vs without, rounds alternated (the machine is shared), best round kept.
   msg/CPU-s divides by the broker process's own CPU time (threads included: the store's flushes).
2. After a round with the store: how long until the file holds everything (write-behind lag), and
   how long a restart takes to load TOPICS retained messages before it listens.

Run: .venv/bin/python bench/bench_broker_retained.py [--quick]   (about 30 s; --quick about 10 s)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as paho
from _common import machine
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.integrations.mqtt.broker import EmbeddedBroker
from oneteam.integrations.mqtt.credentials import MqttCredentials

LOGIN_ENV = "ONETEAM_BENCH_BROKER_LOGIN"


def role_publisher(port: int, count: int, topics: int) -> None:
    """Publish `count` retained messages over `topics` topics, then a QoS 1 marker; print seconds."""
    user, _, password = os.environ[LOGIN_ENV].partition(":")
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher")
    client.username_pw_set(user, password)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    payload = b'{"state": "ON", "brightness": 120, "color_temp": 370, "linkquality": 87}'
    started = time.perf_counter()
    for i in range(count):
        client.publish(f"bench/dev{i % topics:05d}/state", payload, qos=0, retain=True)
    client.publish("bench/end", b"1", qos=1).wait_for_publish(60)
    elapsed = time.perf_counter() - started
    client.disconnect()
    client.loop_stop()
    print(f"{elapsed:.6f}", flush=True)


async def one_round(
    store: Path | None, count: int, topics: int, credentials: MqttCredentials
) -> tuple[float, float, float]:
    """(msg/s, msg per broker CPU-s, seconds until the store held everything; 0 without a store)."""
    async with EmbeddedBroker(port=0, accounts=credentials.accounts(), retained_path=store) as broker:
        cpu = time.process_time()
        publisher = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--role", "publisher", "--port", str(broker.port),
            "--count", str(count), "--topics", str(topics), stdout=subprocess.PIPE,
        )  # fmt: skip
        out, _ = await publisher.communicate()
        elapsed = float(out.decode().strip())
        used = time.process_time() - cpu
        written_s = 0.0
        if broker.store is not None:
            done = time.perf_counter()
            while broker.store.pending:
                await asyncio.sleep(0.01)
            written_s = time.perf_counter() - done
    return count / elapsed, count / used, written_s


async def load_time(store: Path, credentials: MqttCredentials) -> tuple[float, int]:
    """Seconds from start to listening over a store, and how many retained messages it loaded."""
    started = time.perf_counter()
    async with EmbeddedBroker(port=0, accounts=credentials.accounts(), retained_path=store) as broker:
        elapsed = time.perf_counter() - started
        return elapsed, len(broker.retained_for("#"))


def main(quick: bool) -> None:
    count = 50_000 if quick else 200_000
    topics = 5_000 if quick else 20_000
    rounds = 2 if quick else 3
    credentials = MqttCredentials.generate()
    os.environ[LOGIN_ENV] = f"{credentials.hub.username}:{credentials.hub.password}"
    print(f"bench_broker_retained on {machine()}; load {os.getloadavg()[0]:.2f}", flush=True)
    results: dict[str, list[tuple[float, float, float]]] = {"in memory": [], "with store": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(rounds):
            results["in memory"].append(asyncio.run(one_round(None, count, topics, credentials)))
            store = Path(tmp) / f"round{n}.sqlite3"
            results["with store"].append(asyncio.run(one_round(store, count, topics, credentials)))
        memory_best = max(r[0] for r in results["in memory"])
        memory_cpu = max(r[1] for r in results["in memory"])
        for name, runs in results.items():
            best, cpu = max(r[0] for r in runs), max(r[1] for r in runs)
            every = ", ".join(f"{r[0]:,.0f}" for r in runs)
            print(f"{name:<11} {best:9,.0f} msg/s (×{best / memory_best:.2f})  {cpu:9,.0f} msg/CPU-s "
                  f"(×{cpu / memory_cpu:.2f})  [rounds {every}]", flush=True)  # fmt: skip
        lags = ", ".join(f"{r[2] * 1000:.0f}" for r in results["with store"])
        print(f"store fully written after the flood: {lags} ms (write-behind every 0.5 s)", flush=True)
        loads = [asyncio.run(load_time(Path(tmp) / "round0.sqlite3", credentials)) for _ in range(3)]
        print(f"restart over {loads[0][1]:,} retained messages: listening after "
              f"{', '.join(f'{s * 1000:.0f}' for s, _ in loads)} ms", flush=True)  # fmt: skip
    print(f"load at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (about 10 s)")
    parser.add_argument("--role", choices=["publisher"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--topics", type=int, default=0, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.role == "publisher":
        role_publisher(options.port, options.count, options.topics)
    else:
        main(options.quick)
