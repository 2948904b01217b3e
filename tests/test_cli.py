"""The `oneteam` command, run as a real process."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.conftest import HubProcess, oneteam_cli


def test_home_check_accepts_the_fixture_home(fixture_home_path: Path) -> None:
    result = oneteam_cli("home", "check", str(fixture_home_path), "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout) == {"ok": True, "rooms": 5, "devices": 12}


def test_home_check_reports_each_problem_with_its_line_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "home.yaml"
    bad.write_text("rooms:\n  a: {names: [x]}\ndevices:\n  - id: lamp\n    type: lamp\n    room: b\n")
    result = oneteam_cli("home", "check", str(bad))
    assert result.returncode == 2
    assert f"{bad}:5:" in result.stderr and "lamp" in result.stderr
    assert "Traceback" not in result.stderr


def test_token_create_prints_the_token_once_and_stores_its_hash(tmp_path: Path) -> None:
    result = oneteam_cli("token", "create", "--name", "phone", "--data-dir", str(tmp_path), "--json")
    token = json.loads(result.stdout)["token"]
    rows = (
        sqlite3.connect(tmp_path / "oneteam.sqlite3")
        .execute("SELECT name, token_hash FROM tokens")
        .fetchall()
    )
    assert rows[0][0] == "phone" and rows[0][1] != token
    listed = oneteam_cli("token", "list", "--data-dir", str(tmp_path), "--json")
    assert token not in listed.stdout and json.loads(listed.stdout)["tokens"][0]["name"] == "phone"


def test_devices_state_do_and_events_against_a_running_hub(hub_server: HubProcess) -> None:
    env = {"ONETEAM_URL": hub_server.url, "ONETEAM_TOKEN": hub_server.token}
    listed = json.loads(oneteam_cli("devices", "--json", env=env).stdout)
    assert {d["id"] for d in listed["devices"]} >= {"ac_living", "washer", "tv"}
    assert oneteam_cli("do", "tv", "turn_on", env=env).returncode == 0  # volume needs the TV on
    done = oneteam_cli("do", "tv", "set_volume", "15", "--json", env=env)
    assert done.returncode == 0 and json.loads(done.stdout)["state"]["attributes"]["volume"] == 15
    state = json.loads(oneteam_cli("state", "tv", "--json", env=env).stdout)
    assert state["attributes"]["volume"] == 15
    history = json.loads(oneteam_cli("events", "--device", "tv", "--json", env=env).stdout)
    assert any(e["source"] == "rest:token:cli" for e in history["events"])


def test_a_refused_command_prints_the_reason_in_korean_or_english_and_exits_2(hub_server: HubProcess) -> None:
    env = {"ONETEAM_URL": hub_server.url, "ONETEAM_TOKEN": hub_server.token}
    korean = oneteam_cli("do", "ac_living", "set_temperature", "45", env=env)
    english = oneteam_cli("--lang", "en", "do", "ac_living", "set_temperature", "45", env=env)
    assert korean.returncode == english.returncode == 2
    assert "18도에서 30도까지" in korean.stderr
    assert "from 18 to 30" in english.stderr
    missing = oneteam_cli("state", "oven", env=env)
    assert missing.returncode == 2 and "oven" in missing.stderr


def test_a_missing_token_or_hub_is_a_clear_message(tmp_path: Path) -> None:
    no_token = oneteam_cli("devices", env={"ONETEAM_TOKEN": ""})
    assert no_token.returncode == 2 and "ONETEAM_TOKEN" in no_token.stderr
    no_hub = oneteam_cli("devices", "--url", "http://127.0.0.1:9", "--token", "x")
    assert no_hub.returncode == 1 and "make run" in no_hub.stderr
