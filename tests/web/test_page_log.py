"""The page's log, talk box and bookings with a real hub process: failure reasons in the page's
language, a click while the hub is down said in words and cleared once it is back, the newest reply
whole in view, schedules listed with a cancel button."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.conftest import HubProcess, free_port, oneteam_cli, stop_hub
from tests.web.browser import by_testid, shown, sign_in, wait_for


def _serve(data_dir: Path, port: int, token: str) -> HubProcess:
    """`oneteam serve` on a given port (so the page can find it again after a restart)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "oneteam", "serve", "--port", str(port), "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "ONETEAM_VOICE": "0"},
    )
    hub = HubProcess(url=f"http://127.0.0.1:{port}", token=token, data_dir=data_dir, process=process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{hub.url}/healthz", timeout=1).status_code == 200:
                return hub
        except httpx.HTTPError:
            time.sleep(0.2)
    stop_hub(hub)
    raise RuntimeError("hub did not start")


@pytest.fixture(scope="module")
def restartable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, str]]:
    data_dir = tmp_path_factory.mktemp("restartable")
    created = oneteam_cli("token", "create", "--name", "page", "--quiet", "--data-dir", str(data_dir))
    assert created.returncode == 0, created.stderr
    yield data_dir, free_port(), created.stdout.strip()


def test_a_click_while_the_hub_is_down_says_so_and_clears_after_reconnecting(
    browser: webdriver.Chrome, restartable: tuple[Path, int, str]
) -> None:
    data_dir, port, token = restartable
    hub = _serve(data_dir, port, token)
    try:
        sign_in(browser, hub.url, token)
        stop_hub(hub)
        wait_for(browser, lambda b: by_testid(b, "connection").get_attribute("data-status") != "live")
        by_testid(browser, "toggle-light_living").click()
        error = wait_for(browser, lambda b: shown(b, "error-light_living"))
        assert "허브에 연결할 수 없어서" in error.text and "fetch" not in error.text.lower()
        hub = _serve(data_dir, port, token)
        wait_for(browser, lambda b: by_testid(b, "connection").get_attribute("data-status") == "live", 30)
        wait_for(browser, lambda b: not by_testid(b, "error-light_living").is_displayed())
    finally:
        stop_hub(hub)


def _failed_line(browser: webdriver.Chrome) -> str:
    lines = browser.find_elements(By.CSS_SELECTOR, '[data-testid="event"][data-kind="command_failed"]')
    return lines[0].text if lines else ""


def test_a_refused_command_is_logged_with_its_reason_in_the_pages_language(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    sign_in(browser, page_hub.url, page_hub.token)
    body = {"command": "set_temperature", "value": 45}
    refused = httpx.post(
        f"{page_hub.url}/api/devices/ac_living/commands", json=body, headers=page_hub.headers
    )
    assert refused.status_code == 422
    # The newest refused command's line, read inside the wait (the log is rebuilt on a language switch).
    wait_for(browser, lambda b: "18도에서 30도까지" in _failed_line(b))
    by_testid(browser, "lang-toggle").click()
    wait_for(browser, lambda b: "from 18 to 30" in _failed_line(b))
    by_testid(browser, "lang-toggle").click()


def test_a_booking_is_listed_and_cancelled_from_the_page(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    sign_in(browser, page_hub.url, page_hub.token)
    said = httpx.post(
        f"{page_hub.url}/api/conversation", json={"text": "30분 뒤에 주방 불 꺼 줘"}, headers=page_hub.headers
    )
    assert said.status_code == 200, said.text
    item = wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, '[data-testid="schedule"]'))[0]
    assert "주방 조명" in item.text and by_testid(browser, "schedules").is_displayed()
    schedule_id = item.get_attribute("data-schedule-id")
    by_testid(browser, f"schedule-cancel-{schedule_id}").click()
    wait_for(browser, lambda b: not b.find_elements(By.CSS_SELECTOR, f'[data-schedule-id="{schedule_id}"]'))
    pending = httpx.get(f"{page_hub.url}/api/schedules", headers=page_hub.headers).json()["schedules"]
    assert str(schedule_id) not in [str(s["id"]) for s in pending if s["status"] == "pending"]


def _replies(browser: webdriver.Chrome) -> int:
    return len(browser.find_elements(By.CSS_SELECTOR, '[data-testid="talk-reply"]'))


def test_the_newest_reply_is_whole_in_view(browser: webdriver.Chrome, page_hub: HubProcess) -> None:
    sign_in(browser, page_hub.url, page_hub.token)
    for sentence in (
        "거실 불 켜 줘",
        "안방 에어컨 24도로 맞춰 줘",
        "주방 불 켜 줘",
        "TV 볼륨 좀 낮춰 줘",
        "거실 불 꺼 줘",
    ):
        count = _replies(browser)
        by_testid(browser, "talk-input").send_keys(sentence)
        by_testid(browser, "talk-send").click()
        wait_for(browser, lambda b: _replies(b) > count, 20)  # noqa: B023 (used at once, in this turn)
        time.sleep(0.2)
    inside = browser.execute_script(
        "const log = document.getElementById('talk-log'); const last = log.lastElementChild;"
        "const a = log.getBoundingClientRect(), b = last.getBoundingClientRect();"
        "return [log.scrollHeight > log.clientHeight, b.top >= a.top - 1 && b.bottom <= a.bottom + 1];"
    )
    assert inside == [True, True]
