"""Screenshots of the page's main views for the README (run by hand, not by pytest).

`.venv/bin/python -m tests.web.screenshots docs/screenshots`
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import httpx
from selenium import webdriver

from tests.conftest import HubProcess, start_hub, stop_hub
from tests.web.browser import (
    DESKTOP,
    PHONE,
    by_testid,
    quit_chromium,
    save_full_page,
    sign_in,
    start_chromium,
)

SETUP = (
    ("ac_living", {"command": "set_temperature", "value": 24}),
    ("ac_living", {"command": "set_fan_speed", "value": "medium"}),
    ("light_living", {"command": "set_brightness", "value": 70}),
    ("purifier", {"command": "turn_on"}),
    ("washer", {"command": "start"}),
    ("robot", {"command": "start"}),
    ("light_kitchen", {"command": "turn_on"}),
    ("tv", {"command": "set_channel", "value": 11}),
)


def _prepare(hub: HubProcess) -> None:
    """Drive the demo home a little, and wait for the demo washer's real wear warning."""
    for device, body in SETUP:
        httpx.post(f"{hub.url}/api/devices/{device}/commands", json=body, headers=hub.headers)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        warnings = httpx.get(f"{hub.url}/api/maintenance/warnings", headers=hub.headers).json()
        if warnings.get("warnings"):
            return
        time.sleep(2)
    raise RuntimeError("the demo washer gave no warning in 3 minutes")


def _talk(browser: webdriver.Chrome, sentence: str) -> None:
    by_testid(browser, "talk-input").send_keys(sentence)
    by_testid(browser, "talk-send").click()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        replies = browser.find_elements("css selector", '[data-testid="talk-reply"]')
        if replies and replies[-1].text.strip():
            return
        time.sleep(0.2)
    raise RuntimeError("no reply in the talk box")


def _shoot(browser: webdriver.Chrome, hub: HubProcess, path: Path, width: int, scale: float = 1) -> None:
    sign_in(browser, hub.url, hub.token)
    time.sleep(0.5)  # let the fonts settle
    save_full_page(browser, path, width, scale)


def main(folder: Path) -> None:
    # A real `oneteam serve --demo`: its washer wears out fast, so the warning is the service's own.
    hub = start_hub(Path(tempfile.mkdtemp(prefix="oneteam-shots-")), "--demo")
    try:
        _prepare(hub)
        desktop = start_chromium(DESKTOP)
        try:
            sign_in(desktop, hub.url, hub.token)
            _talk(desktop, "작은방 불 켜고 TV 소리 좀 줄여 줘")
            time.sleep(0.5)  # let the fonts settle
            save_full_page(desktop, folder / "home-desktop-ko.png", DESKTOP[0])
            by_testid(desktop, "lang-toggle").click()
            time.sleep(1)
            save_full_page(desktop, folder / "home-desktop-en.png", DESKTOP[0])
            by_testid(desktop, "lang-toggle").click()
            time.sleep(0.5)
            by_testid(desktop, "signout").click()
            by_testid(desktop, "token-input").send_keys("ot_expired-token")
            by_testid(desktop, "signin-submit").click()
            time.sleep(0.5)
            desktop.set_window_size(*DESKTOP)
            desktop.save_screenshot(str(folder / "signin-desktop-ko.png"))
        finally:
            quit_chromium(desktop)
        phone = start_chromium(PHONE)
        try:
            _shoot(phone, hub, folder / "home-phone-ko.png", PHONE[0], scale=2)
        finally:
            quit_chromium(phone)
    finally:
        stop_hub(hub)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
