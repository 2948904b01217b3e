"""`oneteam serve` (as `make run` starts it: embedded broker, SQLite in the data folder) restarted
while an MQTT device is off: the device is listed again at once from the broker's stored retained
discovery, with its name and last state, offline; a sentence naming it resolves to it and is
answered "unavailable" in words; the device reconnecting makes it available again.

Real parts: two `oneteam serve` processes over one data folder, a simulated MQTT light on its own
connection, HTTP to the real API.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from oneteam.i18n import render
from oneteam.integrations.mqtt.credentials import read_credentials
from oneteam.integrations.mqtt.settings import BrokerSettings
from oneteam.integrations.mqtt.simulator import Simulator
from tests.conftest import free_port, oneteam_cli

LIGHT = "sim_light_00000"


def _start(data: Path, log: Path, port: int, mqtt_port: int) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "oneteam", "serve", "--port", str(port),
             "--mqtt-port", str(mqtt_port), "--data-dir", str(data)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ONETEAM_VOICE": "0", "ONETEAM_LANG": "ko"},
        )  # fmt: skip


def _text(log: Path) -> str:
    return log.read_text(encoding="utf-8")


@asynccontextmanager
async def _serve(data: Path, log: Path, mqtt_port: int) -> AsyncIterator[str]:
    """`oneteam serve` on `data`; yields its URL, stopped with SIGTERM (as Ctrl-C) at the end."""
    port = free_port()
    process = await asyncio.to_thread(_start, data, log, port, mqtt_port)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(timeout=1) as client:
            while True:
                assert process.poll() is None, _text(log)
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "hub did not start"
                await asyncio.sleep(0.1)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            code = await asyncio.to_thread(process.wait)
    assert code == 0, _text(log)


def _device_login(data: Path, mqtt_port: int) -> BrokerSettings:
    """How the light reaches the hub's embedded broker: the device account `serve` made."""
    credentials = read_credentials(data)
    assert credentials is not None
    login = credentials.devices
    return BrokerSettings(port=mqtt_port, username=login.username, password=login.password)


def _light(listing: dict[str, Any]) -> dict[str, Any] | None:
    return next((d for d in listing["devices"] if d["id"] == LIGHT), None)


async def test_a_device_that_is_off_is_listed_and_understood_after_the_hub_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    created = oneteam_cli("token", "create", "--json", "--data-dir", str(data))
    token = json.loads(created.stdout)["token"]
    headers = {"Authorization": f"Bearer {token}", "Accept-Language": "ko"}
    log = tmp_path / "serve.log"
    mqtt_port = free_port()

    async with _serve(data, log, mqtt_port) as url, httpx.AsyncClient(base_url=url, headers=headers) as api:
        async with Simulator(_device_login(data, mqtt_port), 1, per_gateway=1):
            listed: dict[str, Any] = {}

            async def light_online() -> bool:
                listed.update((await api.get("/api/devices")).json())
                light = _light(listed)
                return light is not None and light["state"]["is_available"] is True

            await _until(light_online)
            renamed = await api.patch(f"/api/devices/{LIGHT}", json={"name": "현관 조명"})
            assert renamed.status_code == 200, renamed.text
            on = await api.post(
                f"/api/devices/{LIGHT}/commands", json={"command": "set_brightness", "value": 40}
            )
            assert on.status_code == 200, on.text
        # The light is switched off at the wall: its gateway says goodbye ("offline", retained).
        await _until(lambda: _available(api, False))
    # The hub stopped (upgrade, power): the light stays off while it starts again.

    async with _serve(data, log, mqtt_port) as url, httpx.AsyncClient(base_url=url, headers=headers) as api:
        # Listed at once from the stored retained discovery, with its name and last state, offline.
        await _until(lambda: _available(api, False), timeout_s=5)
        light = _light((await api.get("/api/devices")).json())
        assert light is not None and light["name"] == "현관 조명"
        assert light["state"]["attributes"]["power"] is True
        assert light["state"]["attributes"]["brightness"] == 40
        # A sentence naming it finds it; the answer says in words that it cannot be reached.
        said = await api.post("/api/conversation", json={"text": "현관 조명 꺼 줘"})
        assert said.status_code == 200, said.text
        reply = said.json()
        assert reply["done"] == [
            {"device": LIGHT, "command": "turn_off", "error": "error.device_unavailable"}
        ]
        assert reply["text"] == "현관 조명에 지금 연결할 수 없어요."
        # A command by id: 503 with a message, not 404 (unknown) or 500.
        command = await api.post(f"/api/devices/{LIGHT}/commands", json={"command": "turn_off"})
        assert command.status_code == 503, command.text
        error = command.json()["error"]
        assert error["key"] == "error.device_unavailable"
        assert error["message"] == "현관 조명에 지금 연결할 수 없어요."

        async with Simulator(
            _device_login(data, mqtt_port), 1, per_gateway=1
        ):  # the light is switched on again
            await _until(lambda: _available(api, True))
            off = await api.post(f"/api/devices/{LIGHT}/commands", json={"command": "turn_off"})
            assert off.status_code == 200, off.text
            assert off.json()["state"]["attributes"]["power"] is False
    assert render("hub.stopped", "ko") in _text(log)


async def _available(api: httpx.AsyncClient, available: bool) -> bool:
    light = _light((await api.get("/api/devices")).json())
    return light is not None and light["state"]["is_available"] is available


async def _until(check: Any, timeout_s: float = 20) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():
            await asyncio.sleep(0.05)
