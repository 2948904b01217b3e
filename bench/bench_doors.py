"""What carrying a request to a home's owner costs (cluster/forward.py), beside asking the owner.

Two real `oneteam serve --cluster` processes over a private PostgreSQL, homes spread over both.
For one home: the same read (GET a device's state) and the same command (POST set_brightness),
sent `--requests` times to the owner directly (the anchor) and to the other process (carried),
interleaved so load on the shared machine falls on both alike; and a WebSocket command's round
trip, direct and carried. Prints p50/p99/mean of each.

    .venv/bin/python bench/bench_doors.py --requests 300
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import machine, postgres_server, summary_ms
from tests.cluster.cluster_nodes import register_homes, start_node, wait_served

HOMES = ["b1", "b2", "b3", "b4"]


def _http(
    client: httpx.Client, owner: str, other: str, home: str, token: str, n: int
) -> dict[str, list[float]]:
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/homes/{home}/api/devices/light_living"
    times: dict[str, list[float]] = {
        "read direct": [],
        "read carried": [],
        "command direct": [],
        "command carried": [],
    }
    for i in range(n):
        for label, base in (("direct", owner), ("carried", other)):
            started = time.perf_counter()
            answer = client.get(f"{base}{path}/state", headers=headers)
            times[f"read {label}"].append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
            started = time.perf_counter()
            answer = client.post(
                f"{base}{path}/commands",
                json={"command": "set_brightness", "value": i % 100 + 1},
                headers=headers,
            )
            times[f"command {label}"].append(time.perf_counter() - started)
            assert answer.status_code == 200, answer.text
    return times


async def _ws(base: str, home: str, token: str, n: int) -> list[float]:
    url = f"{base}/homes/{home}/api/ws".replace("http://", "ws://")
    times: list[float] = []
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as socket:
        await socket.recv()  # hello
        for i in range(n):
            started = time.perf_counter()
            await socket.send(
                json.dumps(
                    {
                        "type": "command",
                        "id": i,
                        "device": "light_living",
                        "command": "set_brightness",
                        "value": i % 100 + 1,
                    }
                )
            )
            while True:
                message = json.loads(await socket.recv())
                if message.get("type") == "result" and message.get("id") == i:
                    break
            times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    print(f"# bench_doors: {machine()}")
    with postgres_server(args.database_url) as url, tempfile.TemporaryDirectory() as folder:
        if url is None:
            sys.exit("PostgreSQL is not installed")
        tokens = register_homes(url, HOMES)
        nodes = [start_node(url, name, Path(folder), "virtual") for name in ("n1", "n2")]
        try:
            served = wait_served(nodes, HOMES, spread=2)
            home = HOMES[0]
            owner = next(n for n in nodes if n.node_id == served[home])
            other = next(n for n in nodes if n is not owner)
            with httpx.Client(timeout=30) as client:
                times = _http(client, owner.url, other.url, home, tokens[home], args.requests)
            for label in ("direct", "carried"):
                base = owner.url if label == "direct" else other.url
                times[f"ws command {label}"] = asyncio.run(_ws(base, home, tokens[home], args.requests))
        finally:
            for node in nodes:
                node.stop()
    for label, values in times.items():
        print(f"{label:>20}: {summary_ms(values)}  (n={len(values)})")


if __name__ == "__main__":
    main()
