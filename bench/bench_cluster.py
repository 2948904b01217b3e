"""Many homes as one service: 3 `oneteam serve --cluster` processes, one PostgreSQL, 3 NATS nodes.

Measures, on loopback, bounded in time (about 6 min at 1,000 homes; `--homes` for smaller runs):
- the time until every home is open (placement over 3 processes, each home's hub signed in to the
  broker cluster with its own login);
- device state changes ingested: 10 simulated MQTT devices per home (bench/cluster_devices.py, a
  process of its own, one gateway login per home) publish through the 3-node NATS cluster at a
  steady total rate; ingested = state changes that reached the home's hub and were committed
  (rows of `events` in PostgreSQL), per second, against the rate asked;
- REST command round trip p50/p99 from an open-loop generator (asyncio + httpx: commands start at
  a fixed rate whether or not earlier ones answered, so a shortfall is the service's), sent to
  each home's owner as a load balancer would (it asks /cluster/health), beside one single-home
  `oneteam serve` (SQLite) under the same generator in the same run (the anchor);
- memory per home: the processes' RSS divided by the homes they serve, beside one idle node's RSS
  with no home (the anchor);
- failover: kill -9 the process holding most homes while commands flow; seconds until each of its
  homes acknowledges a command again from another process (each probed without pause), seconds
  until each is open again on a survivor (its /cluster/health: served, whatever a command then
  waits behind), and homes whose last acknowledged command is not their state afterwards (must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import free_port, machine, percentile, start_hub_process, wait_http
from failover_probe import (
    Attempt,
    ProbeResult,
    breakdown,
    database_lines,
    lag_lines,
    outcome_of,
    probe_back,
    watch_database,
    watch_lag,
)
from light_http import LightClient

from oneteam.hub.tokens import hash_token, new_token

HOME_FILE = Path(__file__).resolve().parents[1] / "oneteam" / "homes" / "demo.yaml"
DEVICE = "light_living"
_CLI = (sys.executable, "-m", "oneteam")


async def _call(
    client: httpx.AsyncClient | LightClient, method: str, url: str, token: str, **kwargs: Any
) -> Any:
    """A request that follows a 307 with the token (httpx drops it on a redirect to another origin)."""
    for _ in range(3):
        answer = await client.request(method, url, headers={"Authorization": f"Bearer {token}"}, **kwargs)
        if answer.status_code != 307:
            return answer
        url = answer.headers["location"]
    return answer


def _rss_mib(pid: int) -> float:
    with Path(f"/proc/{pid}/status").open(encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def register(url: str, homes: list[str], logins: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Register every home (with its broker login) and a token of each, in bulk (the CLI does one
    at a time)."""
    text = HOME_FILE.read_text(encoding="utf-8")
    tokens = {h: new_token() for h in homes}
    subprocess.run(  # creates the lease and home tables the ordinary way
        [*_CLI, "cluster", "add-home", homes[0], "--home", str(HOME_FILE), "--database-url", url],
        check=True,
        capture_output=True,
    )
    subprocess.run(  # creates the shared tables and home 0's token the ordinary way
        [*_CLI, "cluster", "token", homes[0], "--name", "warm", "--database-url", url],
        check=True,
        capture_output=True,
    )
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO cluster_homes (home_id, home_text, mqtt_username, mqtt_password) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (home_id) DO UPDATE SET "
            "mqtt_username = EXCLUDED.mqtt_username, mqtt_password = EXCLUDED.mqtt_password",
            [(h, text, *logins.get(h, (None, None))) for h in homes],
        )
        cur.executemany(
            "INSERT INTO oneteam_homes.tokens (home_id, name, token_hash, created_at) "
            "VALUES (%s, %s, %s, %s)",
            [(h, "bench", hash_token(t), time.time()) for h, t in tokens.items()],
        )
    return tokens


def start_node(
    url: str, node_id: str, data_dir: Path, broker: str | None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (data_dir / f"{node_id}.log").open("ab")
    process = subprocess.Popen(
        [*_CLI, "-v", "serve", "--cluster", "--database-url", url, "--node-id", node_id, "--port", str(port)]
        + ["--data-dir", str(data_dir)]
        + (["--broker", broker] if broker else []),
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ONETEAM_CLUSTER_PARTS": "virtual,mqtt" if broker else "virtual"},
    )
    return process, f"http://127.0.0.1:{port}"


def served(bases: dict[str, str]) -> dict[str, str]:
    """home → node id, from every live node's health."""
    owners: dict[str, str] = {}
    for node, base in bases.items():
        try:
            for home in httpx.get(f"{base}/cluster/health", timeout=30).json()["homes"]:
                if home["lease_left_s"] > 0:
                    owners[home["id"]] = node
        except httpx.HTTPError:
            continue
    return owners


@dataclass
class Commands:
    """Brightness commands to many homes: one at a time per home (so the last acknowledged value
    must be the home's state), each sent where `where` says the home lives."""

    tokens: dict[str, str]
    where: Callable[[str], list[str]]
    """home → base URLs to try, the owner first."""
    path: Callable[[str], str] = lambda home: f"/homes/{home}/api/devices/{DEVICE}/commands"
    acked: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    round_trips: list[tuple[float, float]] = field(default_factory=list)
    """(answered at, seconds since the command was due)."""
    started_late: list[tuple[float, float]] = field(default_factory=list)
    """(asked at, seconds the generator's own loop started the command after it was due)."""
    serial: bool = True
    """One command at a time per home (the lost-command check needs it; the anchor does not)."""
    refusals: list[tuple[float, str]] = field(default_factory=list)
    """(when, status or error) of each command not acknowledged."""
    trace: list[Attempt] | None = None
    """Every HTTP attempt, timestamped (failover_probe.py), when a list is given."""
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    _values: dict[str, int] = field(default_factory=dict)

    async def send(
        self, client: httpx.AsyncClient | LightClient, home: str, due: float, *, probe: bool = False
    ) -> bool:
        asked = time.monotonic()
        if not probe:
            self.started_late.append((asked, asked - due))
        if not self.serial:
            return await self._send(client, home, due, asked, probe)
        async with self._locks.setdefault(home, asyncio.Lock()):
            return await self._send(client, home, due, asked, probe)

    async def _send(
        self, client: httpx.AsyncClient | LightClient, home: str, due: float, asked: float, probe: bool
    ) -> bool:
        locked = time.monotonic()
        value = self._values.get(home, 0) % 100 + 1
        self._values[home] = value
        why = "no live node"
        for base in self.where(home):
            sent = time.monotonic()
            try:
                answer = await _call(
                    client,
                    "POST",
                    base + self.path(home),
                    self.tokens[home],
                    json={"command": "set_brightness", "value": value},
                )
            except httpx.HTTPError as exc:
                why = type(exc).__name__
                if self.trace is not None:
                    self.trace.append(
                        Attempt(
                            home,
                            asked,
                            locked,
                            sent,
                            time.monotonic(),
                            f"{why} {str(exc).split(':')[0]}"[:60],
                            probe,
                        )
                    )
                continue
            if self.trace is not None:
                try:
                    body = answer.json()
                except ValueError:
                    body = None
                outcome = outcome_of(answer.status_code, body)
                self.trace.append(Attempt(home, asked, locked, sent, time.monotonic(), outcome, probe))
            if answer.status_code == 200:
                now = time.monotonic()
                self.acked.setdefault(home, []).append((now, value))
                self.round_trips.append((now, now - due))
                return True
            why = str(answer.status_code)
            break
        self.refusals.append((time.monotonic(), why))
        return False


async def open_loop(commands: Commands, homes: list[str], rate: float, seconds: float, in_flight: int) -> int:
    """Start a command every 1/rate s (homes in turn) for `seconds`, whether or not earlier ones
    answered; one that would exceed `in_flight` outstanding is not sent (counted as shed)."""
    shed = 0
    tasks: set[asyncio.Task[bool]] = set()
    # aiohttp, not httpx: httpx's CPU per command, not the service, set the round trip at 100/s.
    async with LightClient(in_flight) as client:
        started = time.monotonic()
        sent = 0
        while (due := started + sent / rate) < started + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            home = homes[sent % len(homes)]
            sent += 1
            if len(tasks) >= in_flight:
                shed += 1
                continue
            task = asyncio.create_task(commands.send(client, home, due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    return shed


async def watch_served(
    bases: dict[str, str],
    homes: list[str],
    since: float,
    limit_s: float,
    owners: dict[str, str] | None = None,
) -> dict[str, float]:
    """Each home's first sight open with a live lease in a survivor's /cluster/health after `since`
    (asked every 0.2 s): when the home is served again, apart from how long a command then takes.
    With `owners` (home → node), each home seen is sent to its new owner from then on, as a load
    balancer following /cluster/health would (not to a survivor that must carry it over)."""
    seen: dict[str, float] = {}
    wanted = set(homes)
    async with httpx.AsyncClient(timeout=10) as client:
        while time.monotonic() - since < limit_s and len(seen) < len(wanted):
            for node, base in bases.items():
                try:
                    health = (await client.get(f"{base}/cluster/health")).json()
                except httpx.HTTPError:
                    continue
                now = time.monotonic() - since
                for home in health["homes"]:
                    if home["id"] in wanted and home["lease_left_s"] > 0:
                        seen.setdefault(home["id"], now)
                        if owners is not None:
                            owners[home["id"]] = node
            await asyncio.sleep(0.2)
    return seen


async def lost_commands(commands: Commands, base: str) -> tuple[int, int]:
    """(homes whose last acknowledged brightness is not their state now, homes that did not
    answer the check), asked at a live node."""
    lost = unanswered = 0
    async with httpx.AsyncClient(timeout=30) as client:
        for home, acked in commands.acked.items():
            if not acked:
                continue
            try:
                state = await _call(
                    client, "GET", f"{base}/homes/{home}/api/devices/{DEVICE}/state", commands.tokens[home]
                )
            except httpx.HTTPError:
                unanswered += 1
                continue
            if state.status_code != 200:
                unanswered += 1
            elif state.json()["attributes"].get("brightness") != acked[-1][1]:
                lost += 1
    return lost, unanswered


def mqtt_changes(url: str) -> int:
    """Device state changes the hubs committed so far (rows of `events` from the MQTT adapter)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM oneteam_homes.events WHERE kind = 'state_changed' AND source = 'mqtt'"
        ).fetchone()
    return int(row[0]) if row else 0


def mqtt_devices(url: str) -> int:
    """Simulated devices whose state a hub stored (discovered through the broker)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM oneteam_homes.states WHERE device_id LIKE 'sim_%'"
        ).fetchone()
    return int(row[0]) if row else 0


def start_devices(plan: dict[str, Any], data_dir: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve().parent / "cluster_devices.py")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=(data_dir / "devices.log").open("ab"),
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(json.dumps(plan) + "\n")
    process.stdin.flush()
    return process


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:,.0f} ms"


def main() -> None:  # noqa: PLR0912, PLR0915  (one run, read top to bottom)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--devices", type=int, default=10, help="simulated MQTT devices per home")
    parser.add_argument(
        "--mqtt-rate", type=float, default=500.0, help="device state changes per second asked"
    )
    parser.add_argument("--rate", type=float, default=100.0, help="REST commands per second asked")
    parser.add_argument("--steady-s", type=float, default=30.0)
    parser.add_argument("--open-limit-s", type=float, default=150.0)
    parser.add_argument("--in-flight", type=int, default=400, help="most commands outstanding at once")
    parser.add_argument(
        "--probe-client",
        choices=("aiohttp", "httpx"),
        default="aiohttp",
        help="the failover probe's HTTP client (httpx: as before 2026-12-03)",
    )
    parser.add_argument(
        "--probe-gate-over-lock",
        action="store_true",
        help="the probe holds its slot (64) while the open loop's command to the home is out (as before)",
    )
    parser.add_argument(
        "--probe-retry-s",
        type=float,
        default=0.25,
        help="the probe's pause after a refused command (0.05 before 2026-12-03)",
    )
    parser.add_argument(
        "--static-owners",
        action="store_true",
        help="after the kill, keep sending a dead process's homes to the first survivor (as before), "
        "not to the owner /cluster/health then shows",
    )
    parser.add_argument("--keep", action="store_true", help="keep the processes' logs (printed folder)")
    args = parser.parse_args()
    from oneteam.cluster.broker import NatsCluster
    from tests.hub.postgres_server import running_postgres

    print(
        f"# bench_cluster: {machine()}, load {os.getloadavg()[0]:.1f}, {args.homes} homes x "
        f"({args.devices} MQTT devices + the demo home's virtual ones)",
        flush=True,
    )
    homes = [f"home-{i:04d}" for i in range(args.homes)]
    data_dir = Path(tempfile.mkdtemp(prefix="oneteam-bench-cluster-"))
    nodes: dict[str, subprocess.Popen[bytes]] = {}
    devices: subprocess.Popen[str] | None = None
    with running_postgres() as url, NatsCluster(directory=data_dir / "nats", bcrypt_cost=4) as broker:
        logins = broker.add_homes(homes)
        tokens = register(url, homes, logins)
        bases: dict[str, str] = {}
        try:
            started = time.monotonic()
            # An idle node first: its RSS with no home is the memory anchor.
            idle, idle_base = start_node(url, "idle", data_dir, None)
            wait_http(f"{idle_base}/cluster/health", 120)
            time.sleep(2)
            idle_rss = _rss_mib(idle.pid)
            idle.terminate()
            idle.wait(30)
            with psycopg.connect(url, autocommit=True) as conn:  # the idle node's member row
                conn.execute("DELETE FROM cluster_members WHERE node_id = 'idle'")
            first_start = time.monotonic()
            # Started together, so each sees the others as members before taking homes (one started
            # alone takes every home, then hands two thirds on: three times the opening work).
            for i, name in enumerate(("n1", "n2", "n3")):
                nodes[name], bases[name] = start_node(
                    url, name, data_dir, broker.broker_url("-", "-", first=i)
                )
            for base in bases.values():
                wait_http(f"{base}/cluster/health", 120)
            owners = served(bases)
            while time.monotonic() - started < args.open_limit_s and len(owners) < len(homes):
                time.sleep(0.5)
                owners = served(bases)
            print(
                f"homes open: {len(owners)}/{len(homes)} in {time.monotonic() - first_start:.1f} s "
                "(3 processes started together; each home's hub "
                "signed in to the broker)",
                flush=True,
            )
            devices = start_devices(
                {
                    "homes": {h: [*logins[h], i % 3] for i, h in enumerate(homes)},
                    "endpoints": broker.mqtt_endpoints,
                    "devices": args.devices,
                },
                data_dir,
            )
            assert devices.stdin is not None and devices.stdout is not None
            print(f"devices: {devices.stdout.readline().strip()} (gateways, seconds)", flush=True)
            wanted = args.homes * args.devices
            waited = time.monotonic()
            while mqtt_devices(url) < wanted and time.monotonic() - waited < 60:
                time.sleep(1)
            print(f"MQTT devices known to their hubs: {mqtt_devices(url)}/{wanted}", flush=True)

            # Before measuring: homes settle on their processes (hand-offs after the joins).
            settled = time.monotonic()
            while time.monotonic() - settled < 60:
                owners = served(bases)
                time.sleep(3)
                if len(owners) == len(homes) and served(bases) == owners:
                    break
            counts = {n: sum(1 for o in owners.values() if o == n) for n in bases}
            rss = {n: _rss_mib(p.pid) for n, p in nodes.items()}
            per_home = (sum(rss.values()) - 3 * idle_rss) / max(1, len(owners))
            print(f"homes per process: {counts}; RSS MiB: { {n: round(v) for n, v in rss.items()} }")
            print(
                f"memory per home: {per_home:.2f} MiB "
                f"(RSS above an idle node's {idle_rss:.0f} MiB, the anchor)",
                flush=True,
            )
            dead: set[str] = set()

            def where(home: str) -> list[str]:
                owner = owners.get(home)
                first = [bases[owner]] if owner in bases and owner not in dead else []
                return first + [b for n, b in bases.items() if n not in dead and b not in first]

            commands = Commands(tokens, where, trace=[])
            victim = max(counts, key=lambda n: counts[n])
            victim_homes = [h for h, o in owners.items() if o == victim]

            async def steady_then_kill() -> tuple[int, float, ProbeResult, float, dict[str, float]]:
                before = mqtt_changes(url)
                t0 = time.monotonic()
                assert devices is not None and devices.stdin is not None
                devices.stdin.write(f"publish {args.mqtt_rate} {args.steady_s}\n")
                devices.stdin.flush()
                load = asyncio.create_task(
                    open_loop(commands, list(owners), args.rate, args.steady_s + 20, args.in_flight)
                )
                await asyncio.sleep(args.steady_s)
                ingested = (mqtt_changes(url) - before) / (time.monotonic() - t0)
                nodes[victim].kill()
                killed = time.monotonic()
                if args.keep:
                    print(f"killed {victim} at {time.strftime('%H:%M:%S')}", flush=True)
                dead.add(victim)
                survivors = {n: b for n, b in bases.items() if n != victim}
                follow = None if args.static_owners else owners
                watching = asyncio.create_task(watch_served(survivors, victim_homes, killed, 60, follow))
                probed = asyncio.Event()
                lagging = asyncio.create_task(watch_lag(survivors, killed, probed))
                sessions = asyncio.create_task(watch_database(url, killed, probed))
                probe = await probe_back(
                    commands,
                    victim_homes,
                    killed,
                    60,
                    client_kind=args.probe_client,
                    gate_over_lock=args.probe_gate_over_lock,
                    concurrency=64 if args.probe_gate_over_lock else max(64, len(victim_homes)),
                    retry_s=args.probe_retry_s,
                )
                probed.set()
                lag.extend(await lagging)
                database.extend(await sessions)
                shed = await load
                return shed, ingested, probe, killed, await watching

            first_survivor = next(n for n in bases if n != victim)
            lag: list[tuple[float, str, float]] = []
            database: list[tuple[float, str, float]] = []
            load_started = time.monotonic()
            shed, ingested, probe, killed, opened = asyncio.run(steady_then_kill())
            back = probe.back
            published = devices.stdout.readline().split()
            steady = [rt for at, rt in commands.round_trips if load_started + 2 < at < killed]
            window = killed - load_started - 2
            late = [lag for at, lag in commands.started_late if load_started + 2 < at < killed]
            refused = Counter(why for at, why in commands.refusals if at < killed)
            print(
                f"MQTT ingest: {ingested:.0f} state changes/s committed by the hubs "
                f"(asked {args.mqtt_rate:.0f}/s; the devices published {published[1]} in {published[2]} s)"
            )
            print(
                f"REST: {len(steady) / window:.0f} commands/s acknowledged (asked {args.rate:.0f}/s, "
                f"open loop; shed {shed}, refused {dict(refused) or 'none'}); round trip from when due: "
                f"p50 {_ms(steady, 50)} p99 {_ms(steady, 99)}; of which the generator's own lag in "
                f"starting them p50 {_ms(late, 50)} p99 {_ms(late, 99)}",
                flush=True,
            )
            live = next(b for n, b in bases.items() if n != victim)
            lost, unanswered = asyncio.run(lost_commands(commands, live))
            waits = sorted(back.values())
            print(
                f"failover: kill -9 {victim} ({len(victim_homes)} homes); "
                f"back {len(back)}/{len(victim_homes)}: "
                f"first {waits[0] if waits else float('nan'):.1f} s, median {percentile(waits, 50):.1f} s, "
                f"last {waits[-1] if waits else float('nan'):.1f} s after the kill (lease 3 s); "
                f"homes whose last acknowledged command is not their state: {lost} "
                f"({unanswered} did not answer the check)",
                flush=True,
            )
            served_at = sorted(opened.values())
            if served_at:
                print(
                    f"failover, served again (open on a survivor, its /cluster/health): "
                    f"{len(served_at)}/{len(victim_homes)}: first {served_at[0]:.1f} s, median "
                    f"{percentile(served_at, 50):.1f} s, last {served_at[-1]:.1f} s after the kill",
                    flush=True,
                )
            print(
                f"probe: {args.probe_client}, "
                + (
                    "homes sent to the first survivor, "
                    if args.static_owners
                    else "homes sent to their new owner, "
                )
                + (
                    "gate of 64 held over the home's lock"
                    if args.probe_gate_over_lock
                    else "no gate over the lock"
                )
            )
            for line in (
                breakdown(commands.trace or [], probe, opened, killed, owners, first_survivor)
                + lag_lines(lag)
                + database_lines(database)
            ):
                print(line, flush=True)
        finally:
            if devices is not None:
                devices.kill()
                devices.wait()
            for process in nodes.values():
                if process.poll() is None:
                    process.terminate()
            for process in nodes.values():
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
    anchor_process, anchor_url, anchor_token = start_hub_process()
    try:
        anchor = Commands(
            {"default": anchor_token},
            lambda _: [anchor_url],
            path=lambda _: f"/api/devices/{DEVICE}/commands",
            serial=False,
        )
        asyncio.run(open_loop(anchor, ["default"], args.rate, 12, args.in_flight))
        times = [rt for _, rt in anchor.round_trips[int(args.rate * 2) :]]
        print(
            f"anchor: one single-home hub (SQLite), the same open loop at {args.rate:.0f}/s: "
            f"p50 {_ms(times, 50)} p99 {_ms(times, 99)}; load now {os.getloadavg()[0]:.1f}"
        )
    finally:
        anchor_process.terminate()
        anchor_process.wait(20)
    if args.keep:
        print(f"logs: {data_dir}")
    else:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
