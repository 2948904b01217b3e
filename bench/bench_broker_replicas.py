"""The NATS nodes' CPU for many homes' retained device states, by MQTT stream replicas (issue #21).

Each simulated device state is published retained; NATS's MQTT layer stores it in a JetStream
stream, by default replicated on all 3 nodes (`MqttOptions.stream_replicas` None). Measured: the
3 nodes' CPU (% of one core, from /proc) while `--homes` homes' gateways (bench/cluster_devices.py,
`--devices` sensors each) publish `--rate` state changes per second for `--seconds`, on a fresh
3-node cluster per setting; the anchor is the default (3 copies) in the same run, so a figure is
read beside it. No hub subscribes: this is the device path's cost in the broker only.

Run: `flock /tmp/oneteam-bigbench.lock .venv/bin/python bench/bench_broker_replicas.py`
(`--replicas 3,1` by default; `--homes 1000 --rate 500 --seconds 15`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _common import machine

from oneteam.cluster.broker import NatsCluster

_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def _one(replicas: int | None, homes: list[str], devices: int, rate: float, seconds: float) -> str:
    """One fresh cluster: connect the gateways, publish, return the figures' line."""
    with (
        tempfile.TemporaryDirectory(prefix="oneteam-bench-replicas-") as folder,
        NatsCluster(directory=Path(folder) / "nats", bcrypt_cost=4, stream_replicas=replicas) as cluster,
    ):
        logins = cluster.add_homes(homes)
        plan = {
            "homes": {h: [*logins[h], i % 3] for i, h in enumerate(homes)},
            "endpoints": cluster.mqtt_endpoints,
            "devices": devices,
        }
        simulator = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve().parent / "cluster_devices.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert simulator.stdin is not None and simulator.stdout is not None
        try:
            simulator.stdin.write(json.dumps(plan) + "\n")
            simulator.stdin.flush()
            connected = simulator.stdout.readline().split()
            time.sleep(3)  # the discovery configs' retained publishes settle
            pids = [n.process.pid for n in cluster.node_list if n.process is not None]
            before = [_cpu_s(p) for p in pids]
            started = time.monotonic()
            simulator.stdin.write(f"publish {rate} {seconds}\n")
            simulator.stdin.flush()
            published = simulator.stdout.readline().split()
            took = time.monotonic() - started
            used = [_cpu_s(p) - b for p, b in zip(pids, before, strict=True)]
        finally:
            simulator.stdin.close()
            simulator.wait(60)
    sent = int(published[1])
    share = " / ".join(f"{100 * u / took:.1f}" for u in used)
    label = "default (3)" if replicas is None else str(replicas)
    return (
        f"  stream_replicas {label}: {connected[1]} gateways; {sent:,} published in {took:.1f} s"
        f" ({sent / took:,.0f}/s); NATS CPU {share} % of a core ({100 * sum(used) / took:.1f} %"
        f" together), {1000 * sum(used) / max(1, sent):.2f} ms of CPU per publish"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=10)
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--replicas", default="3,1", help="settings to measure, the default (3) first")
    args = parser.parse_args()
    homes = [f"home-{i:04d}" for i in range(args.homes)]
    print(f"# MQTT stream replicas: {machine()}, {args.homes} homes x {args.devices} devices")
    for value in args.replicas.split(","):
        replicas = None if int(value) == 3 else int(value)
        load = os.getloadavg()
        line = _one(replicas, homes, args.devices, args.rate, args.seconds)
        print(f"{line} (load {load[0]:.1f} at the start)", flush=True)


if __name__ == "__main__":
    main()
