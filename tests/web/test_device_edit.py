"""The device card's edit menu in a real Chromium: rename a device and move it to another room,
see it redrawn live, and still renamed and moved after a reload and after the hub restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.conftest import HubProcess, start_hub, stop_hub
from tests.web.browser import by_testid, shown, sign_in, wait_for

NEW_NAME = "공부방 스탠드"


def _card_in_room(browser: webdriver.Chrome, room: str, device: str) -> str | None:
    """The card's title when the device's card is in `room`'s section, else None."""
    cards = browser.find_elements(
        By.CSS_SELECTOR, f'[data-testid="room-{room}"] [data-testid="device-{device}"]'
    )
    return cards[0].find_element(By.CSS_SELECTOR, "h3").text if cards else None


def test_a_device_renamed_and_moved_on_the_page_stays_so(
    browser: webdriver.Chrome, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dir: Path = tmp_path_factory.mktemp("edit-hub")
    hub: HubProcess = start_hub(data_dir, "--time-scale", "1")
    try:
        sign_in(browser, hub.url, hub.token)
        assert _card_in_room(browser, "small_room", "light_small") == "작은방 조명"
        by_testid(browser, "edit-light_small").find_element(By.CSS_SELECTOR, "summary").click()
        name = wait_for(browser, lambda b: shown(b, "edit-name-light_small"))
        name.clear()
        name.send_keys(NEW_NAME)
        Select(by_testid(browser, "edit-room-light_small")).select_by_value("master_bedroom")
        by_testid(browser, "edit-save-light_small").click()
        # Redrawn from the hub's device_changed event: in the bedroom, under the new name.
        wait_for(browser, lambda b: _card_in_room(b, "master_bedroom", "light_small") == NEW_NAME)
        assert _card_in_room(browser, "small_room", "light_small") is None
        browser.refresh()
        wait_for(browser, lambda b: b.execute_script("return document.body.dataset.ready === 'true'"))
        wait_for(browser, lambda b: _card_in_room(b, "master_bedroom", "light_small") == NEW_NAME)
        token = hub.token
    finally:
        stop_hub(hub)
    hub = start_hub(data_dir, "--time-scale", "1", token=token)
    try:
        sign_in(browser, hub.url, hub.token)
        assert _card_in_room(browser, "master_bedroom", "light_small") == NEW_NAME
        # Hiding takes the card off the page; the toggle shows it again.
        by_testid(browser, "edit-light_small").find_element(By.CSS_SELECTOR, "summary").click()
        wait_for(browser, lambda b: shown(b, "edit-hide-light_small")).click()
        wait_for(
            browser, lambda b: not b.find_elements(By.CSS_SELECTOR, '[data-testid="device-light_small"]')
        )
        by_testid(browser, "hidden-toggle").click()
        wait_for(browser, lambda b: _card_in_room(b, "master_bedroom", "light_small") == NEW_NAME)
    finally:
        stop_hub(hub)
