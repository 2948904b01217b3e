"""`oneteam serve` with a PostgreSQL database keeps its routines there (the home "default"), not in
the SQLite file of its data folder: a second hub process on another data folder and the same
database finds the routine and the run it left."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import start_hub, stop_hub
from tests.hub.postgres_server import running_postgres


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
    hub = start_hub(first_dir, log_path=tmp_path / "first.log")
    try:
        made = httpx.post(f"{hub.url}/api/routines", json=routine, headers=hub.headers, timeout=10)
        assert made.status_code == 201, made.text
        ran = httpx.post(f"{hub.url}/api/routines/evening_light/run", headers=hub.headers, timeout=10)
        assert ran.status_code == 200, ran.text
        run_id = ran.json()["id"]
    finally:
        stop_hub(hub)
    token = hub.token  # the hub's tokens are in the database too

    again = start_hub(second_dir, token=token, log_path=tmp_path / "second.log")
    try:
        listed = httpx.get(f"{again.url}/api/routines", headers=again.headers, timeout=10)
        run = httpx.get(f"{again.url}/api/routines/runs/{run_id}", headers=again.headers, timeout=10)
    finally:
        stop_hub(again)
    assert "evening_light" in [r["id"] for r in listed.json()["routines"]]  # beside the presets
    assert run.status_code == 200 and run.json()["routine"] == "evening_light"
    for folder in (first_dir, second_dir):
        for database in folder.glob("*.sqlite3"):
            with sqlite3.connect(database) as connection:
                names = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
            assert "automation_routines" not in names and "partner_links" not in names
