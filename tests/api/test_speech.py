"""Alerts and warnings are said aloud: WAV audio from the hub for a sentence or a notice event."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from oneteam.api.app import create_app
from oneteam.api.speech import router as speech_router
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.model import Event, EventKind
from tests.conftest import free_port


@dataclass
class Served:
    hub: Hub
    client: httpx.AsyncClient


@pytest.fixture
async def served(tmp_path: Path, fixture_home_path: Path) -> AsyncIterator[Served]:
    hub = Hub(load_home(fixture_home_path), SqliteStorage(tmp_path / "hub.sqlite3"))
    async with hub:
        token = await hub.create_token("test")
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(hub, extra_routers=[speech_router]), port=port, log_level="warning", lifespan="off"
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", timeout=30, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            yield Served(hub, client)
        server.should_exit = True
        await serving


def _duration_s(body: bytes) -> float:
    with wave.open(io.BytesIO(body)) as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        return wav.getnframes() / wav.getframerate()


async def test_an_alert_event_is_spoken_in_the_asked_language(served: Served) -> None:
    alert = served.hub.publish(
        Event(
            kind=EventKind.ALERT,
            device_id="tv",
            data={
                "speech": {
                    "ko": "메르스 주의 기간이 끝날 때까지 열이 나는지 살펴 주세요.",
                    "en": "Watch for fever.",
                },
                "notice": {"ko": "안내", "en": "Notice"},
            },
            source="epidemic",
        )
    )
    korean = await served.client.post("/api/speech", json={"event": alert.id, "language": "ko"})
    english = await served.client.post("/api/speech", json={"event": alert.id, "language": "en"})
    assert korean.status_code == english.status_code == 200
    assert korean.headers["content-type"] == "audio/wav"
    assert _duration_s(korean.content) > _duration_s(english.content) > 0.3


async def test_a_warnings_text_is_spoken(served: Served) -> None:
    warning = served.hub.publish(
        Event(
            kind=EventKind.WARNING,
            device_id="washer",
            data={"text": {"ko": "세탁기 모터 점검이 필요해요.", "en": "Check the washer."}},
            source="maintenance",
        )
    )
    spoken = await served.client.post("/api/speech", json={"event": warning.id})
    assert spoken.status_code == 200 and _duration_s(spoken.content) > 0.5


async def test_a_sentence_is_spoken_and_bad_requests_are_clear(served: Served) -> None:
    spoken = await served.client.post("/api/speech", json={"text": "거실 온도는 24도예요"})
    assert spoken.status_code == 200 and _duration_s(spoken.content) > 0.5
    missing = await served.client.post("/api/speech", json={"event": 999_999})
    assert missing.status_code == 404 and missing.json()["error"]["message"]
    both = await served.client.post("/api/speech", json={"text": "a", "event": 1})
    assert both.status_code == 422 and both.json()["error"]["message"]
    command_event = served.hub.publish(Event(kind=EventKind.COMMAND, device_id="tv"))
    assert (await served.client.post("/api/speech", json={"event": command_event.id})).status_code == 404
    anonymous = await served.client.post("/api/speech", json={"text": "불"}, headers={"Authorization": ""})
    assert anonymous.status_code == 401
