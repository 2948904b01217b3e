"""`oneteam serve` with a PostgreSQL database keeps its routines and partners there (the home
"default"), not in the SQLite file of its data folder: a partner added with `oneteam partners add`
is known to the hub, and a second hub process on another data folder (given the same
`partners.key`) and the same database finds the routine, the run it left and the partner."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oneteam.interop.smarthome.sealed import KEY_FILE_NAME
from tests.conftest import oneteam_cli, start_hub, stop_hub
from tests.hub.postgres_server import running_postgres


def _authorize(url: str, client_id: str) -> int:
    """The status of the consent link for `client_id`: 200 (sign-in page) for a known partner."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": "https://partner.example/cb",
        "state": "st-1",
        "scope": "devices.read",
        "code_challenge": "c" * 43,
        "code_challenge_method": "S256",
    }
    return httpx.get(f"{url}/oauth/authorize", params=params, timeout=10).status_code


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with running_postgres() as url:
        yield url


def test_a_hub_on_postgres_keeps_its_routines_in_the_database(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ONETEAM_DATABASE_URL", postgres_url)
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    routine = {
        "id": "evening_light",
        "actions": [{"device": "light_living", "command": "turn_on"}],
    }
    added = oneteam_cli(
        "partners", "add", "--name", "GiGA Genie", "--redirect-uri", "https://partner.example/cb",
        "--data-dir", str(first_dir), "--json",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    client_id = json.loads(added.stdout)["client_id"]
    hub = start_hub(first_dir, log_path=tmp_path / "first.log")
    try:
        assert _authorize(hub.url, client_id) == 200 and _authorize(hub.url, "p_nobody") == 400
        made = httpx.post(f"{hub.url}/api/routines", json=routine, headers=hub.headers, timeout=10)
        assert made.status_code == 201, made.text
        ran = httpx.post(f"{hub.url}/api/routines/evening_light/run", headers=hub.headers, timeout=10)
        assert ran.status_code == 200, ran.text
        run_id = ran.json()["id"]
    finally:
        stop_hub(hub)
    token = hub.token  # the hub's tokens are in the database too

    second_dir.mkdir()
    shutil.copy2(first_dir / KEY_FILE_NAME, second_dir / KEY_FILE_NAME)  # as docs/operator.md says
    again = start_hub(second_dir, token=token, log_path=tmp_path / "second.log")
    try:
        partner_status = _authorize(again.url, client_id)
        listed = httpx.get(f"{again.url}/api/routines", headers=again.headers, timeout=10)
        run = httpx.get(f"{again.url}/api/routines/runs/{run_id}", headers=again.headers, timeout=10)
    finally:
        stop_hub(again)
    assert "evening_light" in [r["id"] for r in listed.json()["routines"]]  # beside the presets
    assert run.status_code == 200 and run.json()["routine"] == "evening_light"
    assert partner_status == 200
    listed_partners = oneteam_cli("partners", "list", "--json", "--data-dir", str(second_dir))
    assert [p["client_id"] for p in json.loads(listed_partners.stdout)["partners"]] == [client_id]
    for folder in (first_dir, second_dir):
        for database in folder.glob("*.sqlite3"):
            with sqlite3.connect(database) as connection:
                names = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            assert "automation_routines" not in names and "partner_links" not in names
