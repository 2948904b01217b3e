"""Supervised tasks: a task that raises is logged, its devices marked, restarted with a capped
back-off, and listed by the health endpoint (a real uvicorn server) until it recovers."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from pathlib import Path

import httpx
import pytest
import uvicorn

from oneteam.api.app import create_app
from oneteam.hub import Hub, SqliteStorage, load_home
from oneteam.hub.bus import Subscription
from oneteam.hub.supervisor import Supervisor
from oneteam.integrations.virtual import VirtualAdapter
from oneteam.model import Command, DeviceUnavailable, Event, EventKind
from tests.conftest import free_port


async def test_a_task_that_raises_is_logged_and_restarted_with_growing_capped_backoff(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="oneteam.hub.supervisor")
    starts: list[float] = []
    failures: list[tuple[str, list[str], str]] = []

    async def flaky() -> None:
        starts.append(time.monotonic())
        if len(starts) <= 4:
            raise ValueError(f"failure {len(starts)}")
        await asyncio.Event().wait()

    supervisor = Supervisor(
        "test",
        on_failure=lambda name, devices, exc: failures.append((name, devices, str(exc))),
        backoff_base_s=0.05,
        backoff_max_s=0.1,
    )
    async with supervisor:
        supervisor.spawn("flaky", flaky, devices=["lamp"])
        async with asyncio.timeout(5):
            while len(starts) < 5:
                await asyncio.sleep(0.01)
        row = supervisor.health()[0]
        assert row["task"] == "flaky" and row["state"] == "running" and row["total_failures"] == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts)]
    assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and 0.1 <= gaps[3] < 0.5  # 0.05, 0.1, then capped at 0.1
    assert failures[0] == ("flaky", ["lamp"], "failure 1") and len(failures) == 4
    assert caplog.text.count("task flaky failed") == 4 and "ValueError: failure 3" in caplog.text
    assert supervisor.health() == []  # stopped: nothing left behind


async def test_a_one_shot_coroutine_that_fails_is_logged_and_stays_listed_as_failed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="oneteam.hub.supervisor")

    async def broken() -> None:
        raise RuntimeError("no second chance")

    async with Supervisor("test") as supervisor:
        supervisor.spawn("once", broken())  # a coroutine, not a factory: it cannot be restarted
        await asyncio.sleep(0.05)
        assert supervisor.failing()[0]["state"] == "failed"
        assert "task once failed and cannot be restarted" in caplog.text


async def test_a_failing_hub_task_marks_its_device_unavailable_and_health_lists_it(
    tmp_path: Path, fixture_home_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="oneteam.hub.supervisor")
    home = load_home(fixture_home_path)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    await hub.add_adapter(VirtualAdapter(home, tick_s=3600))
    hub.supervisor.backoff_base_s = 0.2
    hub.supervisor.healthy_after_s = 0.3
    runs = 0

    async def washer_watch() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise ConnectionError("lost the washer's feed")
        await asyncio.Event().wait()

    async with hub:
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(hub), port=port, log_level="warning", lifespan="off")
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.02)
        async with (
            hub.subscribe("t") as events,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
        ):
            hub.start_task("washer-watch", washer_watch, devices=["washer"])
            warning = await _next(events, EventKind.WARNING)
            assert warning.data["reason"] == "hub.task_failed" and warning.data["task"] == "washer-watch"
            assert warning.data["message_ko"] and warning.data["message_en"]
            health = (await http.get("/healthz")).json()
            assert health["status"] == "degraded"
            assert [(t["task"], t["state"]) for t in health["failing_tasks"]] == [
                ("washer-watch", "restarting")
            ]
            with pytest.raises(DeviceUnavailable) as refused:
                await hub.dispatch(Command(device_id="washer", name="start"))
            assert refused.value.key == "hub.task_down"
            back = await _next(events, EventKind.AVAILABILITY, timeout_s=5)
            assert back.device_id == "washer" and back.data["is_available"] is True
            health = (await http.get("/healthz")).json()
            assert health["status"] == "ok" and health["failing_tasks"] == []
        server.should_exit = True
        await serving
    assert runs == 3 and "task washer-watch failed (2 in a row)" in caplog.text


async def test_the_hub_owns_its_tasks_in_its_supervisor(tmp_path: Path, fixture_home_path: Path) -> None:
    home = load_home(fixture_home_path)
    hub = Hub(home, SqliteStorage(tmp_path / "hub.sqlite3"))
    virtual = VirtualAdapter(home, tick_s=3600)
    await hub.add_adapter(virtual)
    async with hub:
        assert "scheduler" in hub.supervisor.names()
        assert {row["task"] for row in hub.task_health()} >= {"scheduler", "virtual-ticker"}
    assert hub.supervisor.names() == [] and not virtual.supervisor.is_running


async def _next(events: Subscription, kind: EventKind, timeout_s: float = 3.0) -> Event:
    async with asyncio.timeout(timeout_s):
        while True:
            event = await events.get()
            if event.kind is kind:
                return event


async def test_mqtt_parts_tasks_are_listed_in_the_hubs_task_health(
    tmp_path: Path, fixture_home_path: Path
) -> None:
    from oneteam.integrations.mqtt.credentials import MqttCredentials
    from oneteam.integrations.mqtt.service import mqtt_for_hub

    hub = Hub(load_home(fixture_home_path), SqliteStorage(tmp_path / "hub.sqlite3"))
    async with hub:
        async with mqtt_for_hub(hub, embedded_port=0, credentials=MqttCredentials.generate()):
            tasks = {(row["component"], row["task"]) for row in hub.task_health()}
            assert {
                ("mqtt-broker", "broker-keepalive"),
                ("mqtt-adapter", "mqtt-adapter-connection"),
                ("mqtt-export", "mqtt-export-connection"),
                ("hub", "mqtt-export"),
            } <= tasks
        assert "mqtt-export" not in hub.supervisor.names()  # ended with its part, before the hub
