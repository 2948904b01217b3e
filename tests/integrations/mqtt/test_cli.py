"""`oneteam simulate` and `oneteam mqtt-broker`, through typer as the `oneteam` command runs them."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from oneteam.integrations.mqtt.cli import broker, simulate
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker

app = typer.Typer()
app.command("simulate")(simulate)
app.command("mqtt-broker")(broker)


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages in English so the test can read them."""
    monkeypatch.setenv("ONETEAM_LANG", "en")


def test_simulate_runs_devices_against_a_real_broker(mosquitto: MosquittoBroker) -> None:
    url = f"mqtt://127.0.0.1:{mosquitto.port}"
    args = ["simulate", "--devices", "30", "--broker", url, "--duration", "1", "--interval", "0.5"]
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
    ],
)
def test_bad_arguments_exit_2_with_a_message(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output


def test_unreachable_broker_exits_1_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("oneteam.integrations.mqtt.cli.CONNECT_WAIT_S", 0.5)
    result = CliRunner().invoke(app, ["simulate", "--devices", "3", "--broker", "mqtt://127.0.0.1:1"])
    assert result.exit_code == 1
    assert "Cannot reach MQTT broker mqtt://127.0.0.1:1" in result.output
