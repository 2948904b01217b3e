"""Routines through a real `oneteam serve` (uvicorn, SQLite, virtual appliances): REST, CLI, kill -9."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import HubProcess, oneteam_cli, start_hub, stop_hub

KO = {"Accept-Language": "ko"}
EN = {"Accept-Language": "en"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    hub = start_hub(tmp_path_factory.mktemp("routines"))
    yield hub
    stop_hub(hub)


def _call(
    hub: HubProcess, method: str, path: str, headers: dict[str, str] | None = None, **kw: Any
) -> httpx.Response:
    return httpx.request(
        method, f"{hub.url}{path}", headers={**hub.headers, **(headers or {})}, timeout=30, **kw
    )


def test_presets_are_installed_at_first_start(server: HubProcess) -> None:
    listed = _call(server, "GET", "/api/routines").json()
    by_id = {r["id"]: r for r in listed["routines"]}
    assert {"away", "home", "sleep", "wake", "movie"} <= set(by_id)
    assert by_id["movie"]["kind"] == "scene" and by_id["away"]["kind"] == "automation"
    assert by_id["away"]["names"] == {"ko": "외출", "en": "Away"}
    assert by_id["wake"]["enabled"] is False
    assert by_id["away"]["origin"] == "preset"


def test_create_read_replace_run_disable_delete(server: HubProcess) -> None:
    body = {
        "id": "dim",
        "names": {"ko": "어둡게", "en": "Dim"},
        "actions": [{"type": "light", "room": "거실", "command": "set_brightness", "value": 15}],
    }
    created = _call(server, "POST", "/api/routines", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["routine"]["actions"] == [
        {"device": "light_living", "command": "set_brightness", "value": 15}
    ]
    again = _call(server, "POST", "/api/routines", json=body, headers=KO)
    assert again.status_code == 400
    assert again.json()["error"]["message"] == "'dim' 루틴이 이미 있어요. 바꾸려면 PUT으로 보내 주세요."
    replaced = _call(server, "PUT", "/api/routines/dim", json={**body, "mode": "restart"})
    assert replaced.status_code == 200 and replaced.json()["routine"]["mode"] == "restart"
    assert _call(server, "GET", "/api/routines/dim").json()["mode"] == "restart"
    run = _call(server, "POST", "/api/routines/dim/run", params={"wait": 5}).json()
    assert run["status"] == "done" and run["trigger"]["kind"] == "manual"
    assert run["trigger"]["by"].startswith("rest:token:")
    state = _call(server, "GET", "/api/devices/light_living/state").json()
    assert state["attributes"]["brightness"] == 15
    events = _call(server, "GET", "/api/events", params={"device": "light_living", "limit": 5}).json()[
        "events"
    ]
    assert any(e["kind"] == "command" and e["source"] == "routine:dim" for e in events)
    assert _call(server, "POST", "/api/routines/dim/disable").json()["enabled"] is False
    assert _call(server, "POST", "/api/routines/dim/enable").json()["enabled"] is True
    traces = _call(server, "GET", "/api/routines/dim/traces").json()["runs"]
    assert traces[0]["id"] == run["id"] and traces[0]["steps"][0]["status"] == "ok"
    assert _call(server, "GET", f"/api/routines/runs/{run['id']}").json()["routine"] == "dim"
    assert _call(server, "DELETE", "/api/routines/dim").status_code == 200
    gone = _call(server, "GET", "/api/routines/dim", headers=EN)
    assert gone.status_code == 404
    assert gone.json()["error"]["message"] == "There is no routine or scene 'dim'."


@pytest.mark.parametrize(
    ("step", "ko", "en"),
    [
        (
            {"device": "sauna", "command": "turn_on"},
            "x.actions[0].device: 'sauna' 기기가 이 집에 없어요.",
            "x.actions[0].device: this home has no device 'sauna'.",
        ),
        (
            {"device": "tv", "command": "set_mode", "value": "cool"},
            "x.actions[0]: tv에서는 'set_mode' 명령을 쓸 수 없어요.",
            "x.actions[0]: ",
        ),
        (
            {"device": "ac_living", "command": "set_temperature", "value": 40},
            "x.actions[0]: 거실 에어컨의 온도는 18도에서 30도까지 맞출 수 있어요. (요청: 40도)",
            "x.actions[0]: ",
        ),
    ],
)
def test_refusals_say_why_in_the_readers_language(
    server: HubProcess, step: dict[str, Any], ko: str, en: str
) -> None:
    body = {"id": "x", "actions": [step]}
    in_korean = _call(server, "POST", "/api/routines", json=body, headers=KO)
    in_english = _call(server, "POST", "/api/routines", json=body, headers=EN)
    assert in_korean.status_code == in_english.status_code == 422
    assert in_korean.json()["error"]["message"].startswith(ko)
    english = in_english.json()["error"]["message"]
    assert english.startswith(en) and english != in_korean.json()["error"]["message"]
    assert not any(ord(c) >= 0xAC00 and ord(c) <= 0xD7A3 for c in english.replace("거실 에어컨", ""))
    assert _call(server, "GET", "/api/routines/x").status_code == 404  # nothing stored


@pytest.mark.parametrize(
    ("content", "status"),
    [
        (b"{not json", 422),
        (b"[1, 2]", 422),
        (b'{"id": "y", "actions": "lots"}', 422),
        (b"", 422),
        (b'{"id": "y", "actions": [{"delay": NaN}]}', 422),
        (b"[" * 20_000 + b"]" * 20_000, 422),
        (b'{"id": "y", "actions": [{"run": {"nested": true}}]}', 422),
    ],
)
def test_malformed_bodies_are_4xx_not_500(server: HubProcess, content: bytes, status: int) -> None:
    response = _call(
        server, "POST", "/api/routines", content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status
    assert response.json()["error"]["message"]


def test_run_modes_refuse_a_second_single_run_and_unknown_ids_are_404(server: HubProcess) -> None:
    body = {"id": "slow", "actions": [{"delay": 1.0}, {"notify": "끝"}]}
    assert _call(server, "PUT", "/api/routines/slow", json=body).status_code == 200
    first = _call(server, "POST", "/api/routines/slow/run").json()
    busy = _call(server, "POST", "/api/routines/slow/run", headers=KO)
    assert busy.status_code == 409  # a state conflict: the routine is running (mode single)
    assert busy.json()["error"]["message"] == "'slow' 루틴이 이미 실행 중이에요. (실행 방식: single)"
    assert _call(server, "POST", "/api/routines/nothing/run").status_code == 404
    assert _call(server, "GET", "/api/routines/runs/999999").status_code == 404
    assert _call(server, "GET", f"/api/routines/runs/{2**70}").status_code == 422
    deadline = time.monotonic() + 5
    while _call(server, "GET", f"/api/routines/runs/{first['id']}").json()["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_yaml_import_and_export_round_trip(server: HubProcess) -> None:
    text = """
scenes:
  - id: reading
    names: {ko: 독서, en: Reading}
    targets:
      - {type: light, room: 작은방, command: set_brightness, value: 80}
routines:
  - id: read_at_nine
    enabled: false
    triggers: [{time: "21:00", weekdays: weekdays}]
    conditions: [{holiday: false}]
    actions: [{scene: reading}, {say: {ko: 책 읽을 시간이에요, en: Time to read}}]
"""
    imported = _call(server, "POST", "/api/routines/import", json={"yaml": text}).json()
    assert imported["imported"] == ["reading", "read_at_nine"]
    exported = _call(server, "GET", "/api/routines/export", params={"ids": "reading,read_at_nine"})
    assert exported.headers["content-type"].startswith("application/yaml")
    assert "light_small" in exported.text and "read_at_nine" in exported.text
    again = _call(server, "POST", "/api/routines/import", json={"yaml": exported.text}).json()
    assert again["imported"] == ["reading", "read_at_nine"] and again["notes"] == []
    broken = _call(
        server,
        "POST",
        "/api/routines/import",
        json={"yaml": "scenes: [{id: z, targets: [{device: nope, command: turn_on}]}]"},
        headers=EN,
    )
    assert broken.status_code == 422
    assert "nope" in broken.json()["error"]["message"]
    status = _call(server, "GET", "/api/routines/status").json()
    assert status["location"]["latitude"] == pytest.approx(37.5665)
    assert status["stats"]["task_restarts"] == 0


def test_the_cli_lists_runs_and_refuses_in_korean_or_english(server: HubProcess) -> None:
    env = {"ONETEAM_URL": server.url, "ONETEAM_TOKEN": server.token}
    listed = oneteam_cli("routine", "list", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "movie" in listed.stdout
    ran = oneteam_cli("routine", "run", "movie", env=env)
    assert ran.returncode == 0, ran.stderr
    assert "'movie' 실행" in ran.stdout and "done" in ran.stdout
    traces = oneteam_cli("routine", "traces", "movie", "--limit", "1", "--json", env=env)
    assert traces.returncode == 0 and '"status": "done"' in traces.stdout
    missing = oneteam_cli("routine", "run", "nothing", env=env)
    assert missing.returncode == 2
    assert "'nothing' 루틴이나 장면을 찾을 수 없어요." in missing.stderr
    english = oneteam_cli("--lang", "en", "routine", "disable", "nothing", env=env)
    assert english.returncode == 2 and "There is no routine or scene 'nothing'." in english.stderr
    shown = oneteam_cli("routine", "show", "away", env=env)
    assert shown.returncode == 0 and "robot" in shown.stdout


def test_the_cli_imports_and_exports_yaml_files(server: HubProcess, tmp_path: Path) -> None:
    env = {"ONETEAM_URL": server.url, "ONETEAM_TOKEN": server.token}
    source = tmp_path / "mine.yaml"
    source.write_text(
        "routines:\n  - id: tv_off_at_midnight\n    triggers: [{time: '00:00'}]\n"
        "    actions: [{device: tv, command: turn_off}]\n",
        encoding="utf-8",
    )
    imported = oneteam_cli("routine", "import", str(source), env=env)
    assert imported.returncode == 0, imported.stderr
    assert "1개를 가져왔어요: tv_off_at_midnight" in imported.stdout
    target = tmp_path / "out.yaml"
    exported = oneteam_cli("routine", "export", "tv_off_at_midnight", "-o", str(target), env=env)
    assert exported.returncode == 0 and "tv_off_at_midnight" in target.read_text(encoding="utf-8")
    source.write_text("routines: [{id: bad, actions: [{device: tv, command: fly}]}]", encoding="utf-8")
    refused = oneteam_cli("--lang", "en", "routine", "import", str(source), env=env)
    assert refused.returncode == 2
    assert "routines[0].bad.actions[0]" in refused.stderr and "fly" in refused.stderr
    missing = oneteam_cli("routine", "import", str(tmp_path / "nope.yaml"), env=env)
    # Rich wraps at the terminal's width, and a long temporary path moves the break: compare words.
    assert missing.returncode == 2 and "파일을 읽을 수 없어요" in " ".join(missing.stderr.split())


def _wait_status(hub: HubProcess, run_id: int, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run = _call(hub, "GET", f"/api/routines/runs/{run_id}").json()
        if run["status"] != "running" or time.monotonic() > deadline:
            return dict(run)
        time.sleep(0.2)


def _kill_during_delay(tmp_path: Path, delay_s: float) -> tuple[HubProcess, int]:
    hub = start_hub(tmp_path)
    body = {
        "id": "later",
        "actions": [
            {"device": "light_kitchen", "command": "set_brightness", "value": 5},
            {"delay": delay_s},
            {"device": "light_kitchen", "command": "set_brightness", "value": 42},
        ],
    }
    assert _call(hub, "PUT", "/api/routines/later", json=body).status_code == 200
    run = _call(hub, "POST", "/api/routines/later/run").json()
    time.sleep(0.5)
    assert _call(hub, "GET", f"/api/routines/runs/{run['id']}").json()["resume_at"] is not None
    hub.process.send_signal(signal.SIGKILL)
    hub.process.wait(timeout=10)
    return hub, int(run["id"])


def test_kill_9_in_a_delay_then_the_run_finishes_after_restart(tmp_path: Path) -> None:
    killed, run_id = _kill_during_delay(tmp_path, delay_s=8.0)
    restarted = start_hub(tmp_path, token=killed.token)
    try:
        run = _wait_status(restarted, run_id)
        brightness = _call(restarted, "GET", "/api/devices/light_kitchen/state").json()["attributes"][
            "brightness"
        ]
    finally:
        stop_hub(restarted)
    assert run["status"] == "done"
    assert [n["key"] for n in run["notes"]] == ["automation.note_resumed"]
    assert [s["status"] for s in run["steps"]] == ["ok", "ok", "ok"]
    assert run["steps"][1]["resumed"] is True
    assert run["finished_at"] - run["started_at"] >= 8.0
    assert brightness == 42


def test_kill_9_in_a_delay_past_the_grace_window_is_skipped_with_a_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed, run_id = _kill_during_delay(tmp_path, delay_s=1.0)
    monkeypatch.setitem(os.environ, "ONETEAM_AUTOMATION_GRACE_S", "0")
    time.sleep(1.0)
    restarted = start_hub(tmp_path, token=killed.token)
    try:
        run = _wait_status(restarted, run_id)
        brightness = _call(restarted, "GET", "/api/devices/light_kitchen/state").json()["attributes"][
            "brightness"
        ]
    finally:
        stop_hub(restarted)
    assert run["status"] == "skipped"
    assert run["notes"][0]["key"] == "automation.note_resume_skipped"
    assert run["notes"][0]["grace_s"] == 0
    assert brightness == 5  # the step after the delay never ran
