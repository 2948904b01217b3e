"""`oneteam serve` as a real process: SIGTERM stops it as cleanly as Ctrl-C, and a taken port is
refused in the reader's language before anything is printed or a token is minted."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oneteam.i18n import render
from tests.conftest import free_port, oneteam_cli


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def _serve(data_dir: Path, port: int, log: Path, *extra: str, lang: str = "ko") -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oneteam",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                str(data_dir),
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ONETEAM_VOICE": "0", "ONETEAM_LANG": lang},
        )


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_stop_the_hub_cleanly_and_keep_its_state(
    tmp_path: Path, stop: signal.Signals
) -> None:
    created = oneteam_cli("token", "create", "--json", "--data-dir", str(tmp_path))
    token = json.loads(created.stdout)["token"]
    port = free_port()
    log = tmp_path / "serve.log"
    process = _serve(tmp_path, port, log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text(encoding="utf-8")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "hub did not start"
            time.sleep(0.1)
        answer = httpx.post(
            f"{url}/api/devices/ac_bedroom/commands",
            json={"command": "turn_on"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        process.send_signal(stop)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text(encoding="utf-8")
    assert code == 0, output  # before: SIGTERM killed it (-15) before storage was flushed
    assert render("hub.stopping", "ko", signal=stop.name) in output
    assert render("hub.stopped", "ko") in output
    with sqlite3.connect(tmp_path / "oneteam.sqlite3") as db:
        (attributes,) = db.execute("SELECT attributes FROM states WHERE device_id = 'ac_bedroom'").fetchone()
        (commands,) = db.execute("SELECT COUNT(*) FROM events WHERE kind = 'command'").fetchone()
    assert json.loads(attributes)["power"] is True and commands == 1
    assert (
        not (tmp_path / "oneteam.sqlite3-wal").exists()
        or (tmp_path / "oneteam.sqlite3-wal").stat().st_size == 0
    )


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_taken_http_port_is_refused_before_the_banner_and_the_token(
    tmp_path: Path, taken_port: int, lang: str
) -> None:
    result = oneteam_cli(
        "serve", "--demo", "--port", str(taken_port), "--data-dir", str(tmp_path), env={"ONETEAM_LANG": lang}
    )
    assert result.returncode == 2, result.stdout + result.stderr
    expected = render(
        "error.port_in_use", lang, host="127.0.0.1", port=taken_port, what="HTTP", option="--port"
    )
    assert expected in " ".join(result.stderr.split())
    assert "oneteam" not in result.stdout and "ONETEAM_TOKEN" not in result.stdout
    assert not (tmp_path / "oneteam.sqlite3").exists()  # nothing started: no storage, no token


def test_a_taken_mqtt_port_is_refused_before_the_banner(tmp_path: Path, taken_port: int) -> None:
    result = oneteam_cli(
        "serve",
        "--demo",
        "--port",
        str(free_port()),
        "--mqtt-port",
        str(taken_port),
        "--data-dir",
        str(tmp_path),
    )
    assert result.returncode == 2, result.stdout + result.stderr
    expected = render(
        "error.port_in_use", "ko", host="127.0.0.1", port=taken_port, what="MQTT", option="--mqtt-port"
    )
    assert expected in " ".join(result.stderr.split())
    assert result.stdout.strip() == ""
