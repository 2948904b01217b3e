"""Warnings, alerts and unavailable devices, published inside a real hub while the page watches."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from oneteam.integrations.thinq.reporting import thinq_warning
from oneteam.model import Device, DeviceType, Event, EventKind
from oneteam.model.types import builtin_type_specs
from oneteam.model.warning import DeviceWarning
from oneteam.services.epidemic.delivery import AlertRenderer, alert_event
from oneteam.services.epidemic.engine import Exposure
from oneteam.services.epidemic.schema import load_risk_list, sample_risk_path
from oneteam.services.epidemic.store import AlertRecord
from oneteam.services.maintenance.service import MaintenanceWarning
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


def _maintenance_reading(days_left: int) -> Event:
    """What the failure-prediction service publishes as the washer's predicted days run down."""
    warning = MaintenanceWarning(
        device_id="washer",
        device_type=DeviceType.WASHER,
        component="drum_bearing",
        days_left=days_left,
        level_days=days_left,
        at=time.time(),
        model_version=1,
    )
    return Event(kind=EventKind.WARNING, device_id="washer", data=warning.data(), source="maintenance")


def _mers_alert() -> Event:
    """An epidemic alert as the delivery loop publishes it, rendered from the example risk list."""
    now = dt.datetime.now(dt.UTC)
    exposure = Exposure(
        subscriber_key=1,
        disease="mers",
        country="SA",
        exposure_end=now - dt.timedelta(days=2),
        watch_until=now + dt.timedelta(days=12),
        exposure_start=now - dt.timedelta(days=6),
        records=3,
        has_other_exposures=False,
    )
    payload = AlertRenderer(load_risk_list(sample_risk_path())).payload(exposure, label="엄마", language="ko")
    record = AlertRecord(
        id=7,
        link_id="link-1",
        home_id="demo",
        alert_day=now.date().isoformat(),
        disease="mers",
        country="SA",
        watch_until=exposure.watch_until.timestamp(),
        payload=payload,
        created_at=now.timestamp(),
        delivered_at=None,
        event_id=None,
    )
    return alert_event(record, "tv")


def _cards(browser: webdriver.Chrome, warning_id: str) -> list[WebElement]:
    return browser.find_elements(By.CSS_SELECTOR, f'[data-testid="warning"][data-warning-id="{warning_id}"]')


def test_one_card_per_device_and_problem_updated_in_place_and_acknowledged(
    browser: webdriver.Chrome, threaded_hub: ThreadedHub
) -> None:
    sign_in(browser, threaded_hub.url, threaded_hub.token)
    headers = {"Authorization": f"Bearer {threaded_hub.token}"}
    for days in (21, 14, 7, 3):
        _publish(threaded_hub, _maintenance_reading(days))
    wid = "washer:drum_bearing"
    wait_for(browser, lambda b: "3일" in _cards(b, wid)[0].text if _cards(b, wid) else False)
    assert len(_cards(browser, wid)) == 1
    card = _cards(browser, wid)[0]
    assert "남은 기간 약 3일" in card.text and "베어링" in card.text
    assert card.get_attribute("class") and "severity-critical" in str(card.get_attribute("class"))
    # The warning shows on the washer's own card too, once.
    on_device = by_testid(browser, "warnings-washer").find_elements(
        By.CSS_SELECTOR, f'[data-warning-id="{wid}"]'
    )
    assert len(on_device) == 1 and "3일" in on_device[0].text

    # An alert renders its fields as words, not `country: SA · disease: mers`.
    _publish(threaded_hub, _mers_alert())
    alert = wait_for(browser, lambda b: _cards(b, "tv:epidemic:SA:mers"))[0]
    facts = alert.find_element(By.CSS_SELECTOR, '[data-testid="warning-facts"]').text
    assert facts.startswith("사우디아라비아 · 메르스"), facts
    assert "country" not in alert.text and "SA" not in facts and "엄마" in alert.text

    # A member acknowledges it on the page: the same card says who saw it.
    _cards(browser, wid)[0].find_element(By.CSS_SELECTOR, '[data-testid="warning-acknowledge"]').click()
    seen = wait_for(
        browser, lambda b: _cards(b, wid)[0].find_elements(By.CSS_SELECTOR, '[data-testid="warning-seen"]')
    )
    assert "web-test" in seen[0].text and len(_cards(browser, wid)) == 1
    listed = httpx.get(f"{threaded_hub.url}/api/warnings", headers=headers).json()["warnings"]
    mine = [w for w in listed if w["warning_id"] == wid]
    assert len(mine) == 1 and mine[0]["status"] == "acknowledged" and mine[0]["params"] == {"days": 3}

    # Dismissed through the REST door: gone from the panel and the washer's card, also after a reload.
    response = httpx.post(f"{threaded_hub.url}/api/warnings/{wid}/dismiss", headers=headers)
    assert response.status_code == 200 and response.json()["warning"]["status"] == "dismissed"
    wait_for(browser, lambda b: not _cards(b, wid))
    assert not by_testid(browser, "warnings-washer").find_elements(
        By.CSS_SELECTOR, f'[data-warning-id="{wid}"]'
    )
    sign_in(browser, threaded_hub.url, threaded_hub.token)
    assert not _cards(browser, wid) and len(_cards(browser, "tv:epidemic:SA:mers")) == 1
    # A new reading of the same problem brings it back, as one card.
    _publish(threaded_hub, _maintenance_reading(2))
    wait_for(browser, lambda b: len(_cards(b, wid)) == 1 and "2일" in _cards(b, wid)[0].text)


def test_an_unknown_warning_is_a_404_with_a_message(threaded_hub: ThreadedHub) -> None:
    headers = {"Authorization": f"Bearer {threaded_hub.token}", "Accept-Language": "ko"}
    response = httpx.post(f"{threaded_hub.url}/api/warnings/nobody:nothing/acknowledge", headers=headers)
    assert response.status_code == 404
    assert "경고를 찾을 수 없어요" in response.json()["error"]["message"]


def test_thinq_warnings_carry_their_text_and_one_id_per_problem() -> None:
    device = Device(
        id="lg_washer",
        type=DeviceType.WASHER,
        room=None,
        spec=builtin_type_specs()[DeviceType.WASHER],
        names=("세탁실 트롬 세탁기", "laundry washer"),
    )
    lost = thinq_warning(device, device.id, {"reason": "thinq.push_lost"})
    push = thinq_warning(device, device.id, {"reason": "thinq.push", "code": "0000"})
    assert lost.text["ko"] and lost.severity.value == "info" and lost.id == "lg_washer:thinq.push_lost"
    assert "세탁실 트롬 세탁기" in push.text["ko"] and "laundry washer" in push.text["en"]
    assert push.id == "lg_washer:thinq.push.0000"
    assert DeviceWarning.from_data(push.as_data()) == push
