"""Polling within budget, back-off on rate limits, token expiry and outages: counted at the fake cloud."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from pathlib import Path

import pytest

from oneteam.hub import Hub, SqliteStorage
from oneteam.i18n import render
from oneteam.integrations.thinq import ThinqAdapter
from oneteam.integrations.thinq.cloud import RateLimited
from oneteam.integrations.thinq.config import config_path, save_thinq_config
from oneteam.integrations.thinq.errors import ThinqRefused, ThinqUnavailable
from oneteam.integrations.thinq.poller import Backoff, CallBudget, Poller, PollHooks
from oneteam.model import Command, DeviceUnavailable, EventKind, Home
from tests.integrations.thinq.conftest import HubFactory, device_id, next_event, thinq_config
from tests.integrations.thinq.fake_server import FakeThinqServer, Fault

AC_ID = "ac-0c1f6a2e-1d4b-4a57-9d3e-2f6a8b1c0d01"


async def test_an_appliance_changing_by_itself_comes_back_as_a_state_event(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, _ = await make_hub(interval_s=0.05)
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    async with hub.subscribe("t") as events:
        server.fake.change(AC_ID, {"operation": {"airConOperationMode": "POWER_ON"}})
        event = await next_event(events, EventKind.STATE_CHANGED, ac)
    assert event.data == {"power": True} and event.source == "thinq"


async def test_a_finished_cycle_is_reported_once(make_hub: HubFactory, server: FakeThinqServer) -> None:
    hub, _ = await make_hub(interval_s=0.05)
    washer = device_id(hub, "washer", "트롬 세탁기")
    await hub.dispatch(Command(device_id=washer, name="start"))
    async with hub.subscribe("t") as events:
        server.fake.change("wm-4f1e2d3c-6b5a-4978-8a1b-0c2d3e4f5a03", {"runState": {"currentState": "END"}})
        finished = await next_event(events, EventKind.FINISHED, washer)
    assert finished.data["run_state"] == "finished"


async def test_rate_limit_backs_off_exponentially_and_never_loops(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, adapter = await make_hub(interval_s=0.01, backoff_base_s=0.1, jitter=0.0)
    server.fake.fail(Fault(429, "1306", "Exceeded User API calls", path_contains="/state"), times=4)
    start = len(server.fake.calls)
    async with hub.subscribe("t") as events:
        warning = await next_event(events, EventKind.WARNING)
        await asyncio.sleep(1.8)  # 0.1 + 0.2 + 0.4 + 0.8 s of pauses, then polling resumes
    refused = [c for c in server.fake.calls[start:] if c.status == 429]
    assert len(refused) == 4
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(refused)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and gaps[2] >= 0.4
    assert warning.data["reason"] == "thinq.backoff.rate_limited"
    assert server.fake.calls[-1].status == 200 and adapter.backoff_kind is None


async def test_retry_after_is_honoured_and_commands_say_when_to_retry(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, adapter = await make_hub(interval_s=0.01, backoff_base_s=0.05)
    server.fake.fail(Fault(429, "1306", "Exceeded User API calls", retry_after="1", path_contains="/state"))
    async with hub.subscribe("t") as events:
        await next_event(events, EventKind.WARNING)
    refused_at = time.monotonic()
    with pytest.raises(ThinqRefused) as refused:
        await hub.dispatch(Command(device_id=device_id(hub, "robot_cleaner"), name="start"))
    assert refused.value.key == "thinq.rate_limited" and refused.value.params["retry_in_s"] >= 1
    assert "초 뒤에" in render(refused.value.key, "ko", **refused.value.params)
    await asyncio.sleep(0.5)
    assert not [c for c in server.fake.calls if c.at > refused_at and "/state" in c.path]
    await asyncio.sleep(0.8)
    assert adapter.backoff_kind is None


async def test_an_expired_token_marks_devices_unavailable_until_a_new_token_is_given(
    make_hub: HubFactory, server: FakeThinqServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    hub, adapter = await make_hub(interval_s=0.02)
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    server.fake.valid_tokens = {"new-token"}
    async with hub.subscribe("t") as events:
        gone = await next_event(events, EventKind.AVAILABILITY, ac)
        assert gone.data == {"is_available": False, "reason": "", "reason_key": "thinq.token_invalid"}
        calls = len(server.fake.calls)
        await asyncio.sleep(0.3)
        assert len(server.fake.calls) == calls  # nothing is retried with a refused token
        with pytest.raises(DeviceUnavailable):
            await hub.dispatch(Command(device_id=ac, name="turn_on"))
        assert not any(hub.state(d.id).is_available for d in hub.devices())
        await adapter.update_token("new-token")
        back = await next_event(events, EventKind.AVAILABILITY, ac)
    assert back.data["is_available"] is True
    assert (await hub.dispatch(Command(device_id=ac, name="turn_on"))).attributes["power"] is True
    assert caplog.text.count("refused the access token") == 1  # one clear message, not one a poll
    assert "test-token" not in caplog.text and "new-token" not in caplog.text


async def test_a_command_with_a_revoked_token_says_what_to_do(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, _ = await make_hub(interval_s=60)
    server.fake.valid_tokens = set()
    with pytest.raises(ThinqUnavailable) as refused:
        await hub.dispatch(Command(device_id=device_id(hub, "robot_cleaner"), name="start"))
    message = render(refused.value.key, "ko", **refused.value.params)
    assert "oneteam thinq link" in message and "test-token" not in message


async def test_an_outage_makes_devices_unavailable_and_they_come_back_without_a_restart(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, _ = await make_hub(interval_s=0.02, backoff_base_s=0.05, backoff_max_s=0.2)
    robot = device_id(hub, "robot_cleaner")
    async with hub.subscribe("t") as events:
        server.fake.outage = True
        gone = await next_event(events, EventKind.AVAILABILITY, robot)
        assert gone.data["reason_key"] == "thinq.cloud_unreachable"
        started = time.monotonic()
        with pytest.raises(DeviceUnavailable):
            await hub.dispatch(Command(device_id=robot, name="start"))
        assert time.monotonic() - started < 0.5
        server.fake.outage = False
        back = await next_event(events, EventKind.AVAILABILITY, robot)
    assert back.data["is_available"] is True


async def test_a_slow_cloud_fails_a_command_with_a_clear_message_instead_of_hanging(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, _ = await make_hub(interval_s=60, request_timeout_s=0.3)
    server.fake.fail(Fault(200, delay_s=0.6, path_contains="/control"))
    started = time.monotonic()
    with pytest.raises(ThinqUnavailable) as refused:
        await hub.dispatch(Command(device_id=device_id(hub, "robot_cleaner"), name="start"))
    assert time.monotonic() - started < 1.0
    assert refused.value.key == "thinq.cloud_unreachable"


async def test_server_errors_pause_polling_then_it_recovers(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, adapter = await make_hub(interval_s=0.02, backoff_base_s=0.05)
    server.fake.fail(Fault(500, "2000", "Internal server error", path_contains="/state"), times=2)
    async with hub.subscribe("t") as events:
        warning = await next_event(events, EventKind.WARNING)
        assert warning.data["reason"] == "thinq.backoff.outage"
        await next_event(events, EventKind.AVAILABILITY)  # unavailable
        back = await next_event(events, EventKind.AVAILABILITY)
    assert back.data["is_available"] is True and adapter.backoff_kind is None


async def test_a_small_budget_stretches_polling_and_every_call_is_counted(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, adapter = await make_hub(interval_s=0.01, calls_per_hour=40, command_reserve=0.0)
    # Discovery: the list, 9 profiles (the styler's type is skipped unasked), 8 first statuses.
    assert adapter.budget.used() == server.fake.count() == 18
    assert adapter.poller.interval_s == 8 * 3600 / 40  # 8 devices share 40 calls an hour
    await asyncio.sleep(0.5)
    assert server.fake.count() == 18 and len(hub.devices()) == 9


def test_the_budget_refuses_polls_past_its_share_and_frees_them_an_hour_later() -> None:
    clock = [0.0]
    budget = CallBudget(10, 0.2, clock=lambda: clock[0])
    for _ in range(8):
        assert budget.can_poll()
        budget.record()
    assert not budget.can_poll() and budget.can_command()  # two calls kept for commands
    budget.record()
    budget.record()
    assert not budget.can_command() and budget.wait_s() == 3600
    clock[0] = 3600.5
    assert budget.can_poll() and budget.used() == 0 and budget.total == 10


def test_the_interval_stretches_so_200_devices_fit_the_budget() -> None:
    rng = random.Random(0)
    budget = CallBudget(1000, 0.2)

    async def fetch(thinq_id: str) -> None:
        raise RateLimited("never called", None)

    hooks = PollHooks(fetch=fetch, on_backoff=print, on_recovered=print, on_token_rejected=print)
    poller = Poller(
        hooks, budget=budget, backoff=Backoff(30, 1800, 0.1, rng=rng), interval_s=300, jitter=0.1, rng=rng
    )
    poller.set_devices([f"d{i}" for i in range(10)])
    assert poller.interval_s == 300
    poller.set_devices([f"d{i}" for i in range(200)])
    assert poller.interval_s == 900  # 200 devices × 3600 s / 800 polls an hour
    assert 200 * 3600 / poller.interval_s <= budget.poll_capacity


def test_backoff_doubles_up_to_its_ceiling_and_a_longer_retry_after_wins() -> None:
    clock = [0.0]
    backoff = Backoff(30, 1800, 0.0, rng=random.Random(0), clock=lambda: clock[0])
    assert [backoff.hit() for _ in range(8)] == [30, 60, 120, 240, 480, 960, 1800, 1800]
    backoff.clear()
    assert backoff.hit(retry_after_s=600) == 600 and backoff.remaining_s() == 600


async def test_without_a_reachable_push_broker_the_adapter_says_so_and_polls(
    make_hub: HubFactory, server: FakeThinqServer, caplog: pytest.LogCaptureFixture
) -> None:
    # The fake's route names localhost, where no broker runs in this test.
    hub, adapter = await make_hub(use_push=True, interval_s=0.05, request_timeout_s=0.5)
    for _ in range(100):
        if "push not available" in caplog.text:
            break
        await asyncio.sleep(0.02)
    assert adapter.mode == "polling" and "polling instead" in caplog.text
    async with hub.subscribe("t") as events:
        server.fake.change(AC_ID, {"operation": {"airConOperationMode": "POWER_ON"}})
        await next_event(events, EventKind.STATE_CHANGED)


async def test_an_appliance_that_drops_off_wifi_is_unavailable_alone_and_comes_back(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    hub, _ = await make_hub(interval_s=0.02)
    ac = device_id(hub, "air_conditioner", "거실 에어컨")
    robot = device_id(hub, "robot_cleaner")
    async with hub.subscribe("t") as events:
        server.fake.appliances[AC_ID].offline = True
        gone = await next_event(events, EventKind.AVAILABILITY, ac)
        assert gone.data == {"is_available": False, "reason": "", "reason_key": "thinq.appliance_offline"}
        assert hub.state(robot).is_available
        with pytest.raises(DeviceUnavailable):
            await hub.dispatch(Command(device_id=ac, name="turn_on"))
        server.fake.appliances[AC_ID].offline = False
        back = await next_event(events, EventKind.AVAILABILITY, ac)
    assert back.data["is_available"] is True


async def test_a_hub_started_with_a_dead_token_finds_its_appliances_once_a_new_token_is_given(
    make_hub: HubFactory, server: FakeThinqServer
) -> None:
    server.fake.valid_tokens = {"new-token"}
    hub, adapter = await make_hub(backoff_base_s=30)
    assert hub.devices() == [] and adapter.token_ok is False
    async with hub.subscribe("t") as events:
        await adapter.update_token("new-token")
        await next_event(events, EventKind.DEVICE_ADDED)
    await asyncio.sleep(0.1)
    assert len(hub.devices()) == 9 and adapter.health()["token_ok"] is True


async def test_a_token_saved_by_thinq_link_revives_a_running_hub(
    tmp_path: Path, server: FakeThinqServer
) -> None:
    settings = thinq_config(interval_s=0.02)
    path = config_path(tmp_path)
    save_thinq_config(path, settings)
    adapter = ThinqAdapter(settings, connector_factory=server.connector_factory, config_file=path)
    hub = Hub(Home(id="t"), SqliteStorage(tmp_path / "hub.sqlite3"))
    await hub.add_adapter(adapter)
    async with hub, hub.subscribe("t") as events:
        server.fake.valid_tokens = {"linked-token"}
        await next_event(events, EventKind.AVAILABILITY)
        save_thinq_config(path, settings.with_token("linked-token"))
        async with asyncio.timeout(6.0):
            while not (back := await next_event(events, EventKind.AVAILABILITY)).data["is_available"]:
                pass
        assert back.data["is_available"] is True and adapter.token_ok
