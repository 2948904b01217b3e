"""The page with a real home: long product names, MQTT devices known only by raw ids, at desktop
(1280 px) and phone (390 px) widths. Element bounds are measured in a real Chromium: nothing
overlaps, nothing leaves its card, the page never scrolls sideways, the header buttons read whole.
Screenshots of each width are saved under the test's temporary folder."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from oneteam.integrations.mqtt.credentials import read_credentials
from tests.conftest import HubProcess, free_port, start_hub, stop_hub
from tests.web.browser import browser_paths, quit_chromium, save_full_page, sign_in, start_chromium, wait_for

LONG_HOME = Path(__file__).parent / "homes" / "long_names.yaml"
HOME_DEVICES = 10
SIMULATED = 5
RAW_ID = "0x00158d0004a1b2c3d4e5f6a7b8c9_zigbee2mqtt_l1"
"""A Zigbee bridge's device announced with no name: the page can only show this id."""

MEASURE = (Path(__file__).parent / "layout_check.js").read_text(encoding="utf-8")
"""Measures the page in the browser; returns its problems, the viewport width and the card count."""


def _announce_raw_device(hub: HubProcess, mqtt_port: int) -> None:
    """A Zigbee-style light announced with only its raw id (no name), over the hub's own broker."""
    credentials = read_credentials(hub.data_dir)
    assert credentials is not None
    client = paho.Client(CallbackAPIVersion.VERSION2)
    client.username_pw_set(credentials.devices.username, credentials.devices.password)
    client.connect("127.0.0.1", mqtt_port)
    client.loop_start()
    base = f"zigbee2mqtt/{RAW_ID}"
    config = {
        "unique_id": RAW_ID,
        "schema": "json",
        "state_topic": base,
        "command_topic": f"{base}/set",
        "brightness": True,
        "device": {"identifiers": [RAW_ID]},
    }
    client.publish(
        f"homeassistant/light/{RAW_ID}/config", json.dumps(config), qos=1, retain=True
    ).wait_for_publish()
    client.publish(
        base, json.dumps({"state": "ON", "brightness": 200}), qos=1, retain=True
    ).wait_for_publish()
    client.loop_stop()
    client.disconnect()


@pytest.fixture(scope="module")
def long_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """`oneteam serve` with the long-names home, its embedded broker, and MQTT devices simulated."""
    data_dir = tmp_path_factory.mktemp("long-home")
    mqtt_port = free_port()
    hub = start_hub(data_dir, "--home", str(LONG_HOME), "--mqtt-port", str(mqtt_port), "--time-scale", "1")
    simulator = subprocess.Popen(
        [
            sys.executable, "-m", "oneteam", "simulate", "--devices", str(SIMULATED),
            "--broker", f"mqtt://127.0.0.1:{mqtt_port}", "--data-dir", str(data_dir), "--interval", "5",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _announce_raw_device(hub, mqtt_port)
        deadline = time.monotonic() + 90  # the simulator is a second Python process on shared cores
        while time.monotonic() < deadline:
            devices = httpx.get(f"{hub.url}/api/devices", headers=hub.headers).json()["devices"]
            if len(devices) == HOME_DEVICES + SIMULATED + 1:
                break
            time.sleep(0.3)
        else:
            raise AssertionError(f"MQTT devices did not all appear: {len(devices)} devices")
        # Some life in the side panels: a command in the log, a refused one with its long reason.
        for device, body in (
            ("ac_living", {"command": "set_temperature", "value": 23}),
            ("light_living", {"command": "set_brightness", "value": 70}),
            ("tv", {"command": "set_channel", "value": 7}),
        ):
            httpx.post(f"{hub.url}/api/devices/{device}/commands", json=body, headers=hub.headers)
        yield hub
    finally:
        simulator.terminate()
        simulator.wait(10)
        stop_hub(hub)


@pytest.mark.parametrize("width", [1280, 390])
def test_a_long_named_home_with_raw_mqtt_ids_lays_out_cleanly(
    long_home: HubProcess, width: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if browser_paths() is None:
        pytest.skip("chromium and chromium-driver are not installed")
    browser = start_chromium((width, 900))
    try:
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        sign_in(browser, long_home.url, long_home.token)
        wait_for(
            browser,
            lambda b: len(b.find_elements("css selector", "article.card")) == HOME_DEVICES + SIMULATED + 1,
        )
        # A refused command leaves its reason on the card, the longest text a card shows.
        browser.execute_script(
            "document.querySelector('[data-testid=\"temp-input-ac_bedroom\"]').value = 99;"
            "document.querySelector('[data-testid=\"temp-apply-ac_bedroom\"]').click();"
        )
        wait_for(
            browser,
            lambda b: b.find_element("css selector", '[data-testid="error-ac_bedroom"]').is_displayed(),
        )
        time.sleep(0.3)  # fonts settle
        result: dict[str, Any] = browser.execute_script(MEASURE)
        shots = tmp_path_factory.mktemp("layout-shots")
        save_full_page(browser, shots / f"long-home-{width}.png", width)
        assert result["viewport"] == width
        assert result["cards"] == HOME_DEVICES + SIMULATED + 1
        assert result["problems"] == [], (
            f"{len(result['problems'])} layout problems at {width}px: {result['problems'][:15]}"
        )
        # Devices without a room are grouped under words, not a dash.
        unplaced = browser.find_element(
            "css selector", '[data-testid="room-null"] h2, [data-testid="room-undefined"] h2'
        )
        assert unplaced.text.startswith("방 미지정"), unplaced.text
        # The raw id is the name of the nameless device, shown whole or cut with an ellipsis.
        title = browser.find_element("css selector", f'[data-device="{RAW_ID}"] h3')
        assert title.get_attribute("textContent") == RAW_ID
        assert (shots / f"long-home-{width}.png").stat().st_size > 10_000
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        quit_chromium(browser)
