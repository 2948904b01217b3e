"""`oneteam epidemic …` commands, run through typer as a person runs them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oneteam.hub import SqliteStorage
from oneteam.hub.config import load_config
from oneteam.services.epidemic.cli import app
from oneteam.services.epidemic.generate import synthetic_msisdn
from oneteam.services.epidemic.privacy import KEY_ENV
from oneteam.services.epidemic.schema import sample_risk_path
from tests.services.epidemic.conftest import OPERATOR_KEY

AS_OF = "2026-11-24T00:00:00+00:00"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv(KEY_ENV, OPERATOR_KEY.hex())
    monkeypatch.setenv("ONETEAM_LANG", "en")
    return CliRunner()


def _hub_ran_here(data: str) -> None:
    """The data folder holds a hub that has run the fixture home (id "home"), as after `oneteam
    serve`: `consent add` links people only to a home the hub runs."""
    home = Path(__file__).parents[2] / "fixtures" / "home.yaml"

    async def save() -> None:
        storage = SqliteStorage(load_config(data_dir=Path(data)).database_path)
        await storage.open()
        try:
            await storage.save_home("home", str(home), home.read_text(encoding="utf-8"))
        finally:
            await storage.close()

    asyncio.run(save())


def _ok(runner: CliRunner, *args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_generate_run_and_a_consented_traveller_gets_one_alert(runner: CliRunner, tmp_path: Path) -> None:
    records, data = str(tmp_path / "records"), str(tmp_path / "data")
    generated = json.loads(
        _ok(
            runner,
            "generate",
            "--rows",
            "20000",
            "--out",
            records,
            "--as-of",
            AS_OF,
            "--malformed-rate",
            "0.001",
            "--json",
        )
    )
    assert generated["rows"] == 20_000
    run_args = (
        "run",
        "--records",
        records,
        "--risk",
        str(sample_risk_path()),
        "--as-of",
        AS_OF,
        "--data-dir",
        data,
        "--json",
    )
    first = json.loads(_ok(runner, *run_args))
    assert first["rows"] == 20_000 and first["malformed_rows"] == generated["malformed_within_retention"]
    assert 0 < first["rows_past_retention"] < 20_000
    assert first["exposed_persons"] > 100 and first["queued"] == 0 and first["risk_list_is_example"]
    assert set(first["timings_s"]) >= {"validate", "exposures", "alerts", "deliver"}
    # Link sixty synthetic travellers by phone number; exposed ones among them get exactly one alert.
    _hub_ran_here(data)
    for index in range(60):
        _ok(runner, "consent", "add", "--phone", synthetic_msisdn(index), "--data-dir", data)
    second = json.loads(_ok(runner, *run_args))
    again = json.loads(_ok(runner, *run_args))
    assert second["queued"] == second["consented_alerts"] > 0 and again["queued"] == 0
    assert again["duplicates"] == second["consented_alerts"]


def test_the_summary_table_names_malformed_rows_and_unknown_codes(runner: CliRunner, tmp_path: Path) -> None:
    records = str(tmp_path / "records")
    _ok(runner, "generate", "--rows", "5000", "--out", records, "--as-of", AS_OF, "--malformed-rate", "0.01")
    output = _ok(
        runner,
        "run",
        "--records",
        records,
        "--risk",
        str(sample_risk_path()),
        "--as-of",
        AS_OF,
        "--data-dir",
        str(tmp_path / "data"),
    )
    assert (
        "records" in output
        and "past the 21-day retention" in output
        and "5,000" in output
        and "unknown country code" in output
    )
    assert "invented example" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "--records", "/nonexistent", "--risk", "RISK"), "is not a folder"),
        (("run", "--records", "RECORDS", "--risk", "/nonexistent.yaml"), "No such file"),
        (("run", "--records", "RECORDS", "--risk", "RISK", "--engine", "oracle"), "--engine must be one of"),
        (("run", "--records", "RECORDS", "--risk", "RISK", "--as-of", "tomorrow"), "--as-of"),
        (("consent", "add", "--phone", "02-123-4567"), "Not a mobile number"),
        (("consent", "revoke", "cl_nope"), "No consent link"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    runner: CliRunner, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    records = tmp_path / "records"
    (records).mkdir()
    (records / "r.csv").write_text("subscriber_key,visited,first_seen,last_seen\n", encoding="utf-8")
    filled = [a.replace("RECORDS", str(records)).replace("RISK", str(sample_risk_path())) for a in args]
    _hub_ran_here(str(tmp_path / "data"))
    result = runner.invoke(app, [*filled, "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_consent_list_and_revoke(runner: CliRunner, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    _hub_ran_here(data)
    link = json.loads(
        _ok(
            runner,
            "consent",
            "add",
            "--phone",
            "010-1234-5678",
            "--label",
            "Mum",
            "--data-dir",
            data,
            "--json",
        )
    )
    listed = json.loads(_ok(runner, "consent", "list", "--data-dir", data, "--json"))
    assert [item["id"] for item in listed] == [link["id"]] and "phone" not in listed[0]
    _ok(runner, "consent", "revoke", link["id"], "--data-dir", data)
    assert json.loads(_ok(runner, "consent", "list", "--data-dir", data, "--json")) == []
    assert "01012345678" not in _ok(runner, "consent", "list", "--all", "--data-dir", data)


def test_retention_reports_what_it_removed(runner: CliRunner, tmp_path: Path) -> None:
    records = str(tmp_path / "records")
    _ok(runner, "generate", "--rows", "5000", "--out", records, "--as-of", AS_OF)
    report = json.loads(_ok(runner, "retention", "--records", records, "--as-of", AS_OF, "--json"))
    assert report["rows_deleted"] > 1000 and report["cutoff"].startswith("2026-11-03")


def test_consent_for_a_home_the_hub_does_not_run_is_refused(runner: CliRunner, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    _hub_ran_here(data)
    result = runner.invoke(
        app, ["consent", "add", "--phone", "010-1234-5678", "--home", "elsewhere", "--data-dir", data]
    )
    assert result.exit_code == 2 and "elsewhere" in result.output and "Traceback" not in result.output
    assert json.loads(_ok(runner, "consent", "list", "--data-dir", data, "--json")) == []
