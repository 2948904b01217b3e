"""A device's history: the numbers it reported, from the stored events, over a chosen range; served by
`GET /api/devices/{id}/history` and drawn by the page as inline SVG."""

from __future__ import annotations

import httpx
from selenium import webdriver
from selenium.webdriver.common.by import By

from tests.conftest import HubProcess
from tests.web.browser import by_testid, shown, sign_in, wait_for

LEVELS = (30, 70, 45)


def _set(hub: HubProcess, device: str, body: dict[str, object]) -> None:
    response = httpx.post(f"{hub.url}/api/devices/{device}/commands", json=body, headers=hub.headers)
    assert response.status_code == 200, response.text


def test_history_returns_each_reported_number_as_a_series(page_hub: HubProcess) -> None:
    _set(page_hub, "light_kitchen", {"command": "turn_on"})
    for level in LEVELS:
        _set(page_hub, "light_kitchen", {"command": "set_brightness", "value": level})
    answer = httpx.get(
        f"{page_hub.url}/api/devices/light_kitchen/history", params={"hours": 1}, headers=page_hub.headers
    )
    assert answer.status_code == 200
    data = answer.json()
    points = data["series"]["brightness"]
    assert [value for _, value in points][-3:] == [float(level) for level in LEVELS]
    assert [at for at, _ in points] == sorted(at for at, _ in points)
    assert all(data["since"] <= at <= data["until"] for at, _ in points)
    assert "power" not in data["series"]  # on/off is not a number to draw
    # The demo purifier's sensor drifts on its own: PM2.5 is a series too.
    purifier = httpx.get(f"{page_hub.url}/api/devices/purifier/history", headers=page_hub.headers).json()
    assert purifier["series"].get("pm25")


def test_history_refuses_what_it_cannot_answer(page_hub: HubProcess) -> None:
    url, headers = page_hub.url, {**page_hub.headers, "Accept-Language": "ko"}
    assert httpx.get(f"{url}/api/devices/oven/history", headers=headers).status_code == 404
    for hours in ("0", "-1", "100000", "soon"):
        response = httpx.get(f"{url}/api/devices/tv/history", params={"hours": hours}, headers=headers)
        assert response.status_code == 422 and response.json()["error"]["message"]


def test_the_page_draws_a_devices_numbers_over_the_chosen_range(
    browser: webdriver.Chrome, page_hub: HubProcess
) -> None:
    _set(page_hub, "light_living", {"command": "turn_on"})
    for level in LEVELS:
        _set(page_hub, "light_living", {"command": "set_brightness", "value": level})
    sign_in(browser, page_hub.url, page_hub.token)
    by_testid(browser, "history-open-light_living").click()
    figure = wait_for(browser, lambda b: shown(b, "history-brightness"))
    assert int(figure.get_attribute("data-points") or 0) >= len(LEVELS)
    assert "밝기" in figure.text and "30%" in figure.text and "지금 45%" in figure.text
    path = figure.find_element(By.CSS_SELECTOR, "svg path").get_attribute("d") or ""
    assert path.startswith("M") and path.count("L") >= 2 * len(LEVELS) - 1
    by_testid(browser, "history-range-168").click()
    wait_for(browser, lambda b: "active" in str(by_testid(b, "history-range-168").get_attribute("class")))
    wait_for(browser, lambda b: shown(b, "history-brightness"))
    by_testid(browser, "history-close").click()
    wait_for(browser, lambda b: not by_testid(b, "history").is_displayed())
