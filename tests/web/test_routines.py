"""The routines panel in a real browser against a real hub: run a scene, switch a routine on."""

from __future__ import annotations

import httpx
from selenium import webdriver

from tests.conftest import HubProcess
from tests.web.browser import by_testid, sign_in, wait_for


def _routine(hub: HubProcess, routine_id: str) -> dict[str, object]:
    return dict(httpx.get(f"{hub.url}/api/routines/{routine_id}", headers=hub.headers).json())


def test_the_panel_lists_presets_runs_a_scene_and_switches_a_routine(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    sign_in(browser, page_hub.url, page_hub.token)
    panel = wait_for(
        browser, lambda b: by_testid(b, "routines") if by_testid(b, "routines").is_displayed() else None
    )
    assert "루틴과 장면" in panel.text
    movie = by_testid(browser, "routine-movie")
    assert "영화" in movie.text and "장면" in movie.text
    by_testid(browser, "routine-run-movie").click()
    status = wait_for(
        browser,
        lambda b: (
            by_testid(b, "routine-status-movie")
            if "완료" in by_testid(b, "routine-status-movie").text
            else None
        ),
    )
    assert status.get_attribute("data-status") == "done"
    light = httpx.get(f"{page_hub.url}/api/devices/light_living/state", headers=page_hub.headers).json()
    assert light["attributes"]["brightness"] == 20
    runs = httpx.get(f"{page_hub.url}/api/routines/movie/traces", headers=page_hub.headers).json()["runs"]
    assert runs[0]["trigger"]["by"].startswith("rest:token:")

    toggle = by_testid(browser, "routine-toggle-wake")
    assert toggle.get_attribute("aria-checked") == "false"
    toggle.click()
    wait_for(browser, lambda b: by_testid(b, "routine-toggle-wake").get_attribute("aria-checked") == "true")
    assert _routine(page_hub, "wake")["enabled"] is True
    by_testid(browser, "routine-toggle-wake").click()
    wait_for(browser, lambda b: by_testid(b, "routine-toggle-wake").get_attribute("aria-checked") == "false")
    assert _routine(page_hub, "wake")["enabled"] is False


def test_a_failed_device_shows_its_reason_in_the_status(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    headers = page_hub.headers
    httpx.post(f"{page_hub.url}/api/devices/washer/commands", json={"command": "start"}, headers=headers)
    body = {
        "id": "laundry_scene",
        "names": {"ko": "빨래", "en": "Laundry"},
        "targets": [
            {"device": "washer", "command": "set_mode", "value": "wool"},
            {"device": "light_small", "command": "turn_on"},
        ],
    }
    assert (
        httpx.put(f"{page_hub.url}/api/routines/laundry_scene", json=body, headers=headers).status_code == 200
    )
    sign_in(browser, page_hub.url, page_hub.token)
    wait_for(browser, lambda b: by_testid(b, "routine-run-laundry_scene"))
    by_testid(browser, "routine-run-laundry_scene").click()
    status = wait_for(
        browser,
        lambda b: (
            by_testid(b, "routine-status-laundry_scene")
            # The run's answer, with the failed step's reason (its bare "finished" event may come first).
            if "일부 실패" in by_testid(b, "routine-status-laundry_scene").text
            and "세탁기" in by_testid(b, "routine-status-laundry_scene").text
            else None
        ),
    )
    assert "세탁기" in status.text
    assert status.get_attribute("data-status") == "partial"
    httpx.post(f"{page_hub.url}/api/devices/washer/commands", json={"command": "stop"}, headers=headers)


def test_the_history_shows_each_runs_cause_and_steps(browser: webdriver.Chrome, page_hub: HubProcess) -> None:
    headers = page_hub.headers
    body = {
        "id": "two_steps",
        "names": {"ko": "두 단계", "en": "Two steps"},
        "actions": [{"device": "light_kitchen", "command": "turn_on"}, {"notify": "끝"}],
    }
    assert httpx.put(f"{page_hub.url}/api/routines/two_steps", json=body, headers=headers).status_code == 200
    run = httpx.post(f"{page_hub.url}/api/routines/two_steps/run?wait=5", headers=headers).json()
    assert run["status"] == "done"
    sign_in(browser, page_hub.url, page_hub.token)
    wait_for(browser, lambda b: by_testid(b, "routine-history-two_steps"))
    by_testid(browser, "routine-history-two_steps").click()
    traces = wait_for(
        browser,
        lambda b: (
            by_testid(b, "routine-traces-two_steps")
            if by_testid(b, "routine-traces-two_steps").is_displayed()
            else None
        ),
    )
    text = traces.text
    assert "직접 실행" in text and "완료" in text
    assert "1. 기기 명령 — 완료" in text and "2. 알림 — 완료" in text
