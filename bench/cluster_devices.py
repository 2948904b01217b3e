"""Simulated MQTT devices of many homes, in a process of their own (bench_cluster.py drives it).

Reads one JSON object on stdin: {"homes": {home: [username, password, node]}, "endpoints": [[host,
port], ...], "devices": 10}. Each home gets one gateway connection (its own broker login, at node
`node`, the others as fallbacks) serving `devices` temperature sensors under the home's topic root;
the gateways announce their devices (retained discovery configs) as the hubs expect. Then, for
each line `publish RATE SECONDS` on stdin, it publishes state changes at RATE per second over all
devices (each message a new temperature, so every one is a change the hub must store) and answers
`published N SECONDS` on stdout; EOF ends it. Apart from the cluster processes, so the bench's
own HTTP load generator does not share a core's GIL with a thousand MQTT clients.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from oneteam.cluster.broker import home_topic_root
from oneteam.integrations.mqtt.settings import BrokerSettings
from oneteam.integrations.mqtt.simulator import Gateway, make_devices
from oneteam.integrations.mqtt.topics import HomeTopics


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _publish(gateways: list[Gateway], rate: float, seconds: float) -> int:
    """State changes at `rate` per second for `seconds`, device after device over every home."""
    devices = [(g, d) for g in gateways for d in g.devices.values()]
    started = time.monotonic()
    sent = 0
    while (elapsed := time.monotonic() - started) < seconds:
        due = int(elapsed * rate) - sent
        for _ in range(max(0, due)):
            gateway, device = devices[sent % len(devices)]
            sent += 1
            if gateway.client.connected.is_set():
                # A new value each time (tenths cycle over 20.0–29.9), so the hub stores every one.
                device.state["temperature"] = round(20 + (sent // len(devices) % 100) / 10, 1)
                gateway.report(device)
        await asyncio.sleep(0.02)
    return sum(g.published for g in gateways)


async def main() -> None:
    plan = json.loads(sys.stdin.readline())
    endpoints = [(str(h), int(p)) for h, p in plan["endpoints"]]
    gateways: list[Gateway] = []
    for home, (user, password, node) in sorted(plan["homes"].items()):
        ordered = endpoints[node:] + endpoints[:node]
        settings = BrokerSettings(
            host=ordered[0][0],
            port=ordered[0][1],
            username=user,
            password=password,
            fallbacks=tuple(ordered[1:]),
            subscribe_qos=0,
        )
        topics = HomeTopics(home_topic_root(home))
        (group,) = make_devices(
            int(plan["devices"]),
            base=topics.simulator_base,
            per_gateway=int(plan["devices"]),
            kinds=("sensor",),
        )
        gateways.append(
            Gateway(settings, group, name="gw0", base=topics.simulator_base, prefix=topics.discovery_prefix)
        )
    started = time.monotonic()
    async with AsyncExitStack() as stack:
        for gateway in gateways:
            gateway.start()
            await stack.enter_async_context(gateway.client)
        connected = sum([await g.client.wait_connected(60) for g in gateways])
        _say(f"connected {connected} {time.monotonic() - started:.1f}")
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            _, rate, seconds = line.split()
            before = sum(g.published for g in gateways)
            began = time.monotonic()
            after = await _publish(gateways, float(rate), float(seconds))
            _say(f"published {after - before} {time.monotonic() - began:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
