"""A member's page follows their permissions while it is open: the owner narrows a child's rooms
through the API and the forbidden cards leave the child's page within seconds (the socket says the
devices changed, the page loads the home again); widening brings them back. Real Chromium, a real
`oneteam serve`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.conftest import HubProcess, start_hub, stop_hub
from tests.web.browser import by_testid, console_entries, shown, wait_for

PASSWORD = "correct horse 42"
CHILD = {"light_living", "light_bedroom", "light_kitchen", "light_small", "tv"}
ADD_CHILD = [sys.executable, "-m", "oneteam", "member", "add", "minji", "--role", "child", "--password-stdin"]
NARROWED = {"light_small", "light_living", "tv"}  # small room and living room only


@pytest.fixture(scope="module")
def household(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    data_dir = str(tmp_path_factory.mktemp("roles_live"))
    done = subprocess.run(
        [*ADD_CHILD, "--data-dir", data_dir],
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    hub = start_hub(Path(data_dir), "--time-scale", "1")
    yield hub
    stop_hub(hub)


def _cards(browser: webdriver.Chrome) -> set[str]:
    return {
        str(c.get_attribute("data-device")) for c in browser.find_elements(By.CSS_SELECTOR, "article.card")
    }


def _permissions(hub: HubProcess, rooms: list[str] | None) -> None:
    changed = httpx.patch(
        f"{hub.url}/api/members/minji", headers=hub.headers, json={"permissions": {"rooms": rooms}}
    )
    assert changed.status_code == 200, changed.text


def test_the_open_page_follows_the_childs_rooms(browser: webdriver.Chrome, household: HubProcess) -> None:
    browser.get(f"{household.url}/healthz")
    browser.execute_script("sessionStorage.clear(); localStorage.clear();")
    browser.delete_all_cookies()
    console_entries(browser)
    browser.get(household.url)
    wait_for(browser, lambda b: shown(b, "signin-name"))
    by_testid(browser, "signin-name").send_keys("minji")
    by_testid(browser, "signin-password").send_keys(PASSWORD)
    by_testid(browser, "signin-submit").click()
    wait_for(browser, lambda b: b.execute_script("return document.body.dataset.ready === 'true'"))
    wait_for(browser, lambda b: by_testid(b, "connection").get_attribute("data-status") == "live")
    assert _cards(browser) == CHILD

    _permissions(household, ["small_room", "living_room"])
    wait_for(browser, lambda b: _cards(b) == NARROWED, timeout_s=5)
    _permissions(household, None)
    wait_for(browser, lambda b: _cards(b) == CHILD, timeout_s=5)
    assert not [e for e in console_entries(browser) if e.get("level") == "SEVERE"]
