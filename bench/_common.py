"""Helpers shared by the benchmark scripts: percentiles, free ports, and a hub process."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def machine() -> str:
    """One line naming the machine the figures come from."""
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) of `values`."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(values_s: list[float]) -> str:
    """p50/p99/mean of durations in seconds, printed in milliseconds."""
    ms = [v * 1000 for v in values_s]
    p50, p99 = percentile(ms, 50), percentile(ms, 99)
    return f"p50 {p50:.3f} ms  p99 {p99:.3f} ms  mean {statistics.fmean(ms):.3f} ms"


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, timeout_s: float = 30) -> None:
    """Wait until `url` answers 200."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout_s} s")


def start_hub_process() -> tuple[subprocess.Popen[bytes], str, str]:
    """A real `oneteam serve` on a free port, and a token for it."""
    data_dir = tempfile.mkdtemp(prefix="oneteam-bench-")
    created = subprocess.run(
        [sys.executable, "-m", "oneteam", "token", "create", "--json", "--data-dir", data_dir],
        capture_output=True,
        text=True,
        check=True,
    )
    token = json.loads(created.stdout)["token"]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "oneteam", "serve", "--port", str(port), "--data-dir", data_dir],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/healthz")
    return process, url, token


@contextlib.contextmanager
def postgres_server(url: str | None) -> Iterator[str | None]:
    """The given server, a private one when PostgreSQL is installed, else None."""
    if url is not None:
        yield url
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.hub.postgres_server import postgres_bin, running_postgres

    if postgres_bin() is None:
        yield None
        return
    with running_postgres() as started:
        yield started
