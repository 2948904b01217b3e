"""The routine editor in a real Chromium against a real hub: create an automation from the page
(trigger, condition, steps), edit it, see a refusal's reason, and follow a run live."""

from __future__ import annotations

from typing import Any

import httpx
from selenium import webdriver
from selenium.webdriver.support.ui import Select

from tests.conftest import HubProcess
from tests.web.browser import by_testid, console_entries, shown, sign_in, wait_for


def _routine(hub: HubProcess, routine_id: str) -> httpx.Response:
    return httpx.get(f"{hub.url}/api/routines/{routine_id}", headers=hub.headers, timeout=10)


def _type(element: Any, text: str) -> None:
    element.clear()
    element.send_keys(text)


def _set_time(browser: webdriver.Chrome, testid: str, value: str) -> None:
    # <input type=time> takes keys by locale; setting the value as a person's picker does is steadier.
    browser.execute_script(
        "const e = arguments[0]; e.value = arguments[1]; e.dispatchEvent(new Event('input'));",
        by_testid(browser, testid),
        value,
    )


def test_an_automation_is_created_and_edited_from_the_page(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    sign_in(browser, page_hub.url, page_hub.token)
    wait_for(browser, lambda b: shown(b, "routine-new")).click()
    wait_for(browser, lambda b: shown(b, "routine-editor"))
    _type(by_testid(browser, "routine-editor-id"), "evening_lamp")
    _type(by_testid(browser, "routine-editor-name"), "저녁 조명")
    Select(by_testid(browser, "routine-editor-trigger")).select_by_value("time")
    _set_time(browser, "routine-editor-time", "19:30")
    Select(by_testid(browser, "routine-editor-days")).select_by_value("weekdays")
    Select(by_testid(browser, "routine-editor-condition")).select_by_value("workday")
    Select(by_testid(browser, "routine-editor-step-device-0")).select_by_value("light_small")
    Select(by_testid(browser, "routine-editor-step-command-0")).select_by_value("set_brightness")
    _type(by_testid(browser, "routine-editor-step-value-0"), "150")
    by_testid(browser, "routine-editor-add-step").click()
    Select(by_testid(browser, "routine-editor-step-kind-1")).select_by_value("notify")
    _type(by_testid(browser, "routine-editor-step-text-1"), "작은방 조명을 켰어요")
    by_testid(browser, "routine-editor-save").click()
    # Out of range: the hub's reason, in Korean, where it went wrong; nothing is stored.
    error = wait_for(browser, lambda b: shown(b, "routine-editor-error"))
    assert "actions[0]" in error.text and "100" in error.text and "밝기" in error.text
    assert _routine(page_hub, "evening_lamp").status_code == 404
    _type(by_testid(browser, "routine-editor-step-value-0"), "70")
    by_testid(browser, "routine-editor-save").click()
    wait_for(browser, lambda b: by_testid(b, "routine-editor").get_attribute("hidden") is not None)
    item = wait_for(browser, lambda b: shown(b, "routine-evening_lamp"))
    assert "저녁 조명" in item.text
    stored = _routine(page_hub, "evening_lamp").json()
    assert stored["triggers"] == [{"time": "19:30", "weekdays": [0, 1, 2, 3, 4]}]
    assert stored["conditions"] == [{"holiday": False, "country": "KR"}]
    assert stored["actions"] == [
        {"device": "light_small", "command": "set_brightness", "value": 70},
        {"notify": {"ko": "작은방 조명을 켰어요"}},
    ]

    # Edit: the form opens filled in; a new time and a delay step are saved over the old one.
    by_testid(browser, "routine-edit-evening_lamp").click()
    wait_for(browser, lambda b: shown(b, "routine-editor"))
    assert by_testid(browser, "routine-editor-id").get_attribute("disabled") is not None
    assert by_testid(browser, "routine-editor-time").get_attribute("value") == "19:30"
    assert (
        Select(by_testid(browser, "routine-editor-days")).first_selected_option.get_attribute("value")
        == "weekdays"
    )
    assert by_testid(browser, "routine-editor-step-value-0").get_attribute("value") == "70"
    _set_time(browser, "routine-editor-time", "20:15")
    by_testid(browser, "routine-editor-add-step").click()
    Select(by_testid(browser, "routine-editor-step-kind-2")).select_by_value("delay")
    _type(by_testid(browser, "routine-editor-step-delay-2"), "90")
    by_testid(browser, "routine-editor-save").click()
    wait_for(browser, lambda b: by_testid(b, "routine-editor").get_attribute("hidden") is not None)
    edited = _routine(page_hub, "evening_lamp").json()
    assert edited["triggers"] == [{"time": "20:15", "weekdays": [0, 1, 2, 3, 4]}]
    assert edited["actions"][2] == {"delay": 90.0} and edited["names"]["ko"] == "저녁 조명"
    # The browser logs the refused save's 422 itself; no script error besides.
    assert not [e for e in console_entries(browser) if e["level"] == "SEVERE" and e["source"] != "network"]


def test_a_routine_the_form_cannot_show_opens_as_json_and_runs_show_live(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    body = {
        "id": "two_triggers",
        "names": {"ko": "두 트리거", "en": "Two triggers"},
        "triggers": [{"time": "06:00"}, {"sun": "sunset", "offset": "-30m"}],
        "actions": [{"device": "light_kitchen", "command": "turn_on"}, {"delay": 1}, {"notify": "끝"}],
    }
    assert (
        httpx.put(
            f"{page_hub.url}/api/routines/two_triggers", json=body, headers=page_hub.headers
        ).status_code
        == 200
    )
    sign_in(browser, page_hub.url, page_hub.token)
    wait_for(browser, lambda b: shown(b, "routine-edit-two_triggers")).click()
    text = wait_for(browser, lambda b: shown(b, "routine-editor-json"))
    assert '"sunset"' in text.get_attribute("value")
    browser.execute_script(
        "const e = arguments[0]; const d = JSON.parse(e.value);"
        " d.triggers[0].time = '06:30'; e.value = JSON.stringify(d);",
        text,
    )
    by_testid(browser, "routine-editor-save").click()
    wait_for(browser, lambda b: by_testid(b, "routine-editor").get_attribute("hidden") is not None)
    stored = _routine(page_hub, "two_triggers").json()
    assert stored["triggers"][0] == {"time": "06:30"} and stored["triggers"][1]["sun"] == "sunset"
    # A run started elsewhere (REST) shows on the page as it goes, from the WebSocket's run events.
    httpx.post(f"{page_hub.url}/api/routines/two_triggers/run", headers=page_hub.headers, timeout=10)
    wait_for(
        browser,
        lambda b: by_testid(b, "routine-status-two_triggers").get_attribute("data-status") == "running",
    )
    status = wait_for(
        browser,
        lambda b: (
            by_testid(b, "routine-status-two_triggers")
            if by_testid(b, "routine-status-two_triggers").get_attribute("data-status") == "done"
            else None
        ),
    )
    assert status.text == "완료"
