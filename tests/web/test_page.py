"""The home page in a real browser (headless system Chromium) against a real hub process."""

from __future__ import annotations

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

from tests.conftest import HubProcess
from tests.web.browser import by_testid, console_entries, shown, sign_in, wait_for


def _devices(hub: HubProcess) -> list[dict[str, object]]:
    return list(httpx.get(f"{hub.url}/api/devices", headers=hub.headers).json()["devices"])


def _command(hub: HubProcess, device: str, body: dict[str, object], language: str = "ko") -> httpx.Response:
    return httpx.post(
        f"{hub.url}/api/devices/{device}/commands",
        json=body,
        headers={**hub.headers, "Accept-Language": language},
    )


def _state_text(browser: webdriver.Chrome, device: str) -> str:
    return by_testid(browser, f"state-{device}").text


def test_a_wrong_token_gets_a_clear_message(browser: webdriver.Chrome, page_hub: HubProcess) -> None:
    browser.get(f"{page_hub.url}/healthz")
    browser.execute_script("sessionStorage.clear()")
    browser.get(page_hub.url)
    wait_for(browser, lambda b: by_testid(b, "token-input").is_displayed())
    by_testid(browser, "token-input").send_keys("ot_this-token-does-not-exist")
    by_testid(browser, "signin-submit").click()
    error = wait_for(browser, lambda b: shown(b, "signin-error"))
    assert "토큰이 맞지 않거나 만료되었어요" in error.text
    assert not by_testid(browser, "devices").is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('oneteam.token')") is None


def test_signing_in_shows_every_device_of_the_demo_home_by_room(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    sign_in(browser, page_hub.url, page_hub.token)
    devices = _devices(page_hub)
    cards = browser.find_elements(By.CSS_SELECTOR, "article.card")
    assert sorted(str(c.get_attribute("data-device")) for c in cards) == sorted(str(d["id"]) for d in devices)
    assert len(devices) == 12
    for device in devices:
        room = browser.find_element(By.CSS_SELECTOR, f'[data-testid="room-{device["room"]}"]')
        assert room.find_element(By.CSS_SELECTOR, f'[data-testid="device-{device["id"]}"]')
    assert by_testid(browser, "room-living_room").find_element(By.TAG_NAME, "h2").text.startswith("거실")
    assert by_testid(browser, "home-name").text == "데모 하우스"
    # The token is kept for this tab only.
    assert browser.execute_script("return sessionStorage.getItem('oneteam.token')") == page_hub.token
    assert browser.execute_script("return localStorage.getItem('oneteam.token')") is None


def test_switching_a_light_shows_the_state_the_hub_reports(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    _command(page_hub, "light_small", {"command": "turn_off"})
    sign_in(browser, page_hub.url, page_hub.token)
    toggle = by_testid(browser, "toggle-light_small")
    assert toggle.get_attribute("aria-checked") == "false"
    assert _state_text(browser, "light_small").startswith("꺼짐")
    toggle.click()
    wait_for(browser, lambda b: _state_text(b, "light_small").startswith("켜짐"))
    assert toggle.get_attribute("aria-checked") == "true"
    state = httpx.get(f"{page_hub.url}/api/devices/light_small/state", headers=page_hub.headers).json()
    assert state["attributes"]["power"] is True
    # The command is logged as coming through the REST door with the page's token.
    events = httpx.get(
        f"{page_hub.url}/api/events",
        params={"device": "light_small", "kind": "command"},
        headers=page_hub.headers,
    ).json()["events"]
    assert events[0]["source"] == "rest:token:cli" and events[0]["data"]["command"] == "turn_on"
    toggle.click()
    wait_for(browser, lambda b: _state_text(b, "light_small").startswith("꺼짐"))


def test_an_air_conditioner_set_out_of_range_shows_the_hubs_message(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    sign_in(browser, page_hub.url, page_hub.token)
    before = _state_text(browser, "ac_bedroom")
    field = by_testid(browser, "temp-input-ac_bedroom")
    field.clear()
    field.send_keys("40")
    by_testid(browser, "temp-apply-ac_bedroom").click()
    error = wait_for(browser, lambda b: shown(b, "error-ac_bedroom"))
    expected = _command(page_hub, "ac_bedroom", {"command": "set_temperature", "value": 40}).json()["error"][
        "message"
    ]
    assert error.text == expected
    assert "18도에서 30도까지" in error.text
    assert _state_text(browser, "ac_bedroom") == before
    # A good command afterwards clears the message and shows the new set point.
    field.clear()
    field.send_keys("26")
    by_testid(browser, "temp-apply-ac_bedroom").click()
    wait_for(browser, lambda b: "26°C 설정" in _state_text(b, "ac_bedroom"))
    assert not by_testid(browser, "error-ac_bedroom").is_displayed()


def test_a_command_through_the_rest_api_appears_in_the_log_and_on_the_card(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    _command(page_hub, "tv", {"command": "turn_off"})
    sign_in(browser, page_hub.url, page_hub.token)
    seen = {
        e.get_attribute("data-event-id")
        for e in browser.find_elements(By.CSS_SELECTOR, '[data-testid="event"]')
    }
    response = httpx.post(
        f"{page_hub.url}/api/devices/tv/commands",
        json={"command": "set_channel", "value": 11},
        headers={**page_hub.headers, "x-oneteam-source": "partner:genie"},
    )
    assert response.status_code == 200

    def new_tv_command(b: webdriver.Chrome) -> WebElement | None:
        for item in b.find_elements(
            By.CSS_SELECTOR, '[data-testid="event"][data-kind="command"][data-device="tv"]'
        ):
            if item.get_attribute("data-event-id") not in seen:
                return item
        return None

    item = wait_for(browser, new_tv_command)
    # The forged x-oneteam-source header changes nothing: the log names the door and the token.
    assert "앱 (cli)" in item.text and "genie" not in item.text
    assert "채널 11" in item.text and "티비" in item.text
    wait_for(browser, lambda b: "채널 11" in _state_text(b, "tv"))
    assert _state_text(browser, "tv").startswith("켜짐")


def test_the_log_filters_by_room_and_device(browser: webdriver.Chrome, page_hub: HubProcess) -> None:
    _command(page_hub, "light_kitchen", {"command": "turn_on"})
    _command(page_hub, "light_living", {"command": "turn_on"})
    sign_in(browser, page_hub.url, page_hub.token)

    def visible_devices(b: webdriver.Chrome) -> set[str]:
        items = b.find_elements(By.CSS_SELECTOR, '[data-testid="event"]')
        return {str(i.get_attribute("data-device")) for i in items if i.is_displayed()}

    assert {"light_kitchen", "light_living"} <= visible_devices(browser)
    Select(by_testid(browser, "filter-room")).select_by_value("kitchen")
    assert visible_devices(browser) <= {"light_kitchen", "fridge"} and "light_kitchen" in visible_devices(
        browser
    )
    device_choices = [o.get_attribute("value") for o in Select(by_testid(browser, "filter-device")).options]
    assert device_choices == ["", "fridge", "light_kitchen"]
    Select(by_testid(browser, "filter-device")).select_by_value("fridge")
    assert visible_devices(browser) <= {"fridge"}
    Select(by_testid(browser, "filter-room")).select_by_value("")
    assert visible_devices(browser) <= {"fridge"}  # the device filter still holds
    Select(by_testid(browser, "filter-device")).select_by_value("")
    assert {"light_kitchen", "light_living"} <= visible_devices(browser)


def test_english_is_a_click_away(browser: webdriver.Chrome, page_hub: HubProcess) -> None:
    _command(page_hub, "light_bedroom", {"command": "turn_off"})
    sign_in(browser, page_hub.url, page_hub.token)
    assert by_testid(browser, "lang-toggle").text == "English"
    by_testid(browser, "lang-toggle").click()
    wait_for(browser, lambda b: b.execute_script("return document.documentElement.lang") == "en")
    wait_for(browser, lambda b: _state_text(b, "light_bedroom").startswith("Off"))
    assert (
        by_testid(browser, "device-light_bedroom").find_element(By.TAG_NAME, "h3").text.lower()
        == "bedroom light"
    )
    by_testid(browser, "lang-toggle").click()
    wait_for(browser, lambda b: _state_text(b, "light_bedroom").startswith("꺼짐"))


def test_the_page_loads_nothing_from_outside_the_hub(browser: webdriver.Chrome, page_hub: HubProcess) -> None:
    sign_in(browser, page_hub.url, page_hub.token)
    urls = browser.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert urls and all(str(u).startswith(page_hub.url) for u in urls)
    problems = [e for e in console_entries(browser) if e["level"] == "SEVERE"]
    assert problems == []


def _has_feature(hub: HubProcess, feature: str) -> bool:
    return feature in httpx.get(f"{hub.url}/api/info").json()["features"]


def test_talking_to_the_home_turns_off_the_living_room_light(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    if not _has_feature(page_hub, "conversation"):
        pytest.skip("this hub runs no conversation agent yet (/api/info lacks 'conversation')")
    _command(page_hub, "light_living", {"command": "turn_on"})
    sign_in(browser, page_hub.url, page_hub.token)
    wait_for(browser, lambda b: _state_text(b, "light_living").startswith("켜짐"))
    by_testid(browser, "talk-input").send_keys("거실 불 꺼줘")
    by_testid(browser, "talk-send").click()
    reply = wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, '[data-testid="talk-reply"]'))
    assert reply[-1].text
    wait_for(browser, lambda b: _state_text(b, "light_living").startswith("꺼짐"))
    assert "changed" in str(by_testid(browser, "device-light_living").get_attribute("class"))


def test_the_talk_box_is_hidden_when_the_hub_cannot_converse(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    sign_in(browser, page_hub.url, page_hub.token)
    assert by_testid(browser, "talk").is_displayed() == _has_feature(page_hub, "conversation")
