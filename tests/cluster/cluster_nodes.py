"""Cluster service processes for the placement tests: real `oneteam serve --cluster` processes on
free ports over one real PostgreSQL, with homes registered and tokens made through the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import free_port, oneteam_cli

DEMO_HOME = Path(__file__).resolve().parents[2] / "oneteam" / "homes" / "demo.yaml"


_SERVE = (sys.executable, "-m", "oneteam", "-v", "serve", "--cluster")


@dataclass
class Node:
    """One service process of the cluster."""

    node_id: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def homes(self) -> list[str]:
        """The homes this process serves now (its /cluster/health), with a live lease."""
        try:
            answer = httpx.get(f"{self.url}/cluster/health", timeout=10).json()
        except httpx.HTTPError:
            return []  # busy opening homes (or gone): asked again by the caller
        return [h["id"] for h in answer["homes"] if h["lease_left_s"] > 0]

    def kill(self) -> None:
        """kill -9: no goodbye, no lease released."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def call(
    client: httpx.Client, method: str, url: str, token: str, *, settle_s: float = 0.0, **kwargs: object
) -> httpx.Response:
    """A request that follows the cluster's 307s itself: HTTP clients (httpx, browsers' fetch) drop
    the Authorization header on a redirect to another origin, and each process is one. With
    `settle_s`, a 503 with Retry-After (a home still moving between processes) is asked again as
    told, for up to that long, as a patient client would."""
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + settle_s
    target = url
    while True:
        url = target
        for _ in range(3):
            answer = client.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]
            if answer.status_code != 307:
                break
            url = answer.headers["location"]
        retry_after = answer.headers.get("retry-after")
        if answer.status_code != 503 or retry_after is None or time.monotonic() > deadline:
            return answer
        time.sleep(float(retry_after))


def register_homes(url: str, home_ids: list[str]) -> dict[str, str]:
    """Register each home (the demo home file) and make a token of each; home → token."""
    tokens: dict[str, str] = {}
    for home_id in home_ids:
        added = oneteam_cli("cluster", "add-home", home_id, "--home", str(DEMO_HOME), "--database-url", url)
        assert added.returncode == 0, added.stderr
        made = oneteam_cli("cluster", "token", home_id, "--name", "test", "--quiet", "--database-url", url)
        assert made.returncode == 0, made.stderr
        tokens[home_id] = made.stdout.strip()
    return tokens


def start_node(url: str, node_id: str, data_dir: Path, parts: str, broker: str | None = None) -> Node:
    """Start a service process (its homes' MQTT clients at `broker`, when given); it answers
    /cluster/health once listening."""
    port = free_port()
    log = data_dir / f"{node_id}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [
                *_SERVE,
                "--database-url",
                url,
                "--node-id",
                node_id,
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                *(["--broker", broker] if broker else []),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ONETEAM_CLUSTER_PARTS": parts, "ONETEAM_LANG": "en"},
        )
    node = Node(node_id, f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"node {node_id} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{node.url}/cluster/health", timeout=1).status_code == 200:
                return node
        except httpx.HTTPError:
            time.sleep(0.2)
    node.stop()
    raise RuntimeError(f"node {node_id} did not listen within 90 s")


def wait_served(
    nodes: list[Node], homes: list[str], timeout_s: float = 180, *, spread: int = 1
) -> dict[str, str]:
    """Wait until every home is served by one of `nodes`, by at least `spread` different processes
    (the first process up takes every home; the others get theirs handed over some seconds after
    they join); home → node id."""
    deadline = time.monotonic() + timeout_s
    served: dict[str, str] = {}
    while time.monotonic() < deadline:
        served = {h: n.node_id for n in nodes if n.process.poll() is None for h in n.homes()}
        if all(h in served for h in homes) and len({served[h] for h in homes}) >= spread:
            return served
        time.sleep(0.3)
    raise AssertionError(f"homes not all served by {spread}+ processes within {timeout_s} s: {served}")
