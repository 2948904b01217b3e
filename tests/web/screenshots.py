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

from oneteam.model import Event, EventKind
from tests.web.browser import (
    DESKTOP,
    PHONE,
    by_testid,
    quit_chromium,
    save_full_page,
    sign_in,
    start_chromium,
)
from tests.web.inprocess import ThreadedHub

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


def _prepare(hub: ThreadedHub) -> None:
    headers = {"Authorization": f"Bearer {hub.token}"}
    for device, body in SETUP:
        source = {"x-oneteam-source": "voice" if device == "ac_living" else "page"}
        httpx.post(f"{hub.url}/api/devices/{device}/commands", json=body, headers={**headers, **source})

    async def warn() -> None:
        assert hub.hub is not None
        hub.hub.publish(
            Event(
                kind=EventKind.WARNING,
                device_id="washer",
                data={
                    "message_ko": "배수 펌프 고장 위험이 높아요. 3일 안에 점검을 받으세요.",
                    "message_en": "High risk of drain pump failure. Have it checked within 3 days.",
                    "probability": 0.82,
                },
                source="maintenance",
            )
        )

    hub.run(warn)


def _shoot(browser: webdriver.Chrome, hub: ThreadedHub, path: Path, width: int, scale: float = 1) -> None:
    sign_in(browser, hub.url, hub.token)
    time.sleep(0.5)  # let the fonts settle
    save_full_page(browser, path, width, scale)


def main(folder: Path) -> None:
    hub = ThreadedHub(Path(tempfile.mkdtemp(prefix="oneteam-shots-")))
    hub.start()
    try:
        _prepare(hub)
        desktop = start_chromium(DESKTOP)
        try:
            _shoot(desktop, hub, folder / "home-desktop-ko.png", DESKTOP[0])
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
        hub.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
