"""Failover: three real cluster processes over one PostgreSQL; one is killed with SIGKILL while every
home takes commands; its homes answer again from the others within seconds, and every command
acknowledged before (and after) the kill is in the home's state and history."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.cluster.cluster_nodes import Node, call, register_homes, start_node, wait_served
from tests.hub.postgres_server import running_postgres

HOMES = [f"home{i}" for i in range(6)]
DEVICE = "light_living"
RECOVERY_LIMIT_S = 8.0
"""A lease is 3 s, a placement step 0.5 s, then a survivor takes the dead process's leases in one
statement, reads their state in one query per table and opens them (2.2-2.8 s after the kill here,
the lease having been renewed up to 1 s before it); the rest is margin for a loaded CI machine."""


@dataclass
class Cluster:
    url: str
    nodes: list[Node]
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("nodes")
    with running_postgres() as url:
        tokens = register_homes(url, HOMES)
        nodes: list[Node] = []
        try:
            for name in ("n1", "n2", "n3"):  # one by one: the machine is shared
                nodes.append(start_node(url, name, data_dir, "virtual"))
            yield Cluster(url, nodes, tokens)
        finally:
            for node in nodes:
                node.stop()


@dataclass
class Sender:
    """Sends brightness commands to one home through any live node (following 307s with the token) and keeps
    what was acknowledged, in order, with the time of each answer."""

    home: str
    token: str
    nodes: list[Node]
    acked: list[tuple[float, int]] = field(default_factory=list)
    last_refusal: str = ""
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        value = 0
        with httpx.Client(timeout=5) as client:
            while True:
                value = value % 100 + 1
                if self._send(client, value):
                    self.acked.append((time.monotonic(), value))
                    if self.stop.is_set():
                        return  # the last command was acknowledged: it must be the final state
                else:
                    time.sleep(0.05)

    def _send(self, client: httpx.Client, value: int) -> bool:
        for node in self.nodes:
            if node.process.poll() is not None:
                continue
            try:
                answer = call(
                    client,
                    "POST",
                    f"{node.url}/homes/{self.home}/api/devices/{DEVICE}/commands",
                    self.token,
                    json={"command": "set_brightness", "value": value},
                )
            except httpx.HTTPError:
                continue
            if answer.status_code != 200:
                self.last_refusal = f"{answer.status_code} {answer.text[:200]}"
            return answer.status_code == 200
        return False


def test_a_killed_process_homes_answer_again_elsewhere_with_every_acknowledged_command(
    cluster: Cluster,
) -> None:
    # Spread over more than one process, and a home asked at another process is answered by its
    # owner through it (the request is carried there: tests/cluster/test_doors.py).
    # Homes still move while processes join (a hand-off answers 503 home_starting with Retry-After
    # for a moment): the caller waits as told and asks again; the carried answer must then come.
    by_id = {n.node_id: n for n in cluster.nodes}
    deadline = time.monotonic() + 30
    while True:
        served = wait_served(cluster.nodes, HOMES, spread=2)
        home, owner = next(iter(served.items()))
        other = next(n for n in cluster.nodes if n.node_id != owner)
        moved = httpx.get(
            f"{other.url}/homes/{home}/api/devices",
            headers={"Authorization": f"Bearer {cluster.tokens[home]}"},
            timeout=10,
        )
        if moved.status_code != 503 or time.monotonic() > deadline:
            break
        assert moved.json()["error"] == "home_starting", moved.text
        time.sleep(float(moved.headers["retry-after"]))
    assert moved.status_code == 200, moved.text

    senders = [Sender(h, cluster.tokens[h], cluster.nodes) for h in HOMES]
    threads = [threading.Thread(target=s.run, daemon=True) for s in senders]
    for thread in threads:
        thread.start()
    time.sleep(3)
    served = wait_served(cluster.nodes, HOMES)  # as it stands now (homes move as processes join)
    counts = {n: sum(1 for o in served.values() if o == n) for n in by_id}
    victim = by_id[max(counts, key=lambda n: counts[n])]
    victim_homes = [h for h, o in served.items() if o == victim.node_id]
    victim.kill()
    killed_at = time.monotonic()
    deadline = killed_at + RECOVERY_LIMIT_S + 10
    recovered: dict[str, float] = {}
    while time.monotonic() < deadline and len(recovered) < len(victim_homes):
        for sender in senders:
            if sender.home in victim_homes and sender.home not in recovered:
                after = [at for at, _ in sender.acked if at > killed_at]
                if after:
                    recovered[sender.home] = after[0] - killed_at
        time.sleep(0.05)
    time.sleep(1)
    for sender in senders:
        sender.stop.set()
    for thread in threads:
        thread.join(timeout=30)
    stuck = [(s.home, s.last_refusal) for s, t in zip(senders, threads, strict=True) if t.is_alive()]
    assert not stuck, f"never acknowledged again: {stuck}; back after the kill: {recovered}"
    assert sorted(recovered) == sorted(victim_homes), f"not back: {set(victim_homes) - set(recovered)}"
    assert max(recovered.values()) < RECOVERY_LIMIT_S, recovered

    survivors = [n for n in cluster.nodes if n is not victim]
    now_served = wait_served(survivors, HOMES, timeout_s=30)
    assert victim.node_id not in now_served.values()
    for node in survivors:  # what their homes hold is kept out of full collections (heap.py)
        assert httpx.get(f"{node.url}/cluster/health", timeout=10).json()["kept_objects"] > 10_000
    with httpx.Client(timeout=10) as client:
        for sender in senders:
            base = f"{survivors[0].url}/homes/{sender.home}"
            # The survivors may still hand a home between them for a moment (503 + Retry-After).
            answer = call(client, "GET", f"{base}/api/devices/{DEVICE}/state", sender.token, settle_s=15)
            assert answer.status_code == 200, (sender.home, answer.status_code, answer.text, now_served)
            state = answer.json()
            assert state["attributes"]["brightness"] == sender.acked[-1][1], sender.home
            events = command_history(client, base, sender.token)
            logged = [e["data"].get("value") for e in reversed(events)]
            acknowledged = [value for _, value in sender.acked]
            assert 3 < len(acknowledged) <= len(logged), (sender.home, len(acknowledged), len(logged))
            # Every acknowledged command is in the history, in order (one whose answer was lost in
            # the kill may be there too: committed, just not acknowledged).
            position = 0
            for value in acknowledged:
                assert value in logged[position:], (sender.home, value, position)
                position = logged.index(value, position) + 1


def command_history(client: httpx.Client, base: str, token: str) -> list[dict[str, Any]]:
    """Every command event of the device, newest first, paged back with `before` (a fast machine
    acknowledges more than one page of commands in the test's time)."""
    events: list[dict[str, Any]] = []
    params: dict[str, str | int] = {"device": DEVICE, "kind": "command", "limit": 1000}
    while True:
        page = call(client, "GET", f"{base}/api/events", token, params=params, settle_s=15).json()["events"]
        events += page
        if len(page) < 1000:
            return events
        params["before"] = page[-1]["id"]
