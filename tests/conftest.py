"""Fixtures shared by the whole suite: paths, free ports, and a real hub server process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

# A loud summary of every test that did not run, and in CI a failure for each (tests/skip_report.py).
pytest_plugins = ["tests.skip_report"]

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURE_HOME = REPO / "tests" / "fixtures" / "home.yaml"
"""A copy of shared/eval/home.yaml kept in the repository, so tests that need it run in any clone."""

# Rich wraps CLI messages at the terminal width (80 columns when there is no terminal), so a long
# temporary path could move a line break into the words a test looks for. One wide width for the
# whole run, in-process and in every `oneteam` subprocess, keeps messages on one line.
os.environ["COLUMNS"] = "250"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared/ folder beside the repository (eval sets, public data)."""
    if not SHARED.is_dir():
        pytest.skip("shared/ is not beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def fixture_home_path() -> Path:
    """The evaluation fixture home (the repository's copy)."""
    return FIXTURE_HOME


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def oneteam_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `oneteam` command in a subprocess (in `cwd`, else this one's folder)."""
    return subprocess.run(
        [sys.executable, "-m", "oneteam", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "ONETEAM_LANG": "ko", **(env or {})},
        check=False,
    )


@dataclass
class HubProcess:
    """A hub started as its own process, as `make run` starts it."""

    url: str
    token: str
    data_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def start_hub(
    data_dir: Path, *extra: str, token: str | None = None, log_path: Path | None = None
) -> HubProcess:
    """Start `oneteam serve` on a free port and wait until /healthz answers (its output to `log_path`)."""
    if token is None:
        created = oneteam_cli("token", "create", "--json", "--data-dir", str(data_dir))
        assert created.returncode == 0, created.stderr
        token = json.loads(created.stdout)["token"]
    port = free_port()
    log = log_path.open("ab") if log_path is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "oneteam", "serve", "--port", str(port), "--data-dir", str(data_dir), *extra],
        stdout=log,
        stderr=subprocess.STDOUT if log_path is not None else subprocess.DEVNULL,
        # Speech has its own tests; hubs started for other tests skip loading the 0.5 GB model.
        env={**os.environ, "ONETEAM_VOICE": os.environ.get("ONETEAM_TEST_HUB_VOICE", "0")},
    )
    if not isinstance(log, int):
        log.close()  # the process has its own copy
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a loaded CI machine (or shared cores) starts the hub in 20-30 s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"hub exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return HubProcess(url=url, token=token, data_dir=data_dir, process=process)
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("hub did not start in 60 s")


def stop_hub(hub: HubProcess) -> None:
    """Stop a hub process (politely, then firmly)."""
    if hub.process.poll() is None:
        hub.process.terminate()
        try:
            hub.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            hub.process.kill()
            hub.process.wait()


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A real hub on a free port with the demo home, shared by a test module."""
    hub = start_hub(tmp_path_factory.mktemp("hub"), "--time-scale", "1")
    yield hub
    stop_hub(hub)
