"""An acknowledged command survives the hub being killed with SIGKILL."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.conftest import start_hub, stop_hub


def test_kill_9_right_after_an_acknowledged_command_keeps_its_effect(tmp_path: Path) -> None:
    hub = start_hub(tmp_path)
    try:
        acknowledged = []
        for value in (19, 21, 23, 27):
            response = httpx.post(
                f"{hub.url}/api/devices/ac_living/commands",
                json={"command": "set_temperature", "value": value},
                headers=hub.headers,
            )
            assert response.status_code == 200
            acknowledged.append(value)
        washer = httpx.post(
            f"{hub.url}/api/devices/washer/commands",
            json={"command": "set_mode", "value": "bedding"},
            headers=hub.headers,
        )
        assert washer.status_code == 200
        hub.process.send_signal(signal.SIGKILL)
        hub.process.wait(timeout=10)
    finally:
        stop_hub(hub)
    restarted = start_hub(tmp_path, token=hub.token)
    try:
        ac = httpx.get(f"{restarted.url}/api/devices/ac_living/state", headers=restarted.headers).json()
        washer_state = httpx.get(
            f"{restarted.url}/api/devices/washer/state", headers=restarted.headers
        ).json()
    finally:
        stop_hub(restarted)
    assert ac["attributes"]["temperature"] == acknowledged[-1]
    assert ac["attributes"]["power"] is True
    assert washer_state["attributes"]["mode"] == "bedding"
