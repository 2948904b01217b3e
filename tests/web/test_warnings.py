"""Warnings, alerts and unavailable devices, published inside a real hub while the page watches."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By

from oneteam.model import Event, EventKind
from tests.web.browser import by_testid, sign_in, wait_for
from tests.web.inprocess import ThreadedHub


@pytest.fixture(scope="module")
def threaded_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedHub]:
    hub = ThreadedHub(Path(tmp_path_factory.mktemp("threaded-hub")))
    hub.start()
    yield hub
    hub.stop()


def _publish(threaded_hub: ThreadedHub, event: Event) -> None:
    async def publish() -> None:
        assert threaded_hub.hub is not None
        threaded_hub.hub.publish(event)

    threaded_hub.run(publish)


def test_warnings_panel_appears_only_when_a_warning_or_alert_arrives(
    browser: webdriver.Chrome, threaded_hub: ThreadedHub
) -> None:
    sign_in(browser, threaded_hub.url, threaded_hub.token)
    assert not by_testid(browser, "warnings").is_displayed()
    _publish(
        threaded_hub,
        Event(
            kind=EventKind.WARNING,
            device_id="washer",
            data={
                "message": "세탁기 배수 펌프 고장 위험이 높아요. 3일 안에 점검을 받으세요.",
                "probability": 0.82,
            },
            source="maintenance",
        ),
    )
    warning = wait_for(browser, lambda b: b.find_elements(By.CSS_SELECTOR, '[data-testid="warning"]'))
    assert by_testid(browser, "warnings").is_displayed()
    assert "배수 펌프" in warning[0].text and "세탁기" in warning[0].text and "고장 예측" in warning[0].text
    _publish(
        threaded_hub,
        Event(
            kind=EventKind.ALERT,
            data={"message": "확진자와 같은 시간대에 같은 장소에 있었어요."},
            source="epidemic",
        ),
    )
    wait_for(browser, lambda b: len(b.find_elements(By.CSS_SELECTOR, '[data-testid="warning"]')) == 2)
    newest = browser.find_elements(By.CSS_SELECTOR, '[data-testid="warning"]')[0]
    assert newest.get_attribute("data-kind") == "alert" and "감염병 알림" in newest.text
    # The log shows them too, and a reload finds them in the history.
    assert browser.find_elements(By.CSS_SELECTOR, '[data-testid="event"][data-kind="warning"]')
    sign_in(browser, threaded_hub.url, threaded_hub.token)
    assert len(browser.find_elements(By.CSS_SELECTOR, '[data-testid="warning"]')) == 2


def test_a_device_that_goes_unavailable_greys_out(
    browser: webdriver.Chrome, threaded_hub: ThreadedHub
) -> None:
    sign_in(browser, threaded_hub.url, threaded_hub.token)
    card = by_testid(browser, "device-plug_living")
    toggle = by_testid(browser, "toggle-plug_living")
    assert toggle.is_enabled() and "unavailable" not in str(card.get_attribute("class"))

    async def unplug() -> None:
        threaded_hub.plug.unplug()

    threaded_hub.run(unplug)
    wait_for(
        browser, lambda b: "unavailable" in str(by_testid(b, "device-plug_living").get_attribute("class"))
    )
    assert not toggle.is_enabled()
    assert "연결 끊김" in card.text
