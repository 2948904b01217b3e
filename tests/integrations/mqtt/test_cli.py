"""`oneteam simulate` and `oneteam mqtt-broker`, through typer as the `oneteam` command runs them."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from oneteam.integrations.mqtt.cli import broker, simulate
from oneteam.integrations.mqtt.credentials import CREDENTIALS_FILE, read_credentials
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker, free_port
from oneteam.integrations.mqtt.retained_store import retained_path

app = typer.Typer()
app.command("simulate")(simulate)
app.command("mqtt-broker")(broker)


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages in English so the test can read them."""
    monkeypatch.setenv("ONETEAM_LANG", "en")


def test_simulate_runs_devices_against_a_real_broker(mosquitto: MosquittoBroker, tmp_path: Path) -> None:
    login = mosquitto.credentials.devices
    url = f"mqtt://{login.username}:{login.password}@127.0.0.1:{mosquitto.port}"
    args = ["simulate", "--devices", "30", "--broker", url, "--duration", "1", "--interval", "0.5"]
    args += ["--data-dir", str(tmp_path / "empty")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "30 simulated devices announced themselves (1 connections)" in result.output
    assert "Simulator stopped:" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["simulate", "--broker", "http://nowhere"], "broker URL must look like"),
        (["simulate", "--kinds", "light,lamp"], "unknown lamp"),
        (["simulate", "--devices", "0"], "--devices"),
        (["mqtt-broker", "--username", "u"], "--username and --password go together"),
        (["simulate", "--username", "u"], "--username and --password go together"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_unreachable_broker_exits_1_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("oneteam.integrations.mqtt.cli.CONNECT_WAIT_S", 0.5)
    args = ["simulate", "--devices", "3", "--broker", "mqtt://127.0.0.1:1", "--data-dir", "/nonexistent"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert "Cannot reach MQTT broker mqtt://127.0.0.1:1" in result.output


@pytest.fixture
def embedded_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """`oneteam mqtt-broker` as its own process, with its accounts in a fresh data folder."""
    port, data_dir = free_port(), tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "oneteam", "mqtt-broker", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (data_dir / CREDENTIALS_FILE).exists():
        assert process.poll() is None
        time.sleep(0.1)
    time.sleep(0.5)  # the files come just before the listener
    yield port, data_dir
    process.terminate()
    process.wait(timeout=10)


def test_simulate_signs_in_with_the_device_account_in_the_data_dir(embedded_broker: tuple[int, Path]) -> None:
    port, data_dir = embedded_broker
    assert (data_dir / CREDENTIALS_FILE).stat().st_mode & 0o777 == 0o600
    args = ["simulate", "--devices", "5", "--broker", f"mqtt://127.0.0.1:{port}", "--duration", "0.5"]
    result = CliRunner().invoke(app, [*args, "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert "5 simulated devices announced themselves" in result.output
    # Their retained discovery configs are kept in the data folder, for the broker's next start.
    deadline = time.monotonic() + 10
    configs: list[str] = []
    while time.monotonic() < deadline and len(configs) < 5:
        time.sleep(0.2)
        with contextlib.closing(sqlite3.connect(retained_path(data_dir))) as db:
            configs = [t for (t,) in db.execute("SELECT topic FROM retained") if t.endswith("/config")]
    assert len(configs) == 5, configs


def test_simulate_without_an_account_is_refused_with_exit_2(
    embedded_broker: tuple[int, Path], tmp_path: Path
) -> None:
    port, data_dir = embedded_broker
    url = f"mqtt://127.0.0.1:{port}"
    anonymous = CliRunner().invoke(app, ["simulate", "--broker", url, "--data-dir", str(tmp_path / "none")])
    assert anonymous.exit_code == 2, anonymous.output
    assert f"MQTT broker {url} refused the sign-in (Not authorized)" in anonymous.output
    stored = read_credentials(data_dir)
    assert stored is not None
    wrong = ["--username", "devices", "--password", stored.hub.password]
    result = CliRunner().invoke(
        app, ["simulate", "--broker", url, "--data-dir", str(tmp_path / "none"), *wrong]
    )
    assert result.exit_code == 2 and "refused the sign-in" in result.output
