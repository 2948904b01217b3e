"""Nothing in the ThinQ integration dies quietly: odd LG codes, failing tasks, a dead push connection,
sessions at shutdown. All against the real SDK and the fake cloud (and a local Mosquitto for push)."""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from oneteam.hub import Hub, SqliteStorage
from oneteam.integrations.thinq import ThinqAdapter
from oneteam.model import Command, Device, EventKind, Home
from tests.integrations.thinq.conftest import HubFactory, device_id, next_event, thinq_config
from tests.integrations.thinq.fake_mqtt import MosquittoBroker, why_no_broker
from tests.integrations.thinq.fake_server import TEST_CA, FakeThinqServer, Fault

AC_ID = "ac-0c1f6a2e-1d4b-4a57-9d3e-2f6a8b1c0d01"
UNKNOWN_CODE = Fault(400, "9999", "Something LG never documented", path_contains=f"{AC_ID}/state")


async def availability(
    events: Any, device: str, is_available: bool, timeout_s: float = 5.0
) -> dict[str, Any]:
    """The data of the next availability event of `device` that says `is_available`."""
    async with asyncio.timeout(timeout_s):
        while True:
            event = await next_event(events, EventKind.AVAILABILITY, device, timeout_s)
            if event.data["is_available"] is is_available:
                return dict(event.data)


async def test_an_unknown_lg_code_on_a_poll_is_logged_marks_the_device_and_polling_recovers(
    make_hub: HubFactory, server: FakeThinqServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="oneteam.integrations.thinq")
    hub, adapter = await make_hub(interval_s=0.05, backoff_base_s=0.1)
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    async with hub.subscribe("t") as events:
        server.fake.fail(UNKNOWN_CODE, times=2)
        down = await availability(events, ac, False)
        assert down["reason_key"] == "thinq.poll_failed"
        assert "9999" in caplog.text and "trying it again" in caplog.text
        assert not hub.state(ac).is_available
        await availability(events, ac, True)  # the next good poll brings it back
        server.fake.change(AC_ID, {"operation": {"airConOperationMode": "POWER_ON"}})
        changed = await next_event(events, EventKind.STATE_CHANGED, ac)
    assert changed.data == {"power": True}
    poller = next(row for row in adapter.supervisor.health() if row["task"] == "thinq-poller")
    assert poller["state"] == "running" and poller["total_failures"] == 0
    assert adapter.health()["failing_tasks"] == []


@pytest.mark.parametrize("code", ["1309", "2210"])
async def test_lg_slow_down_codes_back_off_like_http_429(
    make_hub: HubFactory, server: FakeThinqServer, code: str
) -> None:
    hub, adapter = await make_hub(interval_s=0.05, backoff_base_s=0.3, jitter=0.0)
    async with hub.subscribe("t") as events:
        server.fake.fail(Fault(400, code, "Retry later", path_contains="/state"))
        warning = await next_event(events, EventKind.WARNING)
    assert warning.data["reason"] == "thinq.backoff.rate_limited"
    assert adapter.backoff_kind == "rate_limited"


async def test_a_thinq_task_that_raises_is_logged_restarted_and_its_appliances_marked(
    make_hub: HubFactory, server: FakeThinqServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="oneteam.hub.supervisor")
    hub, adapter = await make_hub(interval_s=0.05, backoff_base_s=0.05)
    adapter.supervisor.healthy_after_s = 0.3
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    real_can_poll = adapter.budget.can_poll
    broken = [True]

    def can_poll() -> bool:  # a bug inside the poll loop itself, once
        if broken:
            broken.clear()
            raise RuntimeError("poll loop bug")
        return real_can_poll()

    adapter.budget.can_poll = can_poll  # type: ignore[method-assign]
    async with hub.subscribe("t") as events:
        down = await availability(events, ac, False)
        assert down["reason_key"] == "thinq.task_failed"
        assert "task thinq-poller failed" in caplog.text and "poll loop bug" in caplog.text
        failing = adapter.health()["failing_tasks"]
        assert failing == ["thinq-poller"]
        assert any(row["task"] == "thinq-poller" and row["failures"] == 1 for row in hub.task_health())
        await availability(events, ac, True)  # restarted: its first good poll brings the device back
    for _ in range(100):  # and once it has run well for healthy_after_s, it is not failing any more
        if not adapter.health()["failing_tasks"]:
            break
        await asyncio.sleep(0.02)
    assert adapter.health()["failing_tasks"] == []
    state = await hub.dispatch(Command(device_id=ac, name="set_temperature", value=22))
    assert state.attributes["temperature"] == 22


class _FailsToStart:
    """An adapter whose start raises (a second integration misconfigured)."""

    name = "broken"

    async def start(self, sink: Any, last_states: Any) -> None:
        raise RuntimeError("cannot start")

    async def devices(self) -> Sequence[Device]:
        return []

    async def execute(self, command: Command) -> None:
        return None

    async def stop(self) -> None:
        return None


def _unclosed_sessions(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


async def test_no_aiohttp_session_is_left_open_at_shutdown_or_after_a_failed_start(
    tmp_path: Path, server: FakeThinqServer
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        adapter = ThinqAdapter(thinq_config(), connector_factory=server.connector_factory, seed=1)
        hub = Hub(Home(id="a"), SqliteStorage(tmp_path / "a.sqlite3"))
        await hub.add_adapter(adapter)
        async with hub:
            assert hub.devices()
        assert adapter.account._session is None

        # A later adapter fails to start: the ThinQ adapter started before it is stopped again.
        second = ThinqAdapter(thinq_config(), connector_factory=server.connector_factory, seed=1)
        hub = Hub(Home(id="b"), SqliteStorage(tmp_path / "b.sqlite3"))
        await hub.add_adapter(second)
        await hub.add_adapter(_FailsToStart())
        with pytest.raises(RuntimeError, match="cannot start"):
            await hub.__aenter__()
        assert second.account._session is None and not second.supervisor.is_running
        del adapter, second, hub
        await asyncio.sleep(0)
        gc.collect()
    assert _unclosed_sessions(caught) == []


@pytest.mark.skipif(why_no_broker() is not None, reason=str(why_no_broker()))
class TestPushConnection:
    @pytest.fixture
    async def push(self, tmp_path: Path) -> AsyncIterator[tuple[Hub, ThinqAdapter, MosquittoBroker]]:
        async with FakeThinqServer() as server:
            broker = MosquittoBroker(tmp_path / "broker")
            await broker.__aenter__()
            server.broker_port = broker.plain_port
            server.fake.add("air_conditioner")
            TEST_CA.cert_pem.write_to_path(str(tmp_path / "root-ca.pem"))
            config = thinq_config(use_push=True, interval_s=60, push_interval_s=3600).model_copy(
                update={"push_root_ca": tmp_path / "root-ca.pem"}
            )
            adapter = ThinqAdapter(config, connector_factory=server.connector_factory, seed=1)
            hub = Hub(Home(id="push"), SqliteStorage(tmp_path / "hub.sqlite3"))
            await hub.add_adapter(adapter)
            try:
                async with hub:
                    for _ in range(250):
                        if adapter.mode == "push":
                            break
                        await asyncio.sleep(0.02)
                    yield hub, adapter, broker
            finally:
                await broker.__aexit__()

    async def test_a_dead_push_connection_is_logged_surfaced_and_covered_by_polling(
        self, push: tuple[Hub, ThinqAdapter, MosquittoBroker], caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.WARNING, logger="oneteam.integrations.thinq")
        hub, adapter, broker = push
        assert adapter.mode == "push" and adapter.poller.base_interval_s == 3600
        async with hub.subscribe("t") as events:
            await broker.__aexit__()  # LG's broker goes away
            warning = await next_event(events, EventKind.WARNING, timeout_s=10.0)
        assert warning.data["reason"] == "thinq.push_lost"
        assert adapter.mode == "polling" and adapter.poller.base_interval_s == 60
        assert "ThinQ push connection lost" in caplog.text
        health = adapter.health()
        assert health["push_interruptions"] == 1 and health["push_down_s"] is not None
        await broker.__aenter__()  # back: the SDK's client reconnects by itself (after >= 5 s)
        for _ in range(300):
            if adapter.mode == "push":
                break
            await asyncio.sleep(0.1)
        assert adapter.mode == "push" and adapter.poller.base_interval_s == 3600
        assert "ThinQ push reconnected" in caplog.text and adapter.health()["push_down_s"] is None
