"""The failover probe of bench_cluster.py: each home of a killed process commanded until one
command is acknowledged, every attempt timestamped, and a breakdown of where the time went.

An attempt (bench_cluster.Commands records them) is: asked (the command wanted), locked (the home's
lock held: a command of the open loop to the same home goes first), sent and answered (one HTTP
request to one process), and its outcome (status and error code, or the client's exception). The
probe adds the time each home waited for a slot of its concurrency gate. The breakdown splits each
home's kill → first acknowledgement into those parts, so "behind the survivors' REST backlog" can
be told from "behind the bench's own client".
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
import psycopg
from _common import percentile
from light_http import LightClient


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP request of a command (monotonic times)."""

    home: str
    asked: float
    locked: float
    sent: float
    answered: float
    outcome: str
    """'200', '503 home_starting', '503 home_unreachable', 'TransportError: ...'."""
    probe: bool


class _Sender(Protocol):
    acked: dict[str, list[tuple[float, int]]]
    trace: list[Attempt] | None

    async def send(self, client: Any, home: str, due: float, *, probe: bool = False) -> bool: ...


def outcome_of(status: int, body: Any) -> str:
    """'503 home_starting': the status and the API's error code when the body has one."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):  # the API's errors: {"error": {"key": ...}}; the router's: a code
        error = error.get("key")
    return f"{status} {error}" if error and status != 200 else str(status)


@dataclass
class ProbeResult:
    back: dict[str, float]
    """home → seconds after the kill its first command was acknowledged."""
    gate_waits: dict[str, float] = field(default_factory=dict)
    """home → seconds spent waiting for a slot of the probe's gate, in all."""
    cpu_s: float = 0.0
    """The bench process's CPU seconds over the probe (the open loop runs in it too)."""
    wall_s: float = 0.0


async def probe_back(
    commands: _Sender,
    homes: list[str],
    since: float,
    limit_s: float,
    *,
    client_kind: str = "aiohttp",
    concurrency: int = 64,
    retry_s: float = 0.05,
    gate_over_lock: bool = False,
) -> ProbeResult:
    """Each home's first acknowledged command after `since` (monotonic), each home probed without
    pause (a command, then another `retry_s` after the last was refused). `gate_over_lock`: the
    gate's slot is held while the home's lock is awaited (how the probe was before 2026-12-03
    22:30); otherwise the gate is the client's connection limit alone."""
    result = ProbeResult({})
    cpu0, wall0 = time.process_time(), time.monotonic()
    client: Any
    if client_kind == "httpx":
        client = httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=concurrency))
    else:
        client = LightClient(concurrency, timeout_s=10)
    gate = asyncio.Semaphore(concurrency if gate_over_lock else 1_000_000)
    async with client:

        async def one(home: str) -> None:
            waited = 0.0
            while time.monotonic() - since < limit_s:
                asked = time.monotonic()
                async with gate:
                    waited += time.monotonic() - asked
                    if await commands.send(client, home, time.monotonic(), probe=True):
                        result.back[home] = commands.acked[home][-1][0] - since
                        break
                await asyncio.sleep(retry_s)
            result.gate_waits[home] = waited

        await asyncio.gather(*(one(h) for h in homes))
    result.cpu_s, result.wall_s = time.process_time() - cpu0, time.monotonic() - wall0
    return result


def _med(values: list[float]) -> str:
    return f"{percentile(values, 50):.2f}" if values else "-"


def breakdown(
    trace: list[Attempt],
    probe: ProbeResult,
    served: dict[str, float],
    since: float,
    owners: Mapping[str, str] | None = None,
    sent_to: str | None = None,
) -> list[str]:
    """Lines saying where each home's time from the kill to its first acknowledgement went; with
    `owners` (home → the survivor now serving it) and `sent_to` (the survivor the probe asked
    first), served → acknowledged apart for the homes served there and those carried on."""
    lines: list[str] = []
    apart: dict[bool, list[float]] = defaultdict(list)
    mine = [a for a in trace if a.home in probe.gate_waits and a.asked >= since]
    by_home: dict[str, list[Attempt]] = defaultdict(list)
    for a in mine:
        by_home[a.home].append(a)
    parts: dict[str, list[float]] = defaultdict(list)
    for home, back in probe.back.items():
        until = since + back
        attempts = [a for a in by_home[home] if a.probe and a.answered <= until + 1e-6]
        lock = sum(locked - asked for asked, locked in {(a.asked, a.locked) for a in attempts})
        flight: dict[str, float] = defaultdict(float)
        for a in attempts:
            flight["refused" if a.outcome != "200" else "acknowledged"] += a.answered - a.sent
        parts["gate wait"].append(probe.gate_waits.get(home, 0.0))
        parts["lock wait (open loop's command first)"].append(lock)
        parts["in refused requests"].append(flight["refused"])
        parts["in the acknowledged request"].append(flight["acknowledged"])
        parts["attempts"].append(float(len(attempts)))
        if home in served:
            parts["served → acknowledged"].append(back - served[home])
            if owners is not None and home in owners:
                apart[owners[home] == sent_to].append(back - served[home])
    lines.append(
        "failover breakdown (seconds per home, median over the homes back): "
        + "; ".join(f"{k} {_med(v)}" for k, v in parts.items())
    )
    if apart:
        lines.append(
            "  served → acknowledged, by where the home opened: "
            + "; ".join(
                f"{'at' if here else 'carried on from'} {sent_to}: {len(v)} homes, median {_med(v)} s, "
                f"max {max(v):.2f} s"
                for here, v in sorted(apart.items(), reverse=True)
            )
        )
    # Outcome by time after the kill: what the survivors answered, and how long it took.
    bins = (0.0, 2.0, 4.0, 6.0, 10.0, 20.0, 1e9)
    table: dict[tuple[int, str], list[float]] = defaultdict(list)
    for a in mine:
        at = a.sent - since
        slot = next(i for i in range(len(bins) - 1) if bins[i] <= at < bins[i + 1])
        kind = a.outcome
        table[(slot, ("probe " if a.probe else "open loop ") + kind)].append(a.answered - a.sent)
    for slot in range(len(bins) - 1):
        cells = sorted((k, v) for (s, k), v in table.items() if s == slot)
        if not cells:
            continue
        hi = "" if bins[slot + 1] >= 1e9 else f"{bins[slot + 1]:.0f}"
        lines.append(
            f"  sent {bins[slot]:.0f}-{hi} s after the kill: "
            + "; ".join(
                f"{k} x{len(v)} (answered in median {_med(v)} s, max {max(v):.2f} s)" for k, v in cells
            )
        )
    lines.append(
        f"  the bench process's CPU over the probe: {probe.cpu_s:.1f} s in {probe.wall_s:.1f} s "
        f"({probe.cpu_s / max(probe.wall_s, 1e-9):.0%} of a core; the open loop shares it)"
    )
    return lines


async def watch_lag(
    bases: dict[str, str], since: float, stop: asyncio.Event
) -> list[tuple[float, str, float]]:
    """(seconds after `since` it was asked, node, seconds to answer) of each survivor's
    /cluster/health, asked every 0.25 s until `stop`: it is answered by the outer app without the
    database, so its time is how long the process's event loop kept a request waiting."""
    samples: list[tuple[float, str, float]] = []
    async with LightClient(len(bases) * 2, timeout_s=30) as client:

        async def one(node: str, base: str) -> None:
            while not stop.is_set():
                asked = time.monotonic()
                try:
                    await client.request("GET", f"{base}/cluster/health")
                    samples.append((asked - since, node, time.monotonic() - asked))
                except httpx.HTTPError:
                    samples.append((asked - since, node, float("inf")))
                await asyncio.sleep(0.25)

        await asyncio.gather(*(one(n, b) for n, b in bases.items()))
    return samples


def lag_lines(samples: list[tuple[float, str, float]]) -> list[str]:
    """The slowest /cluster/health answer of each survivor per stretch of time after the kill."""
    bins = (0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 1e9)
    nodes = sorted({n for _, n, _ in samples})
    cells: list[str] = []
    for lo, hi in itertools.pairwise(bins):
        worst = {
            n: max((lat for at, m, lat in samples if m == n and lo <= at < hi), default=None) for n in nodes
        }
        if all(v is None for v in worst.values()):
            continue
        span = f"{lo:.0f}-{'' if hi >= 1e9 else f'{hi:.0f}'} s"
        cells.append(span + ": " + ", ".join(f"{n} {v:.2f}" for n, v in worst.items() if v is not None))
    return ["  survivors' /cluster/health, slowest answer (s) by time after the kill: " + "; ".join(cells)]


async def watch_database(url: str, since: float, stop: asyncio.Event) -> list[tuple[float, str, float]]:
    """(seconds after `since`, what a busy PostgreSQL session was doing, its transaction's age in
    seconds), every 0.5 s until `stop`: whether the survivors' writes wait on row locks (the
    takeover's FOR UPDATE against the fencing's key-share) or are simply queued and running."""
    samples: list[tuple[float, str, float]] = []
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            at = time.monotonic() - since
            cur = await conn.execute(
                "SELECT coalesce(wait_event_type || ':' || wait_event, 'running'), "
                "  left(regexp_replace(query, '\\s+', ' ', 'g'), 48), "
                "  coalesce(extract(epoch FROM now() - xact_start), 0) "
                "FROM pg_stat_activity WHERE backend_type = 'client backend' AND state <> 'idle' "
                "AND pid <> pg_backend_pid()"
            )
            for wait, query, age in await cur.fetchall():
                samples.append((at, f"{wait} | {query}", float(age)))
            await asyncio.sleep(0.5)
    return samples


def database_lines(samples: list[tuple[float, str, float]]) -> list[str]:
    """The busiest kinds of PostgreSQL session by stretch of time after the kill, and the oldest
    transaction seen in each."""
    lines = ["  PostgreSQL sessions not idle (sampled every 0.5 s), by time after the kill:"]
    for lo, hi in itertools.pairwise((0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 30.0, 1e9)):
        inside = [(what, age) for at, what, age in samples if lo <= at < hi]
        if not inside:
            continue
        counts: dict[str, int] = defaultdict(int)
        for what, _ in inside:
            counts[what] += 1
        top = sorted(counts.items(), key=lambda kv: -kv[1])[:4]
        oldest = max(age for _, age in inside)
        span = f"{lo:.0f}-{'' if hi >= 1e9 else f'{hi:.0f}'} s"
        lines.append(
            f"    {span}: oldest transaction {oldest:.1f} s; " + "; ".join(f"{n}x {w}" for w, n in top)
        )
    return lines
