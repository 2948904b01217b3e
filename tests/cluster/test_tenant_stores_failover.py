"""A home's routines survive its process: two real `oneteam serve --cluster` processes over a real
PostgreSQL; a routine is saved at the home's owner and started into a long delay, the owner is
killed (-9), and the process that takes the home over lists the routine and finishes the run it
left, with the last command applied there; a neighbouring home on the same processes sees none of
it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.cluster.cluster_nodes import Node, register_homes, start_node, wait_served
from tests.hub.postgres_server import running_postgres

HOME, NEIGHBOUR = "delta", "epsilon"


@dataclass
class Pair:
    nodes: list[Node]
    token: str
    neighbour_token: str


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    data_dir = tmp_path_factory.mktemp("nodes")
    with running_postgres() as url:
        tokens = register_homes(url, [HOME, NEIGHBOUR])
        nodes = [start_node(url, node_id, data_dir, "virtual,automation") for node_id in ("n1", "n2")]
        try:
            yield Pair(nodes, tokens[HOME], tokens[NEIGHBOUR])
        finally:
            for node in nodes:
                node.stop()


def test_a_delayed_run_finishes_at_the_process_that_takes_the_home_over(pair: Pair) -> None:
    served = wait_served(pair.nodes, [HOME, NEIGHBOUR])
    owner = next(n for n in pair.nodes if n.node_id == served[HOME])
    other = next(n for n in pair.nodes if n is not owner)
    headers = {"Authorization": f"Bearer {pair.token}"}
    routine = {
        "id": "dim_later",
        "actions": [
            {"device": "light_living", "command": "turn_on"},
            {"delay": 4},
            {"device": "light_living", "command": "set_brightness", "value": 17},
        ],
    }
    base = f"{owner.url}/homes/{HOME}"
    # A cluster home gets the Korean presets a lone hub gets; one deleted stays deleted after a move.
    presets = {r["id"] for r in _routines(base, headers) if r["origin"] == "preset"}
    assert {"movie", "away", "sleep"} <= presets, presets
    assert httpx.delete(f"{base}/api/routines/movie", headers=headers, timeout=10).status_code == 200
    made = httpx.post(f"{base}/api/routines", json=routine, headers=headers, timeout=10)
    assert made.status_code == 201, made.text
    started = httpx.post(f"{base}/api/routines/dim_later/run", headers=headers, timeout=10)
    assert started.status_code == 200, started.text
    run_id = started.json()["id"]
    time.sleep(0.5)  # the first step is done and the run sleeps in its delay
    owner.kill()

    wait_served([other], [HOME, NEIGHBOUR], timeout_s=60)
    at = f"{other.url}/homes/{HOME}"
    deadline = time.monotonic() + 30
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = httpx.get(f"{at}/api/routines/runs/{run_id}", headers=headers, timeout=10).json()
        if run.get("status") != "running":
            break
        time.sleep(0.2)
    listed = _routines(at, headers)
    state = httpx.get(f"{at}/api/devices/light_living/state", headers=headers, timeout=10).json()
    assert [r["id"] for r in listed if r["origin"] != "preset"] == ["dim_later"]
    assert {r["id"] for r in listed if r["origin"] == "preset"} == presets - {"movie"}
    assert run["status"] == "done", run
    assert [n["key"] for n in run["notes"]] == ["automation.note_resumed"]
    assert state["attributes"]["brightness"] == 17

    # The neighbouring home, served by the same processes, has none of it, even asked by run id.
    mine = {"Authorization": f"Bearer {pair.neighbour_token}"}
    with httpx.Client(follow_redirects=True, timeout=10) as client:
        near = f"{other.url}/homes/{NEIGHBOUR}"
        theirs = client.get(f"{near}/api/routines", headers=mine).json()["routines"]
        assert {r["id"] for r in theirs} == presets and {r["origin"] for r in theirs} == {"preset"}
        assert client.get(f"{near}/api/routines/runs/{run_id}", headers=mine).status_code == 404
        assert client.get(f"{at}/api/routines", headers=mine).status_code == 401


def _routines(base: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = httpx.get(f"{base}/api/routines", headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    routines: list[dict[str, Any]] = answer.json()["routines"]
    return routines
