"""Headless Chromium from the system packages, driven by Selenium, for the page's tests and benchmark."""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar, cast

from selenium import webdriver
from selenium.common.exceptions import (
    NoSuchElementException,
    StaleElementReferenceException,
    TimeoutException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

T = TypeVar("T")

CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)
DESKTOP = (1366, 900)
PHONE = (390, 844)


def browser_paths() -> tuple[str, str] | None:
    """The system Chromium and its driver, or None when they are not installed."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chromium, driver) if chromium and driver else None


def start_chromium(size: tuple[int, int] = DESKTOP, *, scale: float = 1) -> webdriver.Chrome:
    """A fresh headless Chromium with its own profile folder (removed by `quit_chromium`)."""
    paths = browser_paths()
    if paths is None:
        raise RuntimeError(
            "chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)"
        )
    chromium, driver = paths
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="oneteam-chromium-")
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    if scale != 1:
        options.add_argument(f"--force-device-scale-factor={scale}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.oneteam_profile = profile  # type: ignore[attr-defined]
    return browser


def quit_chromium(browser: webdriver.Chrome) -> None:
    """Close the browser and remove its profile."""
    profile = getattr(browser, "oneteam_profile", None)
    browser.quit()
    if profile:
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(
    browser: webdriver.Chrome,
    condition: Callable[[webdriver.Chrome], T | Literal[False] | None],
    timeout_s: float = 10,
) -> T:
    """Wait until `condition` returns something truthy and return it; a timeout reports the console."""
    try:
        # Cards are rebuilt on a language switch, so an element found a moment ago may go stale.
        ignored = (NoSuchElementException, StaleElementReferenceException)
        waiting = WebDriverWait(browser, timeout_s, poll_frequency=0.05, ignored_exceptions=ignored)
        return cast("T", waiting.until(condition))
    except TimeoutException as exc:
        console = [e["message"] for e in console_entries(browser)][-10:]
        raise TimeoutException(f"waited {timeout_s} s at {browser.current_url}; console: {console}") from exc


def by_testid(browser: webdriver.Chrome, testid: str) -> WebElement:
    """The element with a data-testid."""
    return browser.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def shown(browser: webdriver.Chrome, testid: str) -> WebElement | None:
    """The element with a data-testid if it is displayed, else None."""
    element = by_testid(browser, testid)
    return element if element.is_displayed() else None


def console_entries(browser: webdriver.Chrome) -> list[dict[str, Any]]:
    """The browser console since the last call (reading empties it)."""
    entries: list[dict[str, Any]] = browser.get_log("browser")  # type: ignore[no-untyped-call]
    return entries


def sign_in(browser: webdriver.Chrome, url: str, token: str) -> None:
    """Open the page in a clean session, type the token, and wait until the home is live."""
    # Clear the tab's storage from a same-origin page that runs no page code, so nothing re-saves a token.
    browser.get(f"{url}/healthz")
    browser.execute_script("sessionStorage.clear(); localStorage.clear();")
    console_entries(browser)  # start each test with an empty console
    browser.get(url)
    wait_for(browser, lambda b: shown(b, "token-input")).send_keys(token)
    by_testid(browser, "signin-submit").click()
    wait_for(browser, lambda b: b.execute_script("return document.body.dataset.ready === 'true'"))
    wait_for(browser, lambda b: by_testid(b, "connection").get_attribute("data-status") == "live")


def save_full_page(browser: webdriver.Chrome, path: Path, width: int, scale: float = 1) -> None:
    """A screenshot of the whole page at `width` CSS pixels, however tall it is."""
    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    metrics = {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        height = int(browser.execute_script("return document.documentElement.scrollHeight"))
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**metrics, "height": height})
        shot = browser.execute_cdp_cmd(
            "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
        )
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
