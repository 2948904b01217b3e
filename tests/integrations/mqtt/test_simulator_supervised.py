"""`oneteam simulate`'s report loop is owned: when it fails it is named in the log and on screen,
and it starts again, so the simulated devices go on reporting. Real Mosquitto on a free port."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from oneteam.integrations.mqtt.cli import simulate
from oneteam.integrations.mqtt.mosquitto import MosquittoBroker
from oneteam.integrations.mqtt.settings import parse_broker_url
from oneteam.integrations.mqtt.simulator import REPORTS_TASK, SimulatedDevice, Simulator


@pytest.fixture
def drift_fails_once(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The first state report's drift raises (a bug in one device's update, say); later ones
    work. Yields the ids of the devices it failed on."""
    failed: list[str] = []
    real_drift = SimulatedDevice.drift

    def drift(self: SimulatedDevice, rng: object) -> None:
        if not failed:
            failed.append(self.id)
            raise RuntimeError(f"drift of {self.id} broke")
        real_drift(self, rng)  # type: ignore[arg-type]

    monkeypatch.setattr(SimulatedDevice, "drift", drift)
    yield failed


def _url(mosquitto: MosquittoBroker) -> str:
    login = mosquitto.credentials.devices
    return f"mqtt://{login.username}:{login.password}@127.0.0.1:{mosquitto.port}"


async def test_a_failing_report_loop_is_logged_and_restarted(
    mosquitto: MosquittoBroker, drift_fails_once: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[tuple[str, str]] = []
    simulator = Simulator(
        parse_broker_url(_url(mosquitto)),
        6,
        per_gateway=6,
        backoff_base_s=0.2,
        on_failure=lambda name, exc: seen.append((name, str(exc))),
    )
    with caplog.at_level(logging.ERROR):
        async with simulator:
            assert await simulator.wait_connected(10)
            simulator.start_reports(interval_s=0.3, tick_s=0.02)
            async with asyncio.timeout(10):
                while not seen:
                    await asyncio.sleep(0.02)
                after_failure = simulator.published
                while simulator.published < after_failure + 12:  # every device twice more
                    await asyncio.sleep(0.02)
            [health] = simulator.supervisor.health()
    assert seen == [(REPORTS_TASK, f"drift of {drift_fails_once[0]} broke")]
    assert health["task"] == REPORTS_TASK and health["state"] == "running"
    assert health["total_failures"] == 1
    assert REPORTS_TASK in caplog.text and "Traceback" in caplog.text
    assert simulator.supervisor.names() == []  # closing the simulator ended the loop


def test_simulate_prints_the_failure_and_keeps_reporting(
    mosquitto: MosquittoBroker, drift_fails_once: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONETEAM_LANG", "en")
    app = typer.Typer()
    app.command("simulate")(simulate)
    app.command("unused")(lambda: None)
    args = ["simulate", "--devices", "5", "--broker", _url(mosquitto), "--duration", "3.5"]
    args += ["--interval", "0.5", "--data-dir", str(tmp_path / "empty")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"The simulator's task {REPORTS_TASK} failed (RuntimeError: drift of" in result.output
    published = int(result.output.split("Simulator stopped:")[1].split()[0].replace(",", ""))
    # 5 announced + reports after the restart (1 s back-off): about 5 devices × 2 per second.
    assert published > 5 + 10, result.output
