"""Each member signs in through the page's own form (name and password) in a real Chromium and sees
only what their role allows: the device cards of what they may use and nothing else (a child is
not shown the washer), working controls on each, the household panel (members, tokens, a new token
made and revoked) only for those who manage the household, and sign-out ending the session at the
hub. A guest whose stay has ended is refused at the form with words, not let in."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.conftest import HubProcess, start_hub, stop_hub
from tests.web.browser import by_testid, console_entries, shown, wait_for

PASSWORD = "correct horse 42"
LIGHTS = {"light_living", "light_bedroom", "light_kitchen", "light_small"}
EVERY = LIGHTS | {"ac_living", "ac_bedroom", "washer", "dryer", "fridge", "purifier", "robot", "tv"}
MEMBERS = {  # name: (role, the cards they see, a switch they try)
    "mom": ("owner", EVERY, "ac_bedroom"),
    "dad": ("adult", EVERY - {"dryer"}, "light_kitchen"),
    "minji": ("child", LIGHTS | {"tv"}, "light_small"),
    "visitor": ("guest", LIGHTS | {"tv", "ac_living", "ac_bedroom", "purifier"}, "ac_living"),
}
WEB_I18N = Path(__file__).resolve().parents[2] / "oneteam" / "web" / "i18n"


def _cli(*args: str, password: str | None = None) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "oneteam", *args],
        input=None if password is None else password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def household(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """A demo hub with four members, each with a password, and a guest whose stay ends soon."""
    data_dir = str(tmp_path_factory.mktemp("roles"))
    for name, (role, _, _) in MEMBERS.items():
        deny = ("--deny", "dryer") if name == "dad" else ()
        _cli(
            "member",
            "add",
            name,
            "--role",
            role,
            *deny,
            "--password-stdin",
            "--data-dir",
            data_dir,
            password=PASSWORD,
        )
    _cli(
        "member",
        "add",
        "leaving",
        "--role",
        "guest",
        "--password-stdin",
        "--data-dir",
        data_dir,
        password=PASSWORD,
    )
    hub = start_hub(Path(data_dir), "--time-scale", "1")
    yield hub
    stop_hub(hub)


def _open_sign_in(browser: webdriver.Chrome, url: str) -> None:
    browser.get(f"{url}/healthz")
    browser.execute_script("sessionStorage.clear(); localStorage.clear();")
    browser.delete_all_cookies()
    console_entries(browser)
    browser.get(url)
    wait_for(browser, lambda b: shown(b, "signin-name"))


def _sign_in_with_password(browser: webdriver.Chrome, url: str, name: str) -> None:
    _open_sign_in(browser, url)
    by_testid(browser, "signin-name").send_keys(name)
    by_testid(browser, "signin-password").send_keys(PASSWORD)
    by_testid(browser, "signin-submit").click()


def _cards(browser: webdriver.Chrome) -> set[str]:
    return {
        str(c.get_attribute("data-device")) for c in browser.find_elements(By.CSS_SELECTOR, "article.card")
    }


def _text(language: str, key: str) -> str:
    strings: dict[str, str] = json.loads((WEB_I18N / f"{language}.json").read_text(encoding="utf-8"))
    return strings[key]


@pytest.mark.parametrize("name", list(MEMBERS))
def test_each_member_signs_in_and_sees_only_what_their_role_allows(
    browser: webdriver.Chrome, household: HubProcess, name: str
) -> None:
    role, cards, switch = MEMBERS[name]
    _sign_in_with_password(browser, household.url, name)
    wait_for(browser, lambda b: b.execute_script("return document.body.dataset.ready === 'true'"))
    wait_for(browser, lambda b: by_testid(b, "connection").get_attribute("data-status") == "live")
    assert browser.execute_script("return document.body.dataset.role") == role
    assert _cards(browser) == cards
    # The rooms shown are the rooms of those cards (a child sees no laundry room at all).
    rooms = {
        str(s.get_attribute("data-testid")) for s in browser.find_elements(By.CSS_SELECTOR, "section.room")
    }
    assert ("room-laundry_room" in rooms) == bool({"washer", "dryer"} & cards)
    for device in cards:  # every card shown is one they may use: none is marked read-only
        assert by_testid(browser, f"device-{device}").get_attribute("data-read-only") != "true", device

    # A control acts: the switch turns the device on, and the hub says so.
    toggle = by_testid(browser, f"toggle-{switch}")
    assert toggle.get_attribute("aria-checked") == "false"
    toggle.click()
    wait_for(browser, lambda b: by_testid(b, f"toggle-{switch}").get_attribute("aria-checked") == "true")
    state = httpx.get(f"{household.url}/api/devices/{switch}/state", headers=household.headers).json()
    assert state["attributes"]["power"] is True

    # The household panel and the device edit menus: only for those who manage the household.
    manages = role in ("owner", "adult")
    panel = by_testid(browser, "household")
    assert panel.is_displayed() == manages
    assert by_testid(browser, f"edit-{switch}").is_displayed() == manages
    if manages:
        members = {
            str(m.get_attribute("data-testid")).removeprefix("member-"): m.get_attribute("data-role")
            for m in panel.find_elements(By.CSS_SELECTOR, "li.member")
        }
        assert members == {**{n: r for n, (r, _, _) in MEMBERS.items()}, "leaving": "guest"}
        by_testid(browser, "token-name").send_keys(f"{name}-laptop")
        by_testid(browser, "token-create").click()
        value = wait_for(browser, lambda b: shown(b, "token-new-value")).text
        assert value.startswith("ot_")
        assert (
            httpx.get(f"{household.url}/api/me", headers={"Authorization": f"Bearer {value}"}).json()["role"]
            == role
        )
        made = wait_for(
            browser, lambda b: b.find_elements(By.CSS_SELECTOR, f'li.token[data-token-name="{name}-laptop"]')
        )
        token_id = str(made[0].get_attribute("data-testid")).removeprefix("token-")
        by_testid(browser, f"token-revoke-{token_id}").click()
        wait_for(
            browser,
            lambda b: not b.find_elements(By.CSS_SELECTOR, f'li.token[data-token-name="{name}-laptop"]'),
        )
        assert (
            httpx.get(f"{household.url}/api/me", headers={"Authorization": f"Bearer {value}"}).status_code
            == 401
        )
    else:
        assert not panel.find_elements(By.CSS_SELECTOR, "li.member, li.token")

    # Signing out ends the session at the hub, not only in this tab.
    session = browser.execute_script("return sessionStorage.getItem('oneteam.token')")
    assert str(session).startswith("os_")
    by_testid(browser, "signout").click()
    wait_for(browser, lambda b: shown(b, "signin-name"))
    assert (
        httpx.get(f"{household.url}/api/me", headers={"Authorization": f"Bearer {session}"}).status_code
        == 401
    )
    # Put the switch back for the next member.
    httpx.post(
        f"{household.url}/api/devices/{switch}/commands",
        headers=household.headers,
        json={"command": "turn_off"},
    )


def test_a_guest_past_their_stay_is_refused_at_the_form(
    browser: webdriver.Chrome, household: HubProcess
) -> None:
    ends = time.time() + 2
    changed = httpx.patch(
        f"{household.url}/api/members/leaving", headers=household.headers, json={"expires_at": ends}
    )
    assert changed.status_code == 200, changed.text
    time.sleep(max(0.0, ends - time.time()) + 0.5)
    _sign_in_with_password(browser, household.url, "leaving")
    error = wait_for(browser, lambda b: shown(b, "signin-error"))
    language = browser.execute_script("return document.documentElement.dataset.lang")
    assert error.text == _text(language, "signin_wrong_password")
    assert browser.find_element(By.ID, "home").is_displayed() is False
    assert browser.execute_script("return sessionStorage.getItem('oneteam.token')") is None


def test_a_one_time_link_opens_the_home_and_sign_out_ends_it(
    browser: webdriver.Chrome, household: HubProcess
) -> None:
    """The link `oneteam member link` prints signs the browser in with an HttpOnly cookie only: the
    page enters the home with it (no token in the tab), goes live, and sign-out ends that session."""
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "oneteam",
            "member",
            "link",
            "minji",
            "--json",
            "--url",
            household.url,
            "--data-dir",
            str(household.data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    link = json.loads(made.stdout)["url"]
    _open_sign_in(browser, household.url)
    browser.get(link)
    wait_for(browser, lambda b: b.execute_script("return document.body.dataset.ready === 'true'"))
    wait_for(browser, lambda b: by_testid(b, "connection").get_attribute("data-status") == "live")
    assert browser.execute_script("return document.body.dataset.role") == "child"
    assert _cards(browser) == MEMBERS["minji"][1]
    assert browser.execute_script("return sessionStorage.getItem('oneteam.token')") is None
    cookie = browser.get_cookie("oneteam_session")
    assert cookie is not None and cookie["httpOnly"], cookie
    session = str(cookie["value"])
    assert httpx.get(f"{household.url}/api/me", cookies={"oneteam_session": session}).status_code == 200
    by_testid(browser, "signout").click()
    wait_for(browser, lambda b: shown(b, "signin-name"))
    assert httpx.get(f"{household.url}/api/me", cookies={"oneteam_session": session}).status_code == 401
    browser.refresh()  # the ended cookie no longer opens the home
    wait_for(browser, lambda b: shown(b, "signin-name"))
    assert not by_testid(browser, "signin-error").is_displayed()
