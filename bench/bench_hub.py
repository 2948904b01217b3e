"""Hub benchmarks: dispatch throughput, REST round trip beside a bare FastAPI endpoint, WebSocket fan-out.

Run: `make bench` (all) or `.venv/bin/python bench/bench_hub.py`. Each figure is printed beside an
anchor measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import SHARED, free_port, machine, start_hub_process, summary_ms, wait_http
from _rounds import ROUNDS, cpu_s, load_line, print_rounds

from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command

HOME = SHARED / "eval" / "home.yaml" if (SHARED / "eval" / "home.yaml").exists() else None
CLIENT_PROCESSES = 2
LIGHTS = ("light_living", "light_bedroom", "light_kitchen", "light_small")


async def bench_dispatch(
    total: int = 40_000, in_flight: int = 256
) -> tuple[float, float, float, float, float]:
    """Commands per second through Hub.dispatch to virtual devices (validation, state, events, commit)."""
    from oneteam.cli.serve import DEMO_HOME

    home = load_home(HOME or DEMO_HOME)
    with tempfile.TemporaryDirectory() as folder:
        hub = Hub(home, SqliteStorage(Path(folder) / "bench.sqlite3"))
        await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
        async with hub:

            async def worker(count: int, offset: int) -> None:
                for i in range(count):
                    await hub.dispatch(
                        Command(
                            device_id=LIGHTS[(i + offset) % 4], name="set_brightness", value=(i % 100) + 1
                        )
                    )

            await worker(2000, 0)  # warm-up
            started, cpu_started = time.perf_counter(), cpu_s()
            await asyncio.gather(*(worker(total // in_flight, n) for n in range(in_flight)))
            concurrent = (total // in_flight * in_flight) / (time.perf_counter() - started)
            concurrent_cpu = (total // in_flight * in_flight) / (cpu_s() - cpu_started)
            started = time.perf_counter()
            await worker(5000, 0)
            sequential = 5000 / (time.perf_counter() - started)
        # Anchor: the same SQLite file settings committing one small transaction at a time.
    with tempfile.TemporaryDirectory() as folder:
        connection = sqlite3.connect(Path(folder) / "anchor.sqlite3", isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v TEXT)")
        started, cpu_started = time.perf_counter(), cpu_s()
        for i in range(5000):
            connection.execute("INSERT OR REPLACE INTO t VALUES (?, ?)", (LIGHTS[i % 4], str(i)))
        raw_commits = 5000 / (time.perf_counter() - started)
        raw_cpu = 5000 / (cpu_s() - cpu_started)
        connection.close()
    print(
        f"  round: dispatch {in_flight} in flight {concurrent:,.0f}/s, one at a time {sequential:,.0f}/s;"
        f" anchor raw SQLite WAL upserts {raw_commits:,.0f}/s -> {concurrent / raw_commits:.2f}x;"
        f" per CPU second {concurrent_cpu:,.0f} vs {raw_cpu:,.0f} -> {concurrent_cpu / raw_cpu:.2f}x"
    )
    return concurrent, sequential, raw_commits, concurrent_cpu, raw_cpu


def dispatch_rounds(in_flight: int = 256) -> None:
    """Dispatch beside its anchor, ROUNDS times; every round printed, then the spread."""
    print(f"dispatch ({load_line()}):")
    rounds = [asyncio.run(bench_dispatch(in_flight=in_flight)) for _ in range(ROUNDS)]
    print_rounds(f"dispatch, {in_flight} in flight (group commit)", [r[0] for r in rounds], "commands/s")
    print_rounds("dispatch, one at a time (a commit each)", [r[1] for r in rounds], "commands/s")
    print_rounds("anchor: raw SQLite WAL autocommit upserts", [r[2] for r in rounds], "upserts/s")
    print_rounds("ratio dispatch / anchor (goal >= 1)", [r[0] / r[2] for r in rounds], "x")
    # Per CPU second (all the process's threads): steadier than wall time on a shared machine.
    print_rounds("same ratio per CPU second", [r[3] / r[4] for r in rounds], "x")


BARE_APP = """
from fastapi import FastAPI
from pydantic import BaseModel
app = FastAPI()
class Body(BaseModel):
    command: str
    value: int | None = None
@app.post("/api/devices/{device_id}/commands")
async def command(device_id: str, body: Body) -> dict:
    return {"ok": True, "state": {"device_id": device_id, "attributes": {"brightness": body.value}}}
@app.get("/healthz")
async def health() -> dict:
    return {"status": "ok"}
"""


def bench_rest(requests: int = 2000) -> None:
    """REST command round trip with one keep-alive client, hub vs a bare FastAPI endpoint."""
    hub_process, hub_url, token = start_hub_process()
    bare_port = free_port()
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "bare_app.py").write_text(BARE_APP)
        bare = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bare_app:app",
                "--port",
                str(bare_port),
                "--log-level",
                "warning",
            ],
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_http(f"http://127.0.0.1:{bare_port}/healthz")
            results = {}
            for name, url, headers in (
                ("bare FastAPI endpoint", f"http://127.0.0.1:{bare_port}", {}),
                ("oneteam hub", hub_url, {"Authorization": f"Bearer {token}"}),
            ):
                with httpx.Client(base_url=url, headers=headers) as client:
                    durations = []
                    for i in range(requests + 200):
                        started = time.perf_counter()
                        response = client.post(
                            f"/api/devices/{LIGHTS[i % 4]}/commands",
                            json={"command": "set_brightness", "value": i % 100 + 1},
                        )
                        elapsed = time.perf_counter() - started
                        response.raise_for_status()
                        if i >= 200:
                            durations.append(elapsed)
                results[name] = durations
        finally:
            bare.terminate()
            hub_process.terminate()
            bare.wait()
            hub_process.wait()
    for name, durations in results.items():
        print(f"REST round trip, {name:>22}: {summary_ms(durations)}")
    hub_p50 = sorted(results["oneteam hub"])[len(results["oneteam hub"]) // 2]
    bare_p50 = sorted(results["bare FastAPI endpoint"])[len(results["bare FastAPI endpoint"]) // 2]
    print(f"  hub p50 / bare p50 = {hub_p50 / bare_p50:.2f}x  (goal: p50 <= 2 ms and <= 1.5x)")


FANOUT_CLIENTS = """
import asyncio, json, resource, sys, time
import uvloop, websockets
async def client(url, counts, done, index, duration, expected):
    async with websockets.connect(url, max_size=None) as ws:
        await ws.recv()  # hello
        counts[index] = 0
        try:
            async with asyncio.timeout(60):  # the first events: publishing has begun
                counts[index] += (await ws.recv(decode=False)).count(b'"kind":')
            # From then on `duration` to read the rest: one timer per client, not one per read.
            async with asyncio.timeout(duration):
                while counts[index] < expected:
                    # Count events without decoding them (not even to str): the clients must not be
                    # the bottleneck, yet each reads every byte of every frame.
                    counts[index] += (await ws.recv(decode=False)).count(b'"kind":')
        except TimeoutError:
            pass
        done[index] = time.monotonic()
async def main(url, n, duration, expected):
    counts, done = [0] * n, [0.0] * n
    await asyncio.gather(*(client(url, counts, done, i, duration, expected) for i in range(n)))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"counts": counts, "done": done, "cpu_s": usage.ru_utime + usage.ru_stime}))
uvloop.run(main(sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])))
"""


@dataclass(frozen=True)
class FanoutRound:
    """One fan-out round: what was published, what every subscriber read, and what it cost."""

    published_per_s: float
    delivered_share: float
    dropped: int
    events: int
    all_read_per_s: float
    """Events over the time from the first publish until the last subscriber read the last one."""
    handed_after_s: float
    """How long after the last publish the hub had handed every event to every socket."""
    hub_cpu_ms_per_1000: float
    """The hub process's CPU (publishing, storing, encoding, every socket's send) per 1,000
    events, each of them sent to every subscriber."""
    client_cpu_ms_per_1000: float


async def bench_fanout(rate: int = 10_000, seconds: float = 5.0, subscribers: int = 100) -> FanoutRound:
    """Events published at `rate` to many WebSocket subscribers: what reached them, how soon, at
    what CPU in the hub process and in the clients, and what the hub dropped."""
    import uvicorn

    from oneteam.api.app import create_app
    from oneteam.api.ws import SERVER_OPTIONS
    from oneteam.cli.serve import DEMO_HOME
    from oneteam.model import Event, EventKind

    home = load_home(HOME or DEMO_HOME)
    total = int(rate * seconds)
    with tempfile.TemporaryDirectory() as folder:
        hub = Hub(home, SqliteStorage(Path(folder) / "bench.sqlite3"))
        await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
        async with hub:
            token = await hub.create_token("bench")
            port = free_port()
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(hub), port=port, log_level="warning", lifespan="off", **SERVER_OPTIONS
                )
            )
            serving = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.05)
            script = Path(folder) / "clients.py"
            script.write_text(FANOUT_CLIENTS)
            url = f"ws://127.0.0.1:{port}/api/ws?token={token}&batch=1"
            # The subscribers live in other processes (one per core), so the hub's loop is what is
            # measured; each stops once it has read every event, or `seconds` + 4 s after its first.
            processes = max(1, min(CLIENT_PROCESSES, subscribers))
            clients = [
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    str(script),
                    url,
                    str(subscribers // processes + (1 if n < subscribers % processes else 0)),
                    str(seconds + 4),
                    str(total),
                    stdout=asyncio.subprocess.PIPE,
                )
                for n in range(processes)
            ]
            while hub.bus.subscriber_count < subscribers:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            sent, published_s = 0, 0.0
            started, cpu_started = time.monotonic(), cpu_s()
            while sent < total:
                due = min(total, int((time.monotonic() - started) * rate)) - sent
                for _ in range(due):
                    hub.publish(
                        Event(
                            kind=EventKind.STATE_CHANGED,
                            device_id=LIGHTS[sent % 4],
                            data={"brightness": sent % 100},
                            source="bench",
                        )
                    )
                    sent += 1
                published_s = time.monotonic() - started
                await asyncio.sleep(0.01)
            # When the hub has handed every event to every socket (what is left is the clients').
            while hub.bus.backlog and time.monotonic() - started < seconds + 4:
                await asyncio.sleep(0.01)
            handed_s = time.monotonic() - started - published_s
            reports = [json.loads((await c.communicate())[0]) for c in clients]
            hub_cpu = cpu_s() - cpu_started
            dropped = hub.bus.dropped_total
            server.should_exit = True
            await serving
    counts = [n for r in reports for n in r["counts"]]
    last_read = max(t for r in reports for t in r["done"])
    client_cpu = sum(r["cpu_s"] for r in reports)
    delivered = sum(counts)
    share = 100 * delivered / max(1, sent * subscribers)
    result = FanoutRound(
        published_per_s=sent / published_s,
        delivered_share=share,
        dropped=dropped,
        events=sent,
        all_read_per_s=sent / (last_read - started),
        handed_after_s=handed_s,
        hub_cpu_ms_per_1000=1000 * hub_cpu / (sent / 1000),
        client_cpu_ms_per_1000=1000 * client_cpu / (sent / 1000),
    )
    print(
        f"  round: {result.published_per_s:,.0f} events/s published to {subscribers} subscribers"
        f" ({sent:,} events in {published_s:.2f} s); delivered {delivered:,} of {sent * subscribers:,}"
        f" ({share:.2f}%), min per subscriber {min(counts):,}; all read at {result.all_read_per_s:,.0f}"
        f" events/s (the hub had sent the last one {handed_s:.2f} s, the clients read it"
        f" {last_read - started - published_s:.2f} s after the last publish);"
        f" dropped at the hub: {dropped:,}; CPU per 1,000 events (x{subscribers}): hub"
        f" {result.hub_cpu_ms_per_1000:.1f} ms ({hub_cpu:.2f} s), clients"
        f" {result.client_cpu_ms_per_1000:.1f} ms ({client_cpu:.2f} s, {processes} processes)"
    )
    return result


def fanout_rounds(rate: int = 10_000, subscribers: int = 100) -> None:
    """Fan-out ROUNDS times in a row; the goal is every round at the rate with nothing dropped."""
    print(
        f"WebSocket fan-out, goal {rate:,} events/s to {subscribers} subscribers, 0 dropped ({load_line()}):"
    )
    rounds = [asyncio.run(bench_fanout(rate=rate, subscribers=subscribers)) for _ in range(ROUNDS)]
    print_rounds("published", [r.published_per_s for r in rounds], "events/s")
    print_rounds("anchor: the rate asked for", [float(rate)] * len(rounds), "events/s")
    print_rounds("read by every subscriber", [r.all_read_per_s for r in rounds], "events/s")
    print_rounds("delivered", [r.delivered_share for r in rounds], "%")
    print_rounds("hub done sending, after the last publish", [r.handed_after_s for r in rounds], "s")
    print_rounds("hub CPU per 1,000 events", [r.hub_cpu_ms_per_1000 for r in rounds], "ms")
    print_rounds("clients' CPU per 1,000 events", [r.client_cpu_ms_per_1000 for r in rounds], "ms")
    print(f"  dropped per round: {[r.dropped for r in rounds]}  ({load_line()})")


def main() -> None:
    print(f"# bench_hub on {machine()}, {time.strftime('%Y-%m-%d')}")
    parser = argparse.ArgumentParser(description="Hub benchmarks (each runs ROUNDS rounds).")
    parser.add_argument("--only", choices=("dispatch", "rest", "fanout"), action="append")
    only = set(parser.parse_args().only or ("dispatch", "rest", "fanout"))
    if "dispatch" in only:
        dispatch_rounds()
    if "rest" in only:
        for _ in range(ROUNDS):
            bench_rest()
    if "fanout" in only:
        fanout_rounds()


if __name__ == "__main__":
    main()
